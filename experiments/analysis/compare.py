"""Side-by-side comparison of scenarios with common random numbers.

Every scenario runs the same R replicate seeds (``SeedSequence(root).spawn(R)``), so replicate i of
scenario B differs from replicate i of scenario A only through the parameters.  Differences to the
reference scenario (the first, unless another is chosen) are therefore taken per replicate (paired), and
their intervals are narrower than the intervals of each scenario alone whenever the outcomes are
positively correlated across scenarios.

:func:`pairwise_table` compares every pair of scenarios in the same way.  With k scenarios there are
k(k-1)/2 pairs per metric, so some 95% intervals would miss by chance alone; the pair intervals are
therefore Bonferroni-adjusted (each at level 1 - 0.05/m for m pairs, so that all m cover together with
probability at least 95%), and the paired t-test p-values are Holm-adjusted (Holm 1979: step-down,
never less powerful than Bonferroni).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from experiments.config.scenario import Scenario
from experiments.execution.replicates import ModelFn
from experiments.analysis.fates import started_fate_shares
from experiments.analysis.summary import mean_ci
from sim import RunOutcome

#: The compared outcomes: name -> (meaning with unit, function of a run's summary).
METRICS: dict[str, str] = {
    "continued_by_school_y3": "continued by the school at year 3 (share of started pilots)",
    "continued_by_school_y5": "continued by the school at year 5 (share of started pilots)",
    "continued_by_school_y10": "continued by the school at year 10 (share of started pilots)",
    "structural_share": "structural (share of started pilots)",
    "taken_over_share": "taken over by others (share of started pilots)",
    "adult_arm_share": "continued by the school group's adult arm, without initial education (share of started pilots)",
    "faded_share": "faded (share of started pilots)",
    "llo_participants": "LLO participants: students and adult learners (count)",
    "gain_students": "learning gain per participating student (0-1 scale)",
    "gain_adult_learners": "learning gain per adult learner (0-1 scale)",
    "eur_per_learner": "public and private money per learner (EUR)",
}


def metric_values(outcome: RunOutcome) -> dict[str, float]:
    """The compared metrics of one run (derived ones computed from the summary)."""
    s = outcome.summary
    values = {name: s[name] for name in METRICS if name in s}
    values["llo_participants"] = s["llo_students"] + s["llo_adult_learners"]
    values["eur_per_learner"] = s["public_eur_per_learner"] + s["private_eur_per_learner"]
    return values


def continuation_curve(outcome: RunOutcome) -> np.ndarray:
    """Monthly share of started pilots alive with the school (NaN before any pilot has started)."""
    started = outcome.series["pilots_started"]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(started > 0, outcome.series["alive_with_school"] / started, np.nan)


def fate_shares(outcome: RunOutcome) -> dict[str, float] | None:
    """Share of started pilots in each fate at the horizon (``fate_class``: continued with initial
    education, continued by the adult arm, taken over by others, structural, faded; 0 where none); None
    when the run started no pilot (it then has no share, as in the model's summary)."""
    pilots = pd.DataFrame(outcome.pilots, columns=["fate_class", "first_run_month"]).assign(replicate=0)
    shares = started_fate_shares(pilots)
    return None if shares.empty else shares.iloc[0].to_dict()


@dataclass
class ScenarioResult:
    """The per-replicate results of one scenario in a comparison (row i = replicate i)."""

    name: str
    metrics: pd.DataFrame  # replicates x METRICS
    curves: np.ndarray  # replicates x months: continuation curve
    fates: pd.DataFrame  # runs that started a pilot x fates: shares of started pilots (rows sum to 1)


def run_comparison(
    scenarios: list[Scenario],
    replicates: int,
    root_seed: int,
    *,
    workers: int = 1,
    on_done=None,
    model: ModelFn | None = None,
    backend: Any = None,
) -> list[ScenarioResult]:
    """Run every scenario on the same replicate seeds (one evaluator for all, through the run-set store of
    :mod:`experiments.execution.ensemble`, in a temporary folder) and collect results.

    ``backend`` is a backend name or :class:`experiments.execution.backends.BackendSpec` (default: serial
    for one worker, local processes for more); the results are the same bits on every backend."""
    from experiments.execution.ensemble import ensemble_outcomes

    # points keyed by position: a scenario may be compared with itself
    outcomes = ensemble_outcomes({str(k): s.params for k, s in enumerate(scenarios)}, replicates, root_seed,
                                 workers=workers, on_done=on_done, model=model, backend=backend)
    return [scenario_result(s.name, outcomes[str(k)]) for k, s in enumerate(scenarios)]


def scenario_result(name: str, outcomes: list[RunOutcome]) -> ScenarioResult:
    """A scenario's :class:`ScenarioResult` from its outcomes in replicate order (the one place it is built)."""
    return ScenarioResult(
        name=name,
        metrics=pd.DataFrame([metric_values(o) for o in outcomes], columns=list(METRICS)),
        curves=np.stack([continuation_curve(o) for o in outcomes]),
        fates=pd.DataFrame([f for f in map(fate_shares, outcomes) if f is not None]),
    )


def paired_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95):
    """Mean and t-interval (at ``level``) of b - a over replicates where both are defined (common random
    numbers)."""
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return mean_ci(diff, level)


