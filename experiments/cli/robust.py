"""``lcsim robust``: which policy holds up over the futures a region cannot control?

Registered on the ``lcsim`` Typer app by :mod:`experiments.cli.app` through :func:`register`.  Reads a
robustness file (:mod:`experiments.config.robust`), runs every policy over the same Latin hypercube of
futures with common random numbers through the run-set engine (:mod:`experiments.execution.robust`),
prints the statements and writes ``RUNSET/robustness/`` (robustness.csv, report.md, CDF and regret plots).
Running it again on the same file, or ``lcsim resume RUNSET``, continues the run set (only missing runs);
``--backend``, ``--workers``, ``--scheduler`` and ``--cluster`` work as for sweeps.  User mistakes exit 2 with
the file, field, value and what is allowed, before anything is created.
"""

from __future__ import annotations

import shlex
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from experiments.cli.guards import interruptible, os_errors, replacing
from experiments.cli.options import (BackendOption, ClusterOption, SchedulerOption, WorkersOption, backend_spec, fail,
                                     integer_option)

def robust(
    config: Annotated[Path, typer.Argument(metavar="ROBUST.toml", show_default=False,
                                           help="Robustness file, e.g. configs/robust/accelerators.toml.")],
    backend: BackendOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    out: Annotated[Path | None, typer.Option(show_default=False, help="Run-set folder (default: results/<name>).")] = None,
    force: Annotated[bool, typer.Option("--force", help=(
        "Start again: build a new run set beside the existing one and replace it only once complete."))] = False,
    chunk_size: Annotated[str | None, typer.Option(metavar="N", show_default=False,
                                                   help="Runs per chunk (default: adaptive).")] = None,
) -> None:
    """Compare policies over the same futures (common random numbers): distribution, satisficing, regret."""
    from experiments.config.reading import ConfigError, resolve_reference
    from experiments.config.robust import load_robust
    from experiments.execution.robust import check_runset_matches, study_config
    from experiments.store.atomic import OutputFolderError, check_out_dir
    from experiments.store.runset import RunSet, RunSetError

    cluster = resolve_reference(cluster, None) if cluster is not None else None
    spec = backend_spec(backend, workers, scheduler, cluster)
    n_chunk = integer_option("chunk-size", chunk_size) if chunk_size else None
    try:
        robust_config = load_robust(config)
        study_config(robust_config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    out = out if out is not None else Path("results") / robust_config.name
    if out.exists() and not force:
        try:
            check_runset_matches(RunSet.open(out), robust_config)
        except (RunSetError, ConfigError) as exc:
            raise fail(f"--out {out}: the folder exists and cannot be continued ({exc}); allowed: a new path, or "
                       "--force to replace it") from None
    elif out.exists():
        try:
            check_out_dir(out, force, "runset")
        except OutputFolderError as exc:
            raise fail(str(exc)) from None
    run_and_report(robust_config, out, spec, n_chunk, replace=force and out.exists())


def continue_robust(directory: Path, manifest: dict, spec, chunk_size: int | None) -> None:
    """``lcsim resume`` on a robustness run set: read the robustness file it was made from (recorded in the
    manifest) and run what is missing, then analyse, as ``lcsim robust FILE --out DIR`` would."""
    from experiments.config.reading import ConfigError
    from experiments.config.robust import load_robust

    source = Path(manifest.get("study", {}).get("source", ""))
    again = f"lcsim robust ROBUST.toml --out {directory}"
    if not source.is_file():
        raise fail(f"{directory}: a robustness run set made from {source}, which is not found from here; allowed: "
                   f"run `{again}` with that file (paths in the manifest are as given when it was created)")
    try:
        robust_config = load_robust(source)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if robust_config.sha256 != manifest.get("robust", {}).get("sha256"):
        raise fail(f"{directory}: made from {source}, which has changed since; allowed: undo the change, or run "
                   f"`lcsim robust {source} --out NEW` (or --force to start {directory} again)")
    run_and_report(robust_config, directory, spec, chunk_size, replace=False)


def run_and_report(robust_config, out: Path, spec, chunk_size: int | None, *, replace: bool) -> None:
    """Run (or continue) the robustness study into ``out`` and print its statements and rankings.

    With ``replace`` (``--force`` onto an earlier run set) the new run set is built beside ``out`` and swapped
    in only when complete; otherwise an interrupted or terminated study is continued by ``lcsim resume OUT``.
    """
    from experiments.analysis.robustness import ranking_table
    from experiments.config.reading import ConfigError
    from experiments.execution.backends import BackendError
    from experiments.execution.robust import run_robust
    from experiments.store.runset import RunSetBusyError

    policies, futures, reps = len(robust_config.levers), robust_config.file.futures, robust_config.file.replicates
    typer.echo(f"{robust_config.name}: {policies} policies x {futures} futures x {reps} replicates = "
               f"{policies * futures * reps} runs -> {out}", err=True)
    try:
        with os_errors(out, resumable=not replace), ExitStack() as guards:
            target = guards.enter_context(replacing(out)) if replace else out
            if not replace:
                guards.enter_context(interruptible(out))
            study = run_robust(robust_config, target, backend=spec, chunk_size=chunk_size,
                               command=shlex.join(sys.argv), say=lambda text: typer.echo(text, err=True))
    except (RunSetBusyError, ConfigError) as exc:  # a busy run set; design points the model would refuse
        raise fail(str(exc)) from None
    except BackendError as exc:
        typer.echo(f"error: {exc}", err=True)
        typer.echo(f"finished runs are kept in {out}. Continue with: lcsim resume {out}", err=True)
        raise typer.Exit(1) from None
    folder = out / study.folder.relative_to(target) if study.folder is not None else None
    if study.failed:
        typer.echo(f"error: {study.failed} runs failed; parameters, seeds and tracebacks are in {out / 'failures'}",
                   err=True)
        raise typer.Exit(1)
    for line in study.result.statements:
        typer.echo(line)
    for output in robust_config.file.outputs:
        typer.echo(f"\n{output}: policies in rank order per metric")
        typer.echo(ranking_table(study.result.table, output).to_string())
    typer.echo(f"written to {folder} (report: {folder / 'report.md'})", err=True)


def register(app: typer.Typer) -> None:
    """Add ``robust`` to the ``lcsim`` app."""
    app.command()(robust)
