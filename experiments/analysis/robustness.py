"""Which policy holds up across futures: distribution, satisficing and regret per policy and output.

Input is one long table of runs: ``policy``, ``future``, ``replicate`` and the outputs -- every policy run
in the same futures (a Latin hypercube of the uncertain factors) with common random numbers, i.e.
replicate r of future f has the same seed under every policy.  Per policy and output, over the futures
(each future scored by its replicate mean):

* **distribution** -- mean and the 10th, 50th and 90th percentile over futures;
* **satisficing** -- the share of futures in which the output meets a threshold (``>=`` for an output to
  maximise, ``<=`` for one to minimise), a "domain criterion" in the terms of Starr (1963);
* **regret** -- in each future, the shortfall from the best policy *in that future* (Savage 1951), and its
  90th percentile and maximum over futures.

Every metric has a percentile interval from a bootstrap over replicates *within* futures: each resample
redraws, per future, the replicate indices with replacement -- the same indices for every policy, so the
common-random-numbers pairing is kept -- and recomputes all metrics.  It states how much of a difference
between policies replicate noise alone could make; it does not resample the futures.  The interval of a
maximum (``regret_max``) is biased upward -- resampled means are noisier than the originals, and a maximum
picks the noisiest -- so it can lie above the point value; read it as a spread, not a confidence interval.

Policies are ranked by each metric (mean and percentiles in the output's direction, satisficing higher is
better, regret lower is better) and :func:`statements` says in plain words which policy is best by which
criterion and whether its interval separates it from the runner-up.  Different metrics can pick different
policies; that is the point of reporting them side by side (McPhail et al. 2018).

References
----------
McPhail, C., Maier, H. R., Kwakkel, J. H., Giuliani, M., Castelletti, A. and Westra, S. (2018).
Robustness metrics: how are they calculated, when should they be used and why do they give different
results? Earth's Future 6(2), 169-191.

Lempert, R. J., Popper, S. W. and Bankes, S. C. (2003). Shaping the Next One Hundred Years: New Methods for
Quantitative, Long-Term Policy Analysis. RAND MR-1626.

Savage, L. J. (1951). The theory of statistical decision. Journal of the American Statistical Association
46(253), 55-67.  Starr, M. K. (1963). Product Design and Decision Theory. Prentice-Hall.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis.discovery import DiscoveryInputError, write_folder

ROBUSTNESS_CSV = "robustness.csv"
REPORT_MD = "report.md"
GOALS = ("max", "min")

#: metric -> (label, True if a larger value is better for an output to maximise)
METRICS: dict[str, tuple[str, bool]] = {
    "mean": ("mean over futures", True),
    "p10": ("10th percentile over futures", True),
    "p50": ("median over futures", True),
    "p90": ("90th percentile over futures", True),
    "satisficing": ("share of futures meeting the threshold", True),
    "regret_p90": ("90th percentile of regret", False),
    "regret_max": ("maximum regret", False),
}
ROBUSTNESS_COLUMNS = ("output", "goal", "metric", "policy", "value", "low", "high", "rank")


@dataclass(frozen=True)
class RobustnessResult:
    """Metrics per output, policy and metric (``table``), the replicate means per future (``future_means``:
    output -> DataFrame policy x future) and regret (``regret``: same shape), and the plain statements."""

    table: pd.DataFrame
    future_means: Mapping[str, pd.DataFrame]
    regret: Mapping[str, pd.DataFrame]
    statements: tuple[str, ...]
    settings: tuple[tuple[str, object], ...]


def _cube(runs: pd.DataFrame, output: str, policies: list, futures: list, replicates: list) -> np.ndarray:
    """(policy, future, replicate) array of one output; refuses a table with missing runs."""
    expected = len(policies) * len(futures) * len(replicates)
    frame = runs.set_index(["policy", "future", "replicate"])[output]
    if frame.index.duplicated().any():
        raise DiscoveryInputError("the runs table has duplicate (policy, future, replicate) rows; allowed: one row "
                                  "per run")
    full = pd.MultiIndex.from_product([policies, futures, replicates], names=["policy", "future", "replicate"])
    if len(frame) != expected or not full.isin(frame.index).all():
        missing = full.difference(frame.index)
        raise DiscoveryInputError(f"{len(missing)} of {expected} runs are missing (first: policy {missing[0][0]!r}, "
                                  f"future {missing[0][1]}, replicate {missing[0][2]}); allowed: every policy in "
                                  "every future with the same replicates (a complete run set)")
    return frame.reindex(full).to_numpy(dtype=float).reshape(len(policies), len(futures), len(replicates))


def future_metrics(means: np.ndarray, goal: str, threshold: float | None) -> dict[str, np.ndarray]:
    """All metrics per policy from the (policy, future) array of replicate means.

    Regret in future f is ``max_q m[q, f] - m[p, f]`` for an output to maximise and ``m[p, f] - min_q m[q, f]``
    for one to minimise (never negative; zero for the best policy in that future).
    """
    with np.errstate(all="ignore"):
        out = {"mean": np.nanmean(means, axis=1)}
        for name, q in (("p10", 10), ("p50", 50), ("p90", 90)):
            out[name] = np.nanpercentile(means, q, axis=1)
        if threshold is not None:
            meets = means >= threshold if goal == "max" else means <= threshold
            out["satisficing"] = np.mean(meets, axis=1)
        regret = regret_table(means, goal)
        out["regret_p90"] = np.nanpercentile(regret, 90, axis=1)
        out["regret_max"] = np.nanmax(regret, axis=1)
    return out


def regret_table(means: np.ndarray, goal: str) -> np.ndarray:
    """(policy, future) regret: shortfall from the best policy in the same future."""
    if goal == "max":
        return np.nanmax(means, axis=0, keepdims=True) - means
    return means - np.nanmin(means, axis=0, keepdims=True)


def _ranks(values: np.ndarray, larger_is_better: bool) -> np.ndarray:
    order = pd.Series(values).rank(ascending=not larger_is_better, method="min")
    return order.to_numpy(dtype=float)


def robustness(runs: pd.DataFrame, goals: Mapping[str, str], *, thresholds: Mapping[str, float] | None = None,
               policies: Sequence[str] | None = None, n_boot: int = 200, level: float = 0.95,
               seed: int = 0) -> RobustnessResult:
    """Distribution, satisficing and regret of every policy over the futures, with replicate intervals.

    Parameters
    ----------
    runs : DataFrame
        ``policy``, ``future``, ``replicate`` and the output columns; complete (every policy in every future
        with the same replicates).
    goals : mapping
        output -> ``"max"`` (larger is better) or ``"min"``.
    thresholds : mapping, optional
        output -> satisficing threshold, in the output's unit; outputs without one get no satisficing metric.
    policies : sequence, optional
        Policy order in the tables (default: order of first appearance).
    n_boot : int
        Bootstrap resamples of the replicates within futures (default 200; 0 for no intervals).
    level : float
        Level of the percentile intervals (default 0.95).
    seed : int
        Seed of the bootstrap (``numpy.random.default_rng(SeedSequence(seed))``).
    """
    thresholds = dict(thresholds or {})
    for column in ("policy", "future", "replicate"):
        if column not in runs.columns:
            raise DiscoveryInputError(f"the runs table has no {column!r} column; allowed: a table with policy, "
                                      "future, replicate and output columns")
    for output, goal in goals.items():
        if output not in runs.columns or output in ("policy", "future", "replicate"):
            allowed = [c for c in runs.columns if c not in ("policy", "future", "replicate")
                       and pd.api.types.is_numeric_dtype(runs[c])]
            raise DiscoveryInputError(f"output {output!r} is not in the runs; allowed: {', '.join(allowed)}")
        if goal not in GOALS:
            raise DiscoveryInputError(f"goal {goal!r} of output {output!r} is unknown; allowed: {', '.join(GOALS)}")
    unknown = [name for name in thresholds if name not in goals]
    if unknown:
        raise DiscoveryInputError(f"threshold for {unknown[0]!r}, which is not an analysed output; allowed: "
                                  f"{', '.join(goals)}")
    policies = list(policies) if policies is not None else list(dict.fromkeys(runs["policy"]))
    if len(policies) < 2:
        raise DiscoveryInputError(f"{len(policies)} policy in the runs; allowed: at least two policies to compare")
    futures = sorted(runs["future"].unique())
    replicates = sorted(runs["replicate"].unique())
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    alpha = (1 - level) / 2
    rows, future_means, regrets = [], {}, {}
    for output, goal in goals.items():
        cube = _cube(runs, output, policies, futures, replicates)
        with np.errstate(all="ignore"):
            means = np.nanmean(cube, axis=2)
        threshold = thresholds.get(output)
        point = future_metrics(means, goal, threshold)
        draws: dict[str, list[np.ndarray]] = {name: [] for name in point}
        n_f, n_r = len(futures), len(replicates)
        for _ in range(n_boot):
            pick = rng.integers(n_r, size=(n_f, n_r))  # per future, the same replicate draw for every policy
            resampled = np.take_along_axis(cube, np.broadcast_to(pick, cube.shape), axis=2)
            with np.errstate(all="ignore"):
                boot = future_metrics(np.nanmean(resampled, axis=2), goal, threshold)
            for name, values in boot.items():
                draws[name].append(values)
        for name, values in point.items():
            larger_better = METRICS[name][1] if name.startswith(("regret", "satisficing")) else goal == "max"
            ranks = _ranks(values, larger_better)
            if n_boot:
                stack = np.vstack(draws[name])
                low, high = np.nanquantile(stack, alpha, axis=0), np.nanquantile(stack, 1 - alpha, axis=0)
            else:
                low = high = np.full(len(policies), math.nan)
            for i, policy in enumerate(policies):
                rows.append({"output": output, "goal": goal, "metric": name, "policy": policy,
                             "value": float(values[i]), "low": float(low[i]), "high": float(high[i]),
                             "rank": int(ranks[i])})
        future_means[output] = pd.DataFrame(means, index=pd.Index(policies, name="policy"),
                                            columns=pd.Index(futures, name="future"))
        regrets[output] = pd.DataFrame(regret_table(means, goal), index=future_means[output].index,
                                       columns=future_means[output].columns)
    table = pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))
    settings = (("n_boot", n_boot), ("level", level), ("seed", seed), ("thresholds", thresholds),
                ("futures", len(futures)), ("replicates", len(replicates)))
    return RobustnessResult(table, future_means, regrets, tuple(statements(table, thresholds)), settings)


def best_by_metric(table: pd.DataFrame, output: str) -> dict[str, str]:
    """metric -> the policy ranked first (ties: the first policy in table order)."""
    rows = table[(table["output"] == output) & (table["rank"] == 1)]
    return {metric: group["policy"].iloc[0] for metric, group in rows.groupby("metric", sort=False)}


def ranking_table(table: pd.DataFrame, output: str) -> pd.DataFrame:
    """metric x place (1st, 2nd, ...): the policies of one output in rank order per metric."""
    rows = table[table["output"] == output]
    places = {}
    for metric, group in rows.groupby("metric", sort=False):
        ordered = group.sort_values(["rank"], kind="stable")["policy"].tolist()
        places[metric] = ordered
    width = max(len(v) for v in places.values())
    names = [f"{i}{'st' if i == 1 else 'nd' if i == 2 else 'rd' if i == 3 else 'th'}" for i in range(1, width + 1)]
    return pd.DataFrame.from_dict(places, orient="index", columns=names)


def statements(table: pd.DataFrame, thresholds: Mapping[str, float] | None = None) -> list[str]:
    """Plain sentences: per output, which policy is best by which criteria, and whether the best is separated
    from the runner-up by its replicate interval."""
    thresholds = thresholds or {}
    lines = []
    for output, rows in table.groupby("output", sort=False):
        goal = rows["goal"].iloc[0]
        best = best_by_metric(table, output)
        by_policy: dict[str, list[str]] = {}
        for metric, policy in best.items():
            label = METRICS[metric][0]
            if metric == "satisficing":
                sign = ">=" if goal == "max" else "<="
                label = f"share of futures with {output} {sign} {thresholds.get(output, math.nan):g}"
            by_policy.setdefault(policy, []).append(label)
        sentence = "; ".join(f"{policy} is best by {', '.join(labels)}" for policy, labels in by_policy.items())
        lines.append(f"{output} ({'higher' if goal == 'max' else 'lower'} is better): {sentence}.")
        unclear = []
        for metric, policy in best.items():
            m = rows[rows["metric"] == metric].sort_values("rank", kind="stable")
            first, second = m.iloc[0], m.iloc[1]
            larger_better = METRICS[metric][1] if metric.startswith(("regret", "satisficing")) else goal == "max"
            separated = first["low"] > second["high"] if larger_better else first["high"] < second["low"]
            if not separated:
                unclear.append(f"{METRICS[metric][0]} ({first['policy']} vs {second['policy']})")
        if unclear:
            lines.append(f"  Within replicate noise (intervals overlap): {'; '.join(unclear)}.")
        if len(by_policy) == 1:
            lines.append(f"  {next(iter(by_policy))} is robust by every criterion.")
    return lines


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.3f}"


def report_markdown(result: RobustnessResult) -> str:
    """The robustness report: statements, then one table per output (policies x metrics, value [interval])."""
    settings = dict(result.settings)
    lines = ["# Robustness of policies over futures", "",
             f"{settings['futures']} futures x {settings['replicates']} replicates per policy; intervals: "
             f"{settings['level']:.0%} bootstrap over replicates within futures ({settings['n_boot']} resamples).", "",
             "## Which policy is robust, by which criterion", ""]
    lines += [f"- {line.strip()}" for line in result.statements]
    for output, rows in result.table.groupby("output", sort=False):
        metrics = list(dict.fromkeys(rows["metric"]))
        ranking = ranking_table(result.table, output)
        lines += ["", f"## {output}: ranking", "", "| metric | " + " | ".join(map(str, ranking.columns)) + " |",
                  "|---|" + "---|" * len(ranking.columns)]
        lines += [f"| {METRICS[m][0]} | " + " | ".join(ranking.loc[m]) + " |" for m in ranking.index]
        lines += ["", f"## {output}: values [interval]", "", "| policy | " + " | ".join(metrics) + " |",
                  "|---|" + "---|" * len(metrics)]
        for policy, group in rows.groupby("policy", sort=False):
            cells = []
            for metric in metrics:
                r = group[group["metric"] == metric].iloc[0]
                mark = " **(1)**" if r["rank"] == 1 else ""
                cells.append(f"{_fmt(r['value'])} [{_fmt(r['low'])}, {_fmt(r['high'])}]{mark}")
            lines.append(f"| {policy} | " + " | ".join(cells) + " |")
    lines += ["", "Regret: shortfall from the best policy in the same future. Satisficing: share of futures "
              "meeting the threshold. (1): ranked first.", ""]
    return "\n".join(lines)


def write_robustness(result: RobustnessResult, folder: Path, *, manifest: Mapping[str, object] | None = None,
                     extra: Callable[[Path], None] | None = None) -> list[Path]:
    """Write ``robustness.csv``, ``report.md`` and ``manifest.json`` (settings plus what the caller adds) to
    ``folder`` all or nothing; ``extra(staging)`` may add figures."""
    settings = {k: v for k, v in result.settings}
    record = {"kind": "robustness", "settings": settings, **dict(manifest or {})}
    return write_folder(folder, {ROBUSTNESS_CSV: result.table.to_csv(index=False),
                                 REPORT_MD: report_markdown(result)}, manifest=record, extra=extra)


__all__ = ["GOALS", "METRICS", "ROBUSTNESS_COLUMNS", "RobustnessResult", "best_by_metric", "future_metrics",
           "ranking_table", "regret_table", "report_markdown", "robustness", "statements", "write_robustness"]
