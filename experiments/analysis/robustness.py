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

What is estimated is each metric of the *expected* outcome per future (the limit of the replicate mean),
over the futures of the design.  The plug-in value of a maximum or percentile over noisy replicate means is
biased -- replicate noise spreads the means, so maximum and 90th-percentile regret come out too high, most
of all when many futures tie (the robust policy's regret is often equal in many futures).  Every metric has
an interval from a bootstrap over replicates *within* futures (Gaussian multipliers, the same draw for
every policy of a future, so the common-random-numbers pairing is kept); it does not resample the futures.
By default (``interval="projection"``) the interval of a non-linear metric is the metric of the two ends of
a simultaneous bootstrap band around the per-future means (regret: around the contrasts with every other
policy): valid whatever the ties, and conservative.  The mean gets the basic bootstrap interval.  The point
value is bias-corrected, ``2 g(m) - mean(g(m*))``; the plug-in value is kept beside it.  Details, the other
choices (``"basic"``, and ``"percentile"``, the biased interval of earlier versions) and references in
:func:`metric_intervals`.

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

Andrews, D. W. K. (2000). Inconsistency of the bootstrap when a parameter is on the boundary of the
parameter space. Econometrica 68(2), 399-405.

Chernozhukov, V., Lee, S. and Rosen, A. M. (2013). Intersection bounds: estimation and inference.
Econometrica 81(2), 667-737.

Davison, A. C. and Hinkley, D. V. (1997). Bootstrap Methods and their Application. Cambridge University
Press.  Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.

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
ROBUSTNESS_COLUMNS = ("output", "goal", "metric", "policy", "value", "low", "high", "plug_in", "rank")


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


def _ranks(values: np.ndarray, larger_is_better: bool) -> np.ndarray:
    order = pd.Series(values).rank(ascending=not larger_is_better, method="min")
    return order.to_numpy(dtype=float)


def _larger_is_better(metric: str, goal: str) -> bool:
    return METRICS[metric][1] if metric.startswith(("regret", "satisficing")) else goal == "max"


def _contrasts(means: np.ndarray, goal: str) -> np.ndarray:
    """(policy p, policy q, future) array of ``m[q, f] - m[p, f]`` ("max") or ``m[p, f] - m[q, f]`` ("min"):
    regret of p in f is the largest of them over q (q = p contributes the zero)."""
    sign = 1.0 if goal == "max" else -1.0
    return sign * (means[None, :, :] - means[:, None, :])


def _order_metrics(values: np.ndarray, threshold: float | None, goal: str, prefix: str = "") -> dict[str, np.ndarray]:
    """Percentiles (and satisficing) over the last axis of ``values`` (futures)."""
    with np.errstate(all="ignore"):
        if prefix:
            return {f"{prefix}p90": np.nanpercentile(values, 90, axis=-1), f"{prefix}max": np.nanmax(values, axis=-1)}
        out = {name: np.nanpercentile(values, q, axis=-1) for name, q in (("p10", 10), ("p50", 50), ("p90", 90))}
        if threshold is not None:
            meets = values >= threshold if goal == "max" else values <= threshold
            out["satisficing"] = np.where(np.isnan(values), np.nan, meets).astype(float)
            out["satisficing"] = np.nanmean(out["satisficing"], axis=-1)
    return out


def _band(draws: np.ndarray, point: np.ndarray, level: float) -> np.ndarray:
    """Half-widths of a simultaneous band over the trailing axes (one band per leading index).

    ``draws`` has a leading bootstrap axis; the last axis is the futures.  Each element's scale ``se`` is the
    bootstrap standard deviation pooled over the futures (root mean variance: with a few replicates per
    future an element's own one is too noisy to divide by); ``c`` is the ``level`` quantile of the largest
    deviation ``max_j |x*_j - x_j| / se_j``; the half-width is ``c * se_j``, and 0 for an element that does
    not vary in the resamples (it is exact, e.g. a contrast whose noise cancels under common random numbers).
    """
    with np.errstate(all="ignore"):
        varies = np.nanmax(draws, axis=0) > np.nanmin(draws, axis=0)
        se = np.sqrt(np.nanmean(np.nanvar(draws, axis=0, ddof=1), axis=-1, keepdims=True))
        t = np.abs(draws - point[None]) / np.where(se > 0, se, np.nan)[None]
        t = np.where(varies[None] & np.isfinite(t), t, -np.inf)
        worst = np.max(t, axis=tuple(range(2, draws.ndim)))  # (boot, leading)
        worst = np.where(np.isfinite(worst), worst, 0.0)
        c = np.quantile(worst, level, axis=0)
    shape = c.shape + (1,) * (point.ndim - c.ndim)
    return np.where(varies, np.nan_to_num(c.reshape(shape) * se, nan=0.0), 0.0)


def future_metrics(means: np.ndarray, goal: str, threshold: float | None) -> dict[str, np.ndarray]:
    """All metrics per policy from the (policy, future) array of replicate means.

    Regret in future f is ``max_q m[q, f] - m[p, f]`` for an output to maximise and ``m[p, f] - min_q m[q, f]``
    for one to minimise (never negative; zero for the best policy in that future).
    """
    with np.errstate(all="ignore"):
        out = {"mean": np.nanmean(means, axis=1)}
        out.update(_order_metrics(means, threshold, goal))
        out.update(_order_metrics(regret_table(means, goal), None, goal, prefix="regret_"))
    return out


def regret_table(means: np.ndarray, goal: str) -> np.ndarray:
    """(policy, future) regret: shortfall from the best policy in the same future."""
    if goal == "max":
        return np.nanmax(means, axis=0, keepdims=True) - means
    return means - np.nanmin(means, axis=0, keepdims=True)


def _resampled_means(cube: np.ndarray, n_boot: int, rng: np.random.Generator, wild: bool) -> np.ndarray:
    """(boot, policy, future) replicate means of ``n_boot`` bootstrap resamples within futures.

    ``wild=False``: per future one draw of replicate indices with replacement (the earlier scheme).
    ``wild=True``: the Gaussian multiplier ("wild") bootstrap, ``m* = m + sqrt(R / (R - 1)) / R *
    sum_r w_r (y_r - m)`` with ``w_r`` standard normal (Davison and Hinkley 1997, sec. 6.2.6): given the data
    its deviation is normal with the unbiased variance ``s^2 / R`` of a replicate mean, where the resampling
    of indices gives ``(R - 1) s^2 / R^2`` and, at a few replicates, a lumpy distribution.  Either way the
    draw is the same for every policy of a future, so the common-random-numbers pairing is kept.
    """
    n_p, n_f, n_r = cube.shape
    with np.errstate(all="ignore"):
        means = np.nanmean(cube, axis=2)
        centred = np.nan_to_num(cube - means[:, :, None])
    scale = math.sqrt(n_r / (n_r - 1)) / n_r if n_r > 1 else 0.0
    out = np.empty((n_boot, n_p, n_f))
    for b in range(n_boot):
        if wild:
            w = rng.standard_normal((n_f, n_r))
            out[b] = means + scale * np.einsum("pfr,fr->pf", centred, w)
        else:
            pick = rng.integers(n_r, size=(n_f, n_r))
            resampled = np.take_along_axis(cube, np.broadcast_to(pick, cube.shape), axis=2)
            with np.errstate(all="ignore"):
                out[b] = np.nanmean(resampled, axis=2)
    return out


def metric_intervals(cube: np.ndarray, goal: str, threshold: float | None, *, n_boot: int, level: float,
                     rng: np.random.Generator, interval: str = "projection"
                     ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray],
                                dict[str, np.ndarray]]:
    """Point values, interval ends and plug-in values of every metric from a (policy, future, replicate) cube.

    What is estimated: each metric ``g`` of the *expected* outcome per future, ``mu[p, f] = E[y | p, f]``
    (the limit of the replicate mean), over the futures of the design (they are not resampled).  The
    plug-in value ``g(m)`` of a non-linear metric -- a maximum, a percentile over futures, a share above a
    threshold -- is biased: replicate noise spreads the means ``m``, so a maximum (maximum and
    90th-percentile regret) comes out too high, by about 2.5 standard errors when many futures tie.  The
    resamples ``m*`` are Gaussian-multiplier ("wild") draws, :func:`_resampled_means`, except for
    ``"percentile"``, which keeps the earlier resampling of replicate indices.  ``interval`` chooses the
    interval at ``level`` (e.g. 0.95):

    * ``"projection"`` (default) -- a simultaneous band ``m[j] +- c se[j]`` over the elements a metric
      depends on (a policy's means over futures; for regret, its contrasts ``m[q, f] - m[p, f]`` with every
      other policy q), ``se`` the bootstrap standard deviation pooled over futures and ``c`` the ``level``
      quantile of the largest bootstrap deviation in units of ``se`` (:func:`_band`); the interval is the
      metric of the band's lower and upper ends.  Every metric here except the mean is non-decreasing in
      those elements, so when the band covers ``mu`` the interval covers ``g(mu)``: coverage at least that
      of the band, whatever the ties.  At ties the bootstrap of the maximum itself is inconsistent
      (Andrews 2000), which is why the basic interval undercovers there; the projection is the device of
      Chernozhukov, Lee and Rosen (2013) without their restriction to the near-maximal elements, so it is
      conservative (on the synthetic policy model about three times as wide as the basic interval).
      The mean over futures is linear and unbiased: plug-in value, basic interval.
    * ``"basic"`` -- the basic (reverse-percentile) interval ``[2 g(m) - q*_hi, 2 g(m) - q*_lo]``
      (Davison and Hinkley 1997, sec. 5.2; Efron and Tibshirani 1993, sec. 13.4): right for a metric smooth
      in ``mu``; at ties it undercovers, because the resampled maxima are less biased than the observed one.
    * ``"percentile"`` -- the percentile interval ``[q*_lo, q*_hi]`` of earlier versions, with the plug-in
      point: biased upward for a maximum, so the point can lie below its own interval.  For comparison.

    With ``"projection"`` and ``"basic"`` the point of a non-linear metric is the bias-corrected
    ``2 g(m) - mean(g(m*))`` (Efron and Tibshirani 1993, sec. 10.6), limited to its interval (it would leave
    it only if the bootstrap distribution were so skewed that its mean lay outside its central part, or past
    a bound, regret >= 0 or a share in [0, 1]).  At ties the bootstrap bias is smaller than the real one,
    so the corrected value is still somewhat high (on the synthetic model it removes about half the bias).

    Returns
    -------
    point, low, high, plug_in : dict of metric -> array over policies
        In the output's unit (satisficing: a share, dimensionless); ``low``/``high`` NaN without resamples.
    """
    with np.errstate(all="ignore"):
        means = np.nanmean(cube, axis=2)
    plug_in = future_metrics(means, goal, threshold)
    nan = {name: np.full(len(means), math.nan) for name in plug_in}
    if n_boot == 0:
        return dict(plug_in), nan, dict(nan), plug_in
    alpha = (1 - level) / 2
    boot = _resampled_means(cube, n_boot, rng, wild=interval != "percentile")
    per_draw = [future_metrics(b, goal, threshold) for b in boot]
    stacks = {name: np.vstack([d[name] for d in per_draw]) for name in plug_in}
    q_lo = {name: np.nanquantile(s, alpha, axis=0) for name, s in stacks.items()}
    q_hi = {name: np.nanquantile(s, 1 - alpha, axis=0) for name, s in stacks.items()}
    if interval == "percentile":
        return dict(plug_in), q_lo, q_hi, plug_in
    low = {name: 2 * plug_in[name] - q_hi[name] for name in plug_in}
    high = {name: 2 * plug_in[name] - q_lo[name] for name in plug_in}
    if interval == "projection":
        half = _band(boot, means, level)  # (policy, future)
        for name, values in _order_metrics(means - half, threshold, goal).items():
            low[name] = values
        for name, values in _order_metrics(means + half, threshold, goal).items():
            high[name] = values
        contrasts = _contrasts(means, goal)
        half_c = _band(np.stack([_contrasts(b, goal) for b in boot]), contrasts, level)
        with np.errstate(all="ignore"):
            for name, values in _order_metrics(np.nanmax(contrasts - half_c, axis=1), None, goal, "regret_").items():
                low[name] = values
            for name, values in _order_metrics(np.nanmax(contrasts + half_c, axis=1), None, goal, "regret_").items():
                high[name] = values
    point = {}
    for name, values in plug_in.items():
        if name == "mean":
            point[name] = values
            continue
        with np.errstate(all="ignore"):
            corrected = 2 * values - np.nanmean(stacks[name], axis=0)
        point[name] = np.clip(corrected, low[name], high[name])
    return point, low, high, plug_in


