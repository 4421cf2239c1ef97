"""The one place a backend name becomes a running evaluator (a process pool or a Dask client).

Kept apart from :mod:`experiments.execution.backends` so that the Dask backend can build on that module
without an import circle.
"""

from __future__ import annotations

from collections.abc import Callable

from experiments.execution.backends import BackendSpec, Evaluator, ProcessEvaluator, SerialEvaluator


def make_evaluator(backend: BackendSpec | str, workers: int | None = None, *,
                   say: Callable[[str], None] | None = None) -> Evaluator:
    """The evaluator for a spec (or a backend name and worker count; ``serial`` ignores ``workers``).

    ``say`` receives one-line notices (the Dask backend prints where its dashboard is).
    """
    spec = BackendSpec.of(backend, workers or 1)
    if spec.name == "serial":
        return SerialEvaluator()
    if spec.name == "processes":
        return ProcessEvaluator(spec.workers)
    from experiments.execution.dask import DaskEvaluator  # dask is imported only when asked for

    return DaskEvaluator(spec, say=say)


__all__ = ["make_evaluator"]
