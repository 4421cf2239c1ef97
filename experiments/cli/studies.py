"""``lcsim sweep``, ``lcsim sensitivity`` and ``lcsim resume``: many runs from a TOML file to a ranked table.

Registered on the ``lcsim`` Typer app by :mod:`experiments.cli.app` through :func:`register`.
User mistakes (a bad file, a bad option, an existing output folder) end with exit code 2 and a message
naming the file or option, the value and what is allowed, before anything is created.  A study whose
runs partly failed still writes everything and its analysis, then exits with code 1.  Ctrl-C leaves a
run set that ``lcsim resume`` completes (exit code 130).

Backends: ``--backend serial | processes | dask`` with ``--workers N``; ``--scheduler tcp://host:port``
(a running Dask scheduler) or ``--cluster FILE`` (SLURM/PBS jobs, docs/cluster.md) imply ``dask``.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from experiments.execution.backends import BackendError
from experiments.cli.guards import interruptible, os_errors, replacing
from experiments.cli.options import (HELP_SET, BackendOption, ClusterOption, SchedulerOption, WorkersOption,
                                     backend_spec, fail, integer_option)
from experiments.config.reading import ConfigError, resolve_reference


HELP_OUT = "Run-set folder (default: results/<name>)."
HELP_CHUNK = ("Runs per chunk (default: adaptive, about 2 s of model time per chunk on processes, 1 s on "
              "dask; the first chunks calibrate).")
DEFAULT_MAX_RUNS = 1_000_000
HELP_MAX_RUNS = (f"Refuse a design of more than N runs before starting (default {DEFAULT_MAX_RUNS:,}); with "
                 "--until-converged also stop doubling before the run set would exceed N runs (default there: "
                 "the file's [convergence] max_runs).")
MaxRunsOption = Annotated[str | None, typer.Option(metavar="N", help=HELP_MAX_RUNS, show_default=False)]

# The options the three commands share, declared once.
OutOption = Annotated[Path | None, typer.Option(help=HELP_OUT, show_default=False)]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing run-set folder.")]
ChunkOption = Annotated[str | None, typer.Option(metavar="N", help=HELP_CHUNK, show_default=False)]
ProgressOption = Annotated[bool, typer.Option(help="Show a progress bar on stderr.")]
SetOption = Annotated[list[str] | None, typer.Option("--set", metavar="NAME=VALUE", help=HELP_SET + (
    " Also top-level keys (replicates=2) and table.key (morris.trajectories=4)."), show_default=False)]


def _integer(option: str, text: str | None) -> int | None:
    """An optional integer option, checked like those of `lcsim run` (the value named in errors)."""
    return None if text is None else integer_option(option, text)


@contextmanager
def _backend_errors(path: Path):
    """A backend that cannot start or is lost: the message, and how to go on if runs are on disk."""
    try:
        yield
    except BackendError as exc:
        if (path / "manifest.json").is_file():
            typer.echo(f"error: {exc}", err=True)
            typer.echo(f"finished runs are kept in {path}. Continue with: lcsim resume {path}", err=True)
            raise typer.Exit(1) from None
        raise fail(str(exc)) from None


def _out_folder(out: Path, force: bool) -> None:
    """Refuse an existing folder unless --force (and then only an earlier run set or an empty folder)."""
    from experiments.store.atomic import OutputFolderError, check_out_dir

    if out.exists() and not force:
        raise fail(f"--out {out}: the folder already exists; allowed: a new path, --force to replace it, or "
                   f"`lcsim resume {out}` to finish an interrupted run set")
    try:
        check_out_dir(out, force, "runset")
    except OutputFolderError as exc:
        raise fail(str(exc)) from None


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB"


def _console():
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def _progress_bar(show: bool, label: str):
    """A rich progress bar (runs done, runs failed, elapsed, ETA) as an engine progress callback."""
    if not show:
        yield None
        return
    from rich.progress import Progress

    from experiments.execution.replicates import progress_columns

    columns = progress_columns("runs, {task.fields[failed]} failed")
    with Progress(*columns, console=_console(), transient=False) as progress:
        task = progress.add_task(label, total=None, failed=0)
        failed = 0

        def callback(event: str, counts: dict[str, int]) -> None:
            nonlocal failed
            if event == "start":
                failed = counts["failed"]
                progress.update(task, total=counts["total"], completed=counts["done"] + counts["failed"],
                                failed=failed)
            else:
                failed += counts["failed"]
                progress.update(task, advance=counts["done"] + counts["failed"], failed=failed)

        yield callback


def _report(result: Any, config: Any) -> None:
    """Print the ranked tables (or the sweep table); exit 1 if any run failed."""
    from rich.console import Console

    from experiments.analysis.studies import print_rankings, print_sweep

    out_console = Console(width=None if sys.stdout.isatty() else 160)
    if config.kind == "sweep":
        print_sweep(result.analysis, out_console)
    else:
        print_rankings(result.analysis, out_console)
    runset = result.runset
    typer.echo(f"run set written to {runset.path} (report: {runset.path / 'analysis' / 'report.md'})", err=True)
    if result.failed:
        typer.echo(f"error: {result.failed} of {runset.n_runs} runs failed; parameters, seeds and tracebacks are in "
                   f"{runset.path / 'failures'}; retry them with `lcsim resume {runset.path} --retry-failed`",
                   err=True)
        raise typer.Exit(1)


@contextmanager
def _busy_is_a_user_error():
    from experiments.store.runset import RunSetBusyError

    try:
        yield
    except RunSetBusyError as exc:
        raise fail(str(exc)) from None


def _start(kind: str, config_path: Path, *, backend: str | None, workers: str | None, scheduler: str | None,
           cluster: Path | None, out: Path | None, force: bool, chunk_size: str | None, progress: bool,
           until_converged: bool = False, max_runs: str | None = None, settings: list[str] | None = None) -> None:
    from experiments.execution.engine import check_design, design_bytes, first_stage, planned_points
    from experiments.models.registry import load_model
    from experiments.execution.study import run_study
    from experiments.config.study import load_study

    # configs/... names work from any folder (see resolve_reference); other paths are from the cwd
    config_path = resolve_reference(config_path, None)
    cluster = resolve_reference(cluster, None) if cluster is not None else None
    spec = backend_spec(backend, workers, scheduler, cluster)
    n_chunk = _integer("chunk-size", chunk_size)
    n_max = _integer("max-runs", max_runs)
    from experiments.config.scenario import parse_settings

    try:
        config = load_study(config_path, kind, parse_settings(settings))
        out = out if out is not None else Path("results") / config.name
        _out_folder(out, force)
        points = planned_points(config)
        runs, cap = points * config.replicates, n_max if n_max is not None else DEFAULT_MAX_RUNS
        if runs > cap:
            raise fail(f"{config_path}: the design has {points:,} points x {config.replicates} replicates = {runs:,} "
                       f"runs (design table about {_megabytes(design_bytes(config, points))}), above the limit "
                       f"--max-runs {cap:,}; allowed: a smaller design or fewer replicates, or raise --max-runs")
        frame, _ = first_stage(config)
        check_design(config, load_model(config.model), frame)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    console = _console()
    for warning in config.warnings:
        console.print(f"warning: {warning}", style="yellow")
    console.print(f"{config.name}: {len(frame)} design points x {config.replicates} replicates = "
                  f"{len(frame) * config.replicates} runs (design table about "
                  f"{_megabytes(design_bytes(config, len(frame)))}) -> {out}")
    label = f"{config.name} ({spec.label()})"
    with os_errors(out, resumable=not out.exists()), replacing(out) as target, ExitStack() as guards:
        if target == out:  # a new folder: an interrupted study is resumable there
            guards.enter_context(interruptible(out))
            guards.enter_context(_backend_errors(out))
        result = run_study(config, target, backend=spec, chunk_size=n_chunk,
                           until_converged=until_converged, max_runs=n_max,
                           progress=lambda: _progress_bar(progress, label), say=console.print)
    result.runset.path = out  # a replacement was built beside out and renamed to it
    _report(result, config)


def sweep(
    config: Annotated[Path, typer.Argument(metavar="SWEEP.toml", help="Sweep file, e.g. configs/sweeps/x.toml.",
                                           show_default=False)],
    backend: BackendOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    out: OutOption = None,
    force: ForceOption = False,
    chunk_size: ChunkOption = None,
    progress: ProgressOption = True,
    settings: SetOption = None,
    max_runs: MaxRunsOption = None,
) -> None:
    """Run a factorial or Latin-hypercube sweep; write the run set, point table and heatmaps."""
    _start("sweep", config, backend=backend, workers=workers, scheduler=scheduler, cluster=cluster, out=out,
           force=force, chunk_size=chunk_size, progress=progress, settings=settings, max_runs=max_runs)


def sensitivity(
    config: Annotated[Path, typer.Argument(metavar="SENSITIVITY.toml", show_default=False,
                                           help="Sensitivity file, e.g. configs/sensitivity/baseline_morris.toml.")],
    until_converged: Annotated[bool, typer.Option("--until-converged", help=(
        "Double the base sample (reusing all runs) until the top factors' interval half-widths are below the "
        "threshold and the top ranking is stable."))] = False,
    max_runs: MaxRunsOption = None,
    backend: BackendOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    out: OutOption = None,
    force: ForceOption = False,
    chunk_size: ChunkOption = None,
    progress: ProgressOption = True,
    settings: SetOption = None,
) -> None:
    """Run a Morris or Sobol' sensitivity analysis; print and write the ranked factors with intervals."""
    _start("sensitivity", config, backend=backend, workers=workers, scheduler=scheduler, cluster=cluster, out=out,
           force=force, chunk_size=chunk_size, progress=progress, until_converged=until_converged, max_runs=max_runs,
           settings=settings)


