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


# ------------------------------------------------------------------------- lcsim run / compare / validate
# (issue 10 and issue 14 items 4-7 for the ensemble commands: resumable, signals, disk full, integrity)

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "scenarios" / "baseline.toml"
SMART = ROOT / "configs" / "scenarios" / "smart_farming.toml"
SHORT = ("--set", "horizon_months=36")


def tables_of(folder: Path) -> dict[str, object]:
    import pandas as pd

    found: dict[str, object] = {name: pd.read_parquet(folder / f"{name}.parquet") for name in ("runs", "pilots", "series")}
    found["summary"] = (folder / "summary.csv").read_text(encoding="utf-8")
    return found


def assert_same_tables(a: Path, b: Path) -> None:
    got, want = tables_of(a), tables_of(b)
    for name in ("runs", "pilots", "series"):
        assert got[name].equals(want[name]), name  # type: ignore[attr-defined]
    assert got["summary"] == want["summary"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "run"
    result = lcsim("run", BASELINE, *SHORT, "--replicates", 8, "--backend", "serial", "--out", out, "--no-progress")
    assert result.exit_code == 0, result.output
    return out


def _start_cli(*args: object, **popen: object) -> subprocess.Popen:
    command = [sys.executable, "-c", "from experiments.cli import app; app()", *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, **popen)


def _wait_for_a_part(process: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + 180
    while not (out / "parts").is_dir() or not any((out / "parts").glob("part-*.parquet")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_a_killed_lcsim_run_resumes_to_the_uninterrupted_result(tmp_path: Path, uninterrupted: Path,
                                                                backend: str) -> None:
    import signal

    out = tmp_path / "run"
    process = _start_cli("run", BASELINE, *SHORT, "--replicates", 8, "--backend", backend, "--workers", 2,
                         "--out", out, "--no-progress", start_new_session=True)
    _wait_for_a_part(process, out)
    os.killpg(process.pid, signal.SIGKILL)  # the CLI and its workers (orphan workers are another test's matter)
    process.communicate(timeout=60)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "running" and not (out / "runs.parquet").exists()
    resumed = lcsim("resume", out, "--backend", backend, "--workers", 2, "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    assert_same_tables(out, uninterrupted)
    assert not (out / "parts").exists() and not (out / "writer.lock").exists()


def test_a_killed_lcsim_compare_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    import signal

    args = ("compare", BASELINE, SMART, *SHORT, "--replicates", 6, "--backend", "serial", "--no-progress")
    whole = tmp_path / "whole"
    assert lcsim(*args, "--out", whole).exit_code == 0
    out = tmp_path / "cmp"
    process = _start_cli(*args, "--out", out, start_new_session=True)
    _wait_for_a_part(process, out)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert json.loads((out / "manifest.json").read_text())["state"] == "running"
    resumed = lcsim("resume", out, "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    for name in ("comparison.csv", "comparison.md"):
        assert (out / name).read_text() == (whole / name).read_text(), name


def test_resume_of_an_old_format_run_folder_says_to_rerun_it(tmp_path: Path, uninterrupted: Path) -> None:
    import shutil

    old = tmp_path / "old"
    shutil.copytree(uninterrupted, old)
    manifest = json.loads((old / "manifest.json").read_text())
    for key in ("format", "state", "runset_id", "study_digest", "resumed"):
        manifest.pop(key)
    (old / "manifest.json").write_text(json.dumps(manifest))
    result = lcsim("resume", old)
    assert result.exit_code == 2, result.output
    assert "earlier version" in result.stderr and "cannot be resumed" in result.stderr and "again" in result.stderr
    assert "Traceback" not in result.output


def _interrupted_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: int = 1,
                     error: BaseException | None = None) -> tuple[Path, object]:
    """An `lcsim run` stopped (in this process) after ``after`` chunks were written, by ``error``."""
    import experiments.store.ensemble as store

    real = store.EnsembleRunSet.write_chunk
    calls = {"n": 0}

    def stop_after(self, *args: object) -> None:
        calls["n"] += 1
        if calls["n"] > after:
            raise error if error is not None else KeyboardInterrupt
        real(self, *args)

    monkeypatch.setattr(store.EnsembleRunSet, "write_chunk", stop_after)
    out = tmp_path / "run"
    result = lcsim("run", BASELINE, *SHORT, "--replicates", 8, "--backend", "serial", "--out", out, "--no-progress")
    monkeypatch.setattr(store.EnsembleRunSet, "write_chunk", real)
    return out, result


def test_ctrl_c_on_lcsim_run_gives_one_line_exit_130_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 uninterrupted: Path) -> None:
    out, result = _interrupted_run(tmp_path, monkeypatch)
    assert result.exit_code == 130, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        f"interrupted; finished runs are kept in {out}. Continue with: lcsim resume {out}")
    assert not (out / "writer.lock").exists()
    assert lcsim("resume", out, "--no-progress").exit_code == 0
    assert_same_tables(out, uninterrupted)


@pytest.mark.slow  # a real lcsim on worker processes, signalled and resumed (about 10 s): make test-slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_signals_stop_lcsim_run_on_processes_with_one_line_and_no_worker_traceback(tmp_path: Path, how: str,
                                                                                    uninterrupted: Path) -> None:
    """SIGTERM to the CLI (kill, a scheduler's time limit) and SIGINT to the whole process group (Ctrl-C in a
    terminal reaches the workers too): one line, exit 143 / 130, lock released, resumable, no traceback."""
    import signal

    out = tmp_path / "run"
    process = _start_cli("run", BASELINE, *SHORT, "--replicates", 8, "--backend", "processes", "--workers", 2,
                         "--out", out, "--no-progress", start_new_session=True)
    _wait_for_a_part(process, out)
    if how == "SIGTERM":
        process.send_signal(signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == (143 if how == "SIGTERM" else 130), stderr
    word = "terminated (SIGTERM)" if how == "SIGTERM" else "interrupted"
    assert f"{word}; finished runs are kept in {out}. Continue with: lcsim resume {out}" in stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert not (out / "writer.lock").exists()
    assert lcsim("resume", out, "--no-progress", "--backend", "serial").exit_code == 0
    assert_same_tables(out, uninterrupted)


def test_disk_full_while_lcsim_run_writes_gives_one_line_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     uninterrupted: Path) -> None:
    out, result = _interrupted_run(tmp_path, monkeypatch, error=OSError(errno.ENOSPC, os.strerror(errno.ENOSPC),
                                                                       "somewhere/part.parquet"))
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "disk is full" in errors[0] and f"lcsim resume {out}" in errors[0], result.stderr
    assert "Traceback" not in result.output and not list(out.rglob(".tmp-*"))
    assert lcsim("resume", out, "--no-progress").exit_code == 0
    assert_same_tables(out, uninterrupted)


def test_resume_refuses_an_edited_study_definition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = _interrupted_run(tmp_path, monkeypatch)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["study"]["root_seed"] = 8
    manifest["study"]["replicates"] = 9
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = lcsim("resume", out, "--no-progress")
    assert result.exit_code == 2, result.output
    assert "study.replicates" in result.stderr and "study.root_seed" in result.stderr
    assert "Traceback" not in result.output and not (out / "runs.parquet").exists()


def test_resume_refuses_a_foreign_part_and_repair_quarantines_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 uninterrupted: Path) -> None:
    import shutil

    other, _ = _interrupted_run(tmp_path / "other", monkeypatch, after=2)
    out, _ = _interrupted_run(tmp_path, monkeypatch)
    for sub in ("parts", "pilots", "series"):  # a part of another run set copied in
        shutil.copy(other / sub / "part-000001.parquet", out / sub / "part-000001.parquet")
    result = lcsim("resume", out, "--no-progress")
    assert result.exit_code == 2, result.output
    assert "parts/part-000001.parquet: belongs to another run set" in result.stderr and "--repair" in result.stderr
    repaired = lcsim("resume", out, "--repair", "--no-progress")
    assert repaired.exit_code == 0, repaired.output
    assert "moved to quarantine/" in repaired.stderr
    assert len(list((out / "quarantine" / "parts").iterdir())) == 1
    assert_same_tables(out, uninterrupted)


