"""Studies on a real (single-node) SLURM cluster: `lcsim sweep|sensitivity --cluster FILE` starts its Dask
workers as SLURM batch jobs through dask-jobqueue's SLURMCluster, and the results equal the serial ones
run by run.  Before that: sbatch runs a job at all, and dask-jobqueue's workers are SLURM jobs that
import the project.

Run with `make test-slurm` (as root; installs Debian's SLURM and munge when missing).  The cluster is
the session fixture `slurm_cluster` of conftest.py (tests/slurm/cluster.sh under /tmp/lcsim-slurm-*).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.store.runset import RunSet

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slurm

# A cheap known-answer model: 5 x 4 grid x 3 replicates = 60 runs, with noise from each run's own seed.
LINEAR = """
name = "slurm_linear"
model = "linear_noise"
design = "factorial"
replicates = 3
seed = 11
[levels]
x1 = 5
x2 = 4
[parameters]
noise_sd = 0.5
[analysis]
bootstrap = 100
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sorted_runs(path: Path) -> pd.DataFrame:
    return RunSet.open(path).read_runs().sort_values("run_id").reset_index(drop=True)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def test_sbatch_runs_a_job_on_the_single_node(slurm_cluster, tmp_path: Path) -> None:
    sinfo = slurm_cluster.run("sinfo", "-h", "-N", "-o", "%N %T %c")
    assert sinfo.returncode == 0, sinfo.stderr
    node, state, cpus = sinfo.stdout.split()
    assert state in {"idle", "mixed", "allocated"} and int(cpus) >= 1
    out = tmp_path / "hostname.out"
    submitted = slurm_cluster.run("sbatch", "--parsable", "--job-name", "smoke", "--output", str(out),
                                  "--time", "00:02:00", "--wrap", "hostname; echo SLURM_JOB_ID=$SLURM_JOB_ID")
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    job_id = submitted.stdout.strip().split(";")[0]
    wait_for(lambda: any(j.get("JobId") == job_id for j in slurm_cluster.finished_jobs()), 120,
             f"job {job_id} to finish")
    text = out.read_text()
    assert socket.gethostname().split(".")[0] in text or node in text
    assert f"SLURM_JOB_ID={job_id}" in text
    record = next(j for j in slurm_cluster.finished_jobs() if j.get("JobId") == job_id)
    assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0"


def test_dask_jobqueue_workers_are_slurm_jobs_that_compute_what_this_process_computes(slurm_cluster,
                                                                                      tmp_path: Path) -> None:
    """dask-jobqueue alone (no lcsim backend): each worker lives in its own running SLURM job and imports
    the project's models; a model evaluated there gives the bits it gives here."""
    from dask.distributed import Client
    from dask_jobqueue import SLURMCluster
    from numpy.random import SeedSequence

    from experiments.models.testfunctions import linear_noise

    inputs = [({"x1": i / 7, "x2": 1 - i / 9, "x3": 0.0, "x4": 0.0, "c1": 1.0, "c2": 2.0, "noise_sd": 0.5},
               SeedSequence(11, spawn_key=(i,))) for i in range(24)]
    logs = tmp_path / "dask-logs"
    jobs = 2
    with SLURMCluster(cores=1, processes=1, memory="1GiB", walltime="00:10:00", queue="debug",
                      python=sys.executable, local_directory=str(tmp_path / "dask-local"), log_directory=str(logs),
                      job_script_prologue=[f"cd {REPO}"], job_name="jobqueue-test",
                      scheduler_options={"host": "127.0.0.1", "dashboard_address": ":0"}) as cluster, \
            Client(cluster) as client:
        cluster.scale(jobs=jobs)
        client.wait_for_workers(jobs, timeout=180)
        job_ids = set(client.run(os.getenv, "SLURM_JOB_ID").values())  # os.getenv: importable there
        assert None not in job_ids and len(job_ids) == jobs, job_ids  # one SLURM job per worker
        queued = slurm_cluster.run("squeue", "-h", "-o", "%i %j %T")
        running = {line.split()[0] for line in queued.stdout.splitlines() if line.endswith("RUNNING")}
        assert job_ids <= running, queued.stdout
        futures = [client.submit(linear_noise, params, seed, pure=False) for params, seed in inputs]
        remote = client.gather(futures)
        where = set(client.gather([client.submit(os.getenv, "SLURM_JOB_ID", key=f"where-{k}") for k in range(8)]))
        assert where <= job_ids
    assert remote == [linear_noise(params, seed) for params, seed in inputs]
    assert {f"jobqueue-test-{j}.err" for j in job_ids} <= {p.name for p in logs.iterdir()}
    # closing the cluster cancelled the jobs; SLURM recorded them as finished
    wait_for(lambda: job_ids <= {j["JobId"] for j in slurm_cluster.finished_jobs()}, 60, "the worker jobs to end")


