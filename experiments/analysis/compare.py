"""Side-by-side comparison of scenarios with common random numbers.

Every scenario runs the same R replicate seeds (``SeedSequence(root).spawn(R)``), so replicate i of
scenario B differs from replicate i of scenario A only through the parameters.  Differences to the
first scenario are therefore taken per replicate (paired), and their intervals are narrower than the
intervals of each scenario alone whenever the outcomes are positively correlated across scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.random import SeedSequence

from experiments.config.scenario import Scenario
from experiments.execution.replicates import ModelFn, run_jobs
from experiments.designs.seeds import replicate_seeds
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


def fate_shares(outcome: RunOutcome) -> dict[str, float]:
    """Share of started pilots in each fate at the horizon (``fate_class``: continued with initial
    education, continued by the adult arm, taken over by others, structural, faded)."""
    fates = [record["fate_class"] for record in outcome.pilots if record["first_run_month"] >= 0]
    if not fates:
        return {}
    counts = pd.Series(fates).value_counts(normalize=True)
    return counts.to_dict()


@dataclass
class ScenarioResult:
    """The per-replicate results of one scenario in a comparison (row i = replicate i)."""

    name: str
    metrics: pd.DataFrame  # replicates x METRICS
    curves: np.ndarray  # replicates x months: continuation curve
    fates: pd.DataFrame  # replicates x fates: shares of started pilots


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
    """Run every scenario on the same replicate seeds (one evaluator for all) and collect results.

    ``backend`` is a backend name or :class:`experiments.execution.backends.BackendSpec` (default: serial
    for one worker, local processes for more); the results are the same bits on every backend."""
    seeds: list[SeedSequence] = replicate_seeds(root_seed, replicates)
    jobs = [(scenario.params, seed) for scenario in scenarios for seed in seeds]
    outcomes = run_jobs(jobs, workers=workers, on_done=on_done, model=model, backend=backend)
    results = []
    for k, scenario in enumerate(scenarios):
        mine = outcomes[k * replicates : (k + 1) * replicates]
        results.append(
            ScenarioResult(
                name=scenario.name,
                metrics=pd.DataFrame([metric_values(o) for o in mine], columns=list(METRICS)),
                curves=np.stack([continuation_curve(o) for o in mine]),
                fates=pd.DataFrame([fate_shares(o) for o in mine]).fillna(0.0),
            )
        )
    return results


def paired_difference(a: np.ndarray, b: np.ndarray):
    """Mean and 95% t-interval of b - a over replicates where both are defined (common random numbers)."""
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return mean_ci(diff)


def comparison_table(results: list[ScenarioResult]) -> pd.DataFrame:
    """Long table: one row per metric and scenario with mean, 95% interval, and the paired difference
    to the first scenario with its 95% interval."""
    reference = results[0]
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
                }
            )
    return pd.DataFrame(rows)


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
        "scenario uses the same seed). Mean with 95% t-interval; the difference to the first scenario "
        f"(`{scenarios[0]}`) is paired by seed.",
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
