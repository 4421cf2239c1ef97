r"""Sobol' and Morris indices of the *expected* outcome of a stochastic model, with the replicate noise removed.

A stochastic model run at design point ``x`` returns ``Y = m(x) + e``, with ``E[e | x] = 0`` and
``Var(e | x) = s^2(x)``.  The pipeline analyses the replicate mean ``Ybar(x)`` of ``R`` runs, whose noise
has variance ``s^2(x) / R``.  That noise is independent between design points (each point has its own
run seeds: this module assumes the pipeline's default of no common random numbers between points) and it
inflates every estimator built from squared differences.  Each point's noise variance is estimated
without bias by ``v(x) = s2(x) / R``, with ``s2`` the within-point sample variance (ddof 1).

Saltelli ordering (SALib, ``calc_second_order=False``): base row ``j`` occupies the ``d + 2`` consecutive
points ``A_j, AB_j^(1) .. AB_j^(d), B_j``, where ``AB^(i)`` is ``A`` with column ``i`` taken from ``B``
(with ``calc_second_order=True``: ``2d + 2`` points, ``BA`` between ``AB`` and ``B``, unused here).

Derivation of the bias (Sobol')
-------------------------------
Write ``a = Ybar(A_j)``, ``b = Ybar(B_j)``, ``c = Ybar(AB_j^(i))``; their noises are independent with
variances ``v_A, v_B, v_AB`` and independent of the design.

* Total variance.  The estimator ``V^ = var(a_1..a_N, b_1..b_N)`` (ddof 0 over the 2N values, as SALib)
  has ``E V^ = (n - 1)/n (Var m + mean_k Var e_k)`` for ``n = 2N`` independent points, so replicate
  noise adds ``(n - 1)/n * mean(v_A, v_B)``.  Corrected: ``V~ = V^ - (n - 1)/n * mean(v_A, v_B)``.
* Jansen (1999) total effect numerator ``(1/2N) sum (a - c)^2``:
  ``E (a - c)^2 = E (m(A) - m(AB))^2 + Var e_A + Var e_AB``, so the noise adds
  ``(1/2N) sum (v_A + v_AB)``.  Corrected numerator: ``(1/2N) sum ((a - c)^2 - v_A - v_AB)``.
* Saltelli et al. (2010) first-order numerator ``(1/N) sum b (c - a)``: the noises of ``b``, ``c`` and
  ``a`` are independent with mean zero, so ``E[b (c - a)] = E[m(B)(m(AB) - m(A))]``: the numerator is
  unbiased and only its denominator (the total variance) needs the correction.

Hence ``ST~_i = (ST numerator - mean(v_A + v_AB^(i))/2) / V~`` and ``S1~_i = S1 numerator / V~``.  Both
corrections are the mean within-point variance divided by R, entering the ST numerator and the total
variance.  The ratios remain consistent (bias ``O(1/N)``) rather than exactly unbiased, like the raw
estimators on noise-free data.  A corrected index can be slightly negative when the true one is near 0.

Morris (elementary effects)
---------------------------
A step ``Delta`` (unit coordinates) from ``a`` to ``b`` gives the effect ``EE = (Ybar_b - Ybar_a)/Delta``
whose noise has variance ``w = (v_a + v_b) / Delta^2``.

* ``mu = mean EE`` is unbiased (the noise has mean zero): no correction.
* ``sigma^2 = var(EE)`` gains ``mean(w)``: ``sigma~^2 = var(EE) - mean(w)`` is unbiased.
* ``mu* = mean |EE|`` has no unbiased correction: ``|.|`` is not smooth at 0, and no unbiased estimator
  of ``|theta|`` exists from a normal observation with mean ``theta`` (the expectation of any estimator
  is real-analytic in ``theta``, ``|theta|`` is not).  What is unbiased is the *mean squared* effect,
  ``E EE^2 - mean(w)``; we report ``mu_rms_corrected = sqrt(max(0, mean(EE^2) - mean(w)))``, the root
  mean squared effect of the expected outcome (output units per whole factor range; Sobol' & Kucherenko
  2009 relate it to the total index), beside raw ``mu*`` and its noise floor, the ``mu*`` that noise alone
  gives a factor without effect: ``mean sqrt(2/pi) sqrt(w)`` for Gaussian noise.

Intervals
---------
Bootstrap (B resamples) at two levels: base rows (Sobol') or trajectories (Morris) with replacement, and
within every selected point its R replicates with replacement, after which means and within-point
variances are recomputed.  The within-point step keeps the correction unbiased in the bootstrap world (the
resampled within-point variance estimates the variance of the resampled mean times R).  It is
conservative: the replicate noise is already in the between-row variation, so it counts about twice; the
measured coverage of 95% intervals is in tests/test_noise_corrected.py.  Half-widths are ``z * sd`` of
the bootstrap replicates, as SALib and the rest of the pipeline report them (``*_conf``).

References
----------
Jansen, M. J. W. (1999). Analysis of variance designs for model output. Comput. Phys. Commun. 117, 35-43.
Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. & Tarantola, S. (2010). Variance based
sensitivity analysis of model output. Design and estimator for the total sensitivity index. Comput. Phys.
Commun. 181, 259-270.
Sobol', I. M. & Kucherenko, S. (2009). Derivative based global sensitivity measures and their link with
global sensitivity indices. Math. Comput. Simul. 79, 3009-3017.
ten Broeke, G., van Voorn, G. & Ligtenberg, A. (2016). Which sensitivity analysis method should I use for
my agent-based model? JASSS 19(1), 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf", "S1_corrected", "S1_corrected_conf", "ST_corrected",
                 "ST_corrected_conf")


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


# --------------------------------------------------------------------------------------- replicates


def replicate_matrix(runs: pd.DataFrame, output: str, n_points: int) -> np.ndarray:
    """Replicate values of ``output`` per design point, shape ``(n_points, R_max)``, NaN-padded.

    ``runs`` is the pipeline's run table (a ``point`` column and one column per output); undefined values
    (NaN) are dropped, so a row holds its defined values first.
    """
    frame = runs[["point", output]].dropna()
    if frame.empty:
        return np.full((n_points, 1), np.nan)
    points = frame["point"].to_numpy(dtype=np.int64)
    order = np.argsort(points, kind="stable")
    points = points[order]
    values = frame[output].to_numpy(dtype=float)[order]
    counts = np.bincount(points, minlength=n_points)
    if len(counts) > n_points:
        raise ValueError(f"runs name point {len(counts) - 1}, but the design has {n_points} points")
    slot = np.arange(len(points)) - np.repeat(np.cumsum(counts) - counts, counts)[: len(points)]
    out = np.full((n_points, max(int(counts.max()), 1)), np.nan)
    out[points, slot] = values
    return out


def point_moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, within-point variance (ddof 1) and count of the defined values in each row of ``values``.

    Works on arrays of shape ``(..., n_points, R)``; the variance is NaN where fewer than 2 values exist.
    """
    finite = np.isfinite(values)
    count = finite.sum(axis=-1)
    filled = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=-1) / count
        dev = np.where(finite, values - mean[..., None], 0.0)
        var = (dev**2).sum(axis=-1) / (count - 1)
    var = np.where(count >= 2, var, np.nan)
    return mean, var, count


