"""Where chunks of runs are executed: a deliberately small interface with two local implementations.

An :class:`Evaluator` is a context manager with one method, ``map_chunks(fn, chunks)``, that applies a
picklable ``fn`` to every chunk and yields the results **as they complete** (in no promised order).
``chunks`` is consumed lazily, with only a bounded number in flight, so a sweep of any size needs
memory for a few chunks only.  Results carry their own identity (run ids), so callers never rely on
order -- which is what lets a later Dask backend slot in behind the same interface.

* ``serial``    -- in this process, one chunk after the other.
* ``processes`` -- a ``concurrent.futures.ProcessPoolExecutor`` with an explicit ``spawn`` context
  (never the global start method, which Mesa's import changes).  Each worker is replaced by a fresh
  process after ``recycle_after`` chunks, which bounds the memory of a model that leaks (Mesa 3.3's
  ``Agent._ids`` keeps every model alive, mesa/mesa#3179) at the cost of one process start-up.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Protocol, TypeVar

C = TypeVar("C")
R = TypeVar("R")

#: Backend names accepted by the command line.
BACKENDS = ("serial", "processes")


class Evaluator(Protocol):
    """Runs ``fn`` on chunks and yields results as they complete."""

    name: str
    workers: int

    def __enter__(self) -> Evaluator: ...

    def __exit__(self, *exc: object) -> None: ...

    def map_chunks(self, fn: Callable[[C], R], chunks: Iterable[C]) -> Iterator[R]: ...


class SerialEvaluator:
    """Every chunk in the calling process, in order."""

    name = "serial"

    def __init__(self) -> None:
        self.workers = 1

    def __enter__(self) -> SerialEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map_chunks(self, fn: Callable[[C], R], chunks: Iterable[C]) -> Iterator[R]:
        for chunk in chunks:
            yield fn(chunk)


class ProcessEvaluator:
    """Chunks on ``workers`` local processes started with the ``spawn`` method.

    At most ``workers * in_flight_per_worker`` chunks are submitted at a time; the next chunk is drawn
    from the (lazy) iterable only when one completes.  If the consumer stops early or an exception
    escapes, queued chunks are cancelled and the pool is shut down without waiting for them.
    """

    name = "processes"

    def __init__(self, workers: int, in_flight_per_worker: int = 2, recycle_after: int | None = 100) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.in_flight = max(1, workers * in_flight_per_worker)
        self.recycle_after = recycle_after
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessEvaluator:
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         max_tasks_per_child=self.recycle_after)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            failed = exc[0] is not None
            self._pool.shutdown(wait=not failed, cancel_futures=failed)
            self._pool = None

    def map_chunks(self, fn: Callable[[C], R], chunks: Iterable[C]) -> Iterator[R]:
        if self._pool is None:
            raise RuntimeError("ProcessEvaluator.map_chunks called outside its 'with' block")
        pool = self._pool
        source = iter(chunks)
        pending: set[Future[R]] = set()
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < self.in_flight:
                    try:
                        chunk = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    pending.add(pool.submit(fn, chunk))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


def make_evaluator(backend: str, workers: int) -> Evaluator:
    """The evaluator for a backend name (``serial`` ignores ``workers``)."""
    if backend == "serial":
        return SerialEvaluator()
    if backend == "processes":
        return ProcessEvaluator(workers)
    raise ValueError(f"unknown backend '{backend}'; allowed: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Evaluator", "ProcessEvaluator", "SerialEvaluator", "make_evaluator"]
