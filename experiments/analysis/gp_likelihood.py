r"""The emulator GP's log marginal likelihood and its gradient, computed without scikit-learn's
(n, n, d) gradient tensor, and a hyperparameter search built on it.

The kernel is the emulator's: ``k(x, x') = c (1 + r + r^2 / 3) exp(-r)`` with ``r = sqrt(5) |(x - x') / l|``
(Matern-5/2 with one length scale ``l_j`` per factor, times a constant ``c``), plus the known nugget
``alpha_i`` on the diagonal; hyperparameters ``theta = (log c, log l_1, ..., log l_d)`` as in scikit-learn.
With ``K = k(X, X) + diag(alpha)``, ``a = K^-1 y`` and ``W = a a^T - K^-1`` (Rasmussen & Williams 2006,
eq. 5.9) the gradient is ``0.5 sum_ik W_ik dK_ik / dtheta``.  For the constant that is
``0.5 sum W * k(X, X)``.  For a length scale, ``dK_ik / dlog l_j = G_ik D_ikj`` with
``G = c (5/3) (1 + r) exp(-r)`` and ``D_ikj = (x_ij - x_kj)^2 / l_j^2``; with ``M = W * G`` (symmetric)

    sum_ik M_ik (s_ij - s_kj)^2 = 2 (sum_i s_ij^2 (M 1)_i - sum_i s_ij (M s)_ij),   s = x / l,

so the ``d`` derivatives cost one (n, n) x (n, d) product instead of a (n, n, d) tensor -- the same
numbers as ``GaussianProcessRegressor.log_marginal_likelihood(theta, eval_gradient=True)`` (checked in
tests/test_gp_likelihood.py).  At 27 factors a whole maximum-likelihood fit takes 0.24-0.32, 0.20-0.21
and 0.12-0.13 of scikit-learn's own search's time at 288, 576 and 1,152 points (three runs) and reaches
the same likelihood (benchmarks/bench_gp_likelihood.py, measured 3 December 2026 on the idle 2-core
machine), which is what makes nested cross-validation and re-estimating refits affordable on the
all-factors design.  Memory: a few (n, n) matrices.

Reference: Rasmussen, C. E. & Williams, C. K. I. (2006). Gaussian Processes for Machine Learning. MIT
Press, section 5.4.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg, optimize
from scipy.spatial.distance import cdist


def _matern52(r: np.ndarray, amplitude: float) -> tuple[np.ndarray, np.ndarray]:
    """The kernel at ``r = sqrt(5) |(x - x') / l|``, and ``exp(-r)`` (which the gradient needs too)."""
    decay = np.exp(-r)
    return amplitude * (1 + r + r * r / 3) * decay, decay


def _whitened(kernel: np.ndarray, alpha: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Cholesky factor ``L`` of ``kernel + diag(alpha)``, ``L^-1 y`` and the log likelihood; None where the
    matrix is not positive definite."""
    matrix = kernel.copy()
    matrix[np.diag_indices_from(matrix)] += alpha
    try:
        factor = linalg.cholesky(matrix, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    weights = linalg.solve_triangular(factor, y, lower=True, check_finite=False)
    value = -0.5 * weights @ weights - np.log(np.diag(factor)).sum() - 0.5 * len(y) * np.log(2 * np.pi)
    return factor, weights, float(value)


def log_likelihood_of_distances(squared: np.ndarray, y: np.ndarray, amplitude: float, alpha: np.ndarray) -> float:
    """Log marginal likelihood of ``y`` under ``amplitude * Matern-5/2`` of the scaled squared distances
    ``squared`` (n, n) plus the nugget ``alpha`` (n,); ``-inf`` if not positive definite.  No gradient: for
    searches that change the distances one factor at a time (the input warps)."""
    found = _whitened(_matern52(np.sqrt(5.0 * squared), amplitude)[0], alpha, y)
    return -np.inf if found is None else found[2]


def matern52_log_likelihood(theta: np.ndarray, x: np.ndarray, y: np.ndarray,
                            alpha: np.ndarray) -> tuple[float, np.ndarray]:
    """Log marginal likelihood of ``y`` (n,) at inputs ``x`` (n, d) with nugget ``alpha`` (n,) and its
    gradient with respect to ``theta = (log c, log l_1, ..., log l_d)``; ``(-inf, 0)`` where the kernel
    matrix is not positive definite (as scikit-learn returns)."""
    theta = np.asarray(theta, float)
    amplitude, scaled = np.exp(theta[0]), x / np.exp(theta[1:])
    r = np.sqrt(5.0) * cdist(scaled, scaled)
    kernel, decay = _matern52(r, amplitude)
    found = _whitened(kernel, alpha, y)
    if found is None:
        return -np.inf, np.zeros_like(theta)
    factor, weights, log_likelihood = found
    a = linalg.solve_triangular(factor, weights, lower=True, trans="T", check_finite=False)  # K^-1 y
    inverse = linalg.lapack.dpotri(factor, lower=1)[0]  # lower triangle of K^-1 from the Cholesky factor
    inverse = np.tril(inverse) + np.tril(inverse, -1).T
    w = np.outer(a, a) - inverse
    m = w * (amplitude * (5.0 / 3.0) * (1 + r) * decay)
    lengths = (scaled**2 * m.sum(axis=1)[:, None]).sum(axis=0) - (scaled * (m @ scaled)).sum(axis=0)
    return log_likelihood, np.concatenate([[0.5 * np.sum(w * kernel)], lengths])


@dataclass(frozen=True)
class MaternSearch:
    """Maximum-likelihood search of the emulator kernel's hyperparameters: scipy's L-BFGS-B on
    :func:`matern52_log_likelihood`, as scikit-learn's own ``"fmin_l_bfgs_b"`` does on its objective.

    Passed to ``GaussianProcessRegressor(optimizer=...)``, which calls it with its own objective, a start
    and the bounds (once, and once per restart); ``x``, ``y`` and ``alpha`` must be the data of that fit.
    ``iterations`` caps the L-BFGS iterations (0: until it converges; capped searches are the bootstrap
    refits' warm starts)."""

    x: np.ndarray
    y: np.ndarray
    alpha: np.ndarray
    iterations: int = 0

    def __call__(self, objective: Any, theta: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, float]:
        alpha = np.broadcast_to(np.asarray(self.alpha, float), (len(self.y),))

        def negative(t: np.ndarray) -> tuple[float, np.ndarray]:
            value, gradient = matern52_log_likelihood(t, self.x, self.y, alpha)
            return -value, -gradient

        options = {"maxiter": self.iterations} if self.iterations else {}
        found = optimize.minimize(negative, theta, method="L-BFGS-B", jac=True, bounds=bounds, options=options)
        return found.x, float(found.fun)
