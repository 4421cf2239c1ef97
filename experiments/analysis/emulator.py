r"""Emulator-based sensitivity analysis of a stochastic model: a surrogate of the replicate means that knows
each point's noise, its cross-validated accuracy, and Sobol' indices of its mean with intervals.

Design: ``n`` space-filling points (Sobol' or LHS, unit coordinates) with ``R >= 2`` replicates each; per
point the replicate mean ``ybar`` and the within-point variance ``s2`` (ddof 1).  The noise variance of
``ybar`` is ``s2 / R``: the emulator is told it, so it smooths the noise instead of interpolating it.

Surrogates, compared on noisy 8-input known-answer functions by benchmarks/bench_emulator.py.  The GP
is the default: it predicts better (higher cross-validated Q^2) in every case there and gives accurate
indices on the G-function; on Ishigami with 5 inert inputs at n = 256 its maximum-likelihood fit misses
x2, which its low Q^2 (< 0.85) shows, so trust emulator indices only above a Q^2 threshold (0.9).

* ``"gp"`` -- Gaussian process regression (Oakley & O'Hagan 2004) with scikit-learn's
  ``GaussianProcessRegressor``: an anisotropic Matern-5/2 kernel times a constant, hyperparameters by
  maximum marginal likelihood (L-BFGS-B on :mod:`experiments.analysis.gp_likelihood`, the same likelihood
  and gradient as scikit-learn's without its (n, n, d) gradient tensor), and a nugget
  ``alpha_i = noise_i / sd(ybar)^2`` (the outputs are standardised first, so the nugget is in standardised
  units).  With ``warping = "kumaraswamy"`` the GP
  is of Kumaraswamy-warped factors chosen by marginal likelihood (:mod:`experiments.analysis.input_warping`),
  for outcomes that change fast in one part of a factor's range.
* ``"pce"`` -- sparse polynomial chaos (Blatman & Sudret 2011): orthonormal Legendre polynomials of the
  uniform inputs (numpy.polynomial.legendre), total degree ``p``, terms chosen by least-angle regression with
  cross-validation (scikit-learn ``LassoLarsCV``) on rows weighted by ``1 / noise`` (normalised), then
  refitted by weighted least squares on the chosen terms.  Sobol' indices follow from the coefficients
  (Sudret 2008).

Which noise the surrogate is told (:func:`told_noise`).  ``"pooled"`` (the default): the pooled
within-point variance ``sum (R_i - 1) s2_i / sum (R_i - 1)`` divided by ``R_i`` -- a homoscedastic
working model.  ``"per_point"``: each point's own ``s2_i / R_i``.  With R = 8 a point's ``s2`` is itself
noisy (relative sd sqrt(2 / 7) = 0.53 for Gaussian noise) and it is exactly 0 wherever all replicates
agree, which is common for rare outcomes (a share that is 0 in every replicate): the GP is then told that
those means are exact and must interpolate them, and its fit collapses.  Measured on the all-factors study
(the same 288 points x 8 analysed with ``noise = "per_point"`` and ``"pooled"``, 2 December 2026;
docs/sensitivity.md, "The all-factors study"): noise-corrected Q^2 per-point -> pooled: structural_share
(176 all-zero points) -0.38 -> 0.89, continued_by_school_y5 (50) 0.67 -> 0.87, taken_over_share
0.92 -> 0.95, faded_share 0.94 -> 0.94.  A mis-specified homoscedastic
nugget costs efficiency, not consistency, of the posterior mean; the noise-corrected Q^2 is always
computed with the per-point variances (an unbiased estimate of the total noise whatever the working model).

Indices of the emulator's mean function ``m^(x)`` (GP: Monte Carlo with the Saltelli-2010 S1 and
Jansen-1999 ST estimators on ``16 n_mc`` random base rows; PCE: exact from coefficients).  Intervals keep
the two errors of such an index apart (Janon, Nodet & Prieur 2014).  The emulator's own uncertainty comes
from **bootstrap refits**: the design points are resampled with replacement and the surrogate refitted
(GP: a point drawn ``c`` times enters once with nugget ``alpha / c``, which is the same likelihood as
``c`` copies; PCE: weighted least squares with weights times ``c``), and every refit's indices are computed
on one common Monte Carlo sample of ``n_mc`` base rows, so their spread is the emulator's, not the
sample's.  The Monte Carlo error of the point estimate comes from resampling its base rows.  The half-width
combines both.  ``hyperparameters="refitted"`` re-estimates the hyperparameters in every refit (a
bootstrap of the whole fitting procedure, Efron & Tibshirani 1993), so their uncertainty is included;
``"fixed"`` keeps the full fit's, which is cheaper but too narrow (``benchmarks/bench_emulator_intervals.py``
measures the coverage of both on the noisy G-function).

Indices of the replicate *variance* (which factors make outcomes unpredictable; Marrel et al. 2012, the
dispersion part of a joint metamodel): a GP of ``log s2`` with the known nugget of a log sample variance
(for Gaussian noise ``Var log s2 = psi'((R - 1)/2)``, and ``E log s2 = log sigma^2 + psi((R-1)/2) -
log((R-1)/2)``, removed), and Sobol' indices of ``exp`` of its mean, i.e. of ``sigma^2(x)``.

References
----------
Bastos, L. S. & O'Hagan, A. (2009). Diagnostics for Gaussian process emulators. Technometrics 51,
425-438.
Blatman, G. & Sudret, B. (2011). Adaptive sparse polynomial chaos expansion based on least angle
regression. J. Comput. Phys. 230, 2345-2367.
Janon, A., Nodet, M. & Prieur, C. (2014). Uncertainties assessment in global sensitivity indices
estimation from metamodels. Int. J. Uncertain. Quantif. 4, 21-36.
Marrel, A., Iooss, B., Da Veiga, S. & Ribatet, M. (2012). Global sensitivity analysis of stochastic
computer models with joint metamodels. Stat. Comput. 22, 833-847.
Oakley, J. E. & O'Hagan, A. (2004). Probabilistic sensitivity analysis of complex models: a Bayesian
approach. J. R. Stat. Soc. B 66, 751-769.
Sudret, B. (2008). Global sensitivity analysis using polynomial chaos expansions. Reliab. Eng. Syst. Saf.
93, 964-979.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from experiments.analysis.gp_likelihood import MaternSearch
from experiments.analysis.input_warping import choose_warps, kumaraswamy
from experiments.analysis.noise_corrected import saltelli_estimates

KINDS = ("gp", "pce")
NOISE_MODELS = ("pooled", "per_point")
WARPINGS = ("none", "kumaraswamy")

#: Smallest nugget (standardised units): keeps the GP's kernel matrix well conditioned for noise-free data.
NUGGET_FLOOR = 1e-8


def told_noise(var: np.ndarray, count: np.ndarray, model: str = "pooled") -> np.ndarray:
    """The noise variance of each replicate mean the surrogate is told (output units squared).

    ``var`` is the within-point sample variance (ddof 1) and ``count`` the replicates R_i of each point
    (all >= 2).  ``"pooled"``: ``s2_pooled / R_i`` with ``s2_pooled`` weighted by the degrees of freedom
    ``R_i - 1``; ``"per_point"``: ``s2_i / R_i`` (see the module docstring for when each is right).
    """
    var, count = np.asarray(var, float), np.asarray(count, float)
    if model == "per_point":
        return var / count
    if model == "pooled":
        return np.average(var, weights=count - 1) / count
    raise ValueError(f"noise model {model!r} is unknown; allowed: {', '.join(NOISE_MODELS)}")


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


# --------------------------------------------------------------------------------------- surrogates


@dataclass
class GaussianProcessEmulator:
    """A fitted GP of replicate means with a per-point noise nugget (see the module docstring); with
    ``warps`` (d, 2) the GP is of the Kumaraswamy-warped coordinates (:mod:`experiments.analysis.input_warping`)."""

    model: Any
    offset: float
    scale: float
    kernel: Any = None
    warps: np.ndarray | None = None

    @classmethod
    def fit(cls, u: np.ndarray, mean: np.ndarray, noise: np.ndarray, rng: np.random.Generator,
            restarts: int = 1, kernel: Any = None, weights: np.ndarray | None = None,
            optimise: bool = False, iterations: int = 0, warping: str = "none",
            warps: np.ndarray | None = None) -> GaussianProcessEmulator:
        """Fit to points ``u`` (n, d), replicate means ``mean`` and their noise variances ``noise`` = s2 / R.

        ``kernel`` given: its hyperparameters (and ``warps``, if given) are kept, or with ``optimise`` the
        maximum-likelihood search starts from them and takes at most ``iterations`` steps (0: until it
        converges; bootstrap refits); ``weights`` = how often each point counts.  Without ``kernel``,
        ``warping = "kumaraswamy"`` chooses a warp per factor after an unwarped fit and re-estimates the
        hyperparameters on the warped coordinates.
        """
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern

        if warping not in WARPINGS:
            raise ValueError(f"warping {warping!r} is unknown; allowed: {', '.join(WARPINGS)}")
        u, mean, noise = np.asarray(u, float), np.asarray(mean, float), np.asarray(noise, float)
        if weights is not None:
            keep = weights > 0
            u, mean, noise, weights = u[keep], mean[keep], noise[keep], weights[keep]
        offset, scale = float(mean.mean()), float(mean.std()) or 1.0
        z = (mean - offset) / scale
        alpha = np.maximum(noise / scale**2, NUGGET_FLOOR)
        if weights is not None:
            alpha = alpha / weights
        d = u.shape[1]
        x = u if warps is None else kumaraswamy(u, warps)
        if kernel is None:
            kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.full(d, 0.5), (1e-2, 1e2), nu=2.5)
            model = GaussianProcessRegressor(kernel, alpha=alpha, normalize_y=False, n_restarts_optimizer=restarts,
                                             optimizer=MaternSearch(x, z, alpha),
                                             random_state=int(rng.integers(2**31 - 1)))
        elif optimise:
            # a bootstrap refit's search starts from the full fit's optimum, at most `iterations` steps
            model = GaussianProcessRegressor(kernel, alpha=alpha, normalize_y=False, n_restarts_optimizer=0,
                                             optimizer=MaternSearch(x, z, alpha, iterations))
        else:
            model = GaussianProcessRegressor(kernel, alpha=alpha, normalize_y=False, optimizer=None)
        with warnings.catch_warnings():
            # a length scale at its bound means "this factor does nothing": expected, not a problem
            warnings.simplefilter("ignore")
            model.fit(x, z)
            if warping == "kumaraswamy" and warps is None:
                fitted = model.kernel_
                warps = choose_warps(u, z, alpha, fitted.k1.constant_value, fitted.k2.length_scale)
                # the hyperparameters anew on the warped coordinates, from the unwarped optimum
                warped = kumaraswamy(u, warps)
                model = GaussianProcessRegressor(fitted, alpha=alpha, normalize_y=False, n_restarts_optimizer=0,
                                                 optimizer=MaternSearch(warped, z, alpha))
                model.fit(warped, z)
        return cls(model, offset, scale, model.kernel_, warps)

    def predict(self, u: np.ndarray, block: int = 16_384) -> np.ndarray:
        """Emulator mean at ``u`` (output units); in blocks of rows, so that the cross-kernel matrix
        (rows x design points) stays small for Monte Carlo samples of hundreds of thousands of rows."""
        x = self._inputs(u)
        parts = [self.model.predict(x[i:i + block]) for i in range(0, len(x), block)] or [np.empty(0)]
        return self.offset + self.scale * np.concatenate(parts)

    def predict_sd(self, u: np.ndarray) -> np.ndarray:
        """Posterior standard deviation of the emulator's mean function at ``u`` (output units): the GP's
        uncertainty about the expected outcome there, without the replicate noise."""
        return self.scale * self.model.predict(self._inputs(u), return_std=True)[1]

    def _inputs(self, u: np.ndarray) -> np.ndarray:
        """The GP's coordinates of unit-cube points: warped if the fit chose warps."""
        u = np.asarray(u, float)
        return u if self.warps is None else kumaraswamy(u, self.warps)

    def refit(self, u: np.ndarray, mean: np.ndarray, noise: np.ndarray, weights: np.ndarray,
              rng: np.random.Generator, hyperparameters: str = "fixed", iterations: int = 0) -> GaussianProcessEmulator:
        """The GP refitted to reweighted points; the warps are always kept (searching them costs more than
        the refit), the kernel's hyperparameters re-estimated with ``hyperparameters = "refitted"``."""
        return GaussianProcessEmulator.fit(u, mean, noise, rng, kernel=self.kernel, weights=weights,
                                           optimise=hyperparameters == "refitted", iterations=iterations,
                                           warps=self.warps)


