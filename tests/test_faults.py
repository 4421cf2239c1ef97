"""Faults and careful users' mistakes (issue 14): ``--force`` replaces only what this tool wrote, a live
writer's lock is honoured, oversized designs are refused before anything starts, and OS errors while
writing give one line that says how to go on.  Every test here failed on the code before the fix.

Runs are kept tiny: the linear test function (experiments/models/testfunctions.py), serial backend.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.store.runset import RunSet

runner = CliRunner()

LINEAR = """
name = "lin"
model = "linear_noise"
design = "lhs"
replicates = 2
seed = 5
[lhs]
samples = 4
[parameters]
noise_sd = 0.5
[analysis]
bootstrap = 100
"""

SCENARIO = 'name = "small"\n[parameters]\nhorizon_months = 12\n'


def lcsim(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def write(folder: Path, body: str, name: str) -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def sweep(tmp_path: Path, out: Path, *extra: object):
    config = write(tmp_path, LINEAR, "lin.toml")
    return lcsim("sweep", config, "--out", out, "--backend", "serial", "--no-progress", *extra)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes (to prove nothing changed)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def finished_runset(tmp_path: Path) -> Path:
    out = tmp_path / "runset"
    result = sweep(tmp_path, out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def sleeper():
    """A live process that is not lcsim (its pid stands for another writer, or for a reused pid)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


# ------------------------------------------------------------------------- 1. --force and what it may replace


def test_force_refuses_a_folder_whose_manifest_someone_else_wrote(tmp_path: Path) -> None:
    out = tmp_path / "X"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "app"}')
    (out / "MARKER").write_text("precious")
    result = sweep(tmp_path, out, "--force")
    assert result.exit_code == 2, result.output
    assert str(out) in result.stderr and "not written by lcsim" in result.stderr
    assert (out / "MARKER").read_text() == "precious"
    run = lcsim("run", write(tmp_path, SCENARIO, "s.toml"), "--replicates", 2, "--workers", 1, "--out", out,
                "--force", "--no-progress")
    assert run.exit_code == 2 and "not written by lcsim" in run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["MARKER", "manifest.json"]


def test_run_force_refuses_a_run_set(tmp_path: Path, finished_runset: Path) -> None:
    before = snapshot(finished_runset)
    result = lcsim("run", write(tmp_path, SCENARIO, "s.toml"), "--replicates", 2, "--workers", 1,
                   "--out", finished_runset, "--force", "--no-progress")
    assert result.exit_code == 2, result.output
    assert "run set" in result.stderr and str(finished_runset) in result.stderr
    assert snapshot(finished_runset) == before


def test_written_folders_carry_a_marker_of_their_kind(tmp_path: Path, finished_runset: Path) -> None:
    from experiments.store.folders import MARKER_FILE, MARKER_FORMAT, folder_kind

    marker = json.loads((finished_runset / MARKER_FILE).read_text())
    assert marker["format"] == MARKER_FORMAT and marker["kind"] == "runset"
    assert folder_kind(finished_runset) == "runset"
    # a run set of an older version (no marker, but this tool's run-set format) is still recognised
    (finished_runset / MARKER_FILE).unlink()
    assert folder_kind(finished_runset) == "runset"
    assert sweep(tmp_path, finished_runset, "--force").exit_code == 0
    assert folder_kind(finished_runset) == "runset"


