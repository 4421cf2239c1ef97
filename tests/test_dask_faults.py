"""Faults on the dask backend are survived: a worker killed halfway through a sweep, a client (`lcsim sweep
--scheduler ...`) killed halfway and resumed on another backend, and a run that kills its worker process
every time it is tried.  Each ends with every run present exactly once and equal to the serial result (or
recorded as failed with its error).  No timing assertions: only generous timeouts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from numpy.random import SeedSequence
from typer.testing import CliRunner

from dask_processes import REPO, DaskProcesses
from experiments.execution.backends import BackendSpec
from experiments.cli import app
from experiments.store.runset import RunSet
from experiments.execution.study import run_study
from experiments.config.study import load_study, study_from_dict
from experiments.models.testfunctions import crashing

runner = CliRunner()

# 300 runs of a model that sleeps 10 ms: a few seconds on two workers, in chunks of 5 runs.
SLOW = """
name = "slow"
model = "slow_linear"
design = "lhs"
replicates = 3
seed = 23
[lhs]
samples = 100
[parameters]
sleep_s = 0.01
[analysis]
bootstrap = 100
"""
RUNS = 300
CHUNK = 5


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskProcesses]:
    processes = DaskProcesses(tmp_path_factory.mktemp("dask")).start(workers=2)
    try:
        yield processes
    finally:
        processes.stop()


@pytest.fixture(scope="module")
def slow_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "slow.toml"
    path.write_text(SLOW, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def serial_runs(slow_config: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The uninterrupted serial result every faulty sweep must end up equal to."""
    config = load_study(slow_config, "sweep")
    quick = study_from_dict({**_document(config), "parameters": {"sleep_s": 0.0}}, "sweep", source="quick.toml")
    runs = run_study(quick, tmp_path_factory.mktemp("serial") / "rs", backend="serial", analyse=False).runset
    return runs.read_runs()


def _document(config: object) -> dict:
    """The study's TOML document again (its text is kept in the config)."""
    import tomllib

    return tomllib.loads(config.text)


def assert_complete_and_serial(path: Path, serial: pd.DataFrame) -> None:
    runset = RunSet.open(path)
    frame = runset.read_runs()
    assert frame["run_id"].is_unique and len(frame) == RUNS, "every run exactly once"
    assert runset.failures() == []
    pd.testing.assert_frame_equal(frame, serial, check_exact=True)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def test_a_client_killed_halfway_leaves_a_run_set_that_resumes_on_another_backend(
        dask_processes: DaskProcesses, slow_config: Path, serial_runs: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    command = [sys.executable, "-c", "from experiments.cli import app; app()", "sweep", str(slow_config), "--out",
               str(out), "--scheduler", dask_processes.address, "--chunk-size", str(CHUNK), "--no-progress"]
    client = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        wait_until(lambda: (out / "parts").is_dir() and len(list((out / "parts").glob("part-*.parquet"))) >= 6
                   or client.poll() is not None, 120, "the sweep to write some chunks")
        os.kill(client.pid, signal.SIGKILL)
    finally:
        client.wait(timeout=30)
    assert client.returncode == -signal.SIGKILL, client.stderr.read().decode(errors="replace")
    written = len(RunSet.open(out).read_runs())
    assert 0 < written < RUNS, "killed halfway"
    # the dead client's lock is taken over; only the missing runs are run, here serially
    quick = runner.invoke(app, ["resume", str(out), "--backend", "serial", "--no-progress"])
    assert quick.exit_code == 0, quick.output
    assert f"{written} of {RUNS} runs on disk; resuming" in quick.stderr
    assert_complete_and_serial(out, serial_runs)


def test_a_sweep_survives_a_worker_killed_halfway(dask_processes: DaskProcesses, slow_config: Path,
                                                   serial_runs: pd.DataFrame, tmp_path: Path) -> None:
    chunks = 0
    killed_at: list[int] = []

    @contextmanager
    def progress():
        def callback(event: str, counts: dict[str, int]) -> None:
            nonlocal chunks
            if event == "chunk":
                chunks += 1
                if chunks == RUNS // CHUNK // 2 and not killed_at:
                    dask_processes.kill_worker(0)  # SIGKILL: its running chunk is lost and must be re-run
                    killed_at.append(chunks)

        yield callback

    try:
        result = run_study(load_study(slow_config, "sweep"), tmp_path / "rs",
                           backend=BackendSpec("dask", scheduler=dask_processes.address), chunk_size=CHUNK,
                           analyse=False, progress=progress)
        assert killed_at and result.failed == 0
        assert_complete_and_serial(tmp_path / "rs", serial_runs)
    finally:  # later tests get two workers again
        dask_processes.workers = [w for w in dask_processes.workers if w.poll() is None]
        dask_processes.add_worker()
        dask_processes.wait_for_workers(2)


CRASHING = """
name = "crash"
model = "experiments.models.testfunctions:CRASHING"
design = "factorial"
factors = ["x1"]
replicates = 2
seed = 4
[parameters]
x2 = 0.5
[levels]
x1 = [0.2, 0.95, 0.5]
[analysis]
bootstrap = 100
"""


def test_a_run_that_kills_its_worker_every_time_is_recorded_as_failed_and_the_sweep_goes_on(tmp_path: Path) -> None:
    import dask

    config = study_from_dict(__import__("tomllib").loads(CRASHING), "sweep", source="crash.toml")
    # One retry, and one task per worker thread at a time, so that only the crashing chunk is ever on a dying
    # worker (a task merely queued on a worker that dies counts as suspect too).
    with dask.config.set({"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}):
        result = run_study(config, tmp_path / "rs", backend=BackendSpec("dask", 2), chunk_size=2, analyse=False)
    runset = result.runset
    failures = runset.failures()
    assert [f["run_id"] for f in failures] == [2, 3]  # point 1 (x1 = 0.95), both replicates: one chunk
    for record in failures:
        assert record["params"]["x1"] == pytest.approx(0.95) and record["spawn_key"] == f"1/{record['replicate']}"
        assert record["error"].startswith("KilledWorker: the worker running this chunk died")
        assert "KilledWorker" in record["traceback"]
    runs = runset.read_runs()
    assert runs["run_id"].tolist() == [0, 1, 4, 5]
    expected = [crashing({**config.base, "x1": x1}, SeedSequence(4, spawn_key=(point, replicate)))["y"]
                for point, replicate, x1 in runs[["point", "replicate", "x1"]].itertuples(index=False)]
    assert runs["y"].tolist() == expected
