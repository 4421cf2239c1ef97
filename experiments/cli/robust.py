"""``lcsim robust``: which policy holds up over the futures a region cannot control?

Registered on the ``lcsim`` Typer app by :mod:`experiments.cli.app` through :func:`register`.  Reads a
robustness file (:mod:`experiments.config.robust`), runs every policy over the same Latin hypercube of
futures with common random numbers through the run-set engine (:mod:`experiments.execution.robust`),
prints the statements and writes ``RUNSET/robustness/`` (robustness.csv, report.md, CDF and regret plots).
Running it again on the same file continues the run set (only missing runs).  User mistakes exit 2 with
the file, field, value and what is allowed, before anything is created.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from experiments.cli.options import fail, integer_option

BACKENDS_LOCAL = ("serial", "processes", "dask")


def robust(
    config: Annotated[Path, typer.Argument(metavar="ROBUST.toml", show_default=False,
                                           help="Robustness file, e.g. configs/robust/accelerators.toml.")],
    backend: Annotated[str, typer.Option(metavar="NAME", help=(
        "Where runs execute: serial | processes | dask (a local Dask cluster).")) ] = "processes",
    workers: Annotated[str | None, typer.Option(metavar="N", show_default=False, help=(
        "Worker processes, 1 to 1024 (default: number of CPUs)."))] = None,
    out: Annotated[Path | None, typer.Option(show_default=False, help="Run-set folder (default: results/<name>).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Start again: replace an existing run-set folder.")] = False,
    chunk_size: Annotated[str | None, typer.Option(metavar="N", show_default=False,
                                                   help="Runs per chunk (default: adaptive).")] = None,
) -> None:
    """Compare policies over the same futures (common random numbers): distribution, satisficing, regret."""
    from experiments.analysis.robustness import ranking_table
    from experiments.config.reading import ConfigError
    from experiments.config.robust import load_robust
    from experiments.execution.backends import BackendSpec
    from experiments.execution.replicates import default_workers
    from experiments.execution.robust import check_runset_matches, run_robust, study_config
    from experiments.store.atomic import OutputFolderError, check_out_dir
    from experiments.store.runset import RunSet, RunSetBusyError, RunSetError

    if backend not in BACKENDS_LOCAL:
        raise fail(f"--backend {backend}: unknown backend; allowed: {', '.join(BACKENDS_LOCAL)}")
    n_workers = 1 if backend == "serial" else (integer_option("workers", workers) if workers else default_workers())
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
        shutil.rmtree(out)
    policies, futures, reps = len(robust_config.levers), robust_config.file.futures, robust_config.file.replicates
    typer.echo(f"{robust_config.name}: {policies} policies x {futures} futures x {reps} replicates = "
               f"{policies * futures * reps} runs -> {out}", err=True)
    try:
        study = run_robust(robust_config, out, backend=BackendSpec(backend, n_workers), chunk_size=n_chunk,
                           command=shlex.join(sys.argv), say=lambda text: typer.echo(text, err=True))
    except (RunSetBusyError, ConfigError) as exc:  # a busy run set; design points the model would refuse
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        typer.echo(f"interrupted; finished runs are kept in {out}. Continue with: lcsim robust {config}", err=True)
        raise typer.Exit(130) from None
    if study.failed:
        typer.echo(f"error: {study.failed} runs failed; parameters, seeds and tracebacks are in {out / 'failures'}",
                   err=True)
        raise typer.Exit(1)
    for line in study.result.statements:
        typer.echo(line)
    for output in robust_config.file.outputs:
        typer.echo(f"\n{output}: policies in rank order per metric")
        typer.echo(ranking_table(study.result.table, output).to_string())
    typer.echo(f"written to {study.folder} (report: {study.folder / 'report.md'})", err=True)


def register(app: typer.Typer) -> None:
    """Add ``robust`` to the ``lcsim`` app."""
    app.command()(robust)