def test_repair_recomputes_exactly_the_runs_of_a_duplicated_or_broken_part(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uninterrupted: Path) -> None:
    import shutil

    out, _ = _interrupted_run(tmp_path, monkeypatch, after=2)
    for sub in ("parts", "pilots", "series"):  # the same runs twice
        shutil.copy(out / sub / "part-000000.parquet", out / sub / "part-000007.parquet")
    (out / "parts" / "part-000001.parquet").write_bytes(b"garbage")  # and an unreadable part
    result = lcsim("resume", out, "--no-progress")
    assert result.exit_code == 2 and "repeats run (point 0, replicate 0)" in result.stderr, result.output
    assert "part-000001.parquet: cannot be read as Parquet" in result.stderr
    repaired = lcsim("resume", out, "--repair", "--no-progress")
    assert repaired.exit_code == 0, repaired.output
    assert_same_tables(out, uninterrupted)


# ------------------------------------------------------------------------- 5. integrity of sweep run sets


def test_sweep_resume_refuses_an_edited_seed_or_replicate_count(tmp_path: Path, finished_runset: Path) -> None:
    for field, value in (("seed", 6), ("replicates", 3)):
        manifest_path = finished_runset / "manifest.json"
        original = manifest_path.read_text()
        manifest = json.loads(original)
        manifest["study"][field] = value
        manifest_path.write_text(json.dumps(manifest))
        result = lcsim("resume", finished_runset, "--backend", "serial", "--no-progress")
        assert result.exit_code == 2, result.output
        assert f"study.{field}" in result.stderr and "digest" in result.stderr
        assert "Traceback" not in result.output
        manifest_path.write_text(original)


