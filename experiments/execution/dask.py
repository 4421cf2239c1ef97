"""The ``dask`` backend: chunks of runs as Dask tasks on a local cluster, a running scheduler, or SLURM/PBS jobs.

Imported only when the dask backend is chosen (``import experiments.execution.backends`` stays light).

Three ways to get workers, all behind :class:`DaskEvaluator`:

* a ``LocalCluster`` of ``workers`` single-threaded worker processes (the model holds the GIL, so
  threads would not run runs in parallel), dashboard on a free port;
* an existing scheduler (``tcp://host:8786``) whose workers someone else started;
* a ``dask_jobqueue`` ``SLURMCluster`` / ``PBSCluster`` built from a cluster file
  (:mod:`experiments.config.cluster`), scaled adaptively between ``minimum_jobs`` and ``maximum_jobs``.

Chunks stream: at most ``in_flight_per_worker`` chunks per worker are submitted (worker count read from
the live cluster, at least the planned count so that an adaptive cluster sees enough queued work to grow),
each as one task with a unique key and ``pure=False``; a new chunk is submitted whenever one completes, and
a consumed future is released at once.  The parent therefore holds a bounded number of chunks whatever the
size of the sweep, and makes no per-run round trip.  The task function (``run_chunk`` bound to the model)
pickles by reference -- under a kilobyte -- so shipping it with every task costs less than scattering it.

Workers must import ``experiments`` and ``sim``: local workers inherit this environment; on a cluster the
package must be installed in the jobs' Python (``python`` / ``job_script_prologue``, docs/cluster.md).

Faults: a worker that dies takes its running chunk with it; the scheduler re-runs the chunk elsewhere, up to
``distributed.scheduler.allowed-failures`` times, then gives up with ``KilledWorker``.  The evaluator then
records every run of that chunk as failed (with the error) and the sweep goes on.  Losing the scheduler
itself ends the sweep with a :class:`experiments.execution.backends.BackendError`; the run set resumes on any backend.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from experiments.execution.backends import BackendError, BackendSpec, Nestable
from experiments.execution.chunks import Chunk, chunk_failed

C = TypeVar("C")
R = TypeVar("R")

#: Model time per Dask task (s).  A task costs the scheduler about 1.7 ms and a round trip about 10 ms; the
#: client's whole cost per chunk (submit, receive, write the Parquet part) measured 5-8 ms on an idle 2-core
#: machine (benchmarks/bench_backends.py), i.e. 1.0-1.5% of a baseline run with 0.5 s chunks but 0.7-0.8%
#: with 1 s chunks.  1 s meets the "< 1% per run" target, lets one client feed about a hundred workers,
#: and a chunk lost with its worker still costs little to redo; the load-balance rule of the ChunkSizer
#: keeps the last chunks of a sweep spread over all workers.
DASK_CHUNK_SECONDS = 1.0

#: How often the live worker count is asked from the scheduler (s); it is one small RPC.
_WORKER_COUNT_INTERVAL = 1.0


class DaskEvaluator(Nestable):
    """Runs chunks as Dask tasks and yields their results as they complete.

    ``spec`` says where the workers come from (see :class:`experiments.execution.backends.BackendSpec`).  ``say``
    receives one-line notices: the cluster that was started and the dashboard link.
    """

    name = "dask"
    target_chunk_seconds = DASK_CHUNK_SECONDS

    def __init__(self, spec: BackendSpec, *, in_flight_per_worker: int = 3, connect_timeout: float | None = None,
                 say: Callable[[str], None] | None = None) -> None:
        if spec.name != "dask":
            raise ValueError(f"DaskEvaluator needs a dask backend spec, got '{spec.name}'")
        self.spec = spec
        self.in_flight_per_worker = max(1, in_flight_per_worker)
        self.connect_timeout = connect_timeout
        self.say = say or (lambda text: None)
        self.client: Any = None
        self.cluster: Any = None
        self._start_timeout: float | None = None  # batch clusters only: seconds to wait for the first worker
        self._errors: _BatchErrors | None = None
        self.dashboard_link: str | None = None
        self._planned = spec.workers if spec.scheduler is None and spec.cluster_config is None else 0
        self._live = 0
        self._counted_at = -float("inf")

    # ----------------------------------------------------------------------------- workers

    @property
    def workers(self) -> int:
        """Workers to plan for: the live count, but at least what the cluster was asked for (and 1)."""
        return max(1, self._planned, self._live_workers())

    def _live_workers(self) -> int:
        now = time.monotonic()
        if self.client is not None and now - self._counted_at >= _WORKER_COUNT_INTERVAL:
            self._counted_at = now
            try:
                self._live = int(self.client.scheduler_info(n_workers=0)["n_workers"])
            except (OSError, KeyError, TypeError):  # a slow or lost scheduler: keep the last count
                pass
        return self._live

    # ----------------------------------------------------------------------------- lifetime

    def _open(self) -> None:
        from distributed import Client

        spec = self.spec
        try:
            if spec.scheduler is not None:
                what = f"scheduler {spec.scheduler}"
                self.client = Client(spec.scheduler, timeout=self._connect_timeout(), set_as_default=False)
            elif spec.cluster_config is not None:
                from experiments.config.cluster import load_cluster_config

                config = load_cluster_config(spec.cluster_config)
                what = (f"{config.kind.upper()} cluster of {config.minimum_jobs} to {config.maximum_jobs} jobs x "
                        f"{config.processes} worker{'s' if config.processes > 1 else ''} (from {spec.cluster_config})")
                # the model time queued per worker: with the default 5 s the scheduler would judge the few chunks
                # kept in flight too little work to ask for more jobs
                queued = self.in_flight_per_worker * self.target_chunk_seconds
                self._errors = _BatchErrors.install()
                self.cluster = start_jobqueue_cluster(config, target_duration=queued)
                self._planned = config.maximum_workers
                self._start_timeout = config.start_timeout
                self.client = Client(self.cluster, set_as_default=False)
                what += f", scheduler {self.cluster.scheduler_address}"
            else:
                from distributed import LocalCluster

                what = f"LocalCluster of {spec.workers} worker process{'es' if spec.workers > 1 else ''}"
                self.cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                                            dashboard_address=":0", silence_logs=logging.WARNING)
                self.client = Client(self.cluster, set_as_default=False)
                # no parent watch needed here: distributed's worker processes already exit once this one is gone
        except BackendError:
            self._close(failed=True)
            raise
        except Exception as exc:  # noqa: BLE001 -- any failure to start is the user's to fix; say which
            self._close(failed=True)
            if spec.scheduler is not None:
                raise BackendError(f"--scheduler {spec.scheduler}: cannot connect within {self._connect_timeout():g} s "
                                   f"({type(exc).__name__}: {exc}); allowed: the address of a running `dask "
                                   "scheduler` that this machine can reach") from exc
            raise BackendError(f"dask: cannot start the {what} ({type(exc).__name__}: {exc})") from exc
        self._live = self._live_workers()
        self.say(f"dask: {what}; {self._live} worker{'s' if self._live != 1 else ''} connected; "
                 f"{self._dashboard_notice()}")
        if spec.scheduler is not None and self._live == 0:
            self.say("dask: the scheduler has no workers yet; chunks wait until one connects")

    def _connect_timeout(self) -> float:
        """Seconds to wait for a scheduler: as given, else dask's ``distributed.comm.timeouts.connect`` (30 s)."""
        if self.connect_timeout is not None:
            return self.connect_timeout
        import dask
        from dask.utils import parse_timedelta

        return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds"))

    def _dashboard_notice(self) -> str:
        try:
            port = self.client.scheduler_info(n_workers=0).get("services", {}).get("dashboard")
        except (OSError, AttributeError):
            port = None
        if not port:
            return "the scheduler runs no dashboard"
        if importlib.util.find_spec("bokeh") is None and self.spec.scheduler is None:
            # distributed serves its web pages without bokeh, but the dashboard itself needs it
            return (f"dashboard needs the bokeh package (pip install 'bokeh>=3.1'); worker pages: "
                    f"{self.client.dashboard_link.removesuffix('/status')}/info/main/workers.html")
        self.dashboard_link = self.client.dashboard_link
        return f"dashboard {self.dashboard_link}"

    def _wait_for_first_worker(self, has_result: Callable[[], bool]) -> None:
        """Raise :class:`BackendError` if no batch job brings up a worker within the cluster's ``start_timeout``.

        Adaptive scaling submits jobs in the background and only logs a refused submission, so without this a
        sweep on a misconfigured batch system would wait for ever.
        """
        if self._start_timeout is None:
            return
        deadline = time.monotonic() + self._start_timeout
        while self._live_workers() == 0 and not has_result():
            if time.monotonic() > deadline:
                script = _write_job_script(self.cluster)
                errors = self._errors.text() if self._errors is not None else ""
                raise BackendError(
                    f"dask: no worker connected within {self._start_timeout:g} s (field 'start_timeout' of the "
                    f"cluster file); the batch system said: {errors or 'nothing (the jobs may still be queued)'}; "
                    f"the job script it was given is {script}")
            time.sleep(0.25)
        self._start_timeout = None  # a worker came: later waits are the scheduler's business
        if self._errors is not None:
            self._errors.remove()
            self._errors = None

    def _close(self, failed: bool) -> None:
        if self._errors is not None:
            self._errors.remove()
            self._errors = None
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        self._live, self._counted_at = 0, -float("inf")
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 -- closing after a failure must not hide the failure
                    if not failed:
                        raise

    # ----------------------------------------------------------------------------- running chunks

    def map_chunks(self, fn: Callable[[C], R], chunks: Iterable[C]) -> Iterator[R]:
        if self.client is None:
            raise RuntimeError("DaskEvaluator.map_chunks called outside its 'with' block")
        from distributed import as_completed

        client = self.client
        source = iter(chunks)
        in_flight: dict[str, tuple[Any, C]] = {}
        # with_results: results are fetched in the client's event loop as tasks finish, not one round trip at a
        # time from here; errors come back as values (raise_errors=False) and are raised again in _result
        completed = as_completed(loop=client.loop, with_results=True, raise_errors=False)
        exhausted = False
        submitted = 0

        def top_up() -> None:
            nonlocal exhausted, submitted
            limit = self.in_flight_per_worker * self.workers
            while not exhausted and len(in_flight) < limit:
                try:
                    chunk = next(source)
                except StopIteration:
                    exhausted = True
                    return
                # a fresh random suffix per submission: a key is never reused, even for a chunk id seen before
                number = getattr(chunk, "chunk_id", submitted)
                try:
                    future = client.submit(fn, chunk, key=f"chunk-{number}-{uuid.uuid4().hex[:8]}", pure=False)
                except Exception as exc:  # noqa: BLE001 -- e.g. ClosedClientError once reconnecting gave up
                    raise _lost(f"cannot submit chunk {number}", exc) from exc
                submitted += 1
                in_flight[future.key] = (future, chunk)
                completed.add(future)

        try:
            top_up()
            self._wait_for_first_worker(completed.has_ready)
            for future, value in completed:
                _, chunk = in_flight.pop(future.key)
                top_up()  # keep the workers busy while this result is written
                result = value if future.status == "finished" else self._result(future, chunk)
                future.release()
                del future, value
                yield result
        finally:  # stopped early (an error, Ctrl-C): drop the chunks still queued or running
            if in_flight:
                try:
                    client.cancel([future for future, _ in in_flight.values()])
                except Exception:  # noqa: BLE001 -- a closed client has nothing left to cancel
                    pass
            in_flight.clear()

    def _result(self, future: Any, chunk: C) -> R:
        from distributed import KilledWorker

        try:
            return future.result()
        except KilledWorker as exc:
            if not isinstance(chunk, Chunk):
                raise
            return chunk_failed(chunk, f"KilledWorker: the worker running this chunk died every time it was tried "
                                f"(the model crashed the process, or it ran out of memory); {exc}", _trace(exc))
        except Exception as exc:
            if _is_cancelled(exc):
                raise _lost(f"lost the chunk {future.key}", exc) from exc
            if not isinstance(chunk, Chunk):
                raise
            # run_chunk records every model error itself, so this failed outside the model: say where to look
            hint = ""
            if isinstance(exc, ImportError):
                hint = (" (is lcsim installed in the workers' Python? On a cluster set `python` or "
                        "`job_script_prologue` in the cluster file: docs/cluster.md)")
            return chunk_failed(chunk, f"{type(exc).__name__}: {exc}{hint}", _trace(exc))


