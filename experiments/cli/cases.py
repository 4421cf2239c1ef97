"""``lcsim compare`` (policy scenarios side by side) and ``lcsim validate`` (the documented cases, the joint fate and the patterns).

Registered on the ``lcsim`` Typer app by :mod:`experiments.cli.app` through :func:`register`.
User mistakes end with exit code 2 and a message naming the file or option, the value and what is
allowed, before anything is created.  ``lcsim validate`` exits with code 1 when a pattern fails.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from experiments.cli.options import (HELP_SEED, HELP_WORKERS, BackendOption, ClusterOption, SchedulerOption,
                                     backend_spec, fail, integer_option)
from experiments.config.scenario import parse_settings, scenario_argument
from experiments.config.reading import ConfigError, resolve_reference, suggest
from experiments.store.manifest import provenance, utc_now
from experiments.store.atomic import OutputFolderError, check_out_dir

VALIDATION_DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"


# ----------------------------------------------------------------------------------------- compare
def compare(
    configs: Annotated[list[str], typer.Argument(
        metavar="SCENARIO...", show_default=False,
        help="Two or more scenarios: files, shipped names (baseline) or compositions (baseline+stable_management).")],
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
    settings: Annotated[list[str] | None, typer.Option("--set", metavar="NAME=VALUE", show_default=False, help=(
        "Override a parameter in every scenario, as name=value (repeatable); applied last, checked like a "
        "file value, recorded in the manifest."))] = None,
    reference: Annotated[str | None, typer.Option(metavar="NAME", show_default=False, help=(
        "The scenario the differences are taken to (its name; default: the first). The table is ranked by "
        "the difference in continued_by_school_y5."))] = None,
    all_pairs: Annotated[bool, typer.Option("--all-pairs", help=(
        "Also compare every pair of scenarios (paired by seed): Bonferroni-adjusted 95% intervals (each at "
        "1 - 0.05/m for m pairs) and Holm-adjusted paired t-test p-values; written to pairs.md/pairs.csv."))] = False,
) -> None:
    """Compare scenarios on the same seeds: 95% intervals, paired differences, adjusted pair tests, figures.

    Differences are taken per replicate to the reference scenario (--reference, default the first);
    --all-pairs adds every pair with Bonferroni-adjusted intervals and Holm-adjusted p-values."""
    n = integer_option("replicates", replicates)
    root_seed = integer_option("seed", seed)
    spec = backend_spec(backend, workers, scheduler, cluster)
    if len(configs) < 2:
        raise fail(f"compare: {len(configs)} scenario given; allowed: two or more scenarios (files or names)")
    try:
        given = parse_settings(settings)
        scenarios = [scenario_argument(path, given) for path in configs]
    except ConfigError as exc:
        raise fail(str(exc)) from None
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise fail(f"compare: scenario names {names} repeat; allowed: scenarios with distinct names")
    if reference is not None and reference not in names:
        raise fail(f"--reference {reference}: not one of the compared scenarios; allowed: "
                   f"{', '.join(names)}" + suggest(reference, names))
    out = out if out is not None else Path("results") / "compare" / comparison_folder_name(names)
    try:
        check_out_dir(out, force, "comparison")
    except OutputFolderError as exc:
        from experiments.cli.ensembles import unfinished_hint

        raise fail(str(exc) + unfinished_hint(out)) from None
    for implausible in filter(None, (s.implausible_values() for s in scenarios)):  # once the command is sure to run
        typer.echo(f"warning: {implausible}", err=True)

    from experiments.cli.ensembles import run_ensemble_command

    finish = {"scenarios": {s.name: s.provenance() for s in scenarios},
              "config_sha256": {s.name: s.sha256 for s in scenarios}, "settings": given, "reference": reference,
              "all_pairs": all_pairs, "started_utc": utc_now(), "command": shlex.join(sys.argv)}
    run_ensemble_command("comparison", out, {s.name: s.params for s in scenarios}, n, root_seed, spec,
                         manifest={"command": finish["command"], "finish": finish}, finisher=finish_comparison,
                         label=f"{len(scenarios)} scenarios x {n} replicates", show_progress=progress)
    typer.echo(f"comparison written to {out}", err=True)


def _final_manifest(runset, kind: str, **fields) -> None:
    from experiments.store.atomic import atomic_write_json

    atomic_write_json(runset.path / "manifest.json", {
        "kind": kind, **fields, **provenance(), "command": runset.manifest["finish"]["command"],
        "format": runset.manifest["format"], "state": "finished", "runset_id": runset.runset_id,
        "study_digest": runset.manifest["study_digest"], "resumed": runset.manifest.get("resumed", [])})


def finish_comparison(runset) -> int:
    """Build an ``lcsim compare`` folder from its complete run set (tables, pairs, figures, manifest); print it."""
    from experiments.analysis.compare import (
        comparison_table, pairwise_markdown, pairwise_table, scenario_result, table_markdown,
    )
    from experiments.execution.ensemble import point_tables, tables_to_outcomes
    from experiments.plots.compare import CURVES_PNG, FATES_PNG, plot_continuation_curves, plot_fates_by_scenario
    from experiments.plots.figures import save_figure

    given = runset.manifest["finish"]
    n, root_seed, folder = runset.replicates, runset.root_seed, runset.path
    results = [scenario_result(name, tables_to_outcomes(frames)) for name, frames in point_tables(runset).items()]
    table = comparison_table(results, given["reference"])
    pairs = pairwise_table(results) if given["all_pairs"] else None
    table.to_csv(folder / "comparison.csv", index=False)
    (folder / "comparison.md").write_text(table_markdown(table, n, root_seed), encoding="utf-8")
    if pairs is not None:
        pairs.to_csv(folder / "pairs.csv", index=False)
        (folder / "pairs.md").write_text(pairwise_markdown(pairs), encoding="utf-8")
    save_figure(plot_continuation_curves(results), folder / CURVES_PNG)
    save_figure(plot_fates_by_scenario(results), folder / FATES_PNG)
    _final_manifest(runset, "comparison", scenarios=given["scenarios"], config_sha256=given["config_sha256"],
                    settings=given["settings"], reference=table["reference"].iloc[0], all_pairs=given["all_pairs"],
                    replicates=n, root_seed=root_seed,
                    seeding="replicate i of every scenario uses SeedSequence(root_seed).spawn(replicates)[i]",
                    started_utc=given["started_utc"], finished_utc=utc_now())
    _print_comparison(table)
    if pairs is not None:
        _print_pairs(pairs)
    return 0


def comparison_folder_name(names: list[str]) -> str:
    """``a_vs_b_vs_c``; when that is too long for a file name (many composed scenarios), the reference
    name, the number of others and a short hash of all names."""
    import hashlib

    joined = "_vs_".join(names)
    if len(joined) <= 120:
        return joined
    digest = hashlib.sha256(joined.encode("utf-8")).hexdigest()[:8]
    return f"{names[0]}_vs_{len(names) - 1}_scenarios-{digest}"


#: The metric the terminal output ranks scenarios by and prints the pairs of.
HEADLINE = "continued_by_school_y5"


def _print_comparison(table) -> None:
    """The comparison in at most 100 columns; within each metric the scenarios are ranked by their
    difference to the reference (the reference first)."""
    from rich.console import Console
    from rich.table import Table

    from experiments.analysis.compare import format_value

    reference = table["reference"].iloc[0]
    view = Table(title=f"Scenario comparison: mean [95% interval]; difference to {reference}, paired by seed",
                 title_justify="left")
    for column in ("metric / scenario", "mean", "95% interval", "difference", "95% interval"):
        view.add_column(column, overflow="fold")
    for k, (metric, group) in enumerate(table.groupby("metric", sort=False)):
        if k:
            view.add_section()
        view.add_row(metric, "", "", "", "", style="bold")
        group = group.assign(first=group["scenario"] == reference).sort_values(
            ["first", "diff"], ascending=[False, False])
        for row in group.itertuples():
            view.add_row(
                "  " + row.scenario, format_value(row.mean),
                f"{format_value(row.ci_low)} – {format_value(row.ci_high)}",
                "" if row.diff != row.diff else f"{row.diff:+.3g}",
                "" if row.diff != row.diff else f"{format_value(row.diff_low)} – {format_value(row.diff_high)}",
            )
    Console(width=None if sys.stdout.isatty() else 100).print(view)


def _print_pairs(pairs) -> None:
    from rich.console import Console
    from rich.table import Table

    from experiments.analysis.compare import format_value

    rows = pairs[pairs["metric"] == HEADLINE].sort_values("diff", ascending=False)
    m = int(pairs["pairs"].iloc[0])
    view = Table(title=f"Every pair, {HEADLINE} (b - a; Bonferroni-adjusted 95% intervals for {m} pairs, "
                       "Holm-adjusted p; all metrics in pairs.md)", title_justify="left")
    for column in ("a", "b", "b - a", "adjusted interval", "p (Holm)"):
        view.add_column(column, overflow="fold")
    for row in rows.itertuples():
        view.add_row(row.a, row.b, f"{row.diff:+.3g}", f"{format_value(row.diff_low)} – {format_value(row.diff_high)}",
                     format_value(row.p_holm))
    Console(width=None if sys.stdout.isatty() else 100).print(view)


# ----------------------------------------------------------------------------------------- validate
def validate(
    replicates: Annotated[str, typer.Option(metavar="N", help="Replicates per ensemble (1 to 1000000).")] = "200",
    seed: Annotated[str, typer.Option(metavar="SEED", help=HELP_SEED)] = "7",
    workers: Annotated[str | None, typer.Option(metavar="N", help=HELP_WORKERS, show_default=False)] = None,
    scenarios: Annotated[Path, typer.Option(help="Folder with the case and policy scenario files (default: the "
                                            "project's configs/scenarios).", show_default=False)] = Path(
        "configs/scenarios"),
    out: Annotated[Path, typer.Option(help="Report folder (replaced on every run).")] = Path("results/validation"),
    update_docs: Annotated[bool, typer.Option("--update-docs", help="Also write the figures into docs/validation.md.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    backend: BackendOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
) -> None:
    """Replay the documented cases (C1-C3), the joint fate (J) and the patterns P1, P3, P6; exit 1 if one of
    these fails.  The literature patterns L1-L3 are reported (reproduced / NOT reproduced) beside the verdict."""
    from experiments.analysis.validation import ensemble_plan

    n = integer_option("replicates", replicates)
    root_seed = integer_option("seed", seed)
    spec = backend_spec(backend, workers, scheduler, cluster)
    scenarios = resolve_reference(scenarios, None)
    try:
        plan = ensemble_plan(scenarios)
        check_out_dir(out, force=True, kind="validation")
    except (ConfigError, OutputFolderError) as exc:
        raise fail(str(exc)) from None

    from experiments.cli.ensembles import run_ensemble_command

    finish = {"scenarios_dir": str(scenarios), "update_docs": update_docs, "started_utc": utc_now(),
              "command": shlex.join(sys.argv)}
    code = run_ensemble_command("validation", out, plan, n, root_seed, spec,
                                manifest={"command": finish["command"], "finish": finish},
                                finisher=finish_validation, label=f"{len(plan)} ensembles x {n} replicates",
                                show_progress=progress)
    if code:
        raise typer.Exit(code)


def finish_validation(runset) -> int:
    """Build an ``lcsim validate`` folder from its complete run set (report, checks, manifest); print the checks;
    1 if a check of what the document reports fails (the literature patterns never change the code)."""
    from experiments.analysis.validation import (checks_frame, document_checks, literature_patterns, run_checks,
                                                 verdict_code)
    from experiments.analysis.validation_report import report_markdown, update_validation_doc
    from experiments.execution.ensemble import point_tables, tables_to_outcomes

    given = runset.manifest["finish"]
    n, root_seed, folder = runset.replicates, runset.root_seed, runset.path
    ensembles = {name: tables_to_outcomes(frames) for name, frames in point_tables(runset).items()}
    checks = run_checks(ensembles)
    (folder / "report.md").write_text(report_markdown(checks, n, root_seed), encoding="utf-8")
    checks_frame(checks).to_csv(folder / "checks.csv", index=False)
    _final_manifest(runset, "validation", scenarios_dir=given["scenarios_dir"], ensembles=list(ensembles),
                    replicates=n, root_seed=root_seed, started_utc=given["started_utc"], finished_utc=utc_now())
    if given["update_docs"]:
        update_validation_doc(VALIDATION_DOC, checks, n, root_seed, Path(given["scenarios_dir"]))
    for check in checks:
        typer.echo(f"{check.pattern:<4} {check.verdict:<14}  {check.figure:8.3f}  "
                   f"[{check.low:8.3f}, {check.high:8.3f}]  {check.title}  ({check.criterion})")
    typer.echo(f"report written to {runset.manifest.get('target', folder)}/report.md", err=True)
    failed = [c.pattern for c in document_checks(checks) if not c.passed]
    lit = ", ".join(f"{c.pattern} {c.verdict}" for c in literature_patterns(checks))
    tail = f" (literature patterns, not part of the verdict: {lit})" if lit else ""
    if verdict_code(checks):
        typer.echo(f"validation FAILED: {', '.join(failed)}{tail}", err=True)
        return 1
    typer.echo(f"validation passed: {len(document_checks(checks))} checks of what the document reports{tail}", err=True)
    return 0


def register(app: typer.Typer) -> None:
    """Add ``compare, validate`` to the ``lcsim`` app."""
    app.command()(compare)
    app.command()(validate)
