"""Every backend gives the same bits: serial, local processes, a Dask LocalCluster and a Dask scheduler
started as real processes run the same designs -- a known-answer model (with noise and failing runs) and
a tiny Morris design of the learning-community model through `lcsim sensitivity` -- and the result tables
are identical after sorting by run id.  Also: the backend options of the command line, and chunks that
stream through Dask with a bounded number in flight."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dask_processes import REPO, DaskProcesses
from experiments.execution.backends import BackendSpec
from experiments.execution.evaluators import make_evaluator
from experiments.cli import app
from experiments.execution.engine import create_runset
from experiments.store.runset import RunSet
from experiments.execution.study import drive
from experiments.config.study import study_from_dict

runner = CliRunner()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a `dask scheduler` process with two single-threaded `dask worker` processes."""
    processes = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        yield processes.start(workers=2).address
    finally:
        processes.stop()


def sweep(body: dict) -> object:
    return study_from_dict({"name": "t", "seed": 17, "analysis": {"bootstrap": 100}, **body}, "sweep",
                           source="test.toml")


# Linear model with noise from each run's own seed, and a model that raises for a quarter of its inputs.
LINEAR = {"model": "linear_noise", "design": "lhs", "replicates": 3, "lhs": {"samples": 30},
          "parameters": {"noise_sd": 0.5}}
FLAKY = {"model": "flaky", "design": "factorial", "replicates": 2, "levels": {"x1": [0.2, 0.5, 0.8, 0.9], "x2": 3}}


def run_everywhere(bodies: dict[str, dict], tmp_path: Path, scheduler: str) -> dict[str, dict[str, RunSet]]:
    """The same studies on every backend (one pool or cluster per backend for all of them; small fixed chunks,
    so that chunks interleave across workers).  Returns {study: {backend: run set}}."""
    specs = {"serial": BackendSpec("serial"), "processes": BackendSpec("processes", 2),
             "local": BackendSpec("dask", 2), "scheduler": BackendSpec("dask", scheduler=scheduler)}
    runsets: dict[str, dict[str, RunSet]] = {study: {} for study in bodies}
    for backend, spec in specs.items():
        with make_evaluator(spec) as evaluator:
            for study, body in bodies.items():
                config = sweep(body)
                runset, model = create_runset(config, tmp_path / study / backend)
                with runset.lock():
                    drive(runset, config, model, evaluator=evaluator, chunk_size=5)
                runsets[study][backend] = runset
    return runsets


def assert_same_runs(runsets: dict[str, RunSet]) -> None:
    reference = runsets["serial"]
    expected_failures = [{k: v for k, v in f.items() if k != "traceback"} for f in reference.failures()]
    for name, runset in runsets.items():
        frame = runset.read_runs()
        assert frame["run_id"].is_unique, name
        pd.testing.assert_frame_equal(frame, reference.read_runs(), check_exact=True, obj=name)
        assert [{k: v for k, v in f.items() if k != "traceback"} for f in runset.failures()] == expected_failures


def test_a_known_answer_model_gives_identical_runs_and_failures_on_every_backend(tmp_path: Path,
                                                                                   scheduler: str) -> None:
    studies = run_everywhere({"linear": LINEAR, "flaky": FLAKY}, tmp_path, scheduler)
    assert_same_runs(studies["linear"])
    assert len(studies["linear"]["serial"].read_runs()) == 90
    assert_same_runs(studies["flaky"])
    failures = studies["flaky"]["scheduler"].failures()
    assert len(failures) == 12 and all("ValueError: flaky model refuses" in f["traceback"] for f in failures)


def tiny_morris(tmp_path: Path) -> Path:
    """configs/sensitivity/baseline_morris.toml, made small: 2 trajectories x 28 points x 2 replicates of
    2 model years, one output, 100 bootstrap resamples."""
    text = (REPO / "configs/sensitivity/baseline_morris.toml").read_text(encoding="utf-8")
    for old, new in [("trajectories = 20", "trajectories = 2"), ("replicates = 8 ", "replicates = 2 "),
                     ("bootstrap = 1000 ", "bootstrap = 100 "),
                     ('outputs = ["continued_by_school_y5", "structural_share", "taken_over_share", "faded_share", '
                      '"llo_adult_learners"]', 'outputs = ["faded_share"]'),
                     ('outputs = ["continued_by_school_y5"]', 'outputs = ["faded_share"]')]:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "tiny_morris.toml"
    path.write_text(text + "\n[parameters]\nhorizon_months = 24\n", encoding="utf-8")
    return path