def paired_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided paired t-test p-value of b - a = 0 (NaN when fewer than two pairs or no variation)."""
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    diff = diff[~np.isnan(diff)]
    if diff.size < 2:
        return float("nan")
    if np.all(diff == diff[0]):
        return 1.0 if diff[0] == 0 else 0.0
    from scipy import stats

    return float(stats.ttest_1samp(diff, 0.0).pvalue)


def holm_adjust(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and is not counted among the tests)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    running = 0.0
    for rank, index in enumerate(valid[np.argsort(p[valid], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def _find(results: list[ScenarioResult], reference: str | None) -> ScenarioResult:
    if reference is None:
        return results[0]
    for result in results:
        if result.name == reference:
            return result
    raise ValueError(f"reference scenario {reference!r} is not among {[r.name for r in results]}")


def comparison_table(results: list[ScenarioResult], reference: str | None = None) -> pd.DataFrame:
    """Long table: one row per metric and scenario with mean, 95% interval, and the paired difference
    to the reference scenario (default: the first) with its 95% interval."""
    reference_result = _find(results, reference)
    reference = reference_result
    rows = []
    for name, meaning in METRICS.items():
        for result in results:
            ci = mean_ci(result.metrics[name].to_numpy(dtype=float))
            diff = paired_difference(reference.metrics[name].to_numpy(), result.metrics[name].to_numpy())
            first = result is reference
            rows.append(
                {
                    "metric": name,
                    "scenario": result.name,
                    "n": ci.n,
                    "mean": ci.mean,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "diff": np.nan if first else diff.mean,
                    "diff_low": np.nan if first else diff.low,
                    "diff_high": np.nan if first else diff.high,
                    "meaning": meaning,
                    "reference": reference.name,
                }
            )
    return pd.DataFrame(rows)


def pairwise_table(results: list[ScenarioResult], level: float = 0.95) -> pd.DataFrame:
    """Every pair of scenarios, per metric: the paired difference ``b - a`` with a Bonferroni-adjusted
    interval (level ``1 - (1 - level)/m`` for the m pairs of that metric) and the Holm-adjusted p-value
    of a paired t-test.  Columns: metric, a, b, n, diff, diff_low, diff_high, p, p_holm, pairs, meaning."""
    pairs = [(a, b) for i, a in enumerate(results) for b in results[i + 1:]]
    m = len(pairs)
    pair_level = 1 - (1 - level) / max(m, 1)
    rows = []
    for name, meaning in METRICS.items():
        block = []
        for a, b in pairs:
            x, y = a.metrics[name].to_numpy(dtype=float), b.metrics[name].to_numpy(dtype=float)
            diff = paired_difference(x, y, pair_level)
            block.append({"metric": name, "a": a.name, "b": b.name, "n": diff.n, "diff": diff.mean,
                          "diff_low": diff.low, "diff_high": diff.high, "p": paired_p_value(x, y), "pairs": m,
                          "meaning": meaning})
        adjusted = holm_adjust(np.array([row["p"] for row in block]))
        for row, p_holm in zip(block, adjusted):
            row["p_holm"] = p_holm
        rows += block
    return pd.DataFrame(rows, columns=["metric", "a", "b", "n", "diff", "diff_low", "diff_high", "p", "p_holm",
                                       "pairs", "meaning"])


def ranking(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The scenarios of a :func:`comparison_table` ordered by their paired difference to the reference on
    ``metric`` (largest first; the reference itself last)."""
    rows = table[table["metric"] == metric]
    return rows.sort_values("diff", ascending=False, na_position="last").reset_index(drop=True)


