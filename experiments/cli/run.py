"""``lcsim run`` a scenario and ``lcsim params`` to list the parameters (registered by :mod:`experiments.cli.app`)."""

from __future__ import annotations

import csv
import shlex
import sys
from dataclasses import asdict, fields
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from experiments.config.scenario import parse_settings, scenario_argument
from experiments.config.reading import ConfigError, format_number
from experiments.store.atomic import OutputFolderError, check_out_dir
from experiments.cli.options import (HELP_CONFIG, HELP_OUT, HELP_REPLICATES, HELP_SEED, HELP_SET, HELP_WORKERS,
                                     BackendOption, ClusterOption, SchedulerOption, backend_spec, fail, integer_option)

if TYPE_CHECKING:
    from sim.params import ParamInfo

#: Default cap on the replicates of one `lcsim run` (the runs stream to disk, but the final tables and figures
#: are built from all of them at once).
RUN_MAX_RUNS = 100_000


def run(
    config: Annotated[str, typer.Argument(metavar="SCENARIO", help=HELP_CONFIG, show_default=False)],
    # Integer options are taken as text and checked by hand so that errors can name the bad value.
    replicates: Annotated[str, typer.Option(metavar="N", help=HELP_REPLICATES)] = "100",
    seed: Annotated[str, typer.Option(metavar="SEED", help=HELP_SEED)] = "7",
    out: Annotated[Path | None, typer.Option(help=HELP_OUT, show_default=False)] = None,
    workers: Annotated[str | None, typer.Option(metavar="N", help=HELP_WORKERS, show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing result folder.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    backend: BackendOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    settings: Annotated[list[str] | None, typer.Option("--set", metavar="NAME=VALUE", help=HELP_SET,
                                                       show_default=False)] = None,
    max_runs: Annotated[str | None, typer.Option(metavar="N", show_default=False, help=(
        f"Refuse more than N replicates before starting (default {RUN_MAX_RUNS:,}: the runs stream to disk, "
        "but the final tables and figures are built from all replicates at once)."))] = None,
) -> None:
    """Run a scenario's replicates; write tables, manifest, summary and plots into the output folder."""
    # Validate everything before creating anything.
    n_replicates = integer_option("replicates", replicates)
    cap = RUN_MAX_RUNS if max_runs is None else integer_option("max-runs", max_runs)
    if n_replicates > cap:
        raise fail(f"--replicates {n_replicates:,}: {n_replicates:,} runs are above the limit --max-runs {cap:,}; "
                   "allowed: fewer replicates, or raise --max-runs")
    root_seed = integer_option("seed", seed)
    spec = backend_spec(backend, workers, scheduler, cluster)
    n_workers = spec.workers
    settings_text = dict(item.partition("=")[::2] for item in settings or [])
    try:
        scenario = scenario_argument(config, parse_settings(settings))
    except ConfigError as exc:
        raise fail(str(exc)) from None
    out = out if out is not None else Path("results") / scenario.name
    try:
        check_out_dir(out, force)
    except OutputFolderError as exc:
        from experiments.cli.ensembles import unfinished_hint

        raise fail(str(exc) + unfinished_hint(out)) from None
    if (implausible := scenario.implausible_values()) is not None:  # said once the command is sure to run
        typer.echo(f"warning: {implausible}", err=True)

    from experiments.cli.ensembles import run_ensemble_command
    from experiments.store.manifest import utc_now

    workers_used = min(n_workers, n_replicates)
    label = f"replicates ({workers_used} worker{'s' if workers_used > 1 else ''})"
    if spec.name != "processes":
        label = f"replicates ({spec.label()})"
    finish = {
        "scenario_name": scenario.name,
        "description": scenario.description,
        "config_path": str(scenario.path) if scenario.path is not None else None,
        "config_sha256": scenario.sha256,
        "overrides": scenario.overrides,
        "workers": workers_used,
        "command": shlex.join(sys.argv),
        "settings": scenario.settings,
        "extends": list(scenario.extends),
        "reproduce": shlex.join([
            "lcsim", "run", str(scenario.path or config),
            *[f"--set={name}={value}" for name, value in settings_text.items()],
            "--replicates", str(n_replicates), "--seed", str(root_seed),
            "--out", str(out), "--workers", str(workers_used),
        ]),
        "backend": spec.label(),
        "started_utc": utc_now(),
    }
    code = run_ensemble_command("run", out, {scenario.name: scenario.params}, n_replicates, root_seed, spec,
                                manifest={"command": shlex.join(sys.argv), "finish": finish}, finisher=finish_run,
                                label=label, show_progress=progress)
    typer.echo(f"results written to {out}", err=True)
    if code:
        raise typer.Exit(code)


def finish_run(runset) -> int:
    """Build an ``lcsim run`` folder from its complete run set: tables, summary, figures, manifest; print the summary."""
    from sim import Params
    from experiments.analysis.summary import print_summary, summary_table, write_summary
    from experiments.execution.ensemble import point_tables
    from experiments.plots.scenario import plot_all
    from experiments.store.atomic import atomic_write_json
    from experiments.store.manifest import MANIFEST_FILE, utc_now
    from experiments.store.runfolder import build_manifest, write_tables

    given = dict(runset.manifest["finish"])
    point = runset.study["points"][0]
    frames = point_tables(runset, 0)
    n = runset.replicates
    table = summary_table(frames["runs"])
    write_tables(runset.path, frames)
    write_summary(runset.path, table, n)
    plot_all(runset.path, frames["runs"], frames["pilots"], frames["series"], given["scenario_name"])
    manifest = build_manifest(params=Params(**point["parameters"]), root_seed=runset.root_seed, replicates=n,
                              finished_utc=utc_now(), **{k: v for k, v in given.items() if k != "config_path"},
                              config_path=Path(given["config_path"]) if given["config_path"] else None)
    manifest.update({"format": runset.manifest["format"], "state": "finished", "runset_id": runset.runset_id,
                     "study_digest": runset.manifest["study_digest"], "resumed": runset.manifest.get("resumed", [])})
    atomic_write_json(runset.path / MANIFEST_FILE, manifest)
    print_summary(table, n, given["scenario_name"])
    return 0


class Format(str, Enum):
    """Output formats of ``lcsim params``."""

    table = "table"
    csv = "csv"
    md = "md"


def params(
    format: Annotated[  # noqa: A002 (the option is --format)
        Format, typer.Option("--format", "-f", help="table (terminal), csv, or md (Markdown).")
    ] = Format.table,
) -> None:
    """List every model parameter with unit, default, plausible and valid range, and source."""
    from sim import parameter_table

    rows = parameter_table()
    if format is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        names = [f.name for f in fields(rows[0])]
        writer.writerow(names)
        for row in rows:
            writer.writerow([asdict(row)[n] for n in names])
    elif format is Format.md:
        typer.echo(params_markdown(rows), nl=False)
    else:
        print_params_table(rows)


def _valid(row: ParamInfo) -> str:
    low, high = row.valid_min, row.valid_max
    if low is None and high is None:
        return "any"
    if high is None:
        return f"≥ {format_number(low)}"
    if low is None:
        return f"≤ {format_number(high)}"
    return f"{format_number(low)} – {format_number(high)}"


def params_markdown(rows: list[ParamInfo]) -> str:
    """The parameter table as Markdown; success factors are marked with ★."""

    def cell(text: object) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| name | unit | default | plausible range | valid range | description | source |",
        "|---|---|---:|---|---|---|---|",
    ]
    for row in rows:
        name = f"`{row.name}`" + (" ★" if row.success_factor else "")
        lines.append(
            f"| {name} | {cell(row.unit)} | {format_number(row.default)} | "
            f"{format_number(row.low)} – {format_number(row.high)} | {_valid(row)} | "
            f"{cell(row.description)} | {cell(row.source)} |"
        )
    lines += ["", "★ success factor (model-spec section 7): a factor of the sensitivity analysis."]
    return "\n".join(lines) + "\n"


def print_params_table(rows: list[ParamInfo]) -> None:
    """The parameter table for a terminal, grouped, with success factors marked ★."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="lcsim parameters (★ = success factor; sources: lcsim params --format md)",
                  title_justify="left", show_lines=False)
    for column, justify in [("name", "left"), ("unit", "left"), ("default", "right"),
                            ("plausible", "right"), ("valid", "right"), ("description", "left")]:
        table.add_column(column, justify=justify, no_wrap=column == "name")
    group = None
    for row in rows:
        if row.group != group:
            if group is not None:
                table.add_section()
            table.add_row(f"[{row.group}]", "", "", "", "", "", style="bold")
            group = row.group
        table.add_row(
            row.name + (" ★" if row.success_factor else ""),
            row.unit,
            format_number(row.default),
            f"{format_number(row.low)} – {format_number(row.high)}",
            _valid(row),
            row.description,
        )
    Console(markup=False, width=None if sys.stdout.isatty() else 200).print(table)


def register(app: typer.Typer) -> None:
    """Add ``run, params`` to the ``lcsim`` app."""
    app.command()(run)
    app.command()(params)
