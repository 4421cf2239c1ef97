"""Where chunks of runs are executed: a deliberately small interface with three implementations.

An :class:`Evaluator` is a context manager with one method, ``map_chunks(fn, chunks)``, that applies a
picklable ``fn`` to every chunk and yields the results **as they complete** (in no promised order).
``chunks`` is consumed lazily, with only a bounded number in flight, so a sweep of any size needs
memory for a few chunks only.  Results carry their own identity (run ids), so callers never rely on
order, and every run carries its own seed, so results never depend on the backend.

* ``serial``    -- in this process, one chunk after the other.
* ``processes`` -- a ``concurrent.futures.ProcessPoolExecutor`` with an explicit ``spawn`` context
  (never the global start method, which Mesa's import changes).  Each worker is replaced by a fresh
  process after ``recycle_after`` chunks, which bounds the memory of a model that leaks (Mesa 3.3's
  ``Agent._ids`` keeps every model alive, mesa/mesa#3179) at the cost of one process start-up.
* ``dask``      -- :class:`experiments.execution.dask.DaskEvaluator` (imported only when asked for): a
  ``LocalCluster`` of ``workers`` processes, a running scheduler (``scheduler="tcp://host:8786"``), or
  SLURM/PBS jobs from a cluster file (``cluster_config="configs/cluster/slurm.toml"``).

A :class:`BackendSpec` names the choice (it is what the command line builds and the manifest records);
:func:`experiments.execution.evaluators.make_evaluator` turns it into an evaluator.  Evaluators may be entered more than once (nested):
only the outermost ``with`` starts and stops the pool or cluster, so a study that runs several stages
starts one cluster.  Each evaluator says how much model time a chunk should take
(``target_chunk_seconds``): long enough to hide the per-chunk cost of the backend, short enough to
balance load and to lose little when a worker dies.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from experiments.execution.lifeline import watch_parent

C = TypeVar("C")
R = TypeVar("R")

#: Backend names accepted by the command line.
BACKENDS = ("serial", "processes", "dask")

#: Protocols a Dask scheduler address may use, and the shape of an address (``tcp://host:port``).
SCHEDULER_PROTOCOLS = ("tcp", "tls", "ws", "wss", "ucx")
_ADDRESS = re.compile(r"^(?P<protocol>[a-z]+)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
                      r":(?P<port>[0-9]{1,5})$")

#: Model time per chunk that local processes aim at (s): a chunk costs them about a millisecond of pickling
#: and queueing, and big chunks keep the recycling of leaky workers rare.
PROCESS_CHUNK_SECONDS = 2.0


class BackendError(RuntimeError):
    """The backend cannot run chunks (scheduler unreachable, cluster failed to start, connection lost).

    The message is meant for the user as is; finished chunks are already on disk, so the run set resumes.
    """


def scheduler_address_problem(address: str) -> str | None:
    """Why ``address`` is not a usable Dask scheduler address, or None if it looks like ``tcp://host:port``."""
    match = _ADDRESS.match(address)
    if match is None or match["protocol"] not in SCHEDULER_PROTOCOLS:
        return (f"not a scheduler address; allowed: PROTOCOL://HOST:PORT with PROTOCOL one of "
                f"{', '.join(SCHEDULER_PROTOCOLS)}, e.g. tcp://127.0.0.1:8786 (as printed by `dask scheduler`)")
    if not 1 <= int(match["port"]) <= 65535:
        return f"port {match['port']} is out of range; allowed: a port from 1 to 65535"
    return None