class _BatchErrors(logging.Handler):
    """While a batch cluster starts: keeps what the batch system said about a refused job, and keeps the
    tornado/asyncio tracebacks that dask-jobqueue logs for it off the terminal.  A refused ``sbatch`` is then
    said once, in the batch system's words, by :meth:`DaskEvaluator._wait_for_first_worker`; the loggers get
    their own handlers back as soon as a worker connects."""

    LOGGERS = ("distributed", "dask_jobqueue", "tornado", "tornado.application", "asyncio")

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []
        self._saved: dict[str, tuple[list[logging.Handler], bool]] = {}

    @classmethod
    def install(cls) -> _BatchErrors:
        handler = cls()
        for name in cls.LOGGERS:
            logger = logging.getLogger(name)
            handler._saved[name] = (list(logger.handlers), logger.propagate)
            logger.handlers = [handler]
            logger.propagate = False
        return handler

    def remove(self) -> None:
        for name, (handlers, propagate) in self._saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate
        self._saved.clear()

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        text = str(error) if error is not None else record.getMessage()
        if "stderr:" in text:  # dask-jobqueue's message for a failed submit command ends with its stderr
            lines = [line.strip() for line in text.split("stderr:", 1)[1].splitlines() if line.strip()]
        else:
            lines = [text.strip().splitlines()[0][:300]] if text.strip() else []
        for line in lines:
            if line not in self.lines:
                self.lines.append(line)
        del self.lines[:-5]

    def text(self) -> str:
        return " | ".join(self.lines)