@pytest.mark.slow  # a Morris design of the real model on serial, processes and Dask (about 15 s): make test-slow
def test_lcsim_sensitivity_of_the_real_model_is_identical_on_every_backend(
        tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the study file names its scenario relative to the repository
    config = tiny_morris(tmp_path)
    options = {"serial": ["--backend", "serial"], "processes": ["--backend", "processes", "--workers", "2"],
               "local": ["--backend", "dask", "--workers", "2"], "scheduler": ["--scheduler", scheduler]}
    for name, extra in options.items():
        result = runner.invoke(app, ["sensitivity", str(config), "--out", str(tmp_path / name), "--no-progress",
                                     *extra])
        assert result.exit_code == 0, f"{name}: {result.output}"
        if name == "local":
            said = " ".join(result.stderr.split())  # rich wraps long lines
            assert "dask: LocalCluster of 2 worker processes; 2 workers connected" in said
            assert "http://127.0.0.1:" in said  # the dashboard (or its worker pages) to watch
    reference = RunSet.open(tmp_path / "serial").read_runs()
    assert len(reference) == 112
    recorded = {name: json.loads((tmp_path / name / "manifest.json").read_text())["backend"] for name in options}
    assert recorded["local"] == {"name": "dask", "workers": 2, "scheduler": None, "cluster_config": None}
    assert recorded["scheduler"]["scheduler"] == scheduler and recorded["processes"]["workers"] == 2
    for name in options:
        pd.testing.assert_frame_equal(RunSet.open(tmp_path / name).read_runs(), reference, check_exact=True, obj=name)
        for table in ("ranking_faded_share.csv", "noise.csv"):
            assert (tmp_path / name / "analysis" / table).read_bytes() == \
                (tmp_path / "serial" / "analysis" / table).read_bytes(), f"{name}: {table}"


def test_one_local_cluster_serves_every_stage_and_chunks_stream_with_a_bounded_number_in_flight(
        tmp_path: Path) -> None:
    from experiments.execution.dask import DaskEvaluator

    config = sweep({"model": "cheap", "design": "lhs", "replicates": 4, "lhs": {"samples": 150}})
    evaluator = make_evaluator(BackendSpec("dask", 2))
    assert isinstance(evaluator, DaskEvaluator) and evaluator.target_chunk_seconds == 1.0
    drawn_ahead: list[int] = []  # at every draw: chunks drawn but not yet handed back
    seen = 0

    def chunks() -> Iterator[int]:
        for number in range(-1, -41, -1):
            drawn_ahead.append(-number - 1 - seen)
            yield number

    with evaluator:
        cluster = evaluator.cluster
        with evaluator:  # nested: the same cluster, not a second one
            assert evaluator.cluster is cluster
        assert evaluator.client is not None
        results = []
        for value in evaluator.map_chunks(abs, chunks()):
            results.append(value)
            seen += 1
        assert sorted(results) == list(range(1, 41))
        runset, spec = create_runset(config, tmp_path / "rs")
        with runset.lock():
            drive(runset, config, spec, evaluator=evaluator)
        assert evaluator.cluster is cluster
    assert evaluator.client is None and evaluator.cluster is None
    assert len(drawn_ahead) == 40 and max(drawn_ahead) <= 3 * 2  # 3 chunks per worker in flight, drawn lazily
    assert len(runset.read_runs()) == 600


# ------------------------------------------------------------------------------------------ options


MINI = """
name = "mini"
model = "cheap"
design = "lhs"
replicates = 1
seed = 1
[lhs]
samples = 4
[analysis]
bootstrap = 100
"""


@pytest.mark.parametrize(("options", "expected"), [
    (["--scheduler", "127.0.0.1:8786"], ["--scheduler 127.0.0.1:8786", "tcp://127.0.0.1:8786"]),
    (["--scheduler", "http://h:1"], ["--scheduler http://h:1", "tcp, tls, ws, wss"]),
    (["--scheduler", "tcp://h:70000"], ["port 70000", "1 to 65535"]),
    (["--backend", "serial", "--scheduler", "tcp://h:8786"], ["--backend serial with --scheduler tcp://h:8786"]),
    (["--backend", "processes", "--cluster", "c.toml"], ["--backend processes with --cluster c.toml"]),
    (["--scheduler", "tcp://h:8786", "--cluster", "c.toml"], ["--scheduler tcp://h:8786 and --cluster c.toml",
                                                              "exclude each other"]),
    (["--scheduler", "tcp://h:8786", "--workers", "4"], ["--workers 4 with --scheduler", "leave out --workers"]),
    (["--cluster", "missing.toml"], ["missing.toml: cluster file not found"]),
    (["--cluster", "bad.toml"], ["bad.toml: [cluster] field 'cores' = 0 is out of range",
                                 "allowed: an integer from 1 to 1024"]),
])
def test_bad_backend_options_exit_2_name_the_options_and_create_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], expected: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mini.toml").write_text(MINI, encoding="utf-8")
    (tmp_path / "bad.toml").write_text('[cluster]\nkind = "slurm"\ncores = 0\nmemory = "1GiB"\n'
                                       'walltime = "00:10:00"\nmaximum_jobs = 1\n', encoding="utf-8")
    for command in (["sweep", "mini.toml", "--out", "out"], ["resume", "out"]):
        result = runner.invoke(app, [*command, *options, "--no-progress"])
        assert result.exit_code == 2, result.output
        for part in expected:
            assert part in result.stderr, f"{part!r} missing from: {result.stderr}"
        assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_exits_2_before_creating_the_run_set(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "mini.toml").write_text(MINI, encoding="utf-8")
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = runner.invoke(app, ["sweep", str(tmp_path / "mini.toml"), "--out", str(tmp_path / "out"),
                                     "--scheduler", f"tcp://127.0.0.1:{port}", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot connect" in result.stderr
    assert not (tmp_path / "out").exists()


def test_backend_spec_checks_its_fields_and_keeps_the_old_keywords_working() -> None:
    assert BackendSpec.of("processes", 3) == BackendSpec("processes", 3)
    assert BackendSpec.of("serial", 8) == BackendSpec("serial", 1)
    for bad, message in [({"name": "spark"}, "allowed: serial, processes, dask"),
                         ({"name": "processes", "scheduler": "tcp://h:1"}, "allowed: backend 'dask'"),
                         ({"name": "dask", "scheduler": "tcp://h:1", "cluster_config": "c.toml"}, "exclude each other"),
                         ({"name": "dask", "scheduler": "h:1"}, "not a scheduler address"),
                         ({"name": "processes", "workers": 0}, "at least 1")]:
        with pytest.raises(ValueError, match=message):
            BackendSpec(**bad)
    assert BackendSpec("dask", 2).label() == "dask, 2 local workers"
    assert BackendSpec("dask", scheduler="tls://[::1]:8786").label() == "dask, scheduler tls://[::1]:8786"