def total_degree_indices(n_inputs: int, order: int) -> np.ndarray:
    """Multi-indices (P, d) of total degree <= ``order``, graded (degree 0 first)."""
    rows = [np.zeros(n_inputs, dtype=np.int64)]
    frontier = {tuple(rows[0])}
    for _ in range(order):
        nxt = set()
        for alpha in frontier:
            for j in range(n_inputs):
                beta = list(alpha)
                beta[j] += 1
                nxt.add(tuple(beta))
        rows.extend(np.array(sorted(nxt, reverse=True), dtype=np.int64))
        frontier = nxt
    return np.array(rows, dtype=np.int64)


def legendre_basis(u: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal Legendre basis of total degree <= ``order`` for independent uniform inputs on [0, 1].

    ``phi_a(u) = prod_j sqrt(2 a_j + 1) P_{a_j}(2 u_j - 1)``, orthonormal under the uniform measure
    (numpy.polynomial.legendre).  Returns the basis matrix (n, P) and the multi-indices (P, d).
    """
    from numpy.polynomial import legendre

    u = np.atleast_2d(np.asarray(u, float))
    d = u.shape[1]
    multi = total_degree_indices(d, order)
    # one-dimensional values: (order + 1, n, d)
    eye = np.eye(order + 1)
    one_d = np.stack([np.sqrt(2 * k + 1) * legendre.legval(2 * u - 1, eye[k]) for k in range(order + 1)])
    basis = np.ones((len(u), len(multi)))
    for j in range(d):
        basis *= one_d[multi[:, j], :, j].T
    return basis, multi


@dataclass
class PolynomialChaosEmulator:
    """A sparse PCE of replicate means (LARS-selected terms, weighted least squares)."""

    order: int
    multi: np.ndarray
    coef: np.ndarray
    terms: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))

    @classmethod
    def fit(cls, u: np.ndarray, mean: np.ndarray, noise: np.ndarray, rng: np.random.Generator, order: int = 4,
            terms: np.ndarray | None = None, weights: np.ndarray | None = None) -> PolynomialChaosEmulator:
        from sklearn.linear_model import LassoLarsCV

        basis, multi = legendre_basis(u, order)
        mean, noise = np.asarray(mean, float), np.asarray(noise, float)
        w = 1.0 / np.maximum(noise, 1e-12 * max(float(np.var(mean)), 1e-300))
        w = w / w.mean()
        if weights is not None:
            w = w * weights
        root = np.sqrt(w)
        if terms is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lars = LassoLarsCV(fit_intercept=False, cv=5, max_n_alphas=200).fit(basis * root[:, None],
                                                                                   mean * root)
            terms = np.union1d([0], np.flatnonzero(lars.coef_))
        coef = np.zeros(len(multi))
        sol, *_ = np.linalg.lstsq(basis[:, terms] * root[:, None], mean * root, rcond=None)
        coef[terms] = sol
        return cls(order, multi, coef, np.asarray(terms))

    def predict(self, u: np.ndarray) -> np.ndarray:
        basis, _ = legendre_basis(u, self.order)
        return basis @ self.coef

    def refit(self, u: np.ndarray, mean: np.ndarray, noise: np.ndarray, weights: np.ndarray,
              rng: np.random.Generator, hyperparameters: str = "fixed", iterations: int = 0) -> PolynomialChaosEmulator:
        terms = None if hyperparameters == "refitted" else self.terms  # "refitted": the terms chosen anew
        return PolynomialChaosEmulator.fit(u, mean, noise, rng, self.order, terms=terms, weights=weights)

    def indices(self) -> dict[str, np.ndarray]:
        """Exact S1 and ST of the expansion (orthonormal basis: variance = sum of squared coefficients)."""
        c2 = self.coef**2
        active = self.multi > 0
        constant = ~active.any(axis=1)
        total = c2[~constant].sum()
        only = active & (active.sum(axis=1, keepdims=True) == 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {"S1": (c2[:, None] * only).sum(axis=0) / total, "ST": (c2[:, None] * active).sum(axis=0) / total}


def fit_emulator(kind: str, u: np.ndarray, mean: np.ndarray, noise: np.ndarray, rng: np.random.Generator,
                 **options: Any) -> GaussianProcessEmulator | PolynomialChaosEmulator:
    """Fit a surrogate of kind ``"gp"`` or ``"pce"`` (options: GP ``restarts``, ``warping``, ``kernel``,
    ``warps``; PCE ``order``)."""
    if kind == "gp":
        return GaussianProcessEmulator.fit(u, mean, noise, rng, **options)
    if kind == "pce":
        return PolynomialChaosEmulator.fit(u, mean, noise, rng, **options)
    raise ValueError(f"emulator kind {kind!r} is unknown; allowed: {', '.join(KINDS)}")


# --------------------------------------------------------------------------------------- accuracy


def noise_corrected_q2(mean: np.ndarray, pred: np.ndarray, measured: np.ndarray) -> float:
    """``1 - (sum (ybar - yhat)^2 - N) / (sum (ybar - mean(ybar))^2 - N)`` with ``N = sum s2_i / R_i``: the
    Q^2 of predictions ``yhat`` against the expected outcome, from noisy replicate means ``ybar`` (each sum
    minus its expected noise; dimensionless)."""
    total_noise = float(np.sum(measured))
    sse = float(np.sum((mean - pred) ** 2))
    sst = float(np.sum((mean - mean.mean()) ** 2))
    return 1 - (sse - total_noise) / (sst - total_noise)


def q2_standard_error(mean: np.ndarray, pred: np.ndarray, measured: np.ndarray, rng: np.random.Generator,
                      resamples: int = 1000) -> float:
    """Bootstrap standard error of :func:`noise_corrected_q2` over the held-out points.

    The points (replicate mean, its cross-validated prediction and measured noise) are resampled with
    replacement and the statistic recomputed; the predictions are kept, so this is the sampling error of
    the estimate of Q^2 from this many noisy points, not the spread over refits.  It is what decides
    whether a Q^2 close to the threshold is above or below it by more than chance.
    """
    mean, pred, measured = (np.asarray(a, float) for a in (mean, pred, measured))
    rows = rng.integers(0, len(mean), (resamples, len(mean)))
    y, noise = mean[rows], measured[rows].sum(axis=1)
    sse = ((y - pred[rows]) ** 2).sum(axis=1)
    sst = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    return float(np.std(1 - (sse - noise) / (sst - noise), ddof=1))


def cross_validated_q2(kind: str, u: np.ndarray, mean: np.ndarray, noise: np.ndarray, rng: np.random.Generator,
                       folds: int = 5, measured_noise: np.ndarray | None = None,
                       se_rng: np.random.Generator | None = None, **options: Any) -> dict[str, float]:
    """k-fold cross-validated Q^2 of the emulator against the held-out replicate means.

    ``q2 = 1 - sum (ybar - yhat)^2 / sum (ybar - mean(ybar))^2`` over all held-out points.  The held-out
    means are noisy, which caps ``q2`` below 1; ``q2_noise_corrected`` (:func:`noise_corrected_q2`)
    subtracts the total noise ``sum s2_i/R_i`` from both sums (the Q^2 against the expected outcome,
    estimated without bias in numerator and denominator).  ``noise`` is what the surrogate is told;
    ``measured_noise`` (default ``noise``) the per-point ``s2_i/R_i`` used for the correction.  With
    ``se_rng`` also ``q2_noise_corrected_se`` (:func:`q2_standard_error`).  Always ``cv_coverage`` and
    ``cv_mean_squared_error`` of the held-out predictions (:func:`predictive_calibration`).  Dimensionless.
    """
    u, mean, noise = np.asarray(u, float), np.asarray(mean, float), np.asarray(noise, float)
    measured = noise if measured_noise is None else np.asarray(measured_noise, float)
    n = len(mean)
    fold = rng.permutation(n) % folds
    pred, sd = np.empty(n), np.full(n, np.nan)
    for k in range(folds):
        test = fold == k
        model = fit_emulator(kind, u[~test], mean[~test], noise[~test], rng, **options)
        pred[test] = model.predict(u[test])
        if hasattr(model, "predict_sd"):
            sd[test] = model.predict_sd(u[test])
    result = {"q2": noise_corrected_q2(mean, pred, np.zeros(n)),  # raw: no noise removed
              "q2_noise_corrected": noise_corrected_q2(mean, pred, measured)}
    if se_rng is not None:
        result["q2_noise_corrected_se"] = q2_standard_error(mean, pred, measured, se_rng)
    result.update(predictive_calibration(mean, pred, sd**2 + noise))
    return result


def predictive_calibration(mean: np.ndarray, pred: np.ndarray, variance: np.ndarray,
                           confidence: float = 0.95) -> dict[str, float]:
    """How well the emulator's own uncertainty describes its held-out errors (Bastos & O'Hagan 2009).

    Each held-out replicate mean gets the standardised error ``e_i = (ybar_i - yhat_i) / sqrt(v_i)``, with
    ``v_i`` the predictive variance of that mean: the GP's posterior variance of the mean function plus the
    noise variance it was told.  For a calibrated emulator ``e`` is about standard normal, so
    ``cv_coverage`` (the share with ``|e_i| <= z``, the normal quantile of ``confidence``) is about
    ``confidence`` and ``cv_mean_squared_error`` (``mean e_i^2``) about 1: below, the emulator claims more
    uncertainty than its errors show; above (or coverage too low), its bands are too narrow -- it is
    overconfident about points it has not seen.  Both NaN for a surrogate without a predictive variance
    (PCE).  Dimensionless.
    """
    variance = np.asarray(variance, float)
    if not np.isfinite(variance).all():
        return {"cv_coverage": float("nan"), "cv_mean_squared_error": float("nan")}
    e = (np.asarray(mean, float) - np.asarray(pred, float)) / np.sqrt(np.maximum(variance, 1e-300))
    return {"cv_coverage": float(np.mean(np.abs(e) <= _z(confidence))),
            "cv_mean_squared_error": float(np.mean(e**2))}


# --------------------------------------------------------------------------------------- indices


#: The point estimate uses this many times ``n_mc`` base rows, so that its own Monte Carlo error is small.
POINT_SAMPLE_FACTOR = 16

#: Resamples of the point estimate's base rows behind its Monte Carlo standard error.
MC_RESAMPLES = 100


def saltelli_rows(d: int, n_mc: int, rng: np.random.Generator) -> np.ndarray:
    """A random Saltelli sample in the unit cube: ``n_mc`` blocks ``A, AB_1 .. AB_d, B`` as rows (n_mc (d + 2), d)."""
    a, b = rng.random((n_mc, d)), rng.random((n_mc, d))
    rows = np.empty((n_mc, d + 2, d))
    rows[:, 0], rows[:, -1] = a, b
    for i in range(d):
        rows[:, i + 1] = a
        rows[:, i + 1, i] = b[:, i]
    return rows.reshape(-1, d)


def _mc_indices(model: Any, d: int, n_mc: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Saltelli-2010 S1 and Jansen ST of ``model.predict`` on a random sample of ``n_mc`` base rows."""
    return saltelli_estimates(model.predict(saltelli_rows(d, n_mc, rng)), d)


