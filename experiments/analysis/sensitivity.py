"""Sensitivity indices with bootstrap intervals, stochastic-noise accounting, convergence and ranking.

Inputs are the per-point statistics of a run set: the *replicate mean* of every output at every design
point (what the indices are computed on) and, separately, the *replicate variance* (which factors make
the outcome unpredictable).  All indices come with a bootstrap interval at the configured confidence
(95% by default), reported as a half-width ``*_conf`` (normal approximation ``z * sd`` of the bootstrap
replicates, as SALib reports them):

* Sobol' first-order ``S1`` and total ``ST`` (SALib.analyze.sobol, Jansen/Saltelli estimators; the
  bootstrap resamples base rows).
* Morris ``mu``, ``mu_star`` and ``sigma`` of the elementary effects, in output units per *whole range*
  of the factor (a step of ``d`` in unit coordinates divides by ``d``); the bootstrap resamples
  trajectories, so ``sigma`` has an interval too.
* PAWN (Pianosi & Wagener 2015): the median over ``S`` conditioning slices of the Kolmogorov-Smirnov
  distance between the conditional and the unconditional output distribution.  Moment-independent, so it
  suits skewed and near-binary outputs.  Computed on an independent sample (the A and B rows of a Saltelli
  design; all points otherwise, slicing on the grid levels of a Morris or factorial design).  A dummy
  factor (independent uniform noise) gives the PAWN value of a factor that does nothing: indices near it
  are indistinguishable from zero.

With R >= 2 replicates per point the replicate noise is removed from the indices
(:mod:`experiments.analysis.noise_corrected`): Sobol' gains ``S1_corrected``, ``ST_corrected`` (and their
half-widths; the two-level bootstrap resamples base rows and replicates within points) and is ranked by
``ST_corrected``; Morris gains ``mu_rms_corrected`` (root mean squared effect of the expected outcome, its
square unbiased), ``sigma_corrected`` and the noise floor of raw mu*, and is ranked by ``mu_rms_corrected``.
The raw indices stay beside the corrected ones.

Undefined outputs (NaN, e.g. a share of started pilots when none started) are left out of a point's
mean; a point with no defined value at all is set to the mean over points and counted in the report.
Noise-corrected indices need two defined values at every point; where that fails they are left out
(the note says so) and the ranking falls back to the raw index.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.random import SeedSequence
from scipy import stats

from experiments.analysis.noise_corrected import noise_corrected_morris, noise_corrected_sobol
from experiments.analysis.ranking_convergence import RankingVerdict, assess_ranking

#: Second entropy word of the analysis stream (bootstrap), so it never overlaps a run's or the design's.
ANALYSIS_TAG = 0xA11A15

INDEX_COLUMNS = ("ST", "S1", "mu_star", "sigma", "mu", "pawn")
PRIMARY = {"sobol": "ST", "morris": "mu_star", "factorial": "pawn", "lhs": "pawn", "emulator": "ST"}
#: The index ranked on when the replicate noise could be removed (R >= 2 at every point).
CORRECTED_PRIMARY = {"sobol": "ST_corrected", "morris": "mu_rms_corrected"}
CORRECTED_SOBOL = ("S1_corrected", "S1_corrected_conf", "ST_corrected", "ST_corrected_conf")
CORRECTED_MORRIS = ("mu_rms_corrected", "mu_rms_corrected_conf", "mu_star_noise_floor", "sigma_corrected",
                    "sigma_corrected_conf")


def analysis_rng(root_seed: int, label: str = "") -> np.random.Generator:
    """The generator for bootstrap resampling (fixed by the root seed, so analyses are reproducible)."""
    salt = int.from_bytes(label.encode("utf-8")[:8].ljust(8, b"\0"), "little")
    return np.random.default_rng(SeedSequence([root_seed, ANALYSIS_TAG, salt]))


def z_value(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


# --------------------------------------------------------------------------------------- per-point statistics


@dataclass
class PointStats:
    """Replicate statistics per design point (rows = points 0..n-1) for each output."""

    mean: pd.DataFrame
    variance: pd.DataFrame
    count: pd.DataFrame


def point_statistics(runs: pd.DataFrame, outputs: list[str], n_points: int) -> PointStats:
    """Mean, variance (ddof 1) and number of defined replicate values of each output at every point."""
    index = pd.RangeIndex(n_points, name="point")
    if runs.empty:
        empty = pd.DataFrame(np.nan, index=index, columns=outputs)
        return PointStats(empty, empty.copy(), pd.DataFrame(0, index=index, columns=outputs))
    grouped = runs.groupby("point")[outputs]
    mean = grouped.mean().reindex(index)
    variance = grouped.var(ddof=1).reindex(index)
    count = grouped.count().reindex(index).fillna(0).astype(int)
    return PointStats(mean, variance, count)


def fill_missing(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Replace NaN point values by the mean of the defined ones; returns the values and how many were filled."""
    values = np.asarray(values, dtype=float).copy()
    missing = ~np.isfinite(values)
    n = int(missing.sum())
    if n and n < len(values):
        values[missing] = float(np.mean(values[~missing]))
    return values, n


