"""`lcsim sweep`, `lcsim sensitivity` and `lcsim resume` end to end: bad input exits 2 and creates
nothing; failing runs are recorded and the rest kept; backends give identical bits; common random
numbers share seeds; the shipped study files are valid; the learning-community model plugs in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.store.runset import RunSet

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def lcsim(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def write(tmp_path: Path, body: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


LINEAR = """
name = "lin"
model = "linear_noise"
design = "lhs"
replicates = 3
seed = 5
[lhs]
samples = 40
[parameters]
noise_sd = 0.5
[analysis]
bootstrap = 100
"""

MORRIS = """
name = "m"
method = "morris"
seed = 1
replicates = 2
[morris]
trajectories = 4
levels = 4
"""

# ------------------------------------------------------------------------------------------ bad input

BAD = [
    ("sweep", "unknown-key", "replicatez = 3\n" + LINEAR, ["'replicatez'", "unknown top-level key", "replicates"]),
    ("sweep", "replicates-zero", LINEAR.replace("replicates = 3", "replicates = 0"),
     ["'replicates'", "= 0", "allowed: an integer from 1 to"]),
    ("sweep", "no-design", LINEAR.replace('design = "lhs"', ""), ["'design' is missing", 'design = "factorial"']),
    ("sweep", "missing-levels", LINEAR.replace('design = "lhs"', 'design = "factorial"').replace(
        "[lhs]\nsamples = 40\n", "[levels]\nx1 = 3\n"), ["[levels] field 'x2' is missing", "evenly spaced"]),
    ("sensitivity", "unknown-factor", 'factors = ["management_turnover", "external_stress"]\n' + MORRIS,
     ["'management_turnover'", "management_turnover_rate"]),
    ("sensitivity", "range-too-wide", MORRIS + "[ranges]\nexternal_stress = [0.0, 1.5]\n",
     ["external_stress", "[0.0, 1.5]", "beyond the valid bounds", "within 0 to 1"]),
    ("sensitivity", "sobol-not-power-of-two", 'name = "s"\nmethod = "sobol"\nseed = 1\nreplicates = 1\n'
     "[sobol]\nbase_samples = 100\n", ["'sobol.base_samples' = 100", "power of two", "64 or 128"]),
    ("sensitivity", "unknown-output", 'outputs = ["continued_y5"]\n' + MORRIS,
     ["'continued_y5'", "continued_by_school_y5"]),
    ("sensitivity", "bad-parameter", MORRIS + "[parameters]\nhorizon_months = 24.5\n",
     ["horizon_months", "24.5", "integer"]),
    ("sensitivity", "invalid-design-points", MORRIS.replace("trajectories = 4", "trajectories = 10")
     + "[ranges]\ncomplex_question_share = [0.0, 0.7]\n",  # 0.7 + the default simple share 0.6 > 1
     ["complex_question_share", "simple_question_share + complex_question_share", "narrow [ranges]"]),
    ("sensitivity", "malformed", MORRIS + "seed = = 3\n", ["malformed TOML", "seed = = 3"]),
]


@pytest.mark.parametrize(("command", "body", "expected"), [b[0:1] + b[2:] for b in BAD], ids=[b[1] for b in BAD])
def test_bad_study_file_exits_2_names_the_problem_and_creates_nothing(tmp_path: Path, command: str, body: str,
                                                                       expected: list[str]) -> None:
    config = write(tmp_path, body)
    out = tmp_path / "out" / "nested"
    result = lcsim(command, config, "--out", out, "--backend", "serial", "--no-progress")
    assert result.exit_code == 2, result.output
    assert str(config) in result.stderr
    for part in expected:
        assert part in result.stderr, f"{part!r} missing from: {result.stderr}"
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--backend", "spark", "allowed: serial, processes, dask"),
    ("--workers", "0", "allowed: an integer from 1 to 1024"),
    ("--chunk-size", "many", "not an integer"),
])
def test_bad_option_exits_2_and_creates_nothing(tmp_path: Path, option: str, value: str, expected: str) -> None:
    config = write(tmp_path, LINEAR)
    out = tmp_path / "out"
    result = lcsim("sweep", config, "--out", out, option, value, "--no-progress")
    assert result.exit_code == 2 and expected in result.stderr and value in result.stderr
    assert not out.exists()


def test_existing_output_needs_force_and_resume_needs_a_run_set(tmp_path: Path) -> None:
    config = write(tmp_path, LINEAR)
    out = tmp_path / "out"
    assert lcsim("sweep", config, "--out", out, "--backend", "serial", "--no-progress").exit_code == 0
    again = lcsim("sweep", config, "--out", out, "--backend", "serial", "--no-progress")
    assert again.exit_code == 2 and "already exists" in again.stderr and "lcsim resume" in again.stderr
    forced = lcsim("sweep", config, "--out", out, "--backend", "serial", "--no-progress", "--force")
    assert forced.exit_code == 0, forced.output
    not_a_run_set = lcsim("resume", tmp_path, "--backend", "serial")
    assert not_a_run_set.exit_code == 2 and "no manifest.json" in not_a_run_set.stderr
    complete = lcsim("resume", out, "--backend", "serial", "--no-progress")  # nothing missing: re-analyses
    assert complete.exit_code == 0 and "120 of 120 runs on disk" in complete.stderr


# ------------------------------------------------------------------------------------------ failures


FLAKY = """
name = "flaky"
model = "flaky"
design = "factorial"
replicates = 3
seed = 8
[levels]
x1 = [0.25, 0.5, 0.8, 0.9]
x2 = 2
[analysis]
bootstrap = 100
"""


def test_failing_runs_are_recorded_the_rest_kept_and_the_exit_code_is_1(tmp_path: Path) -> None:
    config = write(tmp_path, FLAKY)
    out = tmp_path / "flaky"
    command = [sys.executable, "-c", "from experiments.cli import app; app()", "sweep", str(config), "--out", str(out),
               "--backend", "processes", "--workers", "2", "--chunk-size", "2", "--no-progress"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180)  # must not hang
    assert done.returncode == 1, done.stderr
    assert "12 of 24 runs failed" in done.stderr
    runset = RunSet.open(out)
    runs = runset.read_runs()
    assert len(runs) == 12 and (runs["x1"] <= 0.5).all()
    failures = runset.failures()
    assert len(failures) == 12
    for record in failures:
        assert record["params"]["x1"] > 0.75
        assert "ValueError: flaky model refuses" in record["traceback"]
        assert record["spawn_key"] == f"{record['point']}/{record['replicate']}" and record["root_seed"] == 8
    assert "12 runs failed" in (out / "analysis" / "report.md").read_text()
    # resuming does not silently re-run recorded failures; --retry-failed does (and they fail again)
    assert lcsim("resume", out, "--backend", "serial", "--no-progress").exit_code == 1
    retried = lcsim("resume", out, "--backend", "serial", "--no-progress", "--retry-failed")
    assert retried.exit_code == 1 and len(RunSet.open(out).failures()) == 12
    assert len(RunSet.open(out).read_runs()) == 12


# ------------------------------------------------------------------------------------------ determinism


def test_serial_and_processes_give_identical_results(tmp_path: Path) -> None:
    config = write(tmp_path, LINEAR)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert lcsim("sweep", config, "--out", serial, "--backend", "serial", "--no-progress").exit_code == 0
    result = lcsim("sweep", config, "--out", parallel, "--backend", "processes", "--workers", "2", "--chunk-size", "7",
                   "--no-progress")
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(RunSet.open(serial).read_runs(), RunSet.open(parallel).read_runs())
    pd.testing.assert_frame_equal(pd.read_parquet(serial / "analysis" / "points.parquet"),
                                  pd.read_parquet(parallel / "analysis" / "points.parquet"))


def test_common_random_numbers_reuse_each_replicates_seed_at_every_point(tmp_path: Path) -> None:
    crn = write(tmp_path, LINEAR.replace("seed = 5", "seed = 5\ncommon_random_numbers = true"), "crn.toml")
    assert lcsim("sweep", crn, "--out", tmp_path / "crn", "--backend", "serial", "--no-progress").exit_code == 0
    assert lcsim("sweep", write(tmp_path, LINEAR), "--out", tmp_path / "ind", "--backend", "serial",
                 "--no-progress").exit_code == 0
    shared = RunSet.open(tmp_path / "crn").read_runs(["z"])
    assert (shared["spawn_key"] == shared["replicate"].astype(str)).all()
    assert (shared.groupby("replicate")["z"].nunique() == 1).all()  # same noise draw at every point
    assert shared.groupby("replicate")["z"].first().nunique() == 3  # but different across replicates
    independent = RunSet.open(tmp_path / "ind").read_runs(["z"])
    assert independent["z"].nunique() == len(independent)
    assert json.loads((tmp_path / "crn" / "manifest.json").read_text())["common_random_numbers"] is True


# ------------------------------------------------------------------------------------------ the real model


def test_learning_community_sweep_with_an_integer_factor_writes_heatmaps(tmp_path: Path) -> None:
    config = write(tmp_path, """
