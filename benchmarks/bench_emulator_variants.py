"""Variants of the emulator's GP on a finished emulator run set, against the default in one process: the
noise-corrected 5-fold Q^2 of each (hyperparameters by maximum likelihood on all points, kept in the
folds, as the pipeline does) and its fit time.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_emulator_variants.py RUNSET [--outputs A B]
[--replicates 32] [--variants default ...]``, e.g. on ``lcsim sensitivity configs/sensitivity/all_factors.toml --set
emulator.points=576 --set replicates=32 --set emulator.refits=10 --backend processes --workers 2 --out
results/af_r32``.  Variants (docs/sensitivity.md, "Other surrogates on the all-factors design"):

* ``default``: Matern-5/2 with one length scale per factor, times a constant; pooled nugget;
* ``clipped``: the default's predictions clipped to the range of the observed run outcomes;
* ``linear trend``: plus a linear kernel (a linear mean with a Gaussian prior on its coefficients);
* ``Matern-3/2``: a rougher kernel;
* ``per-point noise``: each point's own s2 / R as its nugget;
* ``sqrt scale``: a GP of sqrt(ybar) with a learned nugget, predictions squared back;
* ``warped inputs``: the default on Kumaraswamy-warped factors (``[emulator] warping = "kumaraswamy"``,
  experiments/analysis/input_warping.py).

``--nested`` estimates the hyperparameters (and the warps) anew inside every fold from its training points
only, instead of once on all points: the honest cross-validated Q^2, at five times the fitting cost.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, DotProduct, Matern, WhiteKernel

from experiments.analysis.emulator import (
    GaussianProcessEmulator,
    cross_validated_q2,
    noise_corrected_q2,
    predictive_calibration,
    q2_standard_error,
    told_noise,
)
from experiments.analysis.emulator_study import pool_repeated_points
from experiments.analysis.noise_corrected import point_moments
from experiments.analysis.studies import replicate_values
from experiments.execution.engine import open_runset

VARIANTS = ("default", "clipped", "linear trend", "Matern-3/2", "per-point noise", "sqrt scale", "warped inputs")


def kernel(variant: str, d: int) -> object:
    base = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.full(d, 0.5), (1e-2, 1e2),
                                                      nu=1.5 if variant == "Matern-3/2" else 2.5)
    if variant == "linear trend":
        return base + ConstantKernel(0.1, (1e-4, 1e2)) * DotProduct(1.0, (1e-3, 1e3))
    if variant == "sqrt scale":
        return base + WhiteKernel(1e-2, (1e-6, 1.0))
    return base


def warped_q2(u: np.ndarray, mean: np.ndarray, var: np.ndarray, count: np.ndarray,
              nested: bool) -> tuple[float, float, float, float]:
    """``q2_of`` for the pipeline's own GP with warped inputs (``u`` in the unit cube), through the pipeline's
    ``cross_validated_q2`` with the same folds (``default_rng(2)``) and standard error (``default_rng(3)``)."""
    noise = told_noise(var, count, "pooled")
    start = time.perf_counter()
    full = GaussianProcessEmulator.fit(u, mean, noise, np.random.default_rng(1), restarts=0, warping="kumaraswamy")
    seconds = time.perf_counter() - start
    given = {"restarts": 0, "warping": "kumaraswamy"} if nested else {"kernel": full.kernel, "warps": full.warps}
    q2 = cross_validated_q2("gp", u, mean, noise, np.random.default_rng(2), folds=5, measured_noise=var / count,
                            se_rng=np.random.default_rng(3), **given)
    return q2["q2_noise_corrected"], q2["q2_noise_corrected_se"], seconds, q2["cv_coverage"]


def q2_of(variant: str, x: np.ndarray, mean: np.ndarray, var: np.ndarray, count: np.ndarray,
          bounds: tuple[float, float], nested: bool = False) -> tuple[float, float, float, float]:
    """Noise-corrected 5-fold Q^2 against the replicate means, its bootstrap standard error, the seconds
    of the fit on all points and the share of held-out means inside the GP's 95% predictive band
    (``predictive_calibration``; NaN on the square-root scale, whose band is not of the mean)."""
    if variant == "warped inputs":
        return warped_q2(x + 0.5, mean, var, count, nested)
    target = np.sqrt(np.maximum(mean, 0)) if variant == "sqrt scale" else mean
    offset, scale = target.mean(), target.std()
    z = (target - offset) / scale
    if variant == "sqrt scale":
        alpha = np.full(len(z), 1e-8)  # the WhiteKernel learns the noise on this scale
    else:
        noise = var / count if variant == "per-point noise" else told_noise(var, count, "pooled")
        alpha = np.maximum(noise / scale**2, 1e-8)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = GaussianProcessRegressor(kernel(variant, x.shape[1]), alpha=alpha, n_restarts_optimizer=0,
                                        random_state=1).fit(x, z)
    seconds = time.perf_counter() - start
    fold = np.random.default_rng(2).permutation(len(z)) % 5
    pred, sd = np.empty(len(z)), np.empty(len(z))
    for k in range(5):
        test = fold == k
        start_kernel = kernel(variant, x.shape[1]) if nested else full.kernel_
        search = "fmin_l_bfgs_b" if nested else None
        model = GaussianProcessRegressor(start_kernel, alpha=alpha[~test], optimizer=search,
                                         random_state=1).fit(x[~test], z[~test])
        pred[test], sd[test] = model.predict(x[test], return_std=True)
    pred, sd = pred * scale + offset, sd * scale
    if variant == "sqrt scale":
        pred = np.maximum(pred, 0) ** 2
    if variant == "clipped":
        pred = np.clip(pred, *bounds)
    measured = var / count
    se = q2_standard_error(mean, pred, measured, np.random.default_rng(3))
    band = (np.nan if variant == "sqrt scale"  # the band is of sqrt(ybar), not of the mean
            else predictive_calibration(mean, pred, sd**2 + alpha * scale**2)["cv_coverage"])
    return noise_corrected_q2(mean, pred, measured), se, seconds, band


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runset", type=Path)
    parser.add_argument("--outputs", nargs="+", default=["continued_by_school_y5", "structural_share"])
    parser.add_argument("--replicates", type=int, help="use only the first R replicates of each point")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--nested", action="store_true", help="hyperparameters (and warps) estimated in every fold")
    args = parser.parse_args()
    runset, config, _, _ = open_runset(args.runset)
    names = config.factor_names
    design = runset.design()
    u_all = design[[f"u.{n}" for n in names]].to_numpy(float)
    values = replicate_values(runset.read_runs(columns=args.outputs), args.outputs, len(design), config)
    folds = "nested " if args.nested else ""
    print(f"{args.runset}: noise-corrected {folds}5-fold Q^2 ± its standard error (fit seconds) "
          "[share of held-out means in the 95% predictive band] per variant\n")
    print("| output | points | R | " + " | ".join(args.variants) + " |")
    print("|---|---:|---:|" + "---:|" * len(args.variants))
    for name in args.outputs:
        u, pooled = pool_repeated_points(u_all, values[name])
        pooled = pooled[:, :args.replicates] if args.replicates else pooled
        mean, var, count = point_moments(pooled)
        ok = (count >= 2) & np.isfinite(mean)
        bounds = (float(np.nanmin(pooled)), float(np.nanmax(pooled)))
        cells = []
        for variant in args.variants:
            q2, se, seconds, band = q2_of(variant, u[ok] - 0.5, mean[ok], var[ok], count[ok], bounds, args.nested)
            cells.append(f"{q2:.3f} ± {se:.3f} ({seconds:.0f} s) [{band:.2f}]")
        print(f"| {name} | {int(ok.sum())} | {pooled.shape[1]} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
