"""A single-node SLURM cluster for the session: started with tests/slurm/cluster.sh under a temporary
directory, stopped (by the process ids it recorded) when the session ends -- also after a failure, when
the daemons' logs are printed and the directory is kept for a look."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CLUSTER_SH = HERE / "cluster.sh"


@dataclass(frozen=True)
class SlurmCluster:
    root: Path  # everything of the cluster lives here

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def jobcomp_log(self) -> Path:
        """One line per finished job (jobcomp/filetxt), e.g. ``JobId=3 ... Name=dask-worker JobState=...``."""
        return self.root / "log" / "jobcomp.log"

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(command), env=self.env(), capture_output=True, text=True, timeout=timeout)

    def finished_jobs(self) -> list[dict[str, str]]:
        if not self.jobcomp_log.exists():
            return []
        jobs = []
        for line in self.jobcomp_log.read_text().splitlines():
            fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
            if fields:
                jobs.append(fields)
        return jobs


def _cluster(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(CLUSTER_SH), *args], capture_output=True, text=True, timeout=timeout)


def _print_uncaptured(request: pytest.FixtureRequest, text: str) -> None:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            sys.stderr.write(text)
    else:
        sys.stderr.write(text)


@pytest.fixture(scope="session")
def slurm_cluster(request: pytest.FixtureRequest) -> Iterator[SlurmCluster]:
    if os.geteuid() != 0:
        pytest.fail("the single-node SLURM cluster needs root (run: make test-slurm as root)")
    # run_tests.sh chooses the directory (and stops the cluster should this process die before its
    # finalizer ran); else directly under /tmp: munge's socket path must stay short (108 bytes at most).
    given = os.environ.get("SLURM_TEST_DIR")
    if given:
        root = Path(given).resolve()
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = Path(tempfile.mkdtemp(prefix="lcsim-slurm-", dir="/tmp" if Path("/tmp").is_dir() else None))
    started = _cluster("start", str(root), timeout=180)
    if started.returncode != 0:
        stopped = _cluster("stop", str(root), timeout=120)
        pytest.fail(f"could not start the SLURM cluster in {root} (exit {started.returncode}):\n"
                    f"{started.stdout}\n{started.stderr}\n{stopped.stderr}")
    cluster = SlurmCluster(root)
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)  # for the sbatch/squeue/scancel that dask-jobqueue calls
    failed_before = request.session.testsfailed
    try:
        yield cluster
    finally:
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
        failed = request.session.testsfailed > failed_before
        if failed:
            logs = _cluster("logs", str(root), timeout=60)
            _print_uncaptured(request, f"\n===== SLURM cluster in {root}: logs after a failed test\n{logs.stdout}\n")
        stopped = _cluster("stop", str(root), timeout=180)
        _print_uncaptured(request, f"\n{stopped.stderr}")
        if stopped.returncode != 0:
            pytest.fail(f"stopping the SLURM cluster in {root} failed:\n{stopped.stdout}\n{stopped.stderr}")
        if not failed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            _print_uncaptured(request, f"SLURM cluster directory kept for inspection: {root}\n")