name = "small"
design = "factorial"
factors = ["entrepreneur_count", "management_turnover_rate"]
outputs = ["continued_by_school_y3", "faded_share"]
replicates = 2
seed = 3
[levels]
entrepreneur_count = 2
management_turnover_rate = [0.1, 1.2]
[parameters]
horizon_months = 40
[analysis]
bootstrap = 100
""")
    out = tmp_path / "small"
    result = lcsim("sweep", config, "--out", out, "--backend", "serial", "--no-progress")
    assert result.exit_code == 0, result.output
    runs = RunSet.open(out).read_runs()
    assert len(runs) == 8 and runs["entrepreneur_count"].dtype == np.int64
    assert set(runs["entrepreneur_count"]) == {3, 30}
    assert (out / "analysis" / "heatmap_faded_share.png").is_file()
    points = pd.read_parquet(out / "analysis" / "points.parquet")
    assert {"faded_share_mean", "faded_share_se", "faded_share_n"} <= set(points.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fixed_parameters_resolved"]["horizon_months"] == 40
    assert manifest["model"]["function"] == "experiments.execution.replicates:run_one"
    assert {"versions", "git_commit", "command", "root_seed", "factors"} <= set(manifest)


@pytest.mark.parametrize("path", ["configs/sensitivity/baseline_morris.toml", "configs/sensitivity/baseline_sobol.toml",
                                  "configs/sensitivity/baseline_emulator.toml", "configs/sensitivity/all_factors.toml",
                                  "configs/sweeps/turnover_x_cofunding.toml"])
def test_shipped_study_files_are_valid_for_the_current_model(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from experiments.execution.engine import check_design, first_stage
    from experiments.models.registry import load_model
    from experiments.config.study import load_study

    monkeypatch.chdir(REPO)
    config = load_study(REPO / path, "sweep" if "sweeps" in path else "sensitivity")
    frame, _ = first_stage(config)
    check_design(config, load_model(config.model), frame)  # raises if any design point is invalid
    assert len(frame) > 0 and config.replicates >= 4


def test_process_backend_with_worker_recycling_returns_every_chunk_unchanged() -> None:
    from functools import partial

    from experiments.execution.backends import ProcessEvaluator, SerialEvaluator
    from experiments.execution.chunks import Chunk, run_chunk
    from experiments.models.testfunctions import linear_noise

    chunks = [Chunk(k, 3, {"c1": 1.0, "c2": 2.0, "noise_sd": 0.5, "x3": 0.0, "x4": 0.0}, ("x1", "x2"),
                    tuple((4 * k + j, k, j, (k, j), (0.1 * j, 0.2 * k)) for j in range(4))) for k in range(9)]
    work = partial(run_chunk, linear_noise, ("y", "z"))
    with SerialEvaluator() as serial:
        expected = {r.chunk_id: (r.run_id, r.outputs) for r in serial.map_chunks(work, chunks)}
    with ProcessEvaluator(2, recycle_after=1) as pool:  # a fresh worker process for every chunk
        got = {r.chunk_id: (r.run_id, r.outputs) for r in pool.map_chunks(work, iter(chunks))}
    assert got == expected


# ------------------------------------------------------------------------------------------ file models


def test_study_files_are_frozen_pydantic_models_with_a_docstring_per_field() -> None:
    from pydantic import BaseModel

    from experiments.config import study_file

    models = [study_file.SweepFile, study_file.SensitivityFile, *study_file.SECTIONS.values()]
    for model in models:
        assert issubclass(model, BaseModel)
        assert model.model_config["extra"] == "forbid" and model.model_config["frozen"] is True
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"


def morris_file(name: str = '"m"', method: str = '"morris"', replicates: str = "2", extra_top: str = "",
                morris: str = "trajectories = 4\nlevels = 4\n", tail: str = "") -> str:
    return (f"name = {name}\nmethod = {method}\nseed = 1\nreplicates = {replicates}\n{extra_top}"
            f"[morris]\n{morris}{tail}")


@pytest.mark.parametrize(("body", "expected"), [
    (morris_file(name='"a b"'), ["field 'name' = \"a b\" is not a valid name"]),
    (morris_file(tail="[analysis]\nbootstrap = 10\n"),
     ["field 'analysis.bootstrap' = 10 is out of range; allowed: an integer from 100"]),
    (morris_file(tail="[analysis]\nconfidence = 1.5\n"),
     ["'analysis.confidence' = 1.5 is out of range", "strictly between 0.5 and 1"]),
    (morris_file(tail="[analysis]\nbootstap = 100\n"), ["[analysis] unknown field 'bootstap'", "did you mean 'bootstrap'"]),
    (morris_file(morris="levels = 5\n"), ["field 'morris.levels' = 5 is odd"]),
    (morris_file(extra_top="common_random_numbers = 1\n"),
     ["field 'common_random_numbers' = 1 has the wrong type; allowed: true or false"]),
    (morris_file(replicates='"3"'), ["field 'replicates' = \"3\" has the wrong type", "no decimal point"]),
    (morris_file(method='"fast"'), ["field 'method' = \"fast\"; allowed: \"morris\" or \"sobol\""]),
    (morris_file(extra_top="analysis = 3\n"), ["field 'analysis' = 3 has the wrong type; allowed: a table"]),
], ids=["name", "int-range", "number-range", "unknown-section-key", "odd-levels", "bool-type", "int-type",
        "literal", "section-type"])
def test_file_model_messages_name_field_value_and_allowed(tmp_path: Path, body: str, expected: list[str]) -> None:
    config = write(tmp_path, body)
    result = lcsim("sensitivity", config, "--out", tmp_path / "out", "--backend", "serial", "--no-progress")
    assert result.exit_code == 2, result.output
    assert str(config) in result.stderr
    for part in expected:
        assert part in result.stderr, f"{part!r} missing from: {result.stderr}"
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
