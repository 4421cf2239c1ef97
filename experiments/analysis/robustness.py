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
over the futures of the design.  Regret is a maximum (over policies in a future, and for maximum regret
over futures), so its plug-in value from noisy replicate means is biased upwards, most of all when many
values tie -- the robust policy's regret is often equal in many futures.  Every metric has an interval from
a bootstrap over replicates *within* futures (Gaussian multipliers, the same draw for every policy of a
future, so the common-random-numbers pairing is kept); it does not resample the futures.  By default
(``interval="ties"``) maximum and 90th-percentile regret get a bias-corrected value and a basic bootstrap
interval computed around the means with near-ties restored (a plain bootstrap of a maximum is inconsistent
at ties); the mean a basic interval; the percentiles over futures and satisficing a percentile interval.
The plug-in value is kept beside the reported one (``plug_in``).  Details, the other choices (``"basic"``;
``"percentile"``, the upward-biased interval of earlier versions), measured coverage and references in
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

Andrews, D. W. K. and Soares, G. (2010). Inference for parameters defined by moment inequalities using
generalized moment selection. Econometrica 78(1), 119-157.

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


def _regret_deviations(means: np.ndarray, boot: np.ndarray, goal: str, kappa: float) -> dict[str, np.ndarray]:
    """(boot, policy) bootstrap deviations ``g(c + e*) - g(c)`` of maximum and 90th-percentile regret around a
    tie-restored centre ``c`` of the contrasts ``d[p, q, f] = m[q, f] - m[p, f]`` (q != p; regret in f is
    ``max(0, max_q d)``), see :func:`metric_intervals`.  ``e*`` are the resampled contrasts' deviations.

    * maximum regret, ``max(0, max_{q, f} d)``: contrasts within ``kappa`` standard errors below the largest
      are set to it;
    * 90th-percentile regret: in each future, contrasts within ``kappa`` standard errors below that future's
      largest are set to it; then the futures whose regret is within ``kappa`` standard errors of the 90th
      percentile have their contrasts shifted so that their regret equals it.

    A standard error is the bootstrap one; a comparison uses the larger of the two values' (so a contrast
    that does not vary, e.g. two policies both at 0 in every replicate, ties nothing).
    """
    out = {}
    with np.errstate(all="ignore"):
        contrasts = _contrasts(means, goal)  # (p, q, f)
        errors = np.stack([_contrasts(b, goal) for b in boot]) - contrasts[None]
        se = np.nanstd(errors, axis=0)
        n_p, _, n_f = contrasts.shape
        other = ~np.eye(n_p, dtype=bool)[:, :, None] & np.isfinite(contrasts)
        d = np.where(other, contrasts, -np.inf)

        def regret(values: np.ndarray, axis) -> np.ndarray:
            return np.maximum(0.0, np.max(np.where(other, values, -np.inf), axis=axis))

        # maximum regret: ties among all contrasts of a policy
        flat = d.reshape(n_p, -1)
        top = flat.argmax(axis=1)
        biggest = flat[np.arange(n_p), top]
        top_se = se.reshape(n_p, -1)[np.arange(n_p), top]
        near = other & (biggest[:, None, None] - contrasts <= kappa * np.maximum(se, top_se[:, None, None]))
        centre = np.where(near, biggest[:, None, None], contrasts)
        out["regret_max"] = regret(centre[None] + errors, (2, 3)) - regret(centre, (1, 2))[None]
        # 90th-percentile regret: ties within each future, then futures tied at the percentile
        best_q = d.argmax(axis=1)  # (p, f)
        largest = np.take_along_axis(d, best_q[:, None, :], axis=1)[:, 0, :]
        largest_se = np.take_along_axis(se, best_q[:, None, :], axis=1)[:, 0, :]
        near = other & (largest[:, None, :] - contrasts <= kappa * np.maximum(se, largest_se[:, None, :]))
        centre = np.where(near, largest[:, None, :], contrasts)
        r_hat = regret(centre, 1)  # (p, f), equal to the plug-in regret
        se_r = np.nanstd(regret(centre[None] + errors, 2), axis=0)
        theta = np.nanpercentile(r_hat, 90, axis=1)
        tied = (np.abs(r_hat - theta[:, None]) <= kappa * se_r) & (se_r > 0) & (theta[:, None] > 0)
        centre = centre + np.where(tied, theta[:, None] - largest, 0.0)[:, None, :]
        out["regret_p90"] = (np.nanpercentile(regret(centre[None] + errors, 2), 90, axis=2)
                             - np.nanpercentile(regret(centre, 1), 90, axis=1)[None])
    return out


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
                     rng: np.random.Generator, interval: str = "ties", kappa: float = 2.0
                     ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray],
                                dict[str, np.ndarray]]:
    """Point values, interval ends and plug-in values of every metric from a (policy, future, replicate) cube.

    What is estimated: each metric ``g`` of the *expected* outcome per future, ``mu[p, f] = E[y | p, f]``
    (the limit of the replicate mean), over the futures of the design (they are not resampled).  The
    plug-in ``g(m)`` of the replicate means is unbiased for the mean over futures, but not for regret:
    regret in a future is a maximum over policies, and maximum regret a maximum over futures, so replicate
    noise pushes them up -- most when many values tie, as the robust policy's regret does (a maximum of k
    tied values comes out about ``E[max of k normals]`` standard errors too high).  The resamples ``m*``
    are Gaussian-multiplier ("wild") draws (:func:`_resampled_means`), except for ``"percentile"``.

    ``interval="ties"`` (default), at ``level`` (e.g. 0.95):

    * ``regret_max``, ``regret_p90`` -- point ``g(m) - mean(d*)`` and basic interval
      ``[g(m) - q_hi(d*), g(m) - q_lo(d*)]`` (Davison and Hinkley 1997, sec. 5.2; Efron and Tibshirani
      1993, sec. 10.6 and 13.4), where ``d* = g(c + e*) - g(c)`` are the bootstrap deviations around a
      centre ``c`` in which values within ``kappa`` (default 2) standard errors of a maximum or of the
      metric's value are tied to it (:func:`_regret_deviations`).  Plain bootstrap of a maximum is
      inconsistent at ties (Andrews 2000): around the observed means, whose noise has already broken the
      ties, resampled maxima are less biased than the observed one, so the plain basic interval is not
      corrected enough; restoring the ties that noise may have broken is the moment selection of Andrews
      and Soares (2010).  Bounded below by 0 (regret is never negative).
    * ``mean`` -- plug-in and basic interval (linear: no bias to correct).
    * ``p10``, ``p50``, ``p90``, ``satisficing`` -- plug-in and percentile interval of the wild resamples: on
      the synthetic policy model their plug-in bias is small against their spread and the percentile
      interval covers (0.85 to 1.0 over 40 seeds), where reflecting it (basic) undercovers (0.57 to 0.9).

    ``"basic"`` -- the textbook alternative: for every metric but the mean, point ``2 g(m) - mean(g(m*))``
    and interval ``[2 g(m) - q*_hi, 2 g(m) - q*_lo]``; at the robust policy's tie it still undercovers.
    ``"percentile"`` -- the interval of earlier versions (replicate indices resampled, plug-in point,
    ``[q*_lo, q*_hi]``): biased upward for regret, so the point can lie below its own interval.

    Points are limited to their interval (with ``"ties"`` and ``"basic"``; a point leaves it only when the
    bootstrap distribution is so skewed that its mean is outside its central part).

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
    deviations = {name: np.vstack([d[name] for d in per_draw]) - plug_in[name][None] for name in plug_in}
    if interval == "ties":
        deviations.update(_regret_deviations(means, boot, goal, kappa))
    point, low, high = {}, {}, {}
    with np.errstate(all="ignore"):
        for name, values in plug_in.items():
            d_lo = np.nanquantile(deviations[name], alpha, axis=0)
            d_hi = np.nanquantile(deviations[name], 1 - alpha, axis=0)
            reflect = interval == "basic" and name != "mean" or interval == "ties" and name.startswith("regret")
            if interval == "percentile" or (interval == "ties" and not reflect and name != "mean"):
                point[name], low[name], high[name] = values, values + d_lo, values + d_hi
                continue
            low[name], high[name] = values - d_hi, values - d_lo
            if name.startswith("regret"):
                low[name], high[name] = np.maximum(low[name], 0.0), np.maximum(high[name], 0.0)
            corrected = values - np.nanmean(deviations[name], axis=0) if reflect else values
            point[name] = np.clip(corrected, low[name], high[name])
    return point, low, high, plug_in


INTERVALS = ("ties", "basic", "percentile")
#: How the report describes each choice of interval.
INTERVAL_TEXT = {
    "ties": "regret: bias-corrected values and basic intervals around tie-restored means; mean: basic; "
            "percentiles and satisficing: percentile intervals",
    "basic": "values bias-corrected; basic (reverse-percentile) intervals",
    "percentile": "plug-in values; percentile intervals, biased upward for regret",
}


def robustness(runs: pd.DataFrame, goals: Mapping[str, str], *, thresholds: Mapping[str, float] | None = None,
               policies: Sequence[str] | None = None, n_boot: int = 200, level: float = 0.95,
               seed: int = 0, interval: str = "ties", kappa: float = 2.0) -> RobustnessResult:
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
    interval : {"ties", "basic", "percentile"}
        How the point and interval are formed; see :func:`metric_intervals` (default ``"ties"``).
    kappa : float
        With ``"ties"``: values within ``kappa`` standard errors of a maximum count as tied (default 2).

    Returns
    -------
    RobustnessResult
        ``table`` has ``value`` (regret bias-corrected; in the output's unit, shares dimensionless), ``low``,
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
                                                     level=level, rng=rng, interval=interval, kappa=kappa)
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
    settings = (("n_boot", n_boot), ("level", level), ("seed", seed), ("interval", interval), ("kappa", kappa),
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