INTERVALS = ("projection", "basic", "percentile")
#: How the report describes each choice of interval.
INTERVAL_TEXT = {
    "projection": "values bias-corrected; the mean's interval basic, the others the metric of a simultaneous "
                  "band's ends, conservative",
    "basic": "values bias-corrected; basic (reverse-percentile) intervals",
    "percentile": "plug-in values; percentile intervals, biased upward for maxima",
}


def robustness(runs: pd.DataFrame, goals: Mapping[str, str], *, thresholds: Mapping[str, float] | None = None,
               policies: Sequence[str] | None = None, n_boot: int = 200, level: float = 0.95,
               seed: int = 0, interval: str = "projection") -> RobustnessResult:
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
        Bootstrap resamples of the replicates within futures (default 200; 0 for no intervals, and then
        ``value`` is the plug-in value).
    level : float
        Level of the intervals (default 0.95).
    seed : int
        Seed of the bootstrap (``numpy.random.default_rng(SeedSequence(seed))``).
    interval : {"projection", "basic", "percentile"}
        How the point and interval are formed; see :func:`metric_intervals` (default ``"projection"``).

    Returns
    -------
    RobustnessResult
        ``table`` has ``value`` (bias-corrected, in the output's unit; shares dimensionless), ``low``,
        ``high`` (the interval), ``plug_in`` (the metric of the replicate means as they are) and ``rank``
        (by ``value``).
    """
    thresholds = dict(thresholds or {})
    if interval not in INTERVALS:
        raise DiscoveryInputError(f"interval {interval!r} is unknown; allowed: {', '.join(INTERVALS)}")
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
    rows, future_means, regrets = [], {}, {}
    for output, goal in goals.items():
        cube = _cube(runs, output, policies, futures, replicates)
        with np.errstate(all="ignore"):
            means = np.nanmean(cube, axis=2)
        point, low, high, plug_in = metric_intervals(cube, goal, thresholds.get(output), n_boot=n_boot,
                                                     level=level, rng=rng, interval=interval)
        for name, values in point.items():
            ranks = _ranks(values, _larger_is_better(name, goal))
            for i, policy in enumerate(policies):
                rows.append({"output": output, "goal": goal, "metric": name, "policy": policy,
                             "value": float(values[i]), "low": float(low[name][i]), "high": float(high[name][i]),
                             "plug_in": float(plug_in[name][i]), "rank": int(ranks[i])})
        future_means[output] = pd.DataFrame(means, index=pd.Index(policies, name="policy"),
                                            columns=pd.Index(futures, name="future"))
        regrets[output] = pd.DataFrame(regret_table(means, goal), index=future_means[output].index,
                                       columns=future_means[output].columns)
    table = pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))
    settings = (("n_boot", n_boot), ("level", level), ("seed", seed), ("interval", interval),
                ("thresholds", thresholds), ("futures", len(futures)), ("replicates", len(replicates)))
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
             f"{settings['level']:.0%} bootstrap over replicates within futures ({settings['n_boot']} resamples, "
             f"{INTERVAL_TEXT[settings.get('interval', 'percentile')]}).", "",
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


__all__ = ["GOALS", "INTERVALS", "METRICS", "ROBUSTNESS_COLUMNS", "RobustnessResult", "best_by_metric", "future_metrics",
           "metric_intervals", "ranking_table", "regret_table", "report_markdown", "robustness", "statements", "write_robustness"]
