"""`lcsim discover` end to end on run sets made by `lcsim sweep`: the planted box of the synthetic model is
recovered through the engine; a small run set of the learning-community model gets its box and files;
every user mistake exits 2 with the value and what is allowed, and writes nothing."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.models.planted_box import PLANTED_BOX

runner = CliRunner()

PLANTED = """
name = "planted"
model = "planted_box"
design = "{design}"
replicates = 3
seed = 11
{extra}
[analysis]
bootstrap = 100
"""

LCSIM = """
name = "small"
model = "lcsim"
scenario = "configs/scenarios/baseline.toml"
design = "lhs"
factors = ["school_cofunding_willingness", "management_turnover_rate", "external_stress"]
outputs = ["continued_by_school_y5", "faded_share"]
replicates = 2
seed = 3
[lhs]
samples = 30
[parameters]
horizon_months = 60   # five years: enough for continued_by_school_y5, half the cost of the default ten
[analysis]
bootstrap = 100
"""


def lcsim(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def sweep(tmp: Path, body: str, name: str) -> Path:
    config = tmp / f"{name}.toml"
    config.write_text(body, encoding="utf-8")
    out = tmp / name
    result = lcsim("sweep", config, "--out", out, "--backend", "serial", "--no-progress")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("planted")
    return sweep(tmp, PLANTED.format(design="lhs", extra="[lhs]\nsamples = 400\n[parameters]\nnoise_sd = 0.15"), "planted")


def test_discover_recovers_the_planted_box_from_a_sweep_run_set(planted: Path) -> None:
    result = lcsim("discover", planted, "--output", "y", "--above", "0.5", "--resamples", "10")
    assert result.exit_code == 0, result.output
    folder = planted / "discovery" / "y"
    for name in ("trajectory.csv", "limits.csv", "report.md", "manifest.json", "trajectory.png", "box_limits.png",
                 "pairwise.png"):
        assert (folder / name).stat().st_size > 0, name
    trajectory = pd.read_csv(folder / "trajectory.csv")
    chosen = trajectory[trajectory["chosen"] & (trajectory["search"] == 1)].iloc[0]
    assert chosen["coverage"] >= 0.8 and chosen["density"] >= 0.8
    limits = pd.read_csv(folder / "limits.csv").query("search == 1")
    assert sorted(limits["factor"]) == ["x1", "x2"]  # exactly the planted factors
    for row in limits.itertuples():
        low, high = PLANTED_BOX[row.factor]
        assert abs(row.low - low) <= 0.1 and abs(row.high - high) <= 0.1, row
        assert row.qp_value < 1e-3
    assert json.loads((folder / "manifest.json").read_text())["runs"] == 1200
    assert "box" in result.output and "x1" in result.output
    # dimensional stacking (default 4 factors): the planted factors outermost, the box's cells the darkest
    stacking = pd.read_csv(folder / "stacking.csv")
    assert (folder / "stacking.png").stat().st_size > 0
    assert list(stacking.columns[:4]) == ["row", "column", "x1", "x1_low"]
    assert stacking["n_points"].sum() == 400 and len(stacking) == 3 ** 4
    assert {"x1", "x2"} <= set(stacking.columns) and "## Dimensional stacking" in (folder / "report.md").read_text()
    block = stacking.groupby(["x1", "x2"])[["n_cases", "n_points"]].sum()
    assert (block["n_cases"] / block["n_points"]).idxmax() == (3, 2)  # x1 in its top third, x2 in the middle
    assert "stacking (x1, x2," in result.output


def test_stacking_of_a_run_set_with_fewer_factors_than_the_default(tmp_path: Path, planted: Path) -> None:
    """Two stacked factors on request; a run set's own factor count bounds --stack-factors (6 of 6 is fine)."""
    result = lcsim("discover", planted, "--output", "y", "--above", "0.5", "--resamples", "0", "--stack-factors", 2)
    assert result.exit_code == 0, result.output
    stacking = pd.read_csv(planted / "discovery" / "y" / "stacking.csv")
    assert len(stacking) == 9
    assert stacking.sort_values("share").iloc[-1][["x1", "x2"]].tolist() == [3, 2]
    result = lcsim("discover", planted, "--output", "y", "--above", "0.5", "--resamples", "0", "--stack-factors", 0)
    assert result.exit_code == 0 and not (planted / "discovery" / "y" / "stacking.csv").exists()


def test_cart_method_reports_the_planted_box_as_a_leaf(planted: Path) -> None:
    result = lcsim("discover", planted, "--output", "y", "--below", "0.5", "--method", "cart")
    assert result.exit_code == 0, result.output
    folder = planted / "discovery" / "y"
    assert not (folder / "trajectory.csv").exists()  # replaced whole: no PRIM trajectory for CART
    limits = pd.read_csv(folder / "limits.csv")
    assert set(limits["search"]) == {"cart"} and limits["density"].min() >= 0.5