def monte_carlo_sd(values: np.ndarray, d: int, rng: np.random.Generator,
                   resamples: int = MC_RESAMPLES) -> dict[str, np.ndarray]:
    """Standard error of the Monte Carlo S1 and ST from ``values`` of a Saltelli sample (n_mc (d + 2),):
    the base rows (blocks) resampled with replacement, no new model evaluations (dimensionless, per factor)."""
    blocks = np.asarray(values, float).reshape(-1, d + 2)
    n = len(blocks)
    draws = {"S1": np.empty((resamples, d)), "ST": np.empty((resamples, d))}
    for i in range(resamples):
        est = saltelli_estimates(blocks[rng.integers(0, n, n)].ravel(), d)
        draws["S1"][i], draws["ST"][i] = est["S1"], est["ST"]
    return {key: draw.std(axis=0, ddof=1) for key, draw in draws.items()}


def emulator_indices(model: Any, u: np.ndarray, mean: np.ndarray, noise: np.ndarray, names: list[str],
                     rng: np.random.Generator, bootstrap: int = 50, n_mc: int = 4096,
                     confidence: float = 0.95, hyperparameters: str = "refitted",
                     iterations: int = 0) -> pd.DataFrame:
    """S1 and ST of the emulator's mean function with half-widths for the emulator and the Monte Carlo error.

    The two errors of the reported index are kept apart (Janon, Nodet & Prieur 2014):

    * the **emulator's** uncertainty, from ``bootstrap`` refits on resampled design points, every refit's
      indices computed on the *same* Monte Carlo sample of ``n_mc`` base rows (common random numbers), so
      that their spread is the emulator's and not the sample's;
    * the **Monte Carlo** error of the point estimate, which is computed on ``POINT_SAMPLE_FACTOR * n_mc``
      fresh base rows: its standard error from resampling those base rows (:func:`monte_carlo_sd`).

    The half-width is ``z * sqrt(sd_emulator^2 + sd_mc^2)``.  Drawing a fresh sample per refit instead
    would add the refits' own (larger, ``n_mc``-row) Monte Carlo error to the spread: for a factor with
    ST = 0.75 that error alone is a half-width of about 0.06 at 1,024 rows (sd of Jansen's estimator about
    ``ST sqrt(2 / n_mc)`` when the factor dominates), which once made up most of the interval.  PCE indices
    are exact functions of the coefficients (no Monte Carlo error).

    Parameters
    ----------
    model : GaussianProcessEmulator or PolynomialChaosEmulator
        The emulator fitted to all points.
    u, mean, noise : numpy.ndarray
        The design (n, d) in unit coordinates, replicate means (output units) and noise variances s2/R.
    names : list of str
        Factor names.
    rng : numpy.random.Generator
        Source of resampling and Monte Carlo samples.
    bootstrap : int
        Number of refits.
    n_mc : int
        Monte Carlo base rows of the refits' common sample (the point estimate uses ``16 n_mc``).
    confidence : float
        Level of the intervals (normal approximation).
    hyperparameters : {"fixed", "refitted"}
        ``"fixed"``: every refit keeps the full fit's hyperparameters (GP) or terms (PCE) -- fast, but the
        intervals leave out hyperparameter uncertainty; ``"refitted"``: every refit re-estimates them (GP:
        maximum likelihood started from the full fit's values), a bootstrap of the whole fitting procedure.
    iterations : int
        ``"refitted"`` GP: the most L-BFGS iterations of each refit's search (0: until it converges).

    Returns
    -------
    pandas.DataFrame
        Index ``factor``, columns ``S1, S1_conf, ST, ST_conf`` (dimensionless).
    """
    d = len(names)
    if isinstance(model, PolynomialChaosEmulator):
        point, mc_sd = model.indices(), {"S1": np.zeros(d), "ST": np.zeros(d)}
        shared = None
    else:
        values = model.predict(saltelli_rows(d, POINT_SAMPLE_FACTOR * n_mc, rng))
        point, mc_sd = saltelli_estimates(values, d), monte_carlo_sd(values, d, rng)
        shared = saltelli_rows(d, n_mc, rng)
    n = len(mean)
    boot = {key: np.empty((bootstrap, d)) for key in ("S1", "ST")}
    for i in range(bootstrap):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        refit = model.refit(u, mean, noise, weights, rng, hyperparameters, iterations)
        est = refit.indices() if shared is None else saltelli_estimates(refit.predict(shared), d)
        boot["S1"][i], boot["ST"][i] = est["S1"], est["ST"]
    z = _z(confidence)
    frame = pd.DataFrame(index=pd.Index(names, name="factor"))
    for key in ("S1", "ST"):
        frame[key] = point[key]
        frame[f"{key}_conf"] = z * np.hypot(boot[key].std(axis=0, ddof=1), mc_sd[key])
    return frame


