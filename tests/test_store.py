"""Result store: tables from outcomes, manifest helpers, and the all-or-nothing output folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.designs.seeds import replicate_seeds
from experiments.store.folders import MARKER_FILE, write_marker
from experiments.store.runfolder import build_manifest, pilots_frame, read_tables, runs_frame, series_frame, tables, write_tables
from experiments.store.atomic import OutputFolderError, check_out_dir, staged_folder
from experiments.store.manifest import MANIFEST_FILE, git_state, package_versions, write_manifest
from sim import PILOT_FIELDS, SERIES_FIELDS, SUMMARY_FIELDS, Params, RunOutcome

MONTHS = 5


def outcome(tag: float, pilots: int) -> RunOutcome:
    """A hand-made outcome whose every number reveals where it came from (tag)."""
    summary = {name: tag + i / 100 for i, name in enumerate(SUMMARY_FIELDS)}
    records = [
        {**{name: 0 for name in PILOT_FIELDS}, "pilot_id": k, "fate": "faded", "target_group": "adult",
         "complexity": "simple", "provider": "school", "last_setback": "", "initial_education_involved": True,
         "runs": int(tag) * 10 + k}
        for k in range(pilots)
    ]
    series = {name: np.full(MONTHS, tag) + np.arange(MONTHS) for name in SERIES_FIELDS}
    return RunOutcome(summary=summary, pilots=records, series=series)


OUTCOMES = [outcome(1.0, 2), outcome(2.0, 0), outcome(3.0, 1)]
SEEDS = replicate_seeds(5, 3)


def test_runs_frame_keeps_replicate_order_and_seed_identity() -> None:
    runs = runs_frame(OUTCOMES, 5, SEEDS)
    assert list(runs.columns) == ["replicate", "root_seed", "spawn_key", *SUMMARY_FIELDS]
    assert list(runs["replicate"]) == [0, 1, 2]
    assert list(runs["spawn_key"]) == ["0", "1", "2"]
    assert list(runs["root_seed"]) == [5, 5, 5]
    assert list(runs["pilots_proposed"]) == [1.0, 2.0, 3.0]
    assert runs["community_size"].dtype == np.float64


def test_pilots_frame_one_row_per_pilot_with_its_replicate() -> None:
    pilots = pilots_frame(OUTCOMES)
    assert list(pilots.columns) == ["replicate", *PILOT_FIELDS]
    assert list(pilots["replicate"]) == [0, 0, 2]
    assert list(pilots["runs"]) == [10, 11, 30]


def test_pilots_frame_without_any_pilot_still_has_columns(tmp_path: Path) -> None:
    empty = pilots_frame([outcome(1.0, 0)])
    assert empty.empty and list(empty.columns) == ["replicate", *PILOT_FIELDS]
    empty.to_parquet(tmp_path / "p.parquet", index=False)
    assert list(pd.read_parquet(tmp_path / "p.parquet").columns) == ["replicate", *PILOT_FIELDS]


def test_series_frame_is_tidy() -> None:
    series = series_frame(OUTCOMES)
    assert list(series.columns) == ["replicate", "month", *SERIES_FIELDS]
    assert len(series) == 3 * MONTHS
    third = series[series["replicate"] == 2]
    assert list(third["month"]) == list(range(MONTHS))
    assert list(third["alive_with_school"]) == [3.0, 4.0, 5.0, 6.0, 7.0]


def test_tables_round_trip_through_parquet(tmp_path: Path) -> None:
    frames = tables(OUTCOMES, 5, SEEDS)
    write_tables(tmp_path, frames)
    back = read_tables(tmp_path)
    for name in ("runs", "pilots", "series"):
        pd.testing.assert_frame_equal(back[name], frames[name], check_dtype=False)


def test_manifest_holds_parameters_seed_and_versions(tmp_path: Path) -> None:
    params = Params(horizon_months=36)
    manifest = build_manifest(
        scenario_name="s", description="d", config_path=Path("c.toml"), config_sha256="abc", params=params,
        overrides={"horizon_months": 36}, root_seed=9, replicates=3, workers=2, command="lcsim run c.toml",
        reproduce="lcsim run c.toml --seed 9", started_utc="2025-01-01T00:00:00+00:00",
        finished_utc="2025-01-01T00:01:00+00:00",
    )
    write_manifest(tmp_path, manifest)
    back = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert back["parameters"]["horizon_months"] == 36
    assert back["parameters"] == params.model_dump()
    assert back["root_seed"] == 9 and back["replicates"] == 3
    assert back["config_path"] == "c.toml" and back["config_sha256"] == "abc"
    assert back["versions"]["python"]


def test_package_versions_names_every_dependency() -> None:
    versions = package_versions()
    for name in ("mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", "networkx", "pydantic", "python"):
        assert versions[name], name


def test_git_state_tolerates_no_repository_and_no_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert git_state(tmp_path) == {"commit": None, "dirty": None}
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable anywhere
    assert git_state(Path(__file__).parent) == {"commit": None, "dirty": None}


# ------------------------------------------------------------------------------------------ the folder


def test_staged_folder_appears_only_when_complete(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_folder(out) as staging:
        (staging / "a.txt").write_text("a")
        assert not out.exists()  # nothing visible while writing
        assert staging.parent == tmp_path and staging.name.startswith(".out.partial-")
    assert (out / "a.txt").read_text() == "a"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_staged_folder_failure_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "new" / "nested" / "out"
    with pytest.raises(RuntimeError):
        with staged_folder(out) as staging:
            (staging / "half.txt").write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []  # neither the folder, the staging folder nor created parents


def test_failed_forced_replace_keeps_the_old_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_marker(out, "run")  # an earlier result of this tool
    with pytest.raises(RuntimeError):
        with staged_folder(out, force=True) as staging:
            (staging / "new.txt").write_text("new")
            raise RuntimeError("boom")
    assert sorted(p.name for p in out.iterdir()) == [MARKER_FILE]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_forced_replace_swaps_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_marker(out, "run")
    (out / "old.txt").write_text("old")
    with staged_folder(out, force=True) as staging:
        (staging / MANIFEST_FILE).write_text('{"new": true}')
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER_FILE, MANIFEST_FILE])
    assert json.loads((out / MANIFEST_FILE).read_text()) == {"new": True}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_check_out_dir_rules(tmp_path: Path) -> None:
    check_out_dir(tmp_path / "fresh", force=False)  # a new path is fine
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(OutputFolderError, match="already exists"):
        check_out_dir(existing, force=False)
    check_out_dir(existing, force=True)  # empty: may be replaced
    (existing / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match="not an lcsim result folder"):
        check_out_dir(existing, force=True)
    (existing / MANIFEST_FILE).write_text("{}")
    with pytest.raises(OutputFolderError, match="not written by lcsim"):
        check_out_dir(existing, force=True)  # a manifest.json anyone can write is not enough
    write_marker(existing, "run")
    check_out_dir(existing, force=True)  # an earlier result: may be replaced
    with pytest.raises(OutputFolderError, match="run set"):
        check_out_dir(existing, force=True, kind="runset")  # but only by a result of the same kind
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(OutputFolderError, match="not a folder"):
        check_out_dir(a_file, force=True)
    with pytest.raises(OutputFolderError, match="is not a folder"):
        check_out_dir(a_file / "below" / "out", force=False)  # a file where a parent folder should be


def test_staged_folder_refuses_existing_out_before_creating_anything(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OutputFolderError):
        with staged_folder(out):
            pytest.fail("must not be entered")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert os.listdir(out) == []
