"""Running the model: one run, one replicate, and R replicates serially or on local processes.

Seeds: replicate ``i`` of a run with root seed ``s`` uses ``SeedSequence(s).spawn(R)[i]``, so a
replicate's random stream depends only on ``(s, i)`` -- never on the number of workers, the chunking or
the order in which processes finish.  That is what makes serial and parallel output identical.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from numpy.random import SeedSequence

from sim import PILOT_FIELDS, SERIES_FIELDS, SUMMARY_FIELDS, Params, RunOutcome, run_model
from experiments.designs.seeds import replicate_seeds
from experiments.execution.backends import BackendSpec

#: Signature of the model entry point; tests substitute a cheap fake with the same signature.
ModelFn = Callable[[Params, SeedSequence], RunOutcome]


def _as_params(params: dict[str, Any] | Params) -> Params:
    return params if isinstance(params, Params) else Params(**params)


def _as_seed(seed: int | SeedSequence) -> SeedSequence:
    return seed if isinstance(seed, SeedSequence) else SeedSequence(seed)


def check_outcome(outcome: RunOutcome, params: Params) -> None:
    """Fail loudly (naming the field) if a run broke the output contract of ``sim.outcomes``."""
    missing = set(SUMMARY_FIELDS) - set(outcome.summary)
    extra = set(outcome.summary) - set(SUMMARY_FIELDS)
    if missing or extra:
        raise ValueError(f"model summary breaks the contract: missing {sorted(missing)}, unexpected {sorted(extra)}")
    missing = set(SERIES_FIELDS) - set(outcome.series)
    if missing:
        raise ValueError(f"model series breaks the contract: missing {sorted(missing)}")
    for number, pilot in enumerate(outcome.pilots):
        if set(pilot) != set(PILOT_FIELDS):
            raise ValueError(
                f"model pilot record {number} breaks the contract: missing {sorted(set(PILOT_FIELDS) - set(pilot))}, "
                f"unexpected {sorted(set(pilot) - set(PILOT_FIELDS))}"
            )
    for name in SERIES_FIELDS:
        if len(outcome.series[name]) != params.horizon_months:
            raise ValueError(
                f"model series '{name}' has {len(outcome.series[name])} values; expected horizon_months = "
                f"{params.horizon_months}"
            )


def run_replicate(params: Params, seed: SeedSequence, model: ModelFn | None = None) -> RunOutcome:
    """One model run with its contract checked.  ``model`` defaults to :func:`sim.run_model`."""
    outcome = (model or run_model)(params, seed)
    check_outcome(outcome, params)
    return outcome


def run_one(
    params: dict[str, Any] | Params, seed: int | SeedSequence, model: ModelFn | None = None
) -> dict[str, float]:
    """The pure, picklable unit of work for sweeps: one run's summary scalars (units: see SUMMARY_FIELDS)."""
    outcome = run_replicate(_as_params(params), _as_seed(seed), model)
    return {name: float(outcome.summary[name]) for name in SUMMARY_FIELDS}


def _run_chunk(
    chunk: Sequence[tuple[int, Params, SeedSequence]], model: ModelFn | None
) -> list[tuple[int, RunOutcome]]:
    """Worker task: several runs at once, so process start-up and pickling are paid per chunk."""
    return [(index, run_replicate(params, seed, model)) for index, params, seed in chunk]


def default_workers() -> int:
    """Worker processes used when the user does not say: one per CPU."""
    return os.cpu_count() or 1


def chunk_size_for(n: int, workers: int) -> int:
    """The load-balance rule of :class:`experiments.execution.chunks.ChunkSizer` for ``n`` runs."""
    from experiments.execution.chunks import balanced_chunk_size

    return balanced_chunk_size(n, workers)