@dataclass
class LogVarianceEmulator:
    """GP of the log within-point variance with the known sampling noise of a log sample variance."""

    gp: GaussianProcessEmulator
    bias: float

    @classmethod
    def fit(cls, u: np.ndarray, variance: np.ndarray, replicates: np.ndarray | int,
            rng: np.random.Generator) -> LogVarianceEmulator:
        """``variance`` = within-point sample variance (ddof 1), ``replicates`` = R per point (>= 2)."""
        r = np.broadcast_to(np.asarray(replicates, float), np.shape(variance))
        if np.any(r < 2):
            raise ValueError("indices of the replicate variance need R >= 2 replicates at every point")
        half = (r - 1) / 2
        positive = np.asarray(variance, float)
        floor = 1e-12 * max(float(np.nanmax(positive)), 1e-300)
        log_s2 = np.log(np.maximum(positive, floor))
        # E log s2 = log sigma^2 + psi(k) - log(k), k = (R-1)/2 (Gaussian noise): remove that bias
        bias = special.digamma(half) - np.log(half)
        gp = GaussianProcessEmulator.fit(u, log_s2 - bias, special.polygamma(1, half), rng)
        return cls(gp, float(np.mean(bias)))

    def predict(self, u: np.ndarray) -> np.ndarray:
        """Emulated noise variance sigma^2(x) (output units squared)."""
        return np.exp(self.gp.predict(u))