# A tiny Morris screening of the real model (learning communities): 2 factors x 3 trajectories = 9 points
# x 2 replicates = 18 runs of 40 simulated months.
REAL_MORRIS = """
name = "slurm_morris"
method = "morris"
factors = ["management_turnover_rate", "school_cofunding_willingness"]
outputs = ["continued_by_school_y3", "faded_share"]
replicates = 2
seed = 3
[parameters]
horizon_months = 40
[morris]
trajectories = 3
levels = 4
[analysis]
bootstrap = 100
"""


def cluster_file(path: Path, jobs_dir: Path, *, jobs: int) -> Path:
    """A cluster file for the single-node cluster: `jobs` single-core jobs of one Dask worker each."""
    return write(path, f"""
[cluster]
kind = "slurm"
queue = "debug"
cores = 1
processes = 1
memory = "1GiB"
walltime = "00:10:00"
minimum_jobs = {jobs}
maximum_jobs = {jobs}
python = "{sys.executable}"
job_script_prologue = ["cd {REPO}"]
local_directory = "{jobs_dir / 'local'}"
log_directory = "{jobs_dir}"
scheduler_host = "127.0.0.1"
""")


def lcsim(*args: object, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """The installed `lcsim` command (of the interpreter running the tests) in a subprocess."""
    script = Path(sys.executable).parent / "lcsim"
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from experiments.cli import app; app()"]
    return subprocess.run([*command, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize(("study", "kind", "runs"), [(LINEAR, "sweep", 60), (REAL_MORRIS, "sensitivity", 18)],
                         ids=["sweep-known-answer", "sensitivity-learning-communities"])
def test_lcsim_study_with_a_cluster_file_runs_on_slurm_jobs_and_equals_serial(slurm_cluster, tmp_path: Path,
                                                                               study: str, kind: str,
                                                                               runs: int) -> None:
    config = write(tmp_path / "study.toml", study)
    jobs_dir = tmp_path / "jobs"
    cluster = cluster_file(tmp_path / "cluster.toml", jobs_dir, jobs=2)
    env = slurm_cluster.env()
    before = {j["JobId"] for j in slurm_cluster.finished_jobs()}

    serial = lcsim(kind, config, "--out", tmp_path / "serial", "--backend", "serial", "--no-progress",
                   env=env, timeout=300)
    assert serial.returncode == 0, serial.stderr
    on_slurm = lcsim(kind, config, "--out", tmp_path / "slurm", "--cluster", cluster, "--chunk-size", "4",
                     "--no-progress", env=env, timeout=400)
    assert on_slurm.returncode == 0, on_slurm.stdout + on_slurm.stderr

    # identical runs, run by run; identical analysis
    expected, got = sorted_runs(tmp_path / "serial"), sorted_runs(tmp_path / "slurm")
    assert len(got) == runs
    pd.testing.assert_frame_equal(expected, got)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "serial" / "analysis" / "points.parquet"),
                                  pd.read_parquet(tmp_path / "slurm" / "analysis" / "points.parquet"))
    for ranking in sorted((tmp_path / "serial" / "analysis").glob("ranking_*.csv")):  # sensitivity indices
        pd.testing.assert_frame_equal(pd.read_csv(ranking), pd.read_csv(tmp_path / "slurm" / "analysis" / ranking.name))

    # the workers were SLURM batch jobs of this cluster: each wrote its log file, and SLURM recorded every
    # one as finished (cancelled by dask-jobqueue when lcsim closed the cluster) -- none is left queued
    logs = sorted(jobs_dir.glob("lcsim-dask-*.err"))
    job_ids = {p.name.removeprefix("lcsim-dask-").removesuffix(".err") for p in logs}
    assert len(job_ids) >= 1, f"no worker job logs in {jobs_dir}: {on_slurm.stderr}"
    assert not job_ids & before
    registered = [p for p in logs if "Registered to:" in p.read_text()]  # connected to lcsim's scheduler
    assert registered, f"no worker registered with the scheduler: {[p.read_text()[-2000:] for p in logs]}"
    wait_for(lambda: job_ids <= {j["JobId"] for j in slurm_cluster.finished_jobs()}, 90,
             f"SLURM to record the worker jobs {sorted(job_ids)} as finished")
    records = [j for j in slurm_cluster.finished_jobs() if j["JobId"] in job_ids]
    assert {j["Name"] for j in records} == {"lcsim-dask"} and {j["Partition"] for j in records} == {"debug"}
    queued = slurm_cluster.run("squeue", "-h", "-o", "%i %T")
    assert not [line for line in queued.stdout.splitlines() if line.split()[0] in job_ids], queued.stdout
    backend = json.loads((tmp_path / "slurm" / "manifest.json").read_text())["backend"]
    assert backend["name"] == "dask" and backend["cluster"]["kind"] == "slurm", backend
