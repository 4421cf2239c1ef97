"""A whole study in one call: create (or reopen) a run set, execute what is missing, double the design
while ``until_converged`` asks for it, then analyse and write the analysis.

The command line (:mod:`experiments.cli.studies`) and tests and notebooks all go through here.

Where the runs execute is a :class:`experiments.execution.backends.BackendSpec` passed as ``backend=`` (the older
``backend="processes", workers=2`` keywords still work)::

    run_study(config, Path("results/x"), backend=BackendSpec("dask", workers=2))                # LocalCluster
    run_study(config, Path("results/x"), backend=BackendSpec("dask", scheduler="tcp://h:8786"))  # a scheduler
    run_study(config, Path("results/x"), backend=BackendSpec("dask", cluster_config="configs/cluster/slurm.toml"))

The backend is started before the run set is created (an unreachable scheduler leaves nothing on disk)
and once per call, however many stages ``until_converged`` adds.  The manifest records it (under
``backend``, and in each ``resumed`` entry) for information only: results never depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.execution.backends import BackendSpec, Evaluator
from experiments.execution.evaluators import make_evaluator
from experiments.execution.engine import (
    ProgressCallback,
    add_doubling_stage,
    create_runset,
    execute,
    next_stage,
    open_runset,
    record_resume,
)
from experiments.models.spec import ModelSpec
from experiments.store.runset import RunSet
from experiments.config.study import StudyConfig

#: Makes a progress callback for one execution pass (a context manager yielding the callback or None).
ProgressFactory = Callable[[], AbstractContextManager[ProgressCallback | None]]


@dataclass
class StudyResult:
    """What a study left behind."""

    runset: RunSet
    analysis: Any = None  # experiments.analysis.studies.StudyAnalysis when analysed
    failed: int = 0
    converged: bool | None = None
    messages: list[str] = field(default_factory=list)


def drive(runset: RunSet, config: StudyConfig, spec: ModelSpec, *, backend: BackendSpec | str = "serial",
          workers: int = 1, evaluator: Evaluator | None = None, chunk_size: int | None = None,
          retry_failed: bool = False, until_converged: bool = False, max_runs: int | None = None,
          progress: ProgressFactory | None = None, say: Callable[[str], None] = lambda text: None) -> bool | None:
    """Execute the missing runs; with ``until_converged`` double the design until converged or ``max_runs``.

    Runs on ``evaluator`` if given, else on one made from ``backend`` (and ``workers``), kept for every stage.
    Returns the convergence verdict (None when not asked for).
    """
    evaluator = evaluator or make_evaluator(BackendSpec.of(backend, workers), say=say)
    with evaluator:
        return _drive(runset, config, spec, evaluator, chunk_size=chunk_size, retry_failed=retry_failed,
                      until_converged=until_converged, max_runs=max_runs, progress=progress, say=say)


def _drive(runset: RunSet, config: StudyConfig, spec: ModelSpec, evaluator: Evaluator, *, chunk_size: int | None,
           retry_failed: bool, until_converged: bool, max_runs: int | None, progress: ProgressFactory | None,
           say: Callable[[str], None]) -> bool | None:
    from experiments.analysis.studies import check_convergence

    progress = progress or (lambda: nullcontext(None))
    limit = max_runs if max_runs is not None else int(config.convergence["max_runs"])
    with progress() as callback:
        execute(runset, config, spec, evaluator, chunk_size=chunk_size, retry_failed=retry_failed, progress=callback)
    if not until_converged:
        return None
    while True:
        verdict = check_convergence(runset, config)
        if verdict.converged:
            say(f"converged at {runset.n_runs} runs")
            return True
        frame, _ = next_stage(config, runset)
        extra = len(frame) * config.replicates
        if runset.n_runs + extra > limit:
            say(f"not converged at {runset.n_runs} runs, and doubling would exceed the run limit {limit}; stopping")
            for reason in verdict.reasons:
                say(f"  {reason}")
            return False
        say(f"not converged at {runset.n_runs} runs ({'; '.join(verdict.reasons[:2])}); doubling: +{extra} runs")
        add_doubling_stage(runset, config, spec)
        with progress() as callback:
            execute(runset, config, spec, evaluator, chunk_size=chunk_size, progress=callback)


def finish(runset: RunSet, config: StudyConfig, converged: bool | None, *, analyse: bool = True) -> StudyResult:
    """Analyse and write the analysis (unless ``analyse`` is false); count failures."""
    result = StudyResult(runset, failed=len(runset.failures()), converged=converged)
    if analyse:
        from experiments.analysis.studies import analyse_runset, write_analysis

        result.analysis = analyse_runset(runset, config)
        write_analysis(runset, result.analysis)
    return result


def run_study(config: StudyConfig, out: Path, *, backend: BackendSpec | str = "serial", workers: int = 1,
              chunk_size: int | None = None, until_converged: bool = False, max_runs: int | None = None,
              analyse: bool = True, command: str | None = None, progress: ProgressFactory | None = None,
              say: Callable[[str], None] = lambda text: None) -> StudyResult:
    """Create the run set at ``out`` (which must not exist), run it on ``backend``, analyse it."""
    backend_spec = BackendSpec.of(backend, workers)
    limit = max_runs if max_runs is not None else int(config.convergence["max_runs"])
    # started first: a scheduler that cannot be reached or a cluster that cannot start leaves no folder behind
    with make_evaluator(backend_spec, say=say) as evaluator:
        runset, spec = create_runset(config, out, command=command)
        with runset.lock(say=say):
            runset.update_manifest(until_converged=until_converged, max_runs=limit if until_converged else None,
                                   backend=backend_spec.describe())
            converged = drive(runset, config, spec, evaluator=evaluator, chunk_size=chunk_size,
                              until_converged=until_converged, max_runs=limit, progress=progress, say=say)
            return finish(runset, config, converged, analyse=analyse)


def resume_study(path: Path, *, backend: BackendSpec | str = "serial", workers: int = 1, chunk_size: int | None = None,
                 retry_failed: bool = False, until_converged: bool | None = None, max_runs: int | None = None,
                 analyse: bool = True, command: str | None = None, progress: ProgressFactory | None = None,
                 say: Callable[[str], None] = lambda text: None) -> StudyResult:
    """Reopen the run set at ``path``, run only what is missing on ``backend`` (continuing a convergence
    loop), analyse.  Any backend resumes any run set: every run carries its own seed.

    ``until_converged=True`` (or a ``max_runs``) switches the run set to doubling until converged.
    """
    backend_spec = BackendSpec.of(backend, workers)
    runset, config, spec, warnings = open_runset(path)
    for warning in warnings:
        say(f"warning: {warning}")
    until = bool(runset.manifest.get("until_converged")) or bool(until_converged) or max_runs is not None
    limit = max_runs or int(runset.manifest.get("max_runs") or config.convergence["max_runs"])
    with runset.lock(say=say), make_evaluator(backend_spec, say=say) as evaluator:
        record_resume(runset, command, backend=backend_spec.describe())
        if until:
            runset.update_manifest(until_converged=True, max_runs=limit)
        converged = drive(runset, config, spec, evaluator=evaluator, chunk_size=chunk_size,
                          retry_failed=retry_failed, until_converged=until, max_runs=limit, progress=progress,
                          say=say)
        result = finish(runset, config, converged, analyse=analyse)
    result.messages.extend(warnings)
    return result


__all__ = ["StudyResult", "drive", "finish", "resume_study", "run_study"]
