"""The emulator's GP likelihood (experiments/analysis/gp_likelihood.py) against scikit-learn's, in one process:
seconds of one log-likelihood-and-gradient evaluation and of a whole maximum-likelihood fit from the same
start, and the log likelihood each fit reached.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_gp_likelihood.py [--points 288 576 1152] [--factors 27]``.
The data are a smooth function of three of the factors plus noise (sd 0.3, nugget told), standardised, as
the emulator sees the all-factors study's replicate means; the kernel, bounds and start are the emulator's.
The baseline is what a careful user of scikit-learn writes: ``GaussianProcessRegressor`` with its own
L-BFGS-B search (``optimizer="fmin_l_bfgs_b"``); the other fit passes ``MaternSearch`` as ``optimizer``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

from experiments.analysis.gp_likelihood import MaternSearch, matern52_log_likelihood


def seconds(call, repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, nargs="+", default=[288, 576, 1152])
    parser.add_argument("--factors", type=int, default=27)
    args = parser.parse_args()
    d = args.factors
    print(f"{d} factors; seconds (best of 3 for one evaluation, one run for a fit); ratio = own / scikit-learn\n")
    print("| points | evaluation: scikit-learn | own | ratio | fit: scikit-learn | own | ratio | log likelihood "
          "reached: scikit-learn | own |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.points:
        rng = np.random.default_rng([20261203, n])
        x = rng.random((n, d))
        y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2 + 0.5 * x[:, 0] * x[:, 2] + rng.normal(0, 0.3, n)
        y = (y - y.mean()) / y.std()
        alpha = np.full(n, 0.3**2 / np.var(y))
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.full(d, 0.5), (1e-2, 1e2), nu=2.5)
        fixed = GaussianProcessRegressor(kernel, alpha=alpha, optimizer=None).fit(x, y)
        theta = kernel.theta
        library = seconds(lambda: fixed.log_marginal_likelihood(theta, eval_gradient=True))
        own = seconds(lambda: matern52_log_likelihood(theta, x, y, alpha))
        fits = {}
        for name, optimizer in (("scikit-learn", "fmin_l_bfgs_b"), ("own", MaternSearch(x, y, alpha))):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # inert factors end at their length-scale bound
                gp = GaussianProcessRegressor(kernel, alpha=alpha, optimizer=optimizer).fit(x, y)
            fits[name] = (time.perf_counter() - start, gp.log_marginal_likelihood_value_)
        print(f"| {n} | {library:.3f} | {own:.3f} | {own / library:.3f} | {fits['scikit-learn'][0]:.1f} | "
              f"{fits['own'][0]:.1f} | {fits['own'][0] / fits['scikit-learn'][0]:.3f} | "
              f"{fits['scikit-learn'][1]:.2f} | {fits['own'][1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
