"""The documented cases, the joint fate and the patterns (experiments.analysis.validation), and
`lcsim validate` / `lcsim compare`.

The checks run here at 200 replicates per ensemble and seed 7, the CLI default and the figures of
docs/validation.md; each check's tolerance is its own 95% interval.  tests/test_validation_mutants.py
shows that each check fails on a model with its mechanism switched off.  The monotonicity of formulas
(old P8) and the curriculum-embedding share of knowledge (old P7/P7b) hold by construction: they are
sanity tests of the model here, not validation.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.analysis.compare import comparison_table, run_comparison
from experiments.config.scenario import load_scenario, with_settings
from experiments.analysis.validation import (
    Check,
    document_checks,
    ensemble_plan,
    relationship_exits,
    stratified_difference,
    verdict_code,
    with_overrides,
    proportion,
    proportion_difference,
    run_checks,
    run_ensembles,
)
from experiments.analysis.validation_report import CASE_PARAMETERS, case_parameters, report_markdown
from sim import RunOutcome

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "configs" / "scenarios"
#: The CLI default and the figures of docs/validation.md (seed 7): the document checks pass there.  At 100
#: replicates C2 fails (Smart Farming: the adult arm and fading are nearly tied, 40% vs 38% at 200; it fails
#: at seed 9 too), so the test runs the documented configuration rather than a smaller one.
REPLICATES = 200


@pytest.fixture(scope="module")
def checks():
    plan = ensemble_plan(SCENARIOS)
    return run_checks(run_ensembles(plan, REPLICATES, root_seed=7, workers=2))


@pytest.mark.slow  # the 200-replicate ensembles of `lcsim validate` (about 70 s): make test-slow
def test_every_check_of_what_the_document_reports_holds(checks):
    # J, C1-C3, P1, P3, P6 decide the verdict; the literature patterns L1-L3 (which the seed document does not
    # support) are reported beside it and tested on their positive controls and mutants in
    # tests/test_validation_mutants.py, not here
    failed = [f"{c.pattern} {c.title}: {c.figure:.3f} [{c.low:.3f}, {c.high:.3f}] needs {c.criterion}"
              for c in document_checks(checks) if not c.passed]
    assert not failed, "\n".join(failed)
    assert verdict_code(checks) == 0


def test_literature_patterns_are_reported_not_judged():
    def line(pattern, kind, passed):
        return Check(pattern, "t", "m", 0.1, 0.0, 0.2, "lower bound > 0", passed, 10, "mechanism", kind=kind)
    document = [line("J", "document", True), line("C1", "document", True)]
    not_reproduced = [line("L1", "literature", False), line("L2", "literature", False)]
    assert verdict_code(document + not_reproduced) == 0
    assert verdict_code([line("J", "document", False), *not_reproduced]) == 1
    assert [c.verdict for c in not_reproduced] == ["NOT reproduced"] * 2
    assert line("L3", "literature", True).verdict == "reproduced" and document[0].verdict == "pass"
    report = report_markdown(document + not_reproduced, 10, 7)
    assert "2 of 2 checks of what the document reports pass; literature patterns (not part of the verdict): " \
           "L1 NOT reproduced, L2 NOT reproduced." in report
    assert "## Literature patterns: reproduced / NOT reproduced" in report


def test_l1_counts_relationships_with_one_provider():
    # one relationship = one pilot with one provider; age = that provider's runs; exit = fade or hand-over
    pilots = [{"relationships": "school:1:handed_over;adult_arm:3:faded"},  # school exits after 1; adult arm after 3
              {"relationships": "school:3:structural"},  # structural with the same provider: no exit
              {"relationships": "school:1:evaluating"},  # decision after run 1 not known: censored
              {"relationships": "school:1:faded;school:0:revived"},  # a revival starts a new relationship
              {"relationships": "school:0:faded"}]  # never ran: never at risk
    outcome = RunOutcome(summary={}, pilots=pilots)
    assert relationship_exits(outcome, 1)["school"] == (2, 3) and relationship_exits(outcome, 1)["adult_arm"] == (0, 1)
    assert relationship_exits(outcome, 3)["school"] == (0, 1) and relationship_exits(outcome, 3)["adult_arm"] == (1, 1)
    # Mantel-Haenszel average of within-provider differences: school 2/3 - 0 (weight 3/4), adult arm 0 - 1 (1/2)
    assert float(stratified_difference([2, 0], [3, 1], [0, 1], [1, 1])) == pytest.approx((0.75 * 2 / 3 - 0.5) / 1.25)


@pytest.mark.slow  # the 200-replicate ensembles of `lcsim validate` (about 70 s): make test-slow
def test_all_patterns_are_checked(checks):
    assert [c.pattern for c in checks] == ["J", "C1", "C2", "C3", "P1", "P3", "P6", "L1", "L2", "L3"]
    assert all(c.low <= c.figure <= c.high or np.isnan(c.low) for c in checks)
    assert all(c.mechanism for c in checks), "every check names the mechanism that could make it fail"
    assert [c.pattern for c in checks if c.kind == "literature"] == ["L1", "L2", "L3"]
    assert all(c.control and c.evidence for c in checks if c.kind == "literature")


SANITY_REPLICATES = 8


def _sanity(**overrides):
    base = load_scenario(SCENARIOS / "baseline.toml").params
    arms = {"low": with_overrides(base, horizon_months=60, **{k: lo for k, (lo, _) in overrides.items()}),
            "high": with_overrides(base, horizon_months=60, **{k: hi for k, (_, hi) in overrides.items()})}
    return run_ensembles(arms, SANITY_REPLICATES, root_seed=11)


def test_sanity_more_turnover_means_more_director_changes():
    # monotone by construction (was validation pattern P8): a sanity test of the turnover regime
    ens = _sanity(management_turnover_rate=(0.0, 1.5), turbulent_turnover_rate=(0.0, 3.0))
    low = [o.summary["director_changes"] for o in ens["low"]]
    high = [o.summary["director_changes"] for o in ens["high"]]
    assert sum(low) == 0 and min(high) > 0


def test_sanity_more_initial_embedding_means_more_knowledge_in_the_curriculum():
    # a tautology of the knowledge measure (was validation pattern P7b): run-weighted curriculum embedding
    ens = _sanity(initial_embedding=(0.0, 0.8))
    low = np.array([o.summary["knowledge_retained_share"] for o in ens["low"]])
    high = np.array([o.summary["knowledge_retained_share"] for o in ens["high"]])
    ok = ~(np.isnan(low) | np.isnan(high))
    assert ok.sum() >= SANITY_REPLICATES // 2 and (high[ok] > low[ok]).all()


def test_wilson_and_newcombe_intervals_match_known_values():
    share, low, high = proportion(5, 20)
    assert share == 0.25
    assert (low, high) == pytest.approx((0.1119, 0.4687), abs=1e-4)  # Wilson 95%, Newcombe (1998) Table I
    diff, d_low, d_high = proportion_difference(5, 20, 5, 20)
    assert diff == 0 and d_low < 0 < d_high


def test_comparison_pairs_by_seed_and_sharpens_differences():
    scenarios = [load_scenario(SCENARIOS / "baseline.toml"), load_scenario(SCENARIOS / "all_accelerators.toml")]
    results = run_comparison(scenarios, 40, root_seed=3, workers=2)
    table = comparison_table(results).set_index(["metric", "scenario"])
    gain = table.loc[("continued_by_school_y5", "all_accelerators")]
    assert gain["diff_low"] > 0  # the accelerators' continuation gain excludes zero
    # The paired (common random numbers) interval is narrower than the two separate intervals combined
    # exactly when paired runs are positively correlated.  Baseline and all_accelerators differ in many
    # parameters, so their random streams part within months: the correlation of paired runs is about 0
    # (0.09 on model v2, -0.06 after issue 13; 200 pairs), and the widths then differ only by noise.  A
    # one-parameter change keeps the streams together for longer: baseline vs reflection_rate 0.3 has a
    # correlation of 0.45 (100 pairs, seed 3), so at 40 pairs the sample covariance is <= 0 (and the check
    # fails) with chance about 0.2% (Fisher z: atanh(0.45) x sqrt(37) = 2.95 SE).
    near = [scenarios[0], replace(with_settings(scenarios[0], {"reflection_rate": 0.3}), name="more_reflection")]
    table = comparison_table(run_comparison(near, 40, root_seed=3, workers=2)).set_index(["metric", "scenario"])
    base = table.loc[("continued_by_school_y5", near[0].name)]
    other = table.loc[("continued_by_school_y5", near[1].name)]
    unpaired_half = np.hypot(base["ci_high"] - base["mean"], other["ci_high"] - other["mean"])
    assert (other["diff_high"] - other["diff"]) < unpaired_half
    # same seeds: a scenario compared with itself differs by exactly zero in every replicate
    same = run_comparison([scenarios[0], scenarios[0]], 5, root_seed=3, workers=1)
    pd.testing.assert_frame_equal(same[0].metrics, same[1].metrics)


def test_validation_doc_case_tables_match_the_scenario_files():
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    start, end = CASE_PARAMETERS
    block = doc.split(start)[1].split(end)[0].strip()
    assert block == case_parameters(SCENARIOS).strip(), "run `lcsim validate --update-docs`"
    figures = doc.split("<!-- validation:figures:start -->")[1]
    assert "| J |" in figures and "| P8 |" not in figures


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
