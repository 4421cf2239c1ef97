"""``lcsim compare`` (policy scenarios side by side) and ``lcsim validate`` (the documented cases and P1-P8).

Registered on the ``lcsim`` Typer app by :mod:`experiments.cli.app` through :func:`register`.
User mistakes end with exit code 2 and a message naming the file or option, the value and what is
allowed, before anything is created.  ``lcsim validate`` exits with code 1 when a pattern fails.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from experiments.cli.options import (HELP_SEED, HELP_WORKERS, BackendOption, ClusterOption, SchedulerOption,
                                     backend_spec, fail, integer_option)
from experiments.config.scenario import load_scenario
from experiments.config.reading import ConfigError
from experiments.execution.replicates import progress_bar
from experiments.store.manifest import provenance, utc_now
from experiments.store.atomic import OutputFolderError, check_out_dir, staged_folder

VALIDATION_DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"


def _manifest(kind: str, **fields) -> str:
    return json.dumps({"kind": kind, **fields, **provenance(), "command": shlex.join(sys.argv)}, indent=2) + "\n"


# ----------------------------------------------------------------------------------------- compare
def compare(
    configs: Annotated[list[Path], typer.Argument(metavar="SCENARIO.toml...", help="Two or more scenario files; "
                                                  "the first is the reference for differences.", show_default=False)],
    replicates: Annotated[str, typer.Option(metavar="N", help="Replicates per scenario (1 to 1000000).")] = "200",
    seed: Annotated[str, typer.Option(metavar="SEED", help=HELP_SEED)] = "7",
    workers: Annotated[str | None, typer.Option(metavar="N", help=HELP_WORKERS, show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: results/compare/<a>_vs_<b>...).",
                                             show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing result folder.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    backend: BackendOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
) -> None:
    """Compare scenarios on the same seeds: a table with 95% intervals and paired differences, and figures."""
    n = integer_option("replicates", replicates)
    root_seed = integer_option("seed", seed)
    spec = backend_spec(backend, workers, scheduler, cluster)
    n_workers = spec.workers
    chosen = spec if spec.name != "processes" else None
    if len(configs) < 2:
        raise fail(f"compare: {len(configs)} scenario file given; allowed: two or more scenario files")
    try:
        scenarios = [load_scenario(path) for path in configs]
    except ConfigError as exc:
        raise fail(str(exc)) from None
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise fail(f"compare: scenario names {names} repeat; allowed: scenarios with distinct names")
    out = out if out is not None else Path("results") / "compare" / "_vs_".join(names)
    try:
        check_out_dir(out, force, "comparison")
    except OutputFolderError as exc:
        raise fail(str(exc)) from None

    from experiments.analysis.compare import comparison_table, run_comparison, table_markdown
    from experiments.plots.compare import CURVES_PNG, FATES_PNG, plot_continuation_curves, plot_fates_by_scenario

    started = utc_now()
    with progress_bar(n * len(scenarios), f"{len(scenarios)} scenarios x {n} replicates", progress) as on_done:
        results = run_comparison(scenarios, n, root_seed, workers=n_workers, on_done=on_done, backend=chosen)
    table = comparison_table(results)
    with staged_folder(out, force, "comparison") as staging:
        table.to_csv(staging / "comparison.csv", index=False)
        (staging / "comparison.md").write_text(table_markdown(table, n, root_seed), encoding="utf-8")
        plot_continuation_curves(results, staging / CURVES_PNG)
        plot_fates_by_scenario(results, staging / FATES_PNG)
        (staging / "manifest.json").write_text(_manifest(
            "comparison", scenarios={s.name: str(s.path) for s in scenarios},
            config_sha256={s.name: s.sha256 for s in scenarios}, replicates=n, root_seed=root_seed,
            seeding="replicate i of every scenario uses SeedSequence(root_seed).spawn(replicates)[i]",
            started_utc=started, finished_utc=utc_now(),
        ), encoding="utf-8")
    _print_comparison(table)
    typer.echo(f"comparison written to {out}", err=True)


def _print_comparison(table) -> None:
    from rich.console import Console
    from rich.table import Table

    from experiments.analysis.compare import format_value

    view = Table(title="Scenario comparison (mean [95% interval]; difference to the first, paired by seed)",
                 title_justify="left")
    for column in ("metric", "scenario", "mean", "95% interval", "difference", "95% interval"):
        view.add_column(column)
    metric = None
    for row in table.itertuples():
        if row.metric != metric and metric is not None:
            view.add_section()
        view.add_row(
            row.metric if row.metric != metric else "", row.scenario, format_value(row.mean),
            f"{format_value(row.ci_low)} – {format_value(row.ci_high)}",
            "" if row.diff != row.diff else f"{row.diff:+.3g}",
            "" if row.diff != row.diff else f"{format_value(row.diff_low)} – {format_value(row.diff_high)}",
        )
        metric = row.metric
    Console(width=None if sys.stdout.isatty() else 160).print(view)


# ----------------------------------------------------------------------------------------- validate
def validate(
    replicates: Annotated[str, typer.Option(metavar="N", help="Replicates per ensemble (1 to 1000000).")] = "200",
    seed: Annotated[str, typer.Option(metavar="SEED", help=HELP_SEED)] = "7",
    workers: Annotated[str | None, typer.Option(metavar="N", help=HELP_WORKERS, show_default=False)] = None,
    scenarios: Annotated[Path, typer.Option(help="Folder with the case and policy scenario files.")] = Path(
        "configs/scenarios"),
    out: Annotated[Path, typer.Option(help="Report folder (replaced on every run).")] = Path("results/validation"),
    update_docs: Annotated[bool, typer.Option("--update-docs", help="Also write the figures into docs/validation.md.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    backend: BackendOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
) -> None:
    """Replay the documented cases and check patterns P1-P8; exit 1 if any pattern fails."""
    from experiments.analysis.validation import checks_frame, ensemble_plan, run_checks, run_ensembles
    from experiments.analysis.validation_report import report_markdown, update_validation_doc

    n = integer_option("replicates", replicates)
    root_seed = integer_option("seed", seed)
    spec = backend_spec(backend, workers, scheduler, cluster)
    n_workers = spec.workers
    chosen = spec if spec.name != "processes" else None
    try:
        plan = ensemble_plan(scenarios)
        check_out_dir(out, force=True, kind="validation")
    except (ConfigError, OutputFolderError) as exc:
        raise fail(str(exc)) from None

    started = utc_now()
    with progress_bar(n * len(plan), f"{len(plan)} ensembles x {n} replicates", progress) as on_done:
        ensembles = run_ensembles(plan, n, root_seed, workers=n_workers, on_done=on_done, backend=chosen)
    checks = run_checks(ensembles)
    report = report_markdown(checks, n, root_seed)
    with staged_folder(out, force=True, kind="validation") as staging:
        (staging / "report.md").write_text(report, encoding="utf-8")
        checks_frame(checks).to_csv(staging / "checks.csv", index=False)
        (staging / "manifest.json").write_text(_manifest(
            "validation", scenarios_dir=str(scenarios), ensembles=list(plan), replicates=n, root_seed=root_seed,
            started_utc=started, finished_utc=utc_now(),
        ), encoding="utf-8")
    if update_docs:
        update_validation_doc(VALIDATION_DOC, checks, n, root_seed, scenarios)
    for check in checks:
        verdict = "pass" if check.passed else "FAIL"
        typer.echo(f"{check.pattern:<4} {verdict}  {check.figure:8.3f}  [{check.low:8.3f}, {check.high:8.3f}]  "
                   f"{check.title}  ({check.criterion})")
    failed = [c.pattern for c in checks if not c.passed]
    typer.echo(f"report written to {out / 'report.md'}", err=True)
    if failed:
        typer.echo(f"validation FAILED: {', '.join(failed)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"validation passed: {len(checks)} checks", err=True)


def register(app: typer.Typer) -> None:
    """Add ``compare, validate`` to the ``lcsim`` app."""
    app.command()(compare)
    app.command()(validate)