def resume(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="A run-set folder.", show_default=False)],
    backend: BackendOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Run the failed runs again too.")] = False,
    until_converged: Annotated[bool, typer.Option("--until-converged", help=(
        "Switch the run set to doubling until converged (reusing every run), even if it was started without."
    ))] = False,
    max_runs: MaxRunsOption = None,
    chunk_size: ChunkOption = None,
    progress: ProgressOption = True,
    repair: Annotated[bool, typer.Option("--repair", help=(
        "Move bad parts (unreadable, of another run set, repeating a (point, replicate) pair) to quarantine/ "
        "and run exactly their runs again."))] = False,
) -> None:
    """Finish an interrupted sweep, sensitivity, run, compare or validate: run only what is missing, then analyse."""
    from experiments.models.registry import UnknownModelError
    from experiments.store.runset import RunSet, RunSetError
    from experiments.execution.study import resume_study
    from experiments.config.study import StudyConfig

    cluster = resolve_reference(cluster, None) if cluster is not None else None
    spec = backend_spec(backend, workers, scheduler, cluster)
    n_chunk = _integer("chunk-size", chunk_size)
    n_max = _integer("max-runs", max_runs)
    from experiments.cli.ensembles import is_ensemble_folder

    if is_ensemble_folder(directory):
        from experiments.cli.cases import finish_comparison, finish_validation
        from experiments.cli.ensembles import resume_ensemble
        from experiments.cli.run import finish_run

        code = resume_ensemble(directory, spec, {"run": finish_run, "comparison": finish_comparison,
                                                 "validation": finish_validation},
                               repair=repair, show_progress=progress)
        typer.echo(f"results written to {directory}", err=True)
        if code:
            raise typer.Exit(code)
        return
    if not directory.is_dir():
        raise fail(f"{directory}: no such folder; allowed: a run-set folder written by `lcsim sweep` or "
                   "`lcsim sensitivity`")
    try:
        runset = RunSet.open(directory)
        if runset.manifest.get("kind") == "robust":  # continued from its robustness file, as lcsim robust does
            from experiments.cli.robust import continue_robust

            continue_robust(directory, runset.manifest, spec, n_chunk)
            return
        config = StudyConfig.from_dict(runset.manifest["study"])
        from experiments.models.registry import load_model

        load_model(config.model)
    except (RunSetError, UnknownModelError, KeyError) as exc:
        raise fail(f"{directory}: cannot resume ({exc})") from None
    if (until_converged or n_max is not None) and config.design["type"] not in ("sobol", "morris", "emulator"):
        raise fail(f"--until-converged: {directory} holds a {config.design['type']} sweep; allowed: only for "
                   "Morris, Sobol' or emulator run sets")
    console = _console()
    bad = runset.check_parts()
    if bad and not repair:
        lines = "\n".join(f"{path.relative_to(runset.path)}: {reason}" for path, reason in bad[:10])
        raise fail(f"{directory}: {len(bad)} bad part(s):\n{lines}\nallowed: `lcsim resume {directory} --repair` "
                   "moves them to quarantine/ and runs exactly their runs again")
    if bad:
        from experiments.store.folders import busy_message, lock_state

        state, holder = lock_state(directory)
        if state in ("live", "unsure"):
            raise fail(busy_message(directory, state, holder))
        for line in runset.quarantine(bad):
            console.print(f"repair: {line}")
    console.print(f"{config.name}: {len(runset.done_run_ids())} of {runset.n_runs} runs on disk; resuming")
    label = f"{config.name} ({spec.label()})"
    with os_errors(directory), interruptible(directory), _busy_is_a_user_error(), _backend_errors(directory):
        result = resume_study(directory, backend=spec, chunk_size=n_chunk, retry_failed=retry_failed,
                              until_converged=until_converged or None, max_runs=n_max,
                              progress=lambda: _progress_bar(progress, label), say=console.print)
    _report(result, config)


def register(app: typer.Typer) -> None:
    """Add ``sweep, sensitivity, resume`` to the ``lcsim`` app."""
    app.command()(sweep)
    app.command()(sensitivity)
    app.command()(resume)