def variance_indices(u: np.ndarray, variance: np.ndarray, replicates: np.ndarray | int, names: list[str],
                     rng: np.random.Generator, n_mc: int = 4096) -> pd.DataFrame:
    """S1 and ST of the emulated replicate variance sigma^2(x): which factors make outcomes unpredictable.

    Point estimates only (columns ``S1``, ``ST``, dimensionless); Monte Carlo on ``4 n_mc`` base rows.
    """
    model = LogVarianceEmulator.fit(u, variance, replicates, rng)
    est = _mc_indices(model, len(names), 4 * n_mc, rng)
    return pd.DataFrame({"S1": est["S1"], "ST": est["ST"]}, index=pd.Index(names, name="factor"))


# --------------------------------------------------------------------------------------- comparison


def compare_surrogates(u: np.ndarray, mean: np.ndarray, noise: np.ndarray, exact: dict[str, np.ndarray],
                       rng: np.random.Generator, kinds: tuple[str, ...] = KINDS, folds: int = 5,
                       n_mc: int = 4096, options: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """Q^2 (k-fold), fit time and index errors against the exact indices, one row per surrogate kind.

    ``fit_seconds`` is the time of one fit on all points (wall clock, this process).
    """
    options = options or {}
    rows = []
    d = u.shape[1]
    for kind in kinds:
        opts = options.get(kind, {})
        q2 = cross_validated_q2(kind, u, mean, noise, rng, folds, **opts)
        start = time.perf_counter()
        model = fit_emulator(kind, u, mean, noise, rng, **opts)
        seconds = time.perf_counter() - start
        from_coefficients = isinstance(model, PolynomialChaosEmulator)
        est = model.indices() if from_coefficients else _mc_indices(model, d, 4 * n_mc, rng)
        top3 = set(np.argsort(-exact["ST"])[:3])
        rows.append({"kind": kind, **q2, "fit_seconds": seconds,
                     "S1_max_abs_error": float(np.max(np.abs(est["S1"] - exact["S1"]))),
                     "ST_max_abs_error": float(np.max(np.abs(est["ST"] - exact["ST"]))),
                     "top3_recovered": set(np.argsort(-est["ST"])[:3]) == top3})
    return pd.DataFrame(rows)


__all__ = [
    "KINDS",
    "WARPINGS",
    "GaussianProcessEmulator",
    "LogVarianceEmulator",
    "PolynomialChaosEmulator",
    "compare_surrogates",
    "cross_validated_q2",
    "emulator_indices",
    "fit_emulator",
    "legendre_basis",
    "monte_carlo_sd",
    "noise_corrected_q2",
    "q2_standard_error",
    "saltelli_rows",
    "total_degree_indices",
    "told_noise",
    "variance_indices",
]
