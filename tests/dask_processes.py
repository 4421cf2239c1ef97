"""A real Dask scheduler and workers as separate processes on 127.0.0.1, for the backend and fault tests.

Started from the virtualenv's ``dask`` command (``dask scheduler`` / ``dask worker``), each in its own
process group, and stopped by process id.  Workers run without a nanny, so killing a worker's pid with
SIGKILL kills it for good (a nanny would start a new one).  Every process also ends by itself: the
scheduler after 10 idle minutes, a worker 30 s after losing its scheduler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DASK = Path(sys.executable).with_name("dask")
REPO = Path(__file__).resolve().parents[1]


@dataclass
class DaskProcesses:
    """A scheduler process and its worker processes (``address`` is ``tcp://127.0.0.1:PORT``)."""

    folder: Path
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    address: str = ""
    started: int = 0  # workers started so far: names stay unique (the scheduler refuses a name twice)

    @property
    def scheduler_file(self) -> Path:
        return self.folder / "scheduler.json"

    def start(self, workers: int = 2, timeout: float = 90.0) -> DaskProcesses:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.scheduler = self._spawn("scheduler.log", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                     "--no-dashboard", "--scheduler-file", str(self.scheduler_file),
                                     "--idle-timeout", "600")
        deadline = time.monotonic() + timeout
        while not self.scheduler_file.is_file():
            self._check_alive(self.scheduler, "scheduler.log", deadline)
            time.sleep(0.1)
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        for _ in range(workers):
            self.add_worker()
        self.wait_for_workers(workers, deadline - time.monotonic())
        return self

    def add_worker(self) -> subprocess.Popen:
        number = self.started
        self.started += 1
        worker = self._spawn(f"worker-{number}.log", "worker", self.address, "--nthreads", "1", "--no-nanny",
                             "--no-dashboard", "--death-timeout", "30", "--name", f"w{number}",
                             "--local-directory", str(self.folder / f"w{number}"))
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, n: int, timeout: float = 90.0) -> None:
        from distributed import Client

        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=timeout)

    def kill_worker(self, index: int) -> None:
        """SIGKILL one worker process (it gets no chance to hand its work back)."""
        os.kill(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait(timeout=30)

    def stop(self) -> None:
        """Workers first, then the scheduler (a scheduler stopped first leaves workers retrying)."""
        for process in [*self.workers, self.scheduler]:
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)  # the group we created for it, by its id
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def _spawn(self, log: str, *args: str) -> subprocess.Popen:
        with open(self.folder / log, "wb") as handle:
            return subprocess.Popen([str(DASK), *args], cwd=self.folder, stdout=handle, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)

    def _check_alive(self, process: subprocess.Popen, log: str, deadline: float) -> None:
        if process.poll() is not None or time.monotonic() > deadline:
            text = (self.folder / log).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"dask {log.removesuffix('.log')} did not come up (exit {process.poll()}):\n{text}")


__all__ = ["DASK", "DaskProcesses", "REPO"]
