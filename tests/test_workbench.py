"""experiments.api, the notebooks' entry points: shipped study files with changed sizes, run sets
computed once and reopened (only missing runs re-run, folders keyed by what determines the runs),
scenario ensembles stored as `lcsim run` folders and read back identical to `lcsim compare`'s runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import api as workbench
from experiments.config.reading import ConfigError
from experiments.store.runset import RunSet, RunSetError

REPO = Path(__file__).resolve().parents[1]

LINEAR_SWEEP = """
name = "lin"
model = "linear_noise"
design = "factorial"
factors = ["x1", "x2"]
outputs = ["y"]
replicates = 3
seed = 5
[levels]
x1 = 3
x2 = [0.0, 0.5, 1.0]
[parameters]
noise_sd = 0.3
[analysis]
bootstrap = 100
"""


def quiet(_: str) -> None:
    pass


def test_project_root_and_paths(tmp_path: Path) -> None:
    assert workbench.project_root(REPO / "notebooks") == REPO
    assert workbench.project_root(REPO / "experiments") == REPO
    assert workbench.project_root(tmp_path) == REPO  # outside the repository: the package's checkout
    assert workbench.project_path("configs/sweeps", REPO) == REPO / "configs/sweeps"
    assert workbench.project_path(tmp_path / "x") == tmp_path / "x"
    assert workbench.resolve_workers("serial", 8) == 1
    assert workbench.resolve_workers("processes", 3) == 3
    assert workbench.resolve_workers("processes", None) >= 1
    with pytest.raises(ValueError, match="workers"):
        workbench.resolve_workers("processes", 0)


def test_study_config_changes_sizes_and_resolves_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the shipped file names its scenario relative to the project root
    shipped = workbench.study_config("configs/sweeps/turnover_x_cofunding.toml")
    small = workbench.study_config("configs/sweeps/turnover_x_cofunding.toml", replicates=4,
                                   levels={"management_turnover_rate": 3, "school_cofunding_willingness": 3},
                                   analysis={"bootstrap": 100})
    assert small.kind == "sweep" and small.replicates == 4 and small.analysis["bootstrap"] == 100
    assert small.design["levels"]["school_cofunding_willingness"] == [0.0, 0.5, 1.0]
    assert small.base == shipped.base and small.base["horizon_months"] == 120
    assert small.analysis["confidence"] == 0.95  # tables are merged, not replaced
    assert "changed by experiments.api" in small.text
    # the run key follows what determines the runs, not the analysis settings
    assert workbench.run_key(shipped) != workbench.run_key(small)
    rebootstrapped = workbench.study_config("configs/sweeps/turnover_x_cofunding.toml", analysis={"bootstrap": 300})
    assert workbench.run_key(rebootstrapped) == workbench.run_key(shipped)
    assert workbench.study_folder(small, "results/x").parent == REPO / "results/x"

    morris = workbench.study_config("configs/sensitivity/baseline_morris.toml", morris={"trajectories": 2})
    assert morris.kind == "sensitivity" and morris.design["trajectories"] == 2 and len(morris.factors) == 27
    top = ["complex_question_share", "initial_embedding"]
    sobol = workbench.study_config("configs/sensitivity/baseline_sobol.toml", factors=top,
                                   ranges=workbench.factor_ranges(morris, top), compare_with=["results/m"])
    assert sobol.factor_names == top and sobol.factors[0].high == 0.4  # the screening's range
    assert sobol.compare_with == (str(REPO / "results/m"),)
    with pytest.raises(ConfigError, match="replicates"):
        workbench.study_config("configs/sweeps/turnover_x_cofunding.toml", replicates=0)
    with pytest.raises(ConfigError, match="not found"):
        workbench.study_config("configs/sweeps/nope.toml")


def test_open_or_run_study_computes_once_then_reopens_and_resumes(tmp_path: Path) -> None:
    source = tmp_path / "lin.toml"
    source.write_text(LINEAR_SWEEP, encoding="utf-8")
    config = workbench.study_config(source)
    messages: list[str] = []
    first = workbench.open_or_run_study(config, tmp_path / "out", backend="serial", say=messages.append)
    folder = workbench.study_folder(config, tmp_path / "out")
    assert first.runset.path == folder and folder.name.startswith("lin-")
    assert first.analysis.runs_done == 27 and first.failed == 0 and (folder / "analysis" / "report.md").is_file()
    parts = sorted(p.name for p in (folder / "parts").iterdir())

    report = folder / "analysis" / "report.md"
    written = report.stat().st_mtime_ns
    again = workbench.open_or_run_study(config, tmp_path / "out", backend="serial", say=messages.append)
    assert sorted(p.name for p in (folder / "parts").iterdir()) == parts  # nothing ran
    assert report.stat().st_mtime_ns == written  # ... and the same analysis is not written again
    assert any("reopened" in m and "27 of 27" in m for m in messages)
    pd.testing.assert_frame_equal(again.analysis.points, first.analysis.points)

    # an interrupted session: some parts lost -> only those runs run again, the result is unchanged
    expected = RunSet.open(folder).read_runs()
    for path in sorted((folder / "parts").iterdir())[1:]:
        path.unlink()
    assert workbench.runs_missing(RunSet.open(folder)) > 0
    resumed = workbench.open_or_run_study(config, tmp_path / "out", backend="serial", say=quiet)
    got = RunSet.open(folder).read_runs()
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(resumed.analysis.points, first.analysis.points)

    # other sizes: a new folder beside the first; analysis settings alone: the same folder
    bigger = workbench.study_config(source, replicates=4)
    workbench.open_or_run_study(bigger, tmp_path / "out", backend="serial", say=quiet)
    assert len(list((tmp_path / "out").iterdir())) == 2
    finer = workbench.study_config(source, analysis={"bootstrap": 200})
    assert workbench.study_folder(finer, tmp_path / "out") == folder
    workbench.open_or_run_study(finer, tmp_path / "out", backend="serial", say=quiet)
    assert report.stat().st_mtime_ns != written  # other settings: analysed and written again

    # reuse=False replaces the run set: a fresh manifest without the resume recorded above ...
    assert len(json.loads((folder / "manifest.json").read_text())["resumed"]) == 1
    replaced = workbench.open_or_run_study(config, tmp_path / "out", backend="serial", reuse=False, say=quiet)
    assert replaced.analysis.runs_done == 27
    assert json.loads((folder / "manifest.json").read_text())["resumed"] == []
    # ... but never deletes a folder that is not a run set
    other = workbench.study_folder(workbench.study_config(source, seed=6), tmp_path / "out")
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(RunSetError):
        workbench.open_or_run_study(workbench.study_config(source, seed=6), tmp_path / "out", backend="serial",
                                    reuse=False, say=quiet)
    assert (other / "notes.txt").is_file()


def test_process_backend_gives_the_same_runs(tmp_path: Path) -> None:
    source = tmp_path / "lin.toml"
    source.write_text(LINEAR_SWEEP, encoding="utf-8")
    config = workbench.study_config(source)
    serial = workbench.open_or_run_study(config, tmp_path / "a", backend="serial", write=False, say=quiet)
    pooled = workbench.open_or_run_study(config, tmp_path / "b", backend="processes", workers=2, write=False,
                                         say=quiet)
    pd.testing.assert_frame_equal(serial.runset.read_runs(), pooled.runset.read_runs())
    assert not (serial.runset.path / "analysis").exists()


def test_ensembles_are_stored_reopened_and_equal_lcsim_compare(tmp_path: Path) -> None:
    from experiments.analysis.compare import comparison_table, run_comparison
    from experiments.config.scenario import load_scenario

    names = ["cowcept", "smart_farming"]
    files = [f"configs/scenarios/{n}.toml" for n in names]
    fresh = workbench.run_ensembles(files, 4, 11, tmp_path / "ens", backend="serial", say=quiet)
    assert list(fresh) == names and not any(e.reused for e in fresh.values())
    for ensemble in fresh.values():
        assert {"runs.parquet", "pilots.parquet", "series.parquet", "manifest.json", "summary.csv"} <= {
            p.name for p in ensemble.path.iterdir()}
        assert json.loads((ensemble.path / "manifest.json").read_text())["root_seed"] == 11
    again = workbench.run_ensembles(files, 4, 11, tmp_path / "ens", backend="serial", say=quiet)
    assert all(e.reused for e in again.values())
    reference = run_comparison([load_scenario(REPO / f) for f in files], 4, 11)
    for got in (fresh, again):
        pd.testing.assert_frame_equal(comparison_table([e.result() for e in got.values()]),
                                      comparison_table(reference))
    rebuilt = again["cowcept"].outcomes()
    original = fresh["cowcept"].outcomes()
    assert len(rebuilt) == len(original)
    for a, b in zip(rebuilt, original, strict=True):  # as frames: NaN (a pilot that never ran) equals NaN
        pd.testing.assert_frame_equal(pd.DataFrame(a.pilots), pd.DataFrame(b.pilots))
    assert all(np.array_equal(a.series["alive_with_school"], b.series["alive_with_school"])
               for a, b in zip(rebuilt, original, strict=True))
    # other replicates: a new folder; reuse=False recomputes in place
    workbench.run_ensembles(files[:1], 3, 11, tmp_path / "ens", backend="serial", say=quiet)
    assert len(list((tmp_path / "ens").iterdir())) == 3
    redone = workbench.run_ensembles(files[:1], 4, 11, tmp_path / "ens", backend="serial", reuse=False, say=quiet)
    assert not redone["cowcept"].reused
    with pytest.raises(ValueError, match="repeat"):
        workbench.run_ensembles(files[:1] * 2, 2, 1, tmp_path / "ens", backend="serial", say=quiet)


def test_write_key_results_makes_plain_json(tmp_path: Path) -> None:
    path = workbench.write_key_results({"a": np.float64(0.5), "b": [np.int64(3), math.nan], "c": {"d": np.bool_(True)},
                                        "e": math.inf}, tmp_path / "k")
    assert json.loads(path.read_text()) == {"a": 0.5, "b": [3, None], "c": {"d": True}, "e": None}
