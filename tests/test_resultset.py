"""The run-set store: atomic files, what counts as done or failed, and a real SIGKILL followed by
``lcsim resume`` giving the same rows as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.execution.chunks import ChunkResult
from experiments.store.runset import RunSet, RunSetBusyError, RunSetError
from experiments.store.atomic import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
LCSIM = [sys.executable, "-c", "from experiments.cli import app; app()"]


def design(n: int) -> pd.DataFrame:
    return pd.DataFrame({"point": np.arange(n), "stage": 0, "u.x": np.linspace(0, 1, n), "x": np.linspace(0, 1, n)})


def chunk(chunk_id: int, run_ids: list[int], failed: list[int] = ()) -> ChunkResult:
    result = ChunkResult(chunk_id, outputs={"y": []})
    for run_id in run_ids:
        result.run_id.append(run_id)
        result.point.append(run_id // 2)
        result.replicate.append(run_id % 2)
        result.spawn_key.append(f"{run_id // 2}/{run_id % 2}")
        result.outputs["y"].append(float(run_id))
    result.failures = [{"run_id": r, "point": r // 2, "replicate": r % 2, "traceback": "boom"} for r in failed]
    return result


def test_atomic_write_leaves_only_the_final_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    atomic_write_text(target, "hello")
    assert target.read_text() == "hello"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_create_is_all_or_nothing_and_refuses_an_existing_folder(tmp_path: Path) -> None:
    runset = RunSet.create(tmp_path / "rs", {"replicates": 2, "study": {}}, design(3))
    assert (runset.path / "manifest.json").is_file() and (runset.path / "design" / "stage-000.parquet").is_file()
    assert runset.n_runs == 6
    with pytest.raises(OSError):
        RunSet.create(tmp_path / "rs", {"replicates": 2}, design(3))
    assert [p.name for p in tmp_path.iterdir()] == ["rs"]  # no staging folder left behind


def test_open_refuses_a_folder_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(RunSetError, match="no manifest.json"):
        RunSet.open(tmp_path)


def test_done_failed_and_retried_runs_are_counted_once(tmp_path: Path) -> None:
    runset = RunSet.create(tmp_path / "rs", {"replicates": 2, "study": {}}, design(4))
    factors, values = [("x", "float")], runset.design()[["x"]].to_numpy()
    runset.write_chunk(chunk(0, [0, 1, 2], failed=[3]), factors, values, ["y"])
    runset.write_chunk(chunk(1, [], failed=[4, 5]), factors, values, ["y"])
    assert runset.done_run_ids().tolist() == [0, 1, 2]
    assert [f["run_id"] for f in runset.failures()] == [3, 4, 5]
    assert not (runset.path / "parts" / "part-000001.parquet").exists()  # no empty parts
    # run 4 succeeds on a retry: it is done, no longer failed
    runset.write_chunk(chunk(2, [4]), factors, values, ["y"])
    assert [f["run_id"] for f in runset.failures()] == [3, 5]
    runs = runset.read_runs()
    assert runs["run_id"].tolist() == [0, 1, 2, 4] and runs["y"].tolist() == [0.0, 1.0, 2.0, 4.0]
    assert runs["x"].tolist() == pytest.approx(values[[0, 0, 1, 2], 0].tolist())
    assert runset.next_chunk_id() == 3


def test_the_next_writer_removes_temporary_files_of_a_killed_one(tmp_path: Path) -> None:
    runset = RunSet.create(tmp_path / "rs", {"replicates": 1, "study": {}}, design(2))
    leftover = runset.path / "parts" / ".tmp-part-000007.parquet-123-abc"
    leftover.write_bytes(b"PAR1 half")
    reopened = RunSet.open(runset.path)
    assert leftover.exists()  # opening to read must not touch a writer's files
    with reopened.lock():
        assert not leftover.exists()
        assert (runset.path / "writer.lock").is_file()
    assert not (runset.path / "writer.lock").exists()
    assert reopened.done_run_ids().size == 0


def test_a_run_set_held_by_a_live_process_is_refused_a_dead_ones_lock_taken_over(tmp_path: Path) -> None:
    runset = RunSet.create(tmp_path / "rs", {"replicates": 1, "study": {}}, design(2))
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock = {"pid": sleeper.pid, "host": socket.gethostname()}
        (runset.path / "writer.lock").write_text(json.dumps(lock))
        with pytest.raises(RunSetBusyError, match=f"pid {sleeper.pid}"):
            with runset.lock():
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    with runset.lock():  # the holder is gone (as after SIGKILL): its lock is taken over
        pass


# ------------------------------------------------------------------------------------------ kill and resume

SLOW = """
name = "slow"
model = "slow_linear"
design = "lhs"
replicates = 3
seed = 99
[lhs]
samples = 100
[parameters]
sleep_s = 0.01
noise_sd = 0.3
[analysis]
bootstrap = 100
"""


def lcsim(*args: object, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*LCSIM, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def slow_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "slow.toml"
    path.write_text(SLOW, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def uninterrupted(slow_config: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("ref") / "ref"
    done = lcsim("sweep", slow_config, "--out", out, "--backend", "serial", "--chunk-size", 16, "--no-progress")
    assert done.returncode == 0, done.stderr
    return RunSet.open(out).read_runs()


@pytest.mark.slow  # two real processes killed mid-run (about 30 s): make test-slow
@pytest.mark.parametrize("backend", ["processes", "serial"])
def test_sigkill_then_resume_equals_an_uninterrupted_run(backend: str, slow_config: Path, tmp_path: Path,
                                                          uninterrupted: pd.DataFrame) -> None:
    out = tmp_path / "killed"
    child = subprocess.Popen(
        [*LCSIM, "sweep", str(slow_config), "--out", str(out), "--backend", backend, "--workers", "2",
         "--chunk-size", "4", "--no-progress"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            parts = list((out / "parts").glob("part-*.parquet")) if (out / "parts").is_dir() else []
            if len(parts) >= 5:
                break
            assert child.poll() is None, "the sweep finished before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("no part files appeared within 120 s")
        os.killpg(child.pid, signal.SIGKILL)  # the CLI and its worker processes, no clean-up possible
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    before = RunSet.open(out)
    done_before = before.done_run_ids()
    assert 0 < len(done_before) < 300, "the kill should come mid-sweep"
    snapshot = {p.name: p.read_bytes() for p in before.part_files()}

    resumed = lcsim("resume", out, "--backend", "serial", "--chunk-size", 9, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    after = RunSet.open(out)
    # parts written before the kill are untouched; the resume ran exactly the missing runs
    assert {p.name: p.read_bytes() for p in after.part_files() if p.name in snapshot} == snapshot
    runs = after.read_runs()
    assert runs["run_id"].is_unique and len(runs) == 300
    pd.testing.assert_frame_equal(runs, uninterrupted)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["resumed"]) == 1 and (out / "analysis" / "report.md").is_file()
    assert not list(out.rglob(".tmp-*"))
