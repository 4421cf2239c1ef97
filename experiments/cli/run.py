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

#: Default cap on the replicates of one `lcsim run` (all their tables are held in memory until written).
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
        f"Refuse more than N replicates before starting (default {RUN_MAX_RUNS:,}: `lcsim run` keeps every "
        "replicate's tables in memory; for more runs use `lcsim sweep`, which streams them to disk)."))] = None,
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
        raise fail(str(exc)) from None
    if (implausible := scenario.implausible_values()) is not None:  # said once the command is sure to run
        typer.echo(f"warning: {implausible}", err=True)

    # Imported here so that `lcsim params` and bad-input errors stay fast.
    from experiments.plots.scenario import plot_all
    from experiments.execution.replicates import run_with_progress
    from experiments.designs.seeds import replicate_seeds
    from experiments.store.runfolder import build_manifest, tables, write_tables
    from experiments.store.atomic import staged_folder
    from experiments.store.manifest import utc_now, write_manifest
    from experiments.analysis.summary import print_summary, summary_table, write_summary

    workers_used = min(n_workers, n_replicates)
    started = utc_now()
    outcomes = run_with_progress(scenario.params, root_seed, n_replicates, workers=workers_used, show=progress,
                                 backend=spec if spec.name != "processes" else None)
    frames = tables(outcomes, root_seed, replicate_seeds(root_seed, n_replicates))
    table = summary_table(frames["runs"])

    try:
        with staged_folder(out, force) as staging:
            write_tables(staging, frames)
            write_summary(staging, table, n_replicates)
            plot_all(staging, frames["runs"], frames["pilots"], frames["series"], scenario.name)
            write_manifest(staging, build_manifest(
                scenario_name=scenario.name,
                description=scenario.description,
                config_path=scenario.path,
                config_sha256=scenario.sha256,
                params=scenario.params,
                overrides=scenario.overrides,
                root_seed=root_seed,
                replicates=n_replicates,
                workers=workers_used,
                command=shlex.join(sys.argv),
                settings=scenario.settings,
                extends=list(scenario.extends),
                reproduce=shlex.join([
                    "lcsim", "run", str(scenario.path or config),
                    *[f"--set={name}={value}" for name, value in settings_text.items()],
                    "--replicates", str(n_replicates), "--seed", str(root_seed),
                    "--out", str(out), "--workers", str(workers_used),
                ]),
                backend=spec.label(),
                started_utc=started,
                finished_utc=utc_now(),
            ))
    except OutputFolderError as exc:  # the folder appeared while we were running
        raise fail(str(exc)) from None

    print_summary(table, n_replicates, scenario.name)
    typer.echo(f"results written to {out}", err=True)


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