def test_sweep_resume_refuses_a_foreign_part_and_repair_recomputes_exactly_its_runs(tmp_path: Path) -> None:
    import shutil

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    mine, other = tmp_path / "a" / "runset", tmp_path / "b" / "runset"
    assert sweep(tmp_path / "a", mine).exit_code == 0
    assert sweep(tmp_path / "b", other, "--set", "seed=6").exit_code == 0
    reference = RunSet.open(mine).read_runs()
    shutil.copy(other / "parts" / "part-000001.parquet", mine / "parts" / "part-000001.parquet")
    shutil.copy(mine / "parts" / "part-000000.parquet", mine / "parts" / "part-000099.parquet")  # a duplicate
    result = lcsim("resume", mine, "--backend", "serial", "--no-progress")
    assert result.exit_code == 2, result.output
    assert "parts/part-000001.parquet: belongs to another run set" in result.stderr
    assert "part-000099.parquet: repeats run" in result.stderr and "--repair" in result.stderr
    repaired = lcsim("resume", mine, "--repair", "--backend", "serial", "--no-progress")
    assert repaired.exit_code == 0, repaired.output
    assert len(list((mine / "quarantine" / "parts").iterdir())) == 2
    assert RunSet.open(mine).read_runs().equals(reference)


def test_an_interrupted_forced_run_keeps_the_old_folder_and_resume_swaps_the_new_one_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uninterrupted: Path) -> None:
    import experiments.store.ensemble as store

    out = tmp_path / "run"
    assert lcsim("run", BASELINE, *SHORT, "--replicates", 3, "--backend", "serial", "--out", out,
                 "--no-progress").exit_code == 0
    before = snapshot(out)
    real = store.EnsembleRunSet.write_chunk
    calls = {"n": 0}

    def stop_after_one(self, *args: object) -> None:
        calls["n"] += 1
        if calls["n"] > 1:
            raise KeyboardInterrupt
        real(self, *args)

    monkeypatch.setattr(store.EnsembleRunSet, "write_chunk", stop_after_one)
    result = lcsim("run", BASELINE, *SHORT, "--replicates", 8, "--backend", "serial", "--out", out, "--force",
                   "--no-progress")
    monkeypatch.setattr(store.EnsembleRunSet, "write_chunk", real)
    assert result.exit_code == 130 and f"lcsim resume {out}" in result.stderr, result.output
    assert snapshot(out) == before  # the earlier result is untouched until the new one is complete
    resumed = lcsim("resume", out, "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    assert_same_tables(out, uninterrupted)
    assert not (tmp_path / ".run.next").exists()


# ------------------------------------------------------------------------- 6. corrupt files name themselves


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize("damage", ["truncated design stage", "garbage failure record", "failure record of the "
                                    "wrong shape", "empty manifest", "manifest without stages"])
def test_a_corrupt_file_is_named_with_what_to_do_and_no_traceback(finished_runset: Path, damage: str) -> None:
    """resume and discover on a run set with one damaged file: exit 2, the file, what to do (they gave raw
    pyarrow/JSON/TypeError tracebacks before)."""
    if damage == "truncated design stage":
        target, hint = finished_runset / "design" / "stage-000.parquet", "restore the file from a copy"
        _truncate(target)
    elif damage == "empty manifest":
        target, hint = finished_runset / "manifest.json", "cannot be read as JSON"
        target.write_text("", encoding="utf-8")
    elif damage == "manifest without stages":
        target, hint = finished_runset / "manifest.json", "field 'stages'"
        manifest = json.loads(target.read_text(encoding="utf-8"))
        del manifest["stages"]
        target.write_text(json.dumps(manifest), encoding="utf-8")
    else:
        target, hint = finished_runset / "failures" / "chunk-000099.json", "move it out of failures/"
        target.write_text("garbage{" if damage.startswith("garbage") else '{"a": 1}', encoding="utf-8")
    for command in (["resume", finished_runset], ["discover", finished_runset, "--output", "y", "--above", "0.5"]):
        result = lcsim(*command)
        assert result.exit_code == 2, (command, result.output)
        assert str(target) in result.output and hint in result.output, result.output
        assert "Traceback" not in result.output