def _write_job_script(cluster: Any) -> str:
    """The batch script the cluster submits, written to a new temporary file (its path is returned)."""
    import tempfile

    try:
        script = cluster.job_script()
    except Exception as exc:  # noqa: BLE001 -- the path is a hint; its absence must not hide the real error
        return f"(not available: {type(exc).__name__}: {exc})"
    handle, path = tempfile.mkstemp(prefix="lcsim-job-", suffix=".sh", text=True)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(script)
    return path


def _lost(what: str, exc: BaseException) -> BackendError:
    return BackendError(f"dask: {what} ({type(exc).__name__}: {exc}); the scheduler is gone or the connection to "
                        "it broke. Finished chunks are on disk: resume the run set with `lcsim resume` on any backend")


def _is_cancelled(exc: BaseException) -> bool:
    from concurrent.futures import CancelledError

    return isinstance(exc, CancelledError)


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


#: The command each kind of cluster submits jobs with (dask-jobqueue runs it; lcsim checks it exists first).
SUBMIT_COMMANDS = {"slurm": "sbatch", "pbs": "qsub"}


def start_jobqueue_cluster(config: Any, *, target_duration: float = DASK_CHUNK_SECONDS * 3) -> Any:
    """Start the SLURM or PBS cluster of a validated :class:`ClusterConfig`, scaling adaptively between
    ``minimum_jobs`` and ``maximum_jobs``; ``target_duration`` (s) is the work per worker it aims at."""
    command = SUBMIT_COMMANDS[config.kind]
    if shutil.which(command) is None:
        # adaptive scaling submits jobs in the background and only logs a failure: the sweep would wait forever
        raise BackendError(f"cluster kind '{config.kind}' submits jobs with `{command}`, which is not on PATH; "
                           f"allowed: run lcsim on a {config.kind.upper()} login or submit node, or use --backend "
                           "processes / --scheduler")
    cluster = build_jobqueue_cluster(config)
    try:
        cluster.adapt(minimum_jobs=config.minimum_jobs, maximum_jobs=config.maximum_jobs,
                      target_duration=f"{target_duration:g}s")
    except BaseException:
        cluster.close()
        raise
    return cluster


def build_jobqueue_cluster(config: Any) -> Any:
    """A ``SLURMCluster`` or ``PBSCluster`` for a validated :class:`ClusterConfig`, with no jobs yet.

    ``cluster.job_script()`` shows the batch script each job will run.
    """
    from dask_jobqueue import PBSCluster, SLURMCluster

    kind = {"slurm": SLURMCluster, "pbs": PBSCluster}[config.kind]
    return kind(silence_logs=logging.WARNING, **config.jobqueue_kwargs())


__all__ = ["DASK_CHUNK_SECONDS", "DaskEvaluator", "SUBMIT_COMMANDS", "build_jobqueue_cluster", "start_jobqueue_cluster"]