def noise_table(runs: pd.DataFrame, point: PointStats, outputs: list[str], replicates: int,
                warn_share: float) -> pd.DataFrame:
    """How much of each output's variance is stochastic noise, and whether R replicates are enough.

    * ``noise_share`` = mean within-point variance / total variance over all runs: the share of the
      run-to-run variance that no factor explains.
    * ``noise_in_means`` = (mean within-point variance / R) / variance of the point means: the share of
      the analysed (replicate-mean) variance that is still noise.  Above ``warn_share`` the indices are
      diluted by noise; ``replicates_needed`` is the R that would bring it to ``warn_share``.
    """
    rows = []
    for name in outputs:
        values = runs[name].to_numpy(dtype=float) if name in runs else np.array([])
        values = values[np.isfinite(values)]
        total = float(np.var(values, ddof=1)) if len(values) > 1 else math.nan
        within = float(np.nanmean(point.variance[name])) if point.variance[name].notna().any() else math.nan
        means = point.mean[name].to_numpy(dtype=float)
        means = means[np.isfinite(means)]
        between = float(np.var(means, ddof=1)) if len(means) > 1 else math.nan
        share = within / total if total > 0 else math.nan
        in_means = (within / replicates) / between if between > 0 else math.nan
        signal = between - within / replicates if np.isfinite(between) and np.isfinite(within) else math.nan
        needed = math.nan
        warning = ""
        if len(values) == 0:
            warning = "no finished run reported a value"
        elif replicates < 2:
            warning = "R = 1: the stochastic noise cannot be estimated (and is all inside the indices); use R >= 2"
        elif not np.isfinite(share):
            warning = "output constant over all runs: nothing to analyse"
        elif np.isfinite(in_means) and in_means > warn_share:
            if signal > 0:
                needed = math.ceil((within / signal) * (1 - warn_share) / warn_share)
                warning = (f"noise is {in_means:.0%} of the variance of the replicate means (R = {replicates}); "
                           f"indices are diluted and rankings of small factors unreliable; R >= {needed} would "
                           f"bring it to {warn_share:.0%}")
            else:
                warning = (f"no signal beyond noise detected (R = {replicates}): the replicate means vary no more "
                           "than noise alone would make them")
        elif replicates < 4:
            warning = f"only R = {replicates} replicates: the noise share itself is imprecise"
        rows.append({"output": name, "replicates": replicates, "runs": int(len(values)), "total_variance": total,
                     "within_point_variance": within, "noise_share": share, "variance_of_means": between,
                     "noise_in_means": in_means, "replicates_needed": needed, "warning": warning})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------- Sobol'


