"""Robustness metrics against hand-computed values and a synthetic model with a known robust policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.analysis.discovery import DiscoveryInputError
from experiments.models.planted_box import BEST_MEAN_POLICY, ROBUST_POLICY, policy_future_tables
from experiments.analysis.robustness import best_by_metric, robustness, write_robustness

# Two policies x three futures x two replicates.  Replicate means (A; B):
#   future 0: A (1+3)/2 = 2, B (4+4)/2 = 4      regret A 2, B 0
#   future 1: A (5+5)/2 = 5, B (1+2)/2 = 1.5    regret A 0, B 3.5
#   future 2: A (3+4)/2 = 3.5, B (3+3)/2 = 3    regret A 0, B 0.5
TINY = pd.DataFrame(
    [("A", 0, 0, 1.0), ("A", 0, 1, 3.0), ("A", 1, 0, 5.0), ("A", 1, 1, 5.0), ("A", 2, 0, 3.0), ("A", 2, 1, 4.0),
     ("B", 0, 0, 4.0), ("B", 0, 1, 4.0), ("B", 1, 0, 1.0), ("B", 1, 1, 2.0), ("B", 2, 0, 3.0), ("B", 2, 1, 3.0)],
    columns=["policy", "future", "replicate", "y"])


def _value(result, policy, metric, output="y"):
    t = result.table
    return t[(t.output == output) & (t.policy == policy) & (t.metric == metric)].iloc[0]


def test_metrics_match_hand_computed_values():
    res = robustness(TINY, {"y": "max"}, thresholds={"y": 3.0}, n_boot=0)
    a_means, b_means = np.array([2.0, 5.0, 3.5]), np.array([4.0, 1.5, 3.0])
    expected = {
        "A": {"mean": 3.5, "p10": np.percentile(a_means, 10), "p50": 3.5, "p90": np.percentile(a_means, 90),
              "satisficing": 2 / 3, "regret_p90": np.percentile([2, 0, 0], 90), "regret_max": 2.0},
        "B": {"mean": 8.5 / 3, "p10": np.percentile(b_means, 10), "p50": 3.0, "p90": np.percentile(b_means, 90),
              "satisficing": 2 / 3, "regret_p90": np.percentile([0, 3.5, 0.5], 90), "regret_max": 3.5},
    }
    # hand values of the numpy percentiles (linear interpolation): A p10 = 2 + 0.2 * 1.5 = 2.3
    assert expected["A"]["p10"] == pytest.approx(2.3)
    assert expected["B"]["regret_p90"] == pytest.approx(0.5 + 0.8 * 3.0)
    for policy, metrics in expected.items():
        for metric, value in metrics.items():
            assert _value(res, policy, metric)["value"] == pytest.approx(value), (policy, metric)
    assert res.regret["y"].loc["B"].tolist() == pytest.approx([0.0, 3.5, 0.5])
    # the same table with the output to minimise: regret is the excess over the smallest value
    low = robustness(TINY, {"y": "min"}, n_boot=0)
    assert low.regret["y"].loc["A"].tolist() == pytest.approx([0.0, 3.5, 0.5])
    assert low.regret["y"].loc["B"].tolist() == pytest.approx([2.0, 0.0, 0.0])
    assert best_by_metric(low.table, "y")["regret_max"] == "B"  # worst excess: B 2.0 against A 3.5
    assert best_by_metric(low.table, "y")["mean"] == "B"  # lower is better: 2.83 against 3.5


def test_bootstrap_keeps_the_pairing_of_replicates():
    """Noise common to both policies (same seed) cancels in regret: its interval has zero width."""
    rows = []
    rng = np.random.default_rng(0)
    for future in range(20):
        for r in range(4):
            z = rng.standard_normal()
            rows += [("A", future, r, future + z), ("B", future, r, future + 1 + z)]
    runs = pd.DataFrame(rows, columns=["policy", "future", "replicate", "y"])
    res = robustness(runs, {"y": "max"}, n_boot=100, seed=1)
    a = _value(res, "A", "regret_max")
    assert a["value"] == pytest.approx(1.0) and a["low"] == pytest.approx(1.0) and a["high"] == pytest.approx(1.0)
    mean = _value(res, "A", "mean")
    assert mean["low"] < mean["value"] < mean["high"]


def test_known_robust_policy_is_identified(tmp_path):
    _, runs = policy_future_tables(n_futures=200, replicates=3, seed=2)
    res = robustness(runs, {"y": "max"}, thresholds={"y": 1.5}, n_boot=100, seed=4)
    best = best_by_metric(res.table, "y")
    for metric in ("p10", "satisficing", "regret_p90", "regret_max"):
        assert best[metric] == ROBUST_POLICY, metric
    assert best["mean"] == BEST_MEAN_POLICY
    # the robust policy's interval separates it from the runner-up on regret (no overlap)
    statement = " ".join(res.statements)
    assert f"{ROBUST_POLICY} is best by 10th percentile over futures" in statement
    # the robust policy's regret interval lies below the worst policy's (bold), on both regret metrics
    for metric in ("regret_p90", "regret_max"):
        assert _value(res, ROBUST_POLICY, metric)["high"] < _value(res, "bold", metric)["low"], metric
    folder = tmp_path / "robust"
    write_robustness(res, folder)
    table = pd.read_csv(folder / "robustness.csv")
    assert list(table.columns) == ["output", "goal", "metric", "policy", "value", "low", "high", "plug_in", "rank"]
    assert len(table) == 3 * 7
    assert ROBUST_POLICY in (folder / "report.md").read_text()


def test_user_mistakes_raise_a_clear_error():
    with pytest.raises(DiscoveryInputError, match=r"output 'z' is not in the runs; allowed: y"):
        robustness(TINY, {"z": "max"})
    with pytest.raises(DiscoveryInputError, match=r"goal 'up' of output 'y' is unknown; allowed: max, min"):
        robustness(TINY, {"y": "up"})
    with pytest.raises(DiscoveryInputError, match=r"1 of 12 runs are missing \(first: policy 'B', future 2, "):
        robustness(TINY.iloc[:-1], {"y": "max"})


def test_plots_show_every_policy():
    from matplotlib._pylab_helpers import Gcf

    from experiments.plots.discovery import plot_policy_cdf, plot_regret

    res = robustness(TINY, {"y": "max"}, thresholds={"y": 3.0}, n_boot=0)
    fig = plot_policy_cdf(res, "y")
    lines = fig.axes[0].get_lines()
    steps = [line for line in lines if line.get_label() in ("A", "B")]
    assert len(steps) == 2
    assert sorted(steps[0].get_xdata()) == pytest.approx([2.0, 3.5, 5.0])  # A's replicate means per future
    assert steps[0].get_ydata()[-1] == pytest.approx(1.0)
    assert any(line.get_label() == "threshold 3" for line in lines)
    regret = plot_regret(res, "y")
    assert [t.get_text() for t in regret.axes[0].get_yticklabels()] == ["A", "B"]  # one row per policy
    assert Gcf.get_num_fig_managers() == 0


def test_ranking_table_orders_policies_per_metric():
    from experiments.analysis.robustness import ranking_table

    res = robustness(TINY, {"y": "max"}, thresholds={"y": 3.0}, n_boot=0)
    ranking = ranking_table(res.table, "y")
    assert list(ranking.columns) == ["1st", "2nd"]
    assert ranking.loc["mean"].tolist() == ["A", "B"]  # 3.5 against 2.83
    assert ranking.loc["regret_max"].tolist() == ["A", "B"]  # 2.0 against 3.5
    assert ranking.loc["p90"].tolist() == ["A", "B"]


# ---- the intervals: what they estimate and how often they cover it ---------------------------------------

def _coverage(n_seeds, n_futures, replicates, n_boot, interval):
    """Share of seeds whose interval covers the exact metric of the noise-free scores, per (metric, policy)."""
    from experiments.models.planted_box import POLICIES, policy_future_signal
    from experiments.analysis.robustness import future_metrics

    hits = {}
    for seed in range(n_seeds):
        futures, runs = policy_future_tables(n_futures=n_futures, replicates=replicates, seed=100 + seed)
        signal = np.array([[policy_future_signal(lever, u1, u2) for u1, u2 in zip(futures.u1, futures.u2)]
                           for lever in POLICIES.values()])
        exact = future_metrics(signal, "max", 1.5)
        table = robustness(runs, {"y": "max"}, thresholds={"y": 1.5}, n_boot=n_boot, seed=seed,
                           interval=interval).table
        for metric in ("regret_max", "regret_p90", "p10", "p90"):
            for i, policy in enumerate(POLICIES):
                row = table[(table.metric == metric) & (table.policy == policy)].iloc[0]
                hits.setdefault((metric, policy), []).append(row["low"] <= exact[metric][i] <= row["high"])
                if interval != "percentile" and metric.startswith("regret"):
                    assert row["low"] <= row["value"] <= row["high"], (metric, policy, seed)  # point inside
    return {key: float(np.mean(v)) for key, v in hits.items()}


def test_regret_intervals_cover_the_regret_of_the_expected_outcomes():
    """Over 20 seeds (40 futures x 8 replicates) the default 95 % intervals of maximum and 90th-percentile
    regret cover the exact regret of the noise-free scores at >= 0.85 over the three policies (>= 0.75 for
    each); the old percentile intervals never do for the robust policy, whose regret is 0.8 in 70 % of the
    futures (a tie that noise turns into an upward-biased maximum).  Measured here (steady, bold, gamble):
    default regret_max 0.95/0.80/0.85, regret_p90 0.95/0.90/0.90; old 0.00/0.90/0.90 and 0.00/1.00/0.45."""
    new = _coverage(20, 40, 8, 100, "ties")
    old = _coverage(20, 40, 8, 100, "percentile")
    for metric in ("regret_max", "regret_p90"):
        assert np.mean([new[(metric, p)] for p in ("steady", "bold", "gamble")]) >= 0.85, metric
        for policy in ("steady", "bold", "gamble"):
            assert new[(metric, policy)] >= 0.75, (metric, policy, new[(metric, policy)])
        assert old[(metric, ROBUST_POLICY)] <= 0.2, (metric, old[(metric, ROBUST_POLICY)])
        assert np.mean([old[(metric, p)] for p in ("steady", "bold", "gamble")]) < 0.75
    for metric in ("p10", "p90"):  # percentile intervals, kept for these: they cover
        assert min(new[(metric, p)] for p in ("steady", "bold", "gamble")) >= 0.85, metric


@pytest.mark.slow
def test_interval_calibration_over_more_seeds():
    """40 seeds at two replicate counts, with the textbook basic interval for comparison.  Measured
    (2026-12-02): R = 8, default regret_max 0.92/0.82/0.88 and regret_p90 0.95/0.82/0.88 (steady, bold,
    gamble); at R = 4 default regret_p90 0.92/0.68/0.75, basic 0.55/0.75/0.72; percentile 0.00 for steady
    at both."""
    new = _coverage(40, 40, 8, 100, "ties")
    basic = _coverage(40, 40, 4, 100, "basic")
    ties4 = _coverage(40, 40, 4, 100, "ties")
    for metric in ("regret_max", "regret_p90"):
        assert np.mean([new[(metric, p)] for p in ("steady", "bold", "gamble")]) >= 0.85, metric
        assert min(new[(metric, p)] for p in ("steady", "bold", "gamble")) >= 0.78, metric
        assert ties4[(metric, ROBUST_POLICY)] > basic[(metric, ROBUST_POLICY)] + 0.15, metric


def test_point_estimate_is_bias_corrected_and_inside_its_interval():
    """The percentile interval of the robust policy's maximum regret lies above its own plug-in value (the
    defect); the bias-corrected value is lower than the plug-in, nearer the exact 0.8, and inside its
    interval, as is every regret point of every policy."""
    _, runs = policy_future_tables(n_futures=200, replicates=3, seed=2)
    old = _value(robustness(runs, {"y": "max"}, n_boot=100, seed=4, interval="percentile"), ROBUST_POLICY,
                 "regret_max")
    assert old["value"] < old["low"]
    for interval in ("ties", "basic"):
        new = _value(robustness(runs, {"y": "max"}, n_boot=100, seed=4, interval=interval), ROBUST_POLICY,
                     "regret_max")
        assert new["low"] <= new["value"] <= new["high"]
        assert abs(new["value"] - 0.8) < abs(new["plug_in"] - 0.8)
        assert new["plug_in"] == pytest.approx(old["value"])
    table = robustness(runs, {"y": "max"}, n_boot=100, seed=4).table
    regret = table[table.metric.str.startswith("regret")]
    assert ((regret["low"] <= regret["value"]) & (regret["value"] <= regret["high"])).all()
    assert (regret["low"] >= 0).all()


def test_basic_interval_of_a_mean_matches_scipy():
    """Library cross-check on a one-level statistic: the mean of iid normal data (one future, 400
    replicates) has the basic interval of scipy.stats.bootstrap(method='basic') to within 8 % of its width
    (the resampling differs -- Gaussian multipliers here, indices in scipy -- but both give the normal
    limit; the reflection 2 theta - q* is what is checked)."""
    from scipy.stats import bootstrap

    data = np.random.default_rng(np.random.SeedSequence(7)).normal(2.0, 1.0, 400)
    runs = pd.DataFrame({"policy": ["A"] * 400 + ["B"] * 400, "future": 0, "replicate": list(range(400)) * 2,
                         "y": np.concatenate([data, np.zeros(400)])})
    ref = bootstrap((data,), np.mean, method="basic", n_resamples=2000, confidence_level=0.95,
                    random_state=np.random.default_rng(1)).confidence_interval
    width = ref.high - ref.low
    for interval in ("basic", "ties"):  # the mean gets the basic interval under either
        row = _value(robustness(runs, {"y": "max"}, n_boot=1500, seed=3, interval=interval), "A", "mean")
        assert row["value"] == pytest.approx(data.mean())
        assert row["low"] == pytest.approx(ref.low, abs=0.08 * width)
        assert row["high"] == pytest.approx(ref.high, abs=0.08 * width)


def test_unknown_interval_is_refused():
    with pytest.raises(DiscoveryInputError, match=r"interval 'bca' is unknown; allowed: ties, basic, "
                                                  r"percentile"):
        robustness(TINY, {"y": "max"}, interval="bca")