def _resample_within(values: np.ndarray, count: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Resample each row's defined values with replacement (defined values first, NaN padding kept)."""
    r_max = values.shape[-1]
    pick = np.floor(rng.random(values.shape) * count[..., None]).astype(np.int64)
    out = np.take_along_axis(values, pick, axis=-1)
    return np.where(np.arange(r_max) < count[..., None], out, np.nan)


def _compact(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Defined values first in every row (np.sort puts NaN last) and the count per row."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    finite = np.isfinite(values)
    # stable argsort of "is undefined" moves defined values to the front without reordering them
    order = np.argsort(~finite, axis=1, kind="stable")
    return np.take_along_axis(values, order, axis=1), finite.sum(axis=1)


# --------------------------------------------------------------------------------------- Sobol'


def saltelli_estimates(mean: np.ndarray, n_factors: int, noise: np.ndarray | None = None,
                       second_order: bool = False) -> dict[str, np.ndarray]:
    """Raw (``noise=None``) or noise-corrected Saltelli-2010 S1 and Jansen ST from point values.

    Parameters
    ----------
    mean : numpy.ndarray
        Replicate mean of every point in Saltelli ordering, shape ``(..., N (d + 2))`` (output units);
        leading axes (e.g. bootstrap resamples) are kept.
    n_factors : int
        Number of factors ``d``.
    noise : numpy.ndarray, optional
        Noise variance of each point's mean, ``s2 / R`` (output units squared), same shape as ``mean``.
        Omitted: the raw estimators, identical to ``SALib.analyze.sobol`` point estimates.
    second_order : bool
        The design has SALib's second-order blocks (``A, AB.., BA.., B``, 2d + 2 points per base row);
        the ``BA`` points are not used.

    Returns
    -------
    dict
        ``S1`` and ``ST``, each of shape ``(..., d)`` (dimensionless), and ``variance`` (the denominator).
    """
    mean = np.asarray(mean, dtype=float)
    block = 2 * n_factors + 2 if second_order else n_factors + 2
    n_base = mean.shape[-1] // block
    y = mean[..., : n_base * block].reshape(*mean.shape[:-1], n_base, block)
    # centre on the overall mean as SALib does (the S1 numerator is not shift-invariant in finite samples)
    y = y - y.mean(axis=(-2, -1), keepdims=True)
    a, b, ab = y[..., 0], y[..., -1], y[..., 1:n_factors + 1]
    both = np.concatenate([a, b], axis=-1)
    variance = both.var(axis=-1)
    s1_num = np.mean(b[..., None] * (ab - a[..., None]), axis=-2)
    st_num = 0.5 * np.mean((a[..., None] - ab) ** 2, axis=-2)
    if noise is not None:
        w = np.asarray(noise, dtype=float)[..., : n_base * block].reshape(y.shape)
        n = 2 * n_base
        variance = variance - (n - 1) / n * np.concatenate([w[..., 0], w[..., -1]], axis=-1).mean(axis=-1)
        st_num = st_num - 0.5 * np.mean(w[..., 0, None] + w[..., 1:n_factors + 1], axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"S1": s1_num / variance[..., None], "ST": st_num / variance[..., None], "variance": variance}


def _saltelli_base(n_points: int, n_factors: int, second_order: bool) -> int:
    block = 2 * n_factors + 2 if second_order else n_factors + 2
    if n_points % block or n_points < 2 * block:
        raise ValueError(f"{n_points} points are not a Saltelli design of {n_factors} factors: need a multiple "
                         f"of {block} points per base row, at least 2 base rows")
    return n_points // block


def _require_replicates(count: np.ndarray, what: str) -> None:
    short = int((count < 2).sum())
    if short:
        raise ValueError(f"{what}: {short} of {len(count)} design points have fewer than 2 defined replicate "
                         "values; noise-corrected indices need R >= 2 at every point")


def noise_corrected_sobol(values: np.ndarray, names: list[str], bootstrap: int = 500, confidence: float = 0.95,
                          rng: np.random.Generator | None = None, resample_replicates: bool = True,
                          second_order: bool = False) -> pd.DataFrame:
    """Raw and noise-corrected Sobol' S1 and ST with two-level bootstrap half-widths.

    Parameters
    ----------
    values : numpy.ndarray
        Replicate outputs, shape ``(n_points, R)`` in SALib's Saltelli ordering, NaN for
        undefined values (see :func:`replicate_matrix`).  Output units.
    names : list of str
        Factor names (``d`` of them).
    bootstrap : int
        Number of bootstrap resamples ``B``.
    confidence : float
        Confidence level of the intervals (the half-width is ``z * sd`` of the bootstrap replicates).
    rng : numpy.random.Generator
        Source of the resampling (the pipeline's ``analysis_rng``); required for reproducibility.
    resample_replicates : bool
        Also resample replicates within points (default); False resamples base rows only.
    second_order : bool
        The design was sampled with ``calc_second_order=True`` (second-order indices are not computed).

    Returns
    -------
    pandas.DataFrame
        Index ``factor``; columns ``S1, S1_conf, ST, ST_conf`` (raw, on the replicate means) and
        ``S1_corrected, S1_corrected_conf, ST_corrected, ST_corrected_conf`` (dimensionless).
    """
    if rng is None:
        raise ValueError("pass a numpy.random.Generator (rng) so the bootstrap is reproducible")
    values, count = _compact(values)
    d = len(names)
    n_base = _saltelli_base(len(values), d, second_order)
    _require_replicates(count, "noise_corrected_sobol")
    mean, var, _ = point_moments(values)
    raw = saltelli_estimates(mean, d, second_order=second_order)
    corrected = saltelli_estimates(mean, d, var / count, second_order)
    block = 2 * d + 2 if second_order else d + 2
    boot = {key: np.empty((bootstrap, d)) for key in ("S1", "ST", "S1_corrected", "ST_corrected")}
    for i in range(bootstrap):
        rows = rng.integers(0, n_base, size=n_base)
        pts = (rows[:, None] * block + np.arange(block)).ravel()
        sample = values[pts]
        if resample_replicates:
            sample = _resample_within(sample, count[pts], rng)
        m, v, c = point_moments(sample)
        r_est = saltelli_estimates(m, d, second_order=second_order)
        c_est = saltelli_estimates(m, d, v / c, second_order)
        boot["S1"][i], boot["ST"][i] = r_est["S1"], r_est["ST"]
        boot["S1_corrected"][i], boot["ST_corrected"][i] = c_est["S1"], c_est["ST"]
    z = _z(confidence)
    frame = pd.DataFrame(index=pd.Index(names, name="factor"))
    point = {"S1": raw["S1"], "ST": raw["ST"], "S1_corrected": corrected["S1"], "ST_corrected": corrected["ST"]}
    for key in ("S1", "ST", "S1_corrected", "ST_corrected"):
        frame[key] = point[key]
        frame[f"{key}_conf"] = z * np.nanstd(boot[key], axis=0, ddof=1)
    return frame[list(SOBOL_COLUMNS)]


# --------------------------------------------------------------------------------------- Morris


def _morris_steps(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(which factor each step moves, signed step size) per trajectory, shapes (r, d)."""
    u = np.asarray(u, dtype=float)
    d = u.shape[1]
    r = len(u) // (d + 1)
    steps = np.diff(u[: r * (d + 1)].reshape(r, d + 1, d), axis=1)
    changed = np.abs(steps).argmax(axis=2)
    step = np.take_along_axis(steps, changed[..., None], axis=2)[..., 0]
    if np.any(step == 0):
        raise ValueError("a Morris trajectory step changes no factor")
    return changed, step, r


def morris_estimates(u: np.ndarray, mean: np.ndarray, noise: np.ndarray) -> dict[str, np.ndarray]:
    """Morris measures of point means ``mean`` (``(..., n_points)``) with noise variances ``noise`` = s2/R.

    Returns ``mu``, ``mu_star``, ``sigma`` (raw), ``sigma_corrected``, ``mu_rms_corrected`` and
    ``mu_star_noise_floor``, each ``(..., d)``, in output units per whole factor range.
    """
    changed, step, r = _morris_steps(u)
    d = changed.shape[1]
    n = r * (d + 1)
    mean = np.asarray(mean, dtype=float)[..., :n].reshape(*np.shape(mean)[:-1], r, d + 1)
    noise = np.asarray(noise, dtype=float)[..., :n].reshape(mean.shape)
    ee_steps = np.diff(mean, axis=-1) / step
    w_steps = (noise[..., 1:] + noise[..., :-1]) / step**2
    # reorder each trajectory's steps by the factor they move: (..., r, d factors)
    order = np.argsort(changed, axis=1)
    ee = np.take_along_axis(ee_steps, np.broadcast_to(order, ee_steps.shape), axis=-1)
    w = np.take_along_axis(w_steps, np.broadcast_to(order, w_steps.shape), axis=-1)
    sigma2 = ee.var(axis=-2, ddof=1) if r > 1 else np.full(ee.shape[:-2] + (d,), np.nan)
    return {
        "mu": ee.mean(axis=-2),
        "mu_star": np.abs(ee).mean(axis=-2),
        "sigma": np.sqrt(sigma2),
        "sigma_corrected": np.sqrt(np.maximum(sigma2 - w.mean(axis=-2), 0.0)),
        "mu_rms_corrected": np.sqrt(np.maximum((ee**2).mean(axis=-2) - w.mean(axis=-2), 0.0)),
        "mu_star_noise_floor": (np.sqrt(2.0 / np.pi) * np.sqrt(w)).mean(axis=-2),
    }


MORRIS_COLUMNS = ("mu", "mu_conf", "mu_star", "mu_star_conf", "mu_star_noise_floor", "sigma", "sigma_conf",
                  "sigma_corrected", "sigma_corrected_conf", "mu_rms_corrected", "mu_rms_corrected_conf")


def noise_corrected_morris(u: np.ndarray, values: np.ndarray, names: list[str], bootstrap: int = 500,
                           confidence: float = 0.95, rng: np.random.Generator | None = None,
                           resample_replicates: bool = True) -> pd.DataFrame:
    """Morris measures with the noise accounted for, and two-level bootstrap half-widths.

    Parameters
    ----------
    u : numpy.ndarray
        Morris trajectories in unit coordinates, shape ``(r (d + 1), d)``.
    values : numpy.ndarray
        Replicate outputs per point, shape ``(n_points, R)``, R >= 2 (output units).
    names : list of str
        Factor names.
    bootstrap, confidence, rng, resample_replicates
        As in :func:`noise_corrected_sobol`; the outer level resamples trajectories.

    Returns
    -------
    pandas.DataFrame
        Index ``factor``; the columns of ``MORRIS_COLUMNS`` (output units per whole factor range).  Rank by
        ``mu_rms_corrected``: its square is unbiased for the mean squared effect of the expected outcome.
    """
    if rng is None:
        raise ValueError("pass a numpy.random.Generator (rng) so the bootstrap is reproducible")
    u = np.asarray(u, dtype=float)
    values, count = _compact(values)
    d = len(names)
    r = len(u) // (d + 1)
    _require_replicates(count[: r * (d + 1)], "noise_corrected_morris")
    mean, var, _ = point_moments(values)
    est = morris_estimates(u, mean, var / count)
    keys = ("mu", "mu_star", "sigma", "sigma_corrected", "mu_rms_corrected")
    boot = {key: np.empty((bootstrap, d)) for key in keys}
    block = d + 1
    for i in range(bootstrap):
        traj = rng.integers(0, r, size=r)
        pts = (traj[:, None] * block + np.arange(block)).ravel()
        sample = values[pts]
        if resample_replicates:
            sample = _resample_within(sample, count[pts], rng)
        m, v, c = point_moments(sample)
        b_est = morris_estimates(u[pts], m, v / c)
        for key in keys:
            boot[key][i] = b_est[key]
    z = _z(confidence)
    frame = pd.DataFrame(index=pd.Index(names, name="factor"))
    for key in keys:
        frame[key] = est[key]
        frame[f"{key}_conf"] = z * np.nanstd(boot[key], axis=0, ddof=1)
    frame["mu_star_noise_floor"] = est["mu_star_noise_floor"]
    return frame[list(MORRIS_COLUMNS)]


def within_interval(value: np.ndarray, centre: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Whether ``value`` lies in ``centre +- half_width`` (elementwise)."""
    return np.abs(np.asarray(value) - np.asarray(centre)) <= np.asarray(half_width)


__all__ = [
    "MORRIS_COLUMNS",
    "SOBOL_COLUMNS",
    "morris_estimates",
    "noise_corrected_morris",
    "noise_corrected_sobol",
    "point_moments",
    "replicate_matrix",
    "saltelli_estimates",
    "within_interval",
]