def test_discover_on_a_small_lcsim_run_set(tmp_path: Path) -> None:
    """The real model through sweep and discover.  The faded share is the output: continuation with the school
    at year 5 is 0 at most of these 30 points x 2 replicates (it is rare in the baseline region), which leaves
    a box nothing to separate."""
    out = sweep(tmp_path, LCSIM, "small")
    means = pd.read_parquet(out / "parts").groupby("point")["faded_share"].mean()
    threshold = float(means.median())  # about half the points are cases
    result = lcsim("discover", out, "--output", "faded_share", "--below", threshold, "--resamples", "5")
    assert result.exit_code == 0, result.output
    cases = pd.read_csv(out / "discovery" / "faded_share" / "cases.csv")
    assert cases["is_case"].sum() == int((means <= threshold).sum())
    limits = pd.read_csv(out / "discovery" / "faded_share" / "limits.csv")
    assert set(limits["factor"]) <= {"school_cofunding_willingness", "management_turnover_rate", "external_stress"}
    assert len(limits) >= 1


def _no_discovery(folder: Path) -> bool:
    return not (folder / "discovery").exists()


@pytest.mark.parametrize("args, expected", [
    (["--output", "yy", "--above", "0.5"], ["--output yy", "allowed: y, inside"]),
    (["--output", "y", "--above", "5"], ["no design point meets", "y >= 5", "allowed"]),
    (["--output", "y", "--below", "5"], ["every design point meets", "y <= 5", "allowed"]),
    (["--output", "y", "--above", "0.5", "--box", "999"], ["box 999", "beyond the peeling trajectory", "allowed: 0 to"]),
    (["--output", "y", "--above", "0.5", "--below", "0.2"], ["exactly one condition", "allowed: --above X or --below X"]),
    (["--output", "y", "--above", "high"], ["--above high", "not a number"]),
    (["--output", "y", "--above", "0.5", "--method", "svm"], ["--method svm", "allowed: prim, cart"]),
    (["--output", "y", "--above", "0.5", "--share-above", "1.5"], ["--share-above 1.5", "allowed"]),
    (["--output", "y", "--above", "0.5", "--min-density", "0"], ["--min-density 0", "allowed"]),
    (["--output", "y", "--above", "0.5", "--stack-factors", "1"], ["--stack-factors 1", "out of range",
                                                                   "allowed: 0 (no stacking) or 2 to 6"]),
    (["--output", "y", "--above", "0.5", "--stack-factors", "four"], ["--stack-factors four", "not an integer",
                                                                      "allowed: 0 (no stacking) or 2 to 6"]),
    (["--output", "y", "--above", "0.5", "--stack-factors", "7"], ["--stack-factors 7", "allowed"]),
])
def test_bad_requests_exit_2_and_write_nothing(tmp_path: Path, planted: Path, args, expected) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(planted, copy, ignore=shutil.ignore_patterns("discovery"))
    result = lcsim("discover", copy, *args, "--resamples", "0")
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.output, (text, result.output)
    assert "Traceback" not in result.output
    assert _no_discovery(copy)


def test_a_running_or_incomplete_run_set_is_refused(tmp_path: Path, planted: Path) -> None:
    running = tmp_path / "running"
    shutil.copytree(planted, running, ignore=shutil.ignore_patterns("discovery"))
    # a live process on this host holds the writer lock (our parent: alive, and not us)
    (running / "writer.lock").write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    result = lcsim("discover", running, "--output", "y", "--above", "0.5")
    assert result.exit_code == 2 and "still running" in result.output and f"pid {os.getppid()}" in result.output
    assert _no_discovery(running)

    incomplete = tmp_path / "incomplete"
    shutil.copytree(planted, incomplete, ignore=shutil.ignore_patterns("discovery"))
    sorted((incomplete / "parts").iterdir())[-1].unlink()
    result = lcsim("discover", incomplete, "--output", "y", "--above", "0.5")
    assert result.exit_code == 2, result.output
    assert "incomplete" in result.output and "of 1200 runs have a result" in result.output
    assert f"lcsim resume {incomplete}" in result.output
    assert _no_discovery(incomplete)


# A factor of zero width can no longer come from a sweep (a single level is refused before any run:
# tests/test_user_mistakes.py); discovery's own refusal of one is tested on a table in tests/test_discovery.py.


def test_the_shipped_discovery_sweep_is_valid_for_the_current_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from experiments.config.study import load_study
    from experiments.execution.engine import check_design, first_stage
    from experiments.models.registry import load_model
    from sim import success_factors

    repo = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(repo)
    config = load_study(repo / "configs" / "sweeps" / "success_factors_lhs.toml", "sweep")
    assert set(config.factor_names) == set(success_factors())
    frame, _ = first_stage(config)
    check_design(config, load_model(config.model), frame)  # raises if any design point is invalid
    assert len(frame) == 300