def test_forced_sweep_keeps_the_old_run_set_until_the_new_one_is_complete(
        tmp_path: Path, finished_runset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(finished_runset)
    import experiments.execution.study as study

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the user presses Ctrl-C during the analysis of the new run set

    monkeypatch.setattr(study, "finish", crash)
    result = sweep(tmp_path, finished_runset, "--force")
    assert result.exit_code == 130, result.output
    assert "unchanged" in result.stderr
    assert snapshot(finished_runset) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no staging left


# ------------------------------------------------------------------------- 2. a live writer's lock


def _lock(folder: Path, pid: int, **extra: object) -> None:
    (folder / "writer.lock").write_text(json.dumps({"pid": pid, "host": socket.gethostname(), **extra}))


def test_force_refuses_a_run_set_a_live_process_writes(tmp_path: Path, finished_runset: Path, sleeper) -> None:
    _lock(finished_runset, sleeper.pid)
    before = snapshot(finished_runset)
    result = sweep(tmp_path, finished_runset, "--force")
    assert result.exit_code == 2, result.output
    assert f"pid {sleeper.pid}" in result.stderr and str(finished_runset) in result.stderr
    assert snapshot(finished_runset) == before


def test_lock_of_an_unknown_process_tells_how_to_proceed(tmp_path: Path, finished_runset: Path, sleeper) -> None:
    _lock(finished_runset, sleeper.pid)  # an older lock: no start time, so a reused pid cannot be told apart
    result = lcsim("resume", finished_runset, "--backend", "serial", "--no-progress")
    assert result.exit_code == 2
    assert "writer.lock" in result.stderr and f"ps -p {sleeper.pid}" in result.stderr


def test_lock_of_a_reused_pid_is_taken_over(tmp_path: Path, finished_runset: Path, sleeper) -> None:
    _lock(finished_runset, sleeper.pid, started=12345.0)  # the pid now belongs to a younger process
    result = lcsim("resume", finished_runset, "--backend", "serial", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "stale" in result.stderr and not (finished_runset / "writer.lock").exists()


# ------------------------------------------------------------------------- 3. oversized designs, --max-runs


HUGE = {
    "lhs of 10^7 points": 'name = "h"\nmodel = "sobol_g"\ndesign = "lhs"\nreplicates = 1\nseed = 1\n'
                          '[lhs]\nsamples = 10000000\n',
    "factorial 1000 x 1000": 'name = "h"\nmodel = "flaky"\ndesign = "factorial"\nreplicates = 3\nseed = 1\n'
                             '[levels]\nx1 = 1000\nx2 = 1000\n',
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_a_huge_design_is_refused_at_once(tmp_path: Path, case: str) -> None:
    config = write(tmp_path, HUGE[case], "huge.toml")
    out = tmp_path / "out"
    started = time.monotonic()
    result = lcsim("sweep", config, "--out", out, "--backend", "serial", "--no-progress")
    assert result.exit_code == 2, result.output
    assert "--max-runs 1,000,000" in result.stderr and "runs" in result.stderr and str(config) in result.stderr
    assert time.monotonic() - started < 20 and not out.exists()


def test_max_runs_is_honoured_exactly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = sweep(tmp_path, out, "--max-runs", 5)  # 4 points x 2 replicates = 8 runs
    assert result.exit_code == 2, result.output
    assert "8 runs" in result.stderr and "--max-runs 5" in result.stderr and not out.exists()
    assert sweep(tmp_path, out, "--max-runs", 8).exit_code == 0
    assert len(RunSet.open(out).done_run_ids()) == 8


def test_run_refuses_more_replicates_than_max_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = write(tmp_path, SCENARIO, "s.toml")
    result = lcsim("run", config, "--replicates", 3, "--max-runs", 2, "--out", out, "--no-progress")
    assert result.exit_code == 2 and "--max-runs 2" in result.stderr and not out.exists()
    huge = lcsim("run", config, "--replicates", 1_000_000, "--out", out, "--no-progress")
    assert huge.exit_code == 2 and "--max-runs 100,000" in huge.stderr and not out.exists()


# ------------------------------------------------------------------------- 6. a full disk while writing


def test_disk_full_gives_one_line_and_the_run_set_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import experiments.store.runset as runset_module

    real = runset_module.atomic_write_parquet
    calls = {"n": 0}

    def full_after_one_part(path, table):
        if Path(path).parent.name == "parts":
            calls["n"] += 1
            if calls["n"] > 1:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, table)

    monkeypatch.setattr(runset_module, "atomic_write_parquet", full_after_one_part)
    out = tmp_path / "out"
    result = sweep(tmp_path, out, "--chunk-size", 2)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "disk is full" in errors[0] and f"lcsim resume {out}" in errors[0]
    assert "Traceback" not in result.output
    assert not list(out.rglob(".tmp-*"))  # whole files only
    assert len(RunSet.open(out).done_run_ids()) == 2
    monkeypatch.setattr(runset_module, "atomic_write_parquet", real)
    resumed = lcsim("resume", out, "--backend", "serial", "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    assert len(RunSet.open(out).done_run_ids()) == 8


# ------------------------------------------------------------------------- 4. SIGTERM like Ctrl-C

SLOW = """
name = "slow"
model = "slow_linear"
design = "lhs"
replicates = 2
seed = 3
[lhs]
samples = 100
[parameters]
sleep_s = 0.05
[analysis]
bootstrap = 100
"""


def test_sigterm_stops_a_sweep_like_ctrl_c_and_it_resumes(tmp_path: Path) -> None:
    import signal

    config = write(tmp_path, SLOW, "slow.toml")
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from experiments.cli import app; app()", "sweep", str(config), "--out",
               str(out), "--backend", "serial", "--no-progress", "--chunk-size", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    deadline = time.monotonic() + 120
    while not (out / "parts").is_dir() or not any((out / "parts").iterdir()):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "terminated" in stderr and f"lcsim resume {out}" in stderr and "Traceback" not in stderr
    assert not (out / "writer.lock").exists()
    done = len(RunSet.open(out).done_run_ids())
    assert 0 < done < 200