def sobol_indices(y: np.ndarray, names: list[str], base: int, second_order: bool, bootstrap: int,
                  confidence: float, seed: int) -> pd.DataFrame:
    """S1, ST and their interval half-widths from a Saltelli sample's outputs (SALib.analyze.sobol)."""
    from SALib.analyze import sobol

    frame = pd.DataFrame(index=pd.Index(names, name="factor"), columns=["S1", "S1_conf", "ST", "ST_conf"],
                         dtype=float)
    if not np.isfinite(y).all() or np.var(y) == 0:
        return frame
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    rows = base * ((2 * len(names) + 2) if second_order else (len(names) + 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sobol.analyze(problem, np.asarray(y[:rows], dtype=float), calc_second_order=second_order,
                               num_resamples=bootstrap, conf_level=confidence, seed=seed)
    for column in frame.columns:
        frame[column] = np.asarray(result[column], dtype=float)
    return frame


def saltelli_independent_rows(n_rows: int, n_factors: int, second_order: bool) -> np.ndarray:
    """Indices of the A and B rows of a Saltelli sample: an independent sample for PAWN."""
    block = (2 * n_factors + 2) if second_order else (n_factors + 2)
    starts = np.arange(0, n_rows - block + 1, block)
    return np.sort(np.concatenate([starts, starts + block - 1]))


# --------------------------------------------------------------------------------------- Morris


def elementary_effects(u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Elementary effects (trajectories x factors) of Morris trajectories ``u`` (unit coordinates)."""
    u = np.asarray(u, dtype=float)
    y = np.asarray(y, dtype=float)
    d = u.shape[1]
    r = len(u) // (d + 1)
    steps = np.diff(u[: r * (d + 1)].reshape(r, d + 1, d), axis=1)  # (r, d steps, d factors)
    changed = np.abs(steps).argmax(axis=2)  # (r, d): which factor each step moves
    step = np.take_along_axis(steps, changed[..., None], axis=2)[..., 0]
    if np.any(step == 0):
        raise ValueError("a Morris trajectory step changes no factor")
    dy = np.diff(y[: r * (d + 1)].reshape(r, d + 1), axis=1)
    effects = np.full((r, d), np.nan)
    np.put_along_axis(effects, changed, dy / step, axis=1)
    return effects


def morris_indices(u: np.ndarray, y: np.ndarray, names: list[str], bootstrap: int, confidence: float,
                   rng: np.random.Generator) -> pd.DataFrame:
    """mu, mu_star, sigma of the elementary effects with bootstrap half-widths (resampling trajectories)."""
    frame = pd.DataFrame(index=pd.Index(names, name="factor"),
                         columns=["mu", "mu_star", "mu_star_conf", "sigma", "sigma_conf"], dtype=float)
    if not np.isfinite(y).all():
        return frame
    effects = elementary_effects(u, y)
    r = len(effects)
    frame["mu"] = effects.mean(axis=0)
    frame["mu_star"] = np.abs(effects).mean(axis=0)
    frame["sigma"] = effects.std(axis=0, ddof=1) if r > 1 else np.nan
    z = z_value(confidence)
    samples = effects[rng.integers(0, r, size=(bootstrap, r))]  # (B, r, d)
    frame["mu_star_conf"] = z * np.abs(samples).mean(axis=1).std(axis=0, ddof=1)
    frame["sigma_conf"] = z * samples.std(axis=1, ddof=1).std(axis=0, ddof=1) if r > 1 else np.nan
    return frame


# --------------------------------------------------------------------------------------- PAWN


def slice_ids(x: np.ndarray, slices: int) -> np.ndarray:
    """Conditioning slice of every value of every column of ``x`` (points x factors).

    A column with at most ``slices`` distinct values (the grid levels of a Morris or factorial design)
    is sliced by level; otherwise into ``slices`` equal-count bins by rank (ties broken by order).
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    n, d = x.shape
    ids = np.empty((n, d), dtype=np.int64)
    for j in range(d):
        levels = np.unique(x[:, j])
        if len(levels) <= slices:
            ids[:, j] = np.searchsorted(levels, x[:, j])
        else:
            ranks = np.empty(n, dtype=np.int64)
            ranks[np.argsort(x[:, j], kind="stable")] = np.arange(n)
            ids[:, j] = ranks * slices // n
    return ids


def pawn_statistic(ids: np.ndarray, y: np.ndarray) -> np.ndarray:
    """PAWN index of every factor: the median over its slices of the KS distance between the output's
    distribution within the slice and its unconditional distribution.  ``ids`` from :func:`slice_ids`."""
    n, d = ids.shape
    order = np.argsort(y, kind="stable")
    ys = y[order]
    ends = np.flatnonzero(np.r_[ys[1:] != ys[:-1], True])  # last position of each distinct value
    f_all = (ends + 1) / n
    k = int(ids.max()) + 1
    member = np.zeros((d, k, n))
    member[np.arange(d)[None, :], ids[order], np.arange(n)[:, None]] = 1.0
    counts = member.sum(axis=2)  # (d, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf = np.cumsum(member, axis=2)[:, :, ends] / counts[:, :, None]
    ks = np.abs(cdf - f_all).max(axis=2)
    ks[counts == 0] = np.nan
    # median over the non-empty slices (np.nanmedian is slow on small arrays): NaN sorts last
    ks.sort(axis=1)
    valid = (counts > 0).sum(axis=1)
    rows = np.arange(d)
    return 0.5 * (ks[rows, (valid - 1) // 2] + ks[rows, valid // 2])


def pawn_indices(u: np.ndarray, y: np.ndarray, names: list[str], slices: int, bootstrap: int, confidence: float,
                 rng: np.random.Generator) -> tuple[pd.DataFrame, float, float]:
    """PAWN index and bootstrap half-width per factor, plus the dummy factor's index and half-width.

    The bootstrap resamples design points with replacement and keeps each point's slice.
    """
    frame = pd.DataFrame(index=pd.Index(names, name="factor"), columns=["pawn", "pawn_conf"], dtype=float)
    if not np.isfinite(y).all() or np.var(y) == 0 or len(y) < 2 * slices:
        return frame, math.nan, math.nan
    ids = slice_ids(np.column_stack([u, rng.random(len(y))]), slices)  # last column: the dummy factor
    point = pawn_statistic(ids, y)
    n = len(y)
    boot = np.empty((bootstrap, ids.shape[1]))
    for b in range(bootstrap):
        pick = rng.integers(0, n, size=n)
        boot[b] = pawn_statistic(ids[pick], y[pick])
    conf = z_value(confidence) * np.nanstd(boot, axis=0, ddof=1)
    frame["pawn"] = point[:-1]
    frame["pawn_conf"] = conf[:-1]
    return frame, float(point[-1]), float(conf[-1])


# --------------------------------------------------------------------------------------- one output


@dataclass
class OutputAnalysis:
    """The indices of one analysed quantity (an output's replicate mean or replicate variance)."""

    output: str
    statistic: str  # "mean" or "variance"
    ranking: pd.DataFrame  # one row per factor, ranked (rank 1 = most influential)
    primary: str
    missing_points: int = 0
    pawn_dummy: float = math.nan
    pawn_dummy_conf: float = math.nan
    noise_floor: dict[str, float] = field(default_factory=dict)  # index value of a factor with no effect
    note: str = ""

    @property
    def label(self) -> str:
        return self.output if self.statistic == "mean" else f"{self.output}__var"


def rank_table(frame: pd.DataFrame, primary: str) -> pd.DataFrame:
    """Add ``rank`` by the primary index (descending; ties share the lower rank) and sort by it.

    Noise-corrected columns, when present, come first; the raw indices follow.
    """
    frame = frame.copy()
    for column in ("ST", "ST_conf", "S1", "S1_conf", "mu", "mu_star", "mu_star_conf", "sigma", "sigma_conf",
                   "pawn", "pawn_conf"):
        if column not in frame:
            frame[column] = np.nan
    key = frame[primary].astype(float)
    frame["rank"] = key.rank(ascending=False, method="min").astype("Int64")
    frame = frame.sort_values(["rank"], kind="stable", na_position="last")
    corrected = [c for c in (*CORRECTED_SOBOL, "mu_rms_corrected", "mu_rms_corrected_conf") if c in frame]
    ordered = ["rank", *corrected, "ST", "ST_conf", "S1", "S1_conf", "mu_star", "mu_star_conf", "sigma", "sigma_conf",
               "mu", "pawn", "pawn_conf"]
    return frame[ordered + [c for c in frame.columns if c not in ordered]]


def corrected_indices(design_type: str, u: np.ndarray, values: np.ndarray | None, names: list[str],
                      settings: dict[str, Any], design: dict[str, Any],
                      rng: np.random.Generator) -> tuple[pd.DataFrame | None, str]:
    """Noise-corrected columns for a Sobol' or Morris design from replicate values ``(points, R)``.

    Returns ``(None, reason)`` when they cannot be computed (R < 2, or a point with fewer than two
    defined values), else ``(columns, "")``.
    """
    if design_type not in CORRECTED_PRIMARY or values is None:
        return None, ""
    defined = np.isfinite(values).sum(axis=1)
    if values.shape[1] < 2:
        return None, ""
    short = int((defined < 2).sum())
    if short:
        return None, (f"noise-corrected indices left out: {short} of {len(values)} points have fewer than 2 defined "
                      "replicate values (ranked by the raw index)")
    boot, conf = settings["bootstrap"], settings["confidence"]
    if design_type == "sobol":
        frame = noise_corrected_sobol(values, names, boot, conf, rng, second_order=design["second_order"])
        return frame[list(CORRECTED_SOBOL)], ""
    frame = noise_corrected_morris(u, values, names, boot, conf, rng)
    return frame[list(CORRECTED_MORRIS)], ""


def analyse_values(design_type: str, u: np.ndarray, y: np.ndarray, names: list[str], settings: dict[str, Any],
                   design: dict[str, Any], rng: np.random.Generator, seed: int,
                   values: np.ndarray | None = None) -> tuple[pd.DataFrame, int, float, float, str, str]:
    """All indices the design supports for one vector of point values (and, for the noise-corrected
    indices, the replicate values ``(points, R)`` behind them).

    Returns (ranking, filled points, dummy PAWN, its half-width, primary index, note).
    """
    y, filled = fill_missing(y)
    boot, conf = settings["bootstrap"], settings["confidence"]
    slices = settings["pawn_slices"]
    parts = []
    if design_type == "sobol":
        base = len(y) // ((2 * len(names) + 2) if design["second_order"] else (len(names) + 2))
        parts.append(sobol_indices(y, names, base, design["second_order"], boot, conf, seed))
        rows = saltelli_independent_rows(len(y), len(names), design["second_order"])
        pawn, dummy, dummy_conf = pawn_indices(u[rows], y[rows], names, slices, boot, conf, rng)
    elif design_type == "morris":
        parts.append(morris_indices(u, y, names, boot, conf, rng))
        pawn, dummy, dummy_conf = pawn_indices(u, y, names, slices, boot, conf, rng)
    else:
        pawn, dummy, dummy_conf = pawn_indices(u, y, names, slices, boot, conf, rng)
    parts.append(pawn)
    primary = PRIMARY[design_type]
    corrected, note = corrected_indices(design_type, u, values, names, settings, design, rng)
    if corrected is not None:
        parts.insert(0, corrected)
        primary = CORRECTED_PRIMARY[design_type]
    frame = pd.concat(parts, axis=1)
    return rank_table(frame, primary), filled, dummy, dummy_conf, primary, note


def noise_floor(design_type: str, design: dict[str, Any], u: np.ndarray, noise: np.ndarray | None,
                total_variance: float) -> dict[str, float]:
    """What replicate noise alone puts into the primary index of a factor that has no effect.

    ``noise`` is the noise variance of each point's replicate mean (within-point variance / replicates).
    Morris: a step between points a and b of a trajectory changes the mean by noise of variance
    noise_a + noise_b, so mu* of pure noise = mean over steps of sqrt(2/pi) sqrt(noise_a + noise_b) / step
    (per step, because the noise differs much between points).  Sobol': the Jansen estimator of ST adds
    mean(noise) / Var(means) to every factor.
    """
    if noise is None or not np.isfinite(noise).any():
        return {}
    noise = np.where(np.isfinite(noise), noise, np.nanmean(noise))
    if design_type == "morris":
        d = u.shape[1]
        r = len(u) // (d + 1)
        var = noise[: r * (d + 1)].reshape(r, d + 1)
        steps = np.abs(np.diff(u[: r * (d + 1)].reshape(r, d + 1, d), axis=1)).max(axis=2)
        spread = np.sqrt(2 / np.pi) * np.sqrt(var[:, 1:] + var[:, :-1]) / steps
        return {"mu_star": float(spread.mean())}
    if design_type == "sobol" and total_variance > 0:
        return {"ST": float(noise.mean() / total_variance)}
    return {}


def analyse_output(name: str, statistic: str, design_type: str, u: np.ndarray, y: np.ndarray, names: list[str],
                   settings: dict[str, Any], design: dict[str, Any], root_seed: int,
                   noise: np.ndarray | None = None, values: np.ndarray | None = None) -> OutputAnalysis:
    """Indices of one output's point means (``statistic="mean"``) or point variances (``"variance"``).

    ``noise`` (per point: noise variance of the replicate mean) gives the index a no-effect factor would get;
    ``values`` (points x R replicate values, replicate means only) adds the noise-corrected indices.
    """
    label = name if statistic == "mean" else f"{name}__var"
    rng = analysis_rng(root_seed, label)
    seed = int(rng.integers(0, 2**31 - 1))
    defined = np.isfinite(y)
    note = ""
    if not defined.any():
        note = "undefined at every design point (indices undefined)"
    elif np.nanvar(y) == 0:
        note = "constant over all design points: no factor matters (indices undefined)"
    usable = values if statistic == "mean" and defined.any() and np.nanvar(y) > 0 else None
    ranking, filled, dummy, dummy_conf, primary, extra_note = analyse_values(
        design_type, u, y, names, settings, design, rng, seed, values=usable)
    if filled and defined.any():
        extra = f"{filled} of {len(y)} points had no defined value and were set to the mean over points"
        note = f"{note}; {extra}" if note else extra
    if extra_note:
        note = f"{note}; {extra_note}" if note else extra_note
    total = float(np.nanvar(y, ddof=1)) if defined.sum() > 1 else 0.0
    floor = noise_floor(design_type, design, u, noise, total)
    return OutputAnalysis(name, statistic, ranking, primary, filled, dummy, dummy_conf, floor, note)


# --------------------------------------------------------------------------------------- agreement


METHOD_COLUMNS = {"ST_corrected": "Sobol ST corrected", "ST": "Sobol ST", "S1": "Sobol S1",
                  "mu_rms_corrected": "Morris mu_rms corrected", "mu_star": "Morris mu*", "pawn": "PAWN"}
#: Pairs not worth a Spearman line (the same estimator twice, or S1 against ST).
SKIPPED_PAIRS = ({"Sobol ST", "Sobol S1"}, {"Sobol ST corrected", "Sobol S1"}, {"Sobol ST corrected", "Sobol ST"})


def agreement(ranking: pd.DataFrame, extra: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """Spearman rank correlation between every pair of methods present (over the factors both rank).

    ``extra`` adds index columns from other run sets (name -> Series indexed by factor).
    """
    columns = {label: ranking[col] for col, label in METHOD_COLUMNS.items()
               if col in ranking and ranking[col].notna().sum() >= 3}
    for label, series in (extra or {}).items():
        columns[label] = series
    rows = []
    labels = list(columns)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if {a, b} in SKIPPED_PAIRS:
                continue
            pair = pd.concat([columns[a].rename("a"), columns[b].rename("b")], axis=1, join="inner").dropna()
            if len(pair) >= 3 and pair["a"].nunique() > 1 and pair["b"].nunique() > 1:
                rho, p = stats.spearmanr(pair["a"], pair["b"])
                rows.append({"method_a": a, "method_b": b, "factors": len(pair), "spearman": float(rho),
                             "p_value": float(p)})
            else:
                rows.append({"method_a": a, "method_b": b, "factors": len(pair), "spearman": math.nan,
                             "p_value": math.nan})
    return pd.DataFrame(rows, columns=["method_a", "method_b", "factors", "spearman", "p_value"])


# --------------------------------------------------------------------------------------- convergence


def prefix_sizes(design_type: str, total: int, smallest: int) -> list[int]:
    """Base sizes (Sobol' base rows or Morris trajectories) at which to re-analyse prefixes of the design."""
    sizes = []
    size = total
    while size >= smallest and len(sizes) < 8:
        sizes.append(size)
        if size % 2:
            break
        size //= 2
    return sorted(sizes)


def points_per_base(design_type: str, n_factors: int, second_order: bool) -> int:
    if design_type == "sobol":
        return (2 * n_factors + 2) if second_order else (n_factors + 2)
    return n_factors + 1


def convergence_table(design_type: str, u: np.ndarray, means: pd.DataFrame, outputs: list[str], names: list[str],
                      settings: dict[str, Any], design: dict[str, Any], replicates: int, root_seed: int,
                      smallest: int | None = None, values: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Primary index (and half-width) of every factor re-analysed on prefixes of the design.

    ``values`` (output -> points x R replicate values) switches to the noise-corrected index (corrected ST,
    or Morris ``mu_rms_corrected``) wherever it can be computed.  Columns: base (N or trajectories), runs,
    output, factor, index, value, conf, scaled_conf (the half-width compared with the threshold: as is for
    Sobol', divided by the largest value for Morris), rank.
    """
    per = points_per_base(design_type, len(names), design.get("second_order", False))
    total = len(u) // per
    if smallest is None:
        smallest = 8 if design_type == "sobol" else 4
    rows = []
    for size in prefix_sizes(design_type, total, min(smallest, total)):
        n = size * per
        for name in outputs:
            y = means[name].to_numpy(dtype=float)[:n]
            rng = analysis_rng(root_seed, f"conv{size}{name}")
            y_filled, _ = fill_missing(y)
            primary = PRIMARY[design_type]
            sample = None if values is None or name not in values else values[name][:n]
            corrected, _ = (corrected_indices(design_type, u[:n], sample, names, settings, design, rng)
                            if np.var(y_filled) > 0 else (None, ""))
            if corrected is not None:
                frame, primary = corrected, CORRECTED_PRIMARY[design_type]
            elif design_type == "sobol":
                frame = sobol_indices(y_filled, names, size, design["second_order"], settings["bootstrap"],
                                      settings["confidence"], int(rng.integers(0, 2**31 - 1)))
            else:
                frame = morris_indices(u[:n], y_filled, names, settings["bootstrap"], settings["confidence"], rng)
            value = frame[primary].astype(float)
            conf = frame[f"{primary}_conf"].astype(float)
            scale = 1.0 if design_type == "sobol" else float(value.max()) if value.max() > 0 else math.nan
            ranks = value.rank(ascending=False, method="first")
            for factor in names:
                rows.append({"base": size, "runs": n * replicates, "output": name, "factor": factor,
                             "index": primary, "value": value[factor], "conf": conf[factor],
                             "scaled_conf": conf[factor] / scale, "rank": ranks[factor]})
    return pd.DataFrame(rows)


@dataclass
class ConvergenceVerdict:
    """Whether the largest design analysed has converged, and why (not)."""

    converged: bool
    base: int
    runs: int
    reasons: list[str] = field(default_factory=list)
    top: dict[str, list[str]] = field(default_factory=dict)
    rankings: dict[str, RankingVerdict] = field(default_factory=dict)  # per output: ties, distinguishability
    criterion: str = ""


def judge_convergence(table: pd.DataFrame, outputs: list[str], top: int, threshold: float) -> ConvergenceVerdict:
    """Converged when, for every output, :func:`experiments.analysis.ranking_convergence.assess_ranking`
    says so: every top-``top`` half-width below ``threshold`` at the largest size and the top-``top`` *set*
    unchanged from the previous size (factors tied at the rank-k boundary excepted).  Order changes between
    factors whose intervals overlap are ties (reported, not instability).

    Morris half-widths (and values) are compared relative to the largest value (``scaled_conf``).
    """
    if table.empty:
        return ConvergenceVerdict(False, 0, 0, ["nothing analysed"])
    sizes = sorted(table["base"].unique())
    last = sizes[-1]
    runs = int(table.loc[table["base"] == last, "runs"].iloc[0])
    criterion = (f"top-{top} half-widths < {threshold:g} and the top-{top} set unchanged from the previous size "
                 "(order changes within overlapping intervals are ties, not instability; a factor may cross rank "
                 f"{top} if its interval overlapped one across it at either size)")
    verdict = ConvergenceVerdict(True, int(last), runs, criterion=criterion)
    for name in outputs:
        data = table[table["output"] == name].copy()
        if data.empty or data.loc[data["base"] == last, "value"].isna().all():
            verdict.converged = False
            verdict.reasons.append(f"{name}: indices undefined (constant output?)")
            continue
        if data["index"].iloc[0] in ("mu_star", "mu_rms_corrected"):  # relative to the largest, like the conf
            largest = data.groupby("base")["value"].transform("max")
            data["value"] = data["value"] / largest.where(largest > 0)
        data["conf"] = data["scaled_conf"]
        judged = assess_ranking(data[["base", "factor", "value", "conf"]], top, threshold, size="base")
        verdict.rankings[name] = judged
        verdict.top[name] = judged.top
        if not judged.converged:
            verdict.converged = False
            verdict.reasons.extend(f"{name}: {reason}" for reason in judged.reasons)
        if judged.ties:
            verdict.reasons.append(f"{name}: ties (order changed within overlapping intervals, not instability): "
                                   + ", ".join(f"{a} / {b}" for a, b in judged.ties))
        if judged.settled:
            verdict.reasons.append(f"{name}: top-{top} set changed where the previous size left it undecided "
                                   "(tied across the boundary there, separated now; not instability): "
                                   + ", ".join(judged.settled))
    return verdict


def distinguishability(ranking: pd.DataFrame, primary: str) -> RankingVerdict | None:
    """Tie groups, factors distinguishable from zero and pairwise distinguishability of one ranking."""
    conf_column = f"{primary}_conf"
    if primary not in ranking or conf_column not in ranking or ranking[primary].isna().all():
        return None
    table = pd.DataFrame({"size": 0, "factor": ranking.index.astype(str), "value": ranking[primary].to_numpy(float),
                          "conf": ranking[conf_column].to_numpy(float)})
    if not np.isfinite(table["conf"]).all():
        return None
    return assess_ranking(table, len(table), math.inf)


__all__ = [
    "CORRECTED_PRIMARY",
    "ConvergenceVerdict",
    "OutputAnalysis",
    "PointStats",
    "agreement",
    "analyse_output",
    "convergence_table",
    "corrected_indices",
    "distinguishability",
    "elementary_effects",
    "fill_missing",
    "judge_convergence",
    "morris_indices",
    "noise_floor",
    "noise_table",
    "pawn_indices",
    "pawn_statistic",
    "slice_ids",
    "point_statistics",
    "rank_table",
    "sobol_indices",
]
