"""The `lcsim` command line end to end: bad input exits 2 cleanly and writes nothing; a good run writes a
complete, deterministic result folder whatever the number of worker processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.config.reading import format_number
from sim import PILOT_FIELDS, SERIES_FIELDS, SUMMARY_FIELDS, Params, parameter_table, success_factors

REPO = Path(__file__).resolve().parents[1]
HORIZON = 24  # months: short runs keep the suite fast
REPLICATES = 4
ROWS = {row.name: row for row in parameter_table()}


def allowed(name: str) -> str:
    """A parameter's valid range as error messages state it (read from the table, not hard-coded)."""
    return f"{format_number(ROWS[name].valid_min)} to {format_number(ROWS[name].valid_max)}"


SMALL = f'name = "small"\ndescription = "two-year test scenario"\n[parameters]\nhorizon_months = {HORIZON}\n'

runner = CliRunner()


def lcsim(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def first_run(small_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One serial run shared by several tests (seed 11)."""
    out = tmp_path_factory.mktemp("runs") / "first"
    result = lcsim("run", small_config, "--replicates", REPLICATES, "--seed", 11, "--out", out, "--workers", 1,
                   "--no-progress")
    assert result.exit_code == 0, result.output
    return out


# ------------------------------------------------------------------------------------------ bad input

BAD_CONFIGS = [
    ("unknown-field", "[parameters]\nmanagement_turnover = 0.3\n",
     ["management_turnover", "0.3", "unknown", "management_turnover_rate"]),
    ("out-of-range", "[parameters]\nexternal_stress = 1.5\n", ["external_stress", "1.5", allowed("external_stress")]),
    ("wrong-type", "[parameters]\nhorizon_months = 24.0\n",
     ["horizon_months", "24.0", "integer", allowed("horizon_months")]),
    ("malformed-toml", "[parameters]\nexternal_stress = = 0.3\n", ["malformed TOML", "line 3", "external_stress"]),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_exits_2_with_message_and_writes_nothing(tmp_path: Path, body: str, expected: list[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('name = "bad"\n' + body, encoding="utf-8")
    out = tmp_path / "out"
    result = lcsim("run", config, "--out", out, "--replicates", 2, "--workers", 1)
    assert result.exit_code == 2, result.output
    assert str(config) in result.stderr
    for part in expected:
        assert part in result.stderr, f"{part!r} missing from stderr: {result.stderr}"
    assert "Traceback" not in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = lcsim("run", tmp_path / "missing.toml", "--out", out)
    assert result.exit_code == 2
    assert str(tmp_path / "missing.toml") in result.stderr
    assert "not found" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--replicates", "0", "--replicates 0: out of range; allowed: an integer from 1"),
        ("--workers", "0", "--workers 0: out of range; allowed: an integer from 1"),
        ("--seed", "-1", "--seed -1: out of range; allowed: an integer from 0"),
        ("--replicates", "many", "--replicates many: not an integer; allowed: an integer from 1 to 1000000"),
    ],
)
def test_bad_option_value_exits_2(small_config: Path, tmp_path: Path, option: str, value: str, expected: str) -> None:
    out = tmp_path / "out"
    result = lcsim("run", small_config, option, value, "--out", out)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_existing_out_folder_is_refused_without_force(small_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    result = lcsim("run", small_config, "--out", out, "--replicates", 2, "--workers", 1)
    assert result.exit_code == 2
    assert str(out) in result.stderr and "already exists" in result.stderr and "--force" in result.stderr
    assert (out / "precious.txt").read_text() == "keep me"


def test_force_does_not_delete_a_folder_lcsim_did_not_write(small_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "src"
    out.mkdir()
    (out / "code.py").write_text("x = 1")
    result = lcsim("run", small_config, "--out", out, "--replicates", 2, "--workers", 1, "--force")
    assert result.exit_code == 2
    assert "not an lcsim result folder" in result.stderr
    assert (out / "code.py").exists()


def test_bad_format_for_params_exits_2() -> None:
    result = lcsim("params", "--format", "xml")
    assert result.exit_code == 2
    assert "xml" in result.stderr


def test_real_process_prints_no_traceback(tmp_path: Path) -> None:
    """The installed entry point in a real process: exit 2, message on stderr, no traceback, no folder."""
    config = tmp_path / "bad.toml"
    config.write_text('name = "bad"\n[parameters]\nmanagement_turnover_rate = 99.0\n', encoding="utf-8")
    out = tmp_path / "out"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(REPO)) if p)
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "run", str(config), "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert str(config) in done.stderr
    assert "management_turnover_rate" in done.stderr and "99.0" in done.stderr
    assert allowed("management_turnover_rate") in done.stderr
    assert not out.exists()


# ------------------------------------------------------------------------------------------ a good run


def test_run_writes_complete_folder(first_run: Path, small_config: Path) -> None:
    expected = {
        "runs.parquet", "pilots.parquet", "series.parquet", "manifest.json", "summary.csv", "summary.md",
        "phases.png", "fates.png", "community_radar.png", "fade_timing.png", ".lcsim-folder.json",
    }
    assert {p.name for p in first_run.iterdir()} == expected
    # No staging leftovers beside the result.
    assert [p.name for p in first_run.parent.iterdir()] == ["first"]

    runs = pd.read_parquet(first_run / "runs.parquet")
    assert list(runs["replicate"]) == list(range(REPLICATES))
    assert list(runs["spawn_key"]) == [str(i) for i in range(REPLICATES)]
    assert set(runs["root_seed"]) == {11}
    assert list(runs.columns[3:]) == list(SUMMARY_FIELDS)

    series = pd.read_parquet(first_run / "series.parquet")
    assert len(series) == REPLICATES * HORIZON
    assert list(series.columns) == ["replicate", "month", *SERIES_FIELDS]
    assert list(series.loc[series["replicate"] == 2, "month"]) == list(range(HORIZON))

    pilots = pd.read_parquet(first_run / "pilots.parquet")
    assert list(pilots.columns) == ["replicate", *PILOT_FIELDS]
    assert set(pilots["replicate"]) <= set(range(REPLICATES))
    # Pilot records must agree with the summary of their own replicate.
    proposed = pilots.groupby("replicate").size().reindex(range(REPLICATES), fill_value=0)
    assert list(proposed) == list(runs["pilots_proposed"].astype(int))

    summary = pd.read_csv(first_run / "summary.csv")
    assert list(summary["field"]) == list(SUMMARY_FIELDS)
    assert summary["n"].between(0, REPLICATES).all()
    row = summary.set_index("field").loc["pilots_proposed"]
    assert row["mean"] == pytest.approx(runs["pilots_proposed"].mean())

    for png in ("phases.png", "fates.png", "community_radar.png", "fade_timing.png"):
        data = (first_run / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_manifest_records_provenance(first_run: Path, small_config: Path) -> None:
    manifest = json.loads((first_run / "manifest.json").read_text())
    assert manifest["scenario"] == "small"
    assert manifest["description"] == "two-year test scenario"
    assert manifest["config_path"] == str(small_config)
    assert manifest["config_sha256"] == hashlib.sha256(small_config.read_bytes()).hexdigest()
    assert manifest["parameters"] == Params(horizon_months=HORIZON).model_dump()
    assert set(manifest["parameters"]) == {row.name for row in parameter_table()}
    assert manifest["overrides"] == {"horizon_months": HORIZON}
    assert manifest["root_seed"] == 11
    assert manifest["replicates"] == REPLICATES
    versions = manifest["versions"]
    for package in ("mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", "networkx", "pydantic", "python"):
        assert package in versions
    assert versions["numpy"] and versions["python"]
    assert "git_commit" in manifest and "git_dirty" in manifest
    assert manifest["command"]  # the literal argv (pytest's, in-process)
    assert manifest["reproduce"] == (
        f"lcsim run {small_config} --replicates {REPLICATES} --seed 11 --out {first_run} --workers 1"
    )
    started = datetime.fromisoformat(manifest["started_utc"])
    finished = datetime.fromisoformat(manifest["finished_utc"])
    assert started.utcoffset().total_seconds() == 0
    assert started <= finished


def test_same_seed_gives_identical_tables(first_run: Path, small_config: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    result = lcsim("run", small_config, "--replicates", REPLICATES, "--seed", 11, "--out", again, "--workers", 1,
                   "--no-progress")
    assert result.exit_code == 0, result.output
    for table in ("runs", "pilots", "series"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(first_run / f"{table}.parquet"), pd.read_parquet(again / f"{table}.parquet")
        )


def test_different_seed_gives_different_runs(first_run: Path, small_config: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    result = lcsim("run", small_config, "--replicates", REPLICATES, "--seed", 12, "--out", other, "--workers", 1,
                   "--no-progress")
    assert result.exit_code == 0, result.output
    a = pd.read_parquet(first_run / "runs.parquet")[list(SUMMARY_FIELDS)]
    b = pd.read_parquet(other / "runs.parquet")[list(SUMMARY_FIELDS)]
    assert not a.equals(b)
    sa = pd.read_parquet(first_run / "series.parquet")[list(SERIES_FIELDS)]
    sb = pd.read_parquet(other / "series.parquet")[list(SERIES_FIELDS)]
    assert not sa.equals(sb)


def test_two_processes_give_the_same_tables_as_serial(first_run: Path, small_config: Path, tmp_path: Path) -> None:
    parallel = tmp_path / "parallel"
    result = lcsim("run", small_config, "--replicates", REPLICATES, "--seed", 11, "--out", parallel,
                   "--workers", 2, "--no-progress")
    assert result.exit_code == 0, result.output
    for table in ("runs", "pilots", "series"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(first_run / f"{table}.parquet"), pd.read_parquet(parallel / f"{table}.parquet")
        )
    assert json.loads((parallel / "manifest.json").read_text())["workers"] == 2


def test_default_out_is_results_scenario_name(
    small_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = lcsim("run", small_config, "--replicates", 2, "--workers", 1, "--no-progress")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "small" / "manifest.json").is_file()
    assert "pilots_proposed" in result.stdout  # the summary table is printed


def test_force_replaces_an_earlier_result(small_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert lcsim("run", small_config, "--replicates", 2, "--seed", 1, "--out", out, "--workers", 1,
                 "--no-progress").exit_code == 0
    (out / "stale.txt").write_text("from the first run")
    result = lcsim("run", small_config, "--replicates", 3, "--seed", 2, "--out", out, "--workers", 1,
                   "--no-progress", "--force")
    assert result.exit_code == 0, result.output
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 2
    assert len(pd.read_parquet(out / "runs.parquet")) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failure_while_writing_keeps_the_runs_and_resume_finishes(
    small_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while the final folder is built keeps the runs (an unfinished run set, never a half-written
    result that looks finished); `lcsim resume` builds the folder once the cause is gone."""
    import experiments.plots.scenario

    real = experiments.plots.scenario.plot_all

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full while plotting")

    monkeypatch.setattr(experiments.plots.scenario, "plot_all", broken)
    out = tmp_path / "deeper" / "out"
    result = lcsim("run", small_config, "--replicates", 2, "--workers", 1, "--out", out, "--no-progress")
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "running" and len(list((out / "parts").iterdir())) >= 1
    assert not (out / "writer.lock").exists()
    monkeypatch.setattr(experiments.plots.scenario, "plot_all", real)
    resumed = lcsim("resume", out, "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((out / "manifest.json").read_text())["state"] == "finished"
    assert len(pd.read_parquet(out / "runs.parquet")) == 2 and not (out / "parts").exists()


# ------------------------------------------------------------------------------------------ lcsim params


def test_params_csv_lists_every_parameter() -> None:
    result = lcsim("params", "--format", "csv")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("name,group,unit,default,low,high,valid_min,valid_max")
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert list(frame["name"]) == [row.name for row in parameter_table()]
    rate = frame.set_index("name").loc["management_turnover_rate"]
    assert rate["valid_max"] == ROWS["management_turnover_rate"].valid_max
    assert rate["unit"] == ROWS["management_turnover_rate"].unit


def test_params_markdown_marks_success_factors() -> None:
    result = lcsim("params", "--format", "md")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("| name | unit | default | plausible range | valid range | description | source |")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(parameter_table())
    marked = {line.split("`")[1] for line in rows if "★" in line}
    assert marked == set(success_factors())
    h = ROWS["horizon_months"]
    assert (
        f"| `horizon_months` | months | {h.default} | {format_number(h.low)} – {format_number(h.high)} | "
        f"{format_number(h.valid_min)} – {format_number(h.valid_max)} |"
    ) in text


def test_params_table_shows_names() -> None:
    result = lcsim("params")
    assert result.exit_code == 0
    for row in parameter_table():
        assert row.name in result.stdout
