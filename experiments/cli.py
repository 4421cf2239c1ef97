"""The ``lcsim`` command line: ``lcsim run`` a scenario, ``lcsim params`` to list the parameters.

User mistakes (a bad scenario file, a bad option value, an existing output folder) end with a message
on stderr naming the file, the field, the value and what is allowed, exit code 2, no traceback, and
nothing written to disk.  Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import csv
import shlex
import sys
from dataclasses import asdict, fields
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from experiments.config import ConfigError, format_number, load_scenario
from experiments.runner import default_workers
from experiments.store import OutputFolderError, check_out_dir

if TYPE_CHECKING:
    from sim.params import ParamInfo

#: Exit code for every user mistake (the same code click uses for bad options).
USAGE_ERROR = 2

#: Allowed values of the integer options of `lcsim run` (checked by hand to name the value in errors).
OPTION_RANGES = {
    "replicates": (1, 1_000_000),
    "seed": (0, 2**63 - 1),
    "workers": (1, 1024),
    "chunk-size": (1, 1_000_000),
    "max-runs": (1, 10**9),
}


def fail(message: str) -> typer.Exit:
    """Print each line of a user-facing error to stderr and return the Exit to raise (code 2)."""
    for line in message.splitlines():
        typer.echo(f"error: {line}", err=True)
    return typer.Exit(USAGE_ERROR)


def _range(option: str) -> str:
    low, high = OPTION_RANGES[option]
    return f"{low} to {high}"


def _integer_option(option: str, text: str) -> int:
    """Parse an integer option; a user mistake exits 2 with the option, the value and the allowed range."""
    low, high = OPTION_RANGES[option]
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise fail(f"--{option} {text}: not an integer; allowed: an integer from {low} to {high}") from None
    if not low <= value <= high:
        raise fail(f"--{option} {value}: out of range; allowed: an integer from {low} to {high}")
    return value


app = typer.Typer(
    name="lcsim",
    help="Simulate regional learning communities: run scenarios, list parameters.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


HELP_CONFIG = "Scenario file, e.g. configs/scenarios/baseline.toml."
HELP_REPLICATES = f"Replicate runs with independent seeds ({_range('replicates')})."
HELP_SEED = f"Root seed ({_range('seed')}); replicate i uses child i of SeedSequence(seed).spawn(N)."
HELP_OUT = "Output folder (default: results/<scenario name>)."
HELP_WORKERS = f"Worker processes, {_range('workers')}; 1 runs serially (default: number of CPUs)."


@app.command()
def run(
    config: Annotated[Path, typer.Argument(metavar="CONFIG.toml", help=HELP_CONFIG, show_default=False)],
    # Integer options are taken as text and checked by hand so that errors can name the bad value.
    replicates: Annotated[str, typer.Option(metavar="N", help=HELP_REPLICATES)] = "100",
    seed: Annotated[str, typer.Option(metavar="SEED", help=HELP_SEED)] = "7",
    out: Annotated[Path | None, typer.Option(help=HELP_OUT, show_default=False)] = None,
    workers: Annotated[str | None, typer.Option(metavar="N", help=HELP_WORKERS, show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing result folder.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
) -> None:
    """Run a scenario's replicates; write tables, manifest, summary and plots into the output folder."""
    # Validate everything before creating anything.
    n_replicates = _integer_option("replicates", replicates)
    root_seed = _integer_option("seed", seed)
    n_workers = _integer_option("workers", workers) if workers is not None else default_workers()
    try:
        scenario = load_scenario(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    out = out if out is not None else Path("results") / scenario.name
    try:
        check_out_dir(out, force)
    except OutputFolderError as exc:
        raise fail(str(exc)) from None

    # Imported here so that `lcsim params` and bad-input errors stay fast.
    from experiments.plots import plot_all
    from experiments.runner import replicate_seeds, run_with_progress
    from experiments.store import build_manifest, staged_folder, tables, utc_now, write_manifest, write_tables
    from experiments.summary import print_summary, summary_table, write_summary

    workers_used = min(n_workers, n_replicates)
    started = utc_now()
    outcomes = run_with_progress(scenario.params, root_seed, n_replicates, workers=workers_used, show=progress)
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
                reproduce=shlex.join([
                    "lcsim", "run", str(config), "--replicates", str(n_replicates), "--seed", str(root_seed),
                    "--out", str(out), "--workers", str(workers_used),
                ]),
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


@app.command()
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


from experiments import cli_analysis  # noqa: E402,F401  (registers sweep/sensitivity/resume)
from experiments import cli_cases  # noqa: E402,F401  (registers compare/validate)
from experiments import cli_viz  # noqa: E402,F401  (registers viz)

if __name__ == "__main__":
    app()
