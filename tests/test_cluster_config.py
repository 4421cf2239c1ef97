"""Cluster files (`--cluster`): the shipped SLURM and PBS examples load and make the batch scripts they
promise; mistakes name the file, the field, the value and what is allowed; and a whole sweep runs through
dask-jobqueue's SLURMCluster with adaptive scaling against a stand-in `sbatch` (a real SLURM cluster is
tested by tests/slurm, `make test-slurm`)."""

from __future__ import annotations

import os
import signal
import stat
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.config.cluster import ClusterConfig, cluster_from_dict, load_cluster_config
from experiments.config.reading import ConfigError
from experiments.store.runset import RunSet

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

MINIMAL = {"kind": "slurm", "cores": 2, "memory": "2GiB", "walltime": "01:00:00", "maximum_jobs": 3}


def test_the_shipped_examples_load_and_make_the_batch_scripts_they_promise(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from experiments.execution.dask import build_jobqueue_cluster

    monkeypatch.chdir(tmp_path)  # dask-jobqueue creates the log directory where it is started
    slurm = load_cluster_config(REPO / "configs/cluster/slurm.toml")
    pbs = load_cluster_config(REPO / "configs/cluster/pbs.toml")
    assert (slurm.kind, slurm.processes, slurm.maximum_workers) == ("slurm", 8, 64)
    assert (pbs.kind, pbs.minimum_jobs, pbs.maximum_jobs) == ("pbs", 0, 4)
    expected = {
        "slurm": ["#SBATCH -p compute", "#SBATCH --cpus-per-task=8", "#SBATCH -t 04:00:00",
                  "#SBATCH --hint=nomultithread",
                  "source $HOME/lcsim/.venv/bin/activate", f"{sys.executable} -m distributed.cli.dask_worker",
                  "--nthreads 1", "--nworkers 8", "--death-timeout 60", "--lifetime 13800s"],
        "pbs": ["#PBS -q workq", "#PBS -l select=1:ncpus=16", "#PBS -l walltime=02:00:00", "cd $PBS_O_WORKDIR",
                "--nthreads 1", "--nworkers 16", "--local-directory $TMPDIR"],
    }
    for config in (slurm.model_copy(update={"dashboard_port": 0}), pbs):
        cluster = build_jobqueue_cluster(config)
        try:
            script = cluster.job_script()
        finally:
            cluster.close()
        for line in expected[config.kind]:
            assert line in script, f"{line!r} missing from:\n{script}"


def test_processes_default_to_cores_and_workers_retire_before_the_walltime() -> None:
    config = cluster_from_dict({"cluster": MINIMAL}, source="c.toml")
    assert config.processes == 2 and config.minimum_jobs == 1 and config.python is None
    assert config.worker_lifetime() == ("3240s", "180s")  # 10% margin of one hour
    short = config.model_copy(update={"walltime": "00:04:00"})
    assert short.worker_lifetime() is None
    kwargs = config.jobqueue_kwargs()
    assert kwargs["python"] == sys.executable and kwargs["scheduler_options"] == {"port": 0, "dashboard_address": ":0"}
    with pytest.raises(Exception):  # frozen
        config.cores = 4  # type: ignore[misc]
    assert all(info.description for info in ClusterConfig.model_fields.values())


@pytest.mark.parametrize(("change", "expected"), [
    ({"kind": "sge"}, ["[cluster] field 'kind' = \"sge\" is not valid", 'allowed: "slurm" or "pbs"']),
    ({"cores": 0}, ["field 'cores' = 0 is out of range", "an integer from 1 to 1024"]),
    ({"cores": "4"}, ["field 'cores' = \"4\" has the wrong type (string)", "an integer"]),
    ({"memory": "lots"}, ["field 'memory' = \"lots\" is not valid", '"2GiB"']),
    ({"walltime": "1h"}, ["field 'walltime' = \"1h\" is not valid", "HH:MM:SS"]),
    ({"processes": 3}, ["field 'processes' = 3 exceeds field 'cores' = 2", "processes from 1 to cores"]),
    ({"minimum_jobs": 4}, ["field 'maximum_jobs' = 3 is below field 'minimum_jobs' = 4"]),
    ({"job_script_prologue": "source x"}, ["field 'job_script_prologue' = \"source x\" has the wrong type",
                                           "a list of strings"]),
    ({"job_extra_directives": ["--qos=x", 3]}, ["field 'job_extra_directives' item 1 = 3", "a list of strings"]),
    ({"corse": 4}, ["field 'corse' = 4 is unknown", "did you mean 'cores'?"]),
    ({"death_timeout": 0}, ["field 'death_timeout' = 0 is out of range", "seconds from 1"]),
])
def test_a_bad_cluster_file_names_file_field_value_and_what_is_allowed(tmp_path: Path, change: dict,
                                                                        expected: list[str]) -> None:
    path = tmp_path / "cluster.toml"
    fields = {**MINIMAL, **change}
    path.write_text("[cluster]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in fields.items()), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_cluster_config(path)
    for part in [str(path), *expected]:
        assert part in str(caught.value), f"{part!r} missing from: {caught.value}"


def test_a_file_without_a_cluster_table_or_with_a_missing_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('kind = "slurm"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown top-level key 'kind'.*\n.*the \[cluster\] table is missing"):
        load_cluster_config(path)
    path.write_text('[cluster]\nkind = "slurm"\ncores = 2\nmemory = "2GiB"\nwalltime = "01:00:00"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.toml: \[cluster\] field 'maximum_jobs' is missing; allowed: an integer"):
        load_cluster_config(path)


def _toml(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


# ------------------------------------------------------------------------------------------ a sweep via sbatch

# Stand-ins for SLURM's commands: sbatch runs the job script in the background in a session of its own and
# answers with a job id (the session's process id); scancel ends that session.  Every job is recorded.
SBATCH = """#!/bin/bash
set -e
copy="$FAKE_SLURM/job-$RANDOM$RANDOM.sh"
cp "$1" "$copy"
setsid bash "$copy" > "$copy.log" 2>&1 < /dev/null &
echo "$!" >> "$FAKE_SLURM/jobs"
echo "Submitted batch job $!"
"""
SCANCEL = """#!/bin/bash
for id in "$@"; do kill -TERM -- "-$id" 2>/dev/null || true; done
"""

LINEAR = """
name = "lin"
model = "linear_noise"
design = "lhs"
replicates = 2
seed = 9
[lhs]
samples = 30
[parameters]
noise_sd = 0.5
[analysis]
bootstrap = 100
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_sweep_on_a_slurm_cluster_file_submits_jobs_adaptively_and_gives_the_serial_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fake-slurm"
    fake.mkdir()
    for name, text in (("sbatch", SBATCH), ("scancel", SCANCEL)):
        (fake / name).write_text(text, encoding="utf-8")
        (fake / name).chmod(stat.S_IRWXU)
    monkeypatch.setenv("FAKE_SLURM", str(fake))
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lin.toml").write_text(LINEAR, encoding="utf-8")
    (tmp_path / "cluster.toml").write_text(f"""
[cluster]
kind = "slurm"
cores = 1
memory = "1GiB"
walltime = "00:10:00"
minimum_jobs = 1
maximum_jobs = 2
job_script_prologue = ["echo started job on $(hostname)"]
local_directory = "{tmp_path / 'scratch'}"
log_directory = "{tmp_path / 'logs'}"
scheduler_host = "127.0.0.1"
death_timeout = 20
""", encoding="utf-8")
    assert runner.invoke(app, ["sweep", "lin.toml", "--out", "serial", "--backend", "serial",
                               "--no-progress"]).exit_code == 0
    jobs: list[int] = []
    try:
        result = runner.invoke(app, ["sweep", "lin.toml", "--out", "slurm", "--cluster", "cluster.toml",
                                     "--no-progress"])
        jobs = [int(line) for line in (fake / "jobs").read_text().split()] if (fake / "jobs").exists() else []
        assert result.exit_code == 0, result.output
        said = " ".join(result.stderr.split())  # rich wraps long lines
        assert "dask: SLURM cluster of 1 to 2 jobs x 1 worker (from cluster.toml), scheduler tcp://127.0.0.1:" in said
        assert 1 <= len(jobs)
        pd.testing.assert_frame_equal(RunSet.open(tmp_path / "slurm").read_runs(),
                                      RunSet.open(tmp_path / "serial").read_runs(), check_exact=True)
        manifest = RunSet.open(tmp_path / "slurm").manifest["backend"]
        assert manifest["cluster_config"] == "cluster.toml" and manifest["cluster"]["maximum_jobs"] == 2
        # closing the cluster cancelled every job (scancel), so no worker outlives the sweep
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in jobs) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in jobs)
    finally:
        for pid in jobs:  # only if the assertions above failed: end the sessions this test started
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)


def test_a_cluster_file_where_its_batch_system_is_missing_exits_2_and_creates_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no sbatch here, whatever the machine has installed
    (tmp_path / "lin.toml").write_text(LINEAR, encoding="utf-8")
    (tmp_path / "cluster.toml").write_text("[cluster]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in MINIMAL.items()),
                                           encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(tmp_path / "lin.toml"), "--out", str(tmp_path / "out"), "--cluster",
                                 str(tmp_path / "cluster.toml"), "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "submits jobs with `sbatch`, which is not on PATH" in " ".join(result.stderr.split())
    assert not (tmp_path / "out").exists()