def pairwise_markdown(pairs: pd.DataFrame, level: float = 0.95) -> str:
    """The pair-against-pair comparison as Markdown, one section per metric."""
    m = int(pairs["pairs"].iloc[0]) if len(pairs) else 0
    lines = [
        "# Every pair of scenarios",
        "",
        f"Paired by seed; difference = b - a. {m} pairs per metric, so each interval is Bonferroni-adjusted "
        f"(level 1 - {1 - level:g}/{m}, all {m} together cover with probability at least {level:.0%}); p is the "
        "paired t-test, p (Holm) its Holm-adjusted value for the pairs of that metric.",
        "",
    ]
    for metric, group in pairs.groupby("metric", sort=False):
        lines += [f"## {metric}", "", group["meaning"].iloc[0], "",
                  "| a | b | b - a | adjusted interval | p | p (Holm) |", "|---|---|---:|---|---:|---:|"]
        for row in group.itertuples():
            lines.append(f"| {row.a} | {row.b} | {row.diff:+.3g} | {format_value(row.diff_low)} – "
                         f"{format_value(row.diff_high)} | {format_value(row.p)} | {format_value(row.p_holm)} |")
        lines.append("")
    return "\n".join(lines)


def format_value(value: float) -> str:
    if value is None or np.isnan(value):
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def table_markdown(table: pd.DataFrame, replicates: int, root_seed: int) -> str:
    """The comparison as Markdown: one section per metric, a row per scenario."""
    scenarios = list(dict.fromkeys(table["scenario"]))
    lines = [
        f"# Scenario comparison: {', '.join(scenarios)}",
        "",
        f"{replicates} replicates per scenario, root seed {root_seed}, common random numbers (replicate i of every "
        "scenario uses the same seed). Mean with 95% t-interval; the difference to the reference scenario "
        f"(`{table['reference'].iloc[0]}`) is paired by seed (one interval per scenario, not adjusted for "
        "multiplicity; `lcsim compare --all-pairs` writes pairs.md with Bonferroni-adjusted intervals of every pair).",
        "",
    ]
    for metric, group in table.groupby("metric", sort=False):
        lines += [f"## {metric}", "", f"{group['meaning'].iloc[0]}", ""]
        lines += ["| scenario | mean | 95% interval | difference | 95% interval of difference |", "|---|---:|---|---:|---|"]
        for row in group.itertuples():
            interval = f"{format_value(row.ci_low)} – {format_value(row.ci_high)}"
            diff_interval = "" if np.isnan(row.diff) else f"{format_value(row.diff_low)} – {format_value(row.diff_high)}"
            diff = "" if np.isnan(row.diff) else f"{row.diff:+.3g}"
            lines.append(f"| {row.scenario} | {format_value(row.mean)} | {interval} | {diff} | {diff_interval} |")
        lines.append("")
    return "\n".join(lines)