def run_replicates(
    params: Params,
    root_seed: int,
    n: int,
    *,
    workers: int = 1,
    chunk_size: int | None = None,
    model: ModelFn | None = None,
    on_done: Callable[[int], None] | None = None,
    backend: BackendSpec | str | None = None,
) -> list[RunOutcome]:
    """Run ``n`` replicates and return their outcomes in replicate order.

    ``workers == 1`` runs in this process; more start a pool of local processes with an explicit
    ``spawn`` context (never the global start method, which Mesa's import changes).  ``on_done(k)`` is
    called after every ``k`` finished replicates (for progress bars).  ``model`` must be picklable (a
    module-level function) when ``workers > 1``.
    """
    if n < 1:
        raise ValueError(f"replicates must be at least 1, got {n}")
    jobs = [(params, seed) for seed in replicate_seeds(root_seed, n)]
    return run_jobs(jobs, workers=workers, chunk_size=chunk_size, model=model, on_done=on_done, backend=backend)


def run_jobs(
    jobs: Sequence[tuple[Params, SeedSequence]],
    *,
    workers: int = 1,
    chunk_size: int | None = None,
    model: ModelFn | None = None,
    on_done: Callable[[int], None] | None = None,
    backend: BackendSpec | str | None = None,
    say: Callable[[str], None] | None = None,
) -> list[RunOutcome]:
    """Run each ``(params, seed)`` job and return the outcomes in job order.

    The jobs go through the same evaluators as sweeps (:mod:`experiments.execution.evaluators`):
    ``backend`` is a :class:`BackendSpec` or a name (``serial``, ``processes``, ``dask``); without one,
    ``workers == 1`` runs in this process and more use ``processes``.  One evaluator serves all jobs, so
    ensembles of several scenarios pay the start-up once.  Every job carries its own seed and results
    are put back in job order, so the outcomes are the same bits on every backend.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    spec = BackendSpec.of(backend if backend is not None else ("serial" if workers == 1 else "processes"), workers)
    n = len(jobs)
    indexed = [(index, params, seed) for index, (params, seed) in enumerate(jobs)]
    local = spec.scheduler is None and spec.cluster_config is None
    if spec.name == "serial" or (local and spec.name == "processes" and min(spec.workers, n) <= 1):
        outcomes = []
        for _, params, seed in indexed:
            outcomes.append(run_replicate(params, seed, model))
            if on_done:
                on_done(1)
        return outcomes

    from experiments.execution.evaluators import make_evaluator

    if spec.name == "processes":
        spec = BackendSpec("processes", min(spec.workers, n))
    results: list[RunOutcome | None] = [None] * n
    with make_evaluator(spec, say=say) as evaluator:
        size = chunk_size or chunk_size_for(n, evaluator.workers)
        chunks = [indexed[start : start + size] for start in range(0, n, size)]
        for done in evaluator.map_chunks(partial(_run_chunk, model=model), chunks):
            for index, outcome in done:
                results[index] = outcome
            if on_done:
                on_done(len(done))
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def progress_columns(runs_text: str = "runs") -> tuple:
    """The columns of every lcsim progress bar: label, bar, done/total, ``runs_text``, elapsed, ETA."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(runs_text),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )


@contextmanager
def progress_bar(total: int, description: str, show: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield an ``on_done(k)`` callback advancing a rich progress bar on stderr (runs done, elapsed, ETA)."""
    if not show:
        yield lambda k: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(*progress_columns(), console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield lambda k: progress.advance(task, k)


def run_with_progress(
    params: Params,
    root_seed: int,
    n: int,
    *,
    workers: int = 1,
    model: ModelFn | None = None,
    show: bool = True,
    backend: BackendSpec | str | None = None,
) -> list[RunOutcome]:
    """:func:`run_replicates` with a progress bar on stderr."""
    used = min(workers, n)
    label = f"replicates ({used} worker{'s' if used > 1 else ''})"
    if backend is not None and BackendSpec.of(backend, workers).name != "processes":
        label = f"replicates ({BackendSpec.of(backend, workers).label()})"
    with progress_bar(n, label, show) as on_done:
        return run_replicates(params, root_seed, n, workers=workers, model=model, on_done=on_done, backend=backend)


__all__ = [
    "ModelFn",
    "check_outcome",
    "chunk_size_for",
    "default_workers",
    "run_jobs",
    "run_one",
    "run_replicate",
    "run_replicates",
    "progress_bar",
    "run_with_progress",
]
