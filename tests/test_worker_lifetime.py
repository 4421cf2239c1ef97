"""Workers never outlive the command (issue 14, items 4 and 9).

* After SIGKILL of ``lcsim sweep`` -- which runs no clean-up -- its process-pool or local-Dask workers exit
  within a few seconds.  The pool's workers do so through the parent watch of
  experiments/execution/lifeline.py (without it they outlive the command: that test failed before); the
  Dask case passes through distributed's own machinery and is kept so that it stays that way.
* A cluster whose jobs cannot be submitted (a ``sbatch`` that fails as a misconfigured one does) stops the
  sweep after the cluster file's ``start_timeout`` with the batch system's error text, the path of the job
  script, the lock released and the run set resumable -- it used to wait forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from experiments.execution.lifeline import POLL_SECONDS
from tests.test_faults import LINEAR

ROOT = Path(__file__).resolve().parents[1]

#: Real processes killed, and a batch cluster waited for (about 25 s in all): make test-slow.
pytestmark = pytest.mark.slow

SLOW = """
name = "slow"
model = "slow_linear"
design = "lhs"
replicates = 2
seed = 3
[lhs]
samples = 200
[parameters]
sleep_s = 0.2
[analysis]
bootstrap = 100
"""


def lcsim_process(*args: object) -> subprocess.Popen:
    command = [sys.executable, "-c", "from experiments.cli import app; app()", *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for_parts(process: subprocess.Popen, out: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not (out / "parts").is_dir() or not any((out / "parts").iterdir()):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)


@pytest.mark.parametrize("backend", ["processes", "dask"])
def test_workers_exit_soon_after_the_command_is_killed(tmp_path: Path, backend: str) -> None:
    config = tmp_path / "slow.toml"
    config.write_text(SLOW, encoding="utf-8")
    out = tmp_path / "out"
    process = lcsim_process("sweep", config, "--out", out, "--backend", backend, "--workers", 2, "--no-progress",
                            "--chunk-size", 2)
    try:
        wait_for_parts(process, out)
        workers = psutil.Process(process.pid).children(recursive=True)
        assert len(workers) >= 2, "the sweep should run on worker processes"
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        _, alive = psutil.wait_procs(workers, timeout=10 * POLL_SECONDS + 5)
        assert not alive, f"workers still running 10 s after the command was killed: {[p.pid for p in alive]}"
    finally:
        for child in psutil.Process().children(recursive=True):
            child.kill()


FAILING_SBATCH = """#!/bin/sh
echo "sbatch: error: Could not establish a configuration source" >&2
exit 1
"""

CLUSTER = """
[cluster]
kind = "slurm"
cores = 1
memory = "1GiB"
walltime = "00:10:00"
minimum_jobs = 1
maximum_jobs = 1
start_timeout = 8
"""



def test_a_cluster_whose_jobs_never_start_stops_the_sweep_with_the_batch_error(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    sbatch.write_text(FAILING_SBATCH, encoding="utf-8")
    sbatch.chmod(0o755)
    (tmp_path / "cluster.toml").write_text(CLUSTER, encoding="utf-8")
    (tmp_path / "lin.toml").write_text(LINEAR, encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from experiments.cli import app; app()", "sweep", str(tmp_path / "lin.toml"),
               "--out", str(out), "--backend", "dask", "--cluster", str(tmp_path / "cluster.toml"), "--no-progress"]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 100
    assert "no worker connected within 8 s" in result.stderr
    assert "Could not establish a configuration source" in result.stderr
    script = next(line for line in result.stderr.splitlines() if "job script" in line).split()[-1]
    assert "#SBATCH" in Path(script.rstrip(".;")).read_text(encoding="utf-8")
    assert "Traceback" not in result.stderr
    assert f"lcsim resume {out}" in result.stderr
    assert not (out / "writer.lock").exists()