@dataclass(frozen=True)
class BackendSpec:
    """Which backend runs the chunks.  Recorded in the run set's manifest (for information: results never
    depend on it).

    ``workers`` counts local worker processes (``processes``, and ``dask`` without a scheduler or cluster
    file: a LocalCluster).  ``scheduler`` is the address of a running Dask scheduler; ``cluster_config`` a
    cluster file (:mod:`experiments.config.cluster`) from which SLURM or PBS jobs are started.  Both imply
    ``name="dask"`` and exclude each other.
    """

    name: str = "serial"
    workers: int = 1
    scheduler: str | None = None
    cluster_config: str | Path | None = None

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise ValueError(f"unknown backend '{self.name}'; allowed: {', '.join(BACKENDS)}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers = {self.workers!r}; allowed: an integer of at least 1")
        if self.scheduler is not None and self.cluster_config is not None:
            raise ValueError("a scheduler address and a cluster file exclude each other; allowed: one of them")
        if (self.scheduler is not None or self.cluster_config is not None) and self.name != "dask":
            raise ValueError(f"backend '{self.name}' with a scheduler or cluster file; allowed: backend 'dask'")
        if self.scheduler is not None:
            problem = scheduler_address_problem(self.scheduler)
            if problem:
                raise ValueError(f"scheduler {self.scheduler!r}: {problem}")

    @classmethod
    def of(cls, backend: BackendSpec | str, workers: int = 1) -> BackendSpec:
        """A spec from the older ``backend=NAME, workers=N`` keywords (a spec is returned as is)."""
        if isinstance(backend, BackendSpec):
            return backend
        return cls(backend, 1 if backend == "serial" else workers)

    def label(self) -> str:
        """A short human description, e.g. ``dask, 2 local workers`` or ``dask, scheduler tcp://h:8786``."""
        if self.scheduler:
            return f"dask, scheduler {self.scheduler}"
        if self.cluster_config:
            return f"dask, cluster {self.cluster_config}"
        local = " local" if self.name == "dask" else ""
        return f"{self.name}, {self.workers}{local} worker{'s' if self.workers > 1 else ''}"

    def describe(self) -> dict[str, Any]:
        """What the manifest records: the spec, plus the cluster file's settings when there is one."""
        record: dict[str, Any] = {"name": self.name, "workers": self.workers, "scheduler": self.scheduler,
                                  "cluster_config": None if self.cluster_config is None else str(self.cluster_config)}
        if self.cluster_config is not None:
            from experiments.config.cluster import cluster_file_digest, load_cluster_config

            record["cluster"] = load_cluster_config(self.cluster_config).model_dump()
            record["cluster_sha256"] = cluster_file_digest(self.cluster_config)
        return record


class Evaluator(Protocol):
    """Runs ``fn`` on chunks and yields results as they complete."""

    name: str
    #: Workers available now (the Dask backend's count follows the live cluster); sizes chunks.
    workers: int
    #: Model time per chunk to aim at (s).
    target_chunk_seconds: float

    def __enter__(self) -> Evaluator: ...

    def __exit__(self, *exc: object) -> None: ...

    def map_chunks(self, fn: Callable[[C], R], chunks: Iterable[C]) -> Iterator[R]: ...


class Nestable:
    """``with`` support where only the outermost block calls ``_open`` and ``_close(failed)``."""

    _depth = 0

    def _open(self) -> None:
        return None

    def _close(self, failed: bool) -> None:
        return None

    def __enter__(self):  # noqa: ANN204 -- returns the subclass
        if self._depth == 0:
            self._open()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._close(exc[0] is not None)


class SerialEvaluator(Nestable):
    """Every chunk in the calling process, in order."""

    name = "serial"
    target_chunk_seconds = PROCESS_CHUNK_SECONDS

    def __init__(self) -> None:
        self.workers = 1

    def map_chunks(self, fn: Callable[[C], R], chunks: Iterable[C]) -> Iterator[R]:
        for chunk in chunks:
            yield fn(chunk)


class ProcessEvaluator(Nestable):
    """Chunks on ``workers`` local processes started with the ``spawn`` method.

    At most ``workers * in_flight_per_worker`` chunks are submitted at a time; the next chunk is drawn
    from the (lazy) iterable only when one completes.  If the consumer stops early or an exception
    escapes, queued chunks are cancelled and the pool is shut down without waiting for them.
    """

    name = "processes"
    target_chunk_seconds = PROCESS_CHUNK_SECONDS

    def __init__(self, workers: int, in_flight_per_worker: int = 2, recycle_after: int | None = 100) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.in_flight = max(1, workers * in_flight_per_worker)
        self.recycle_after = recycle_after
        self._pool: ProcessPoolExecutor | None = None

    def _open(self) -> None:
        # every worker watches this process and exits once it is gone (SIGKILL runs no shutdown: lifeline.py)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         max_tasks_per_child=self.recycle_after, initializer=watch_parent,
                                         initargs=(os.getpid(),))

    def _close(self, failed: bool) -> None:
        if self._pool is not None:
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


__all__ = ["BACKENDS", "BackendError", "BackendSpec", "Evaluator", "Nestable", "ProcessEvaluator", "SerialEvaluator",
           "scheduler_address_problem"]
