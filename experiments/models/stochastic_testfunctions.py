"""Stochastic known-answer functions: a deterministic mean plus replicate noise, with exact indices.

The quantity a sensitivity analysis of a stochastic model is after is the sensitivity of the *expected*
outcome ``m(x) = E[Y | x]`` (ten Broeke et al. 2016; Marrel et al. 2012).  These functions make that
target known: ``Y(x) = m(x) + s(x) * Z`` with ``Z`` standard normal, independent between runs, and ``m``
a function whose Sobol' indices are known in closed form.

All functions work on *unit coordinates* ``u`` (array of shape ``(n, d)`` in [0, 1]), the coordinates the
designs of :mod:`experiments.designs` produce, and are vectorised over rows.

Mean functions
--------------
* Sobol' G-function (Sobol' 1993; Saltelli et al. 2010, section 6), ``d`` inputs uniform on [0, 1]::

      m(u) = prod_i g_i(u_i),    g_i(u) = (|4 u - 2| + a_i) / (1 + a_i).

  Each ``g_i`` has mean 1 and variance ``V_i = 1 / (3 (1 + a_i)^2)``.  Because ``m`` is a product of
  independent factors with mean 1, its ANOVA decomposition gives

      Var m = prod_i (1 + V_i) - 1,
      S1_i  = V_i / Var m,
      ST_i  = V_i prod_{j != i} (1 + V_j) / Var m.

* Ishigami (Ishigami & Homma 1990), ``x_i = -pi + 2 pi u_i``, with ``k`` extra inputs that do nothing
  (``ishigami8`` has 5, so an emulator must find 3 active inputs among 8)::

      m(x) = sin x1 + a sin^2 x2 + b x3^4 sin x1,
      V1 = (1 + b pi^4 / 5)^2 / 2,   V2 = a^2 / 8,   V13 = b^2 pi^8 (1/18 - 1/50),
      S1 = (V1, V2, 0) / V,   ST = (V1 + V13, V2, V13) / V,   V = V1 + V2 + V13.

Noise
-----
* homoscedastic: ``s(x) = sd``;
* heteroscedastic: ``s(x) = sd * (0.25 + 1.5 u_k)`` -- its mean over the input space is ``sd`` and it
  depends on input ``k`` alone, so the noise *variance* ``s(x)^2`` has S1 = ST = 1 for input ``k`` and 0
  for every other input.  The default ``k`` is an input the mean does not depend on (G: the last input,
  ``a = 99``; Ishigami8: ``x4``), so "which factor makes the outcome unpredictable" differs from "which
  factor moves the expected outcome".

References
----------
Ishigami, T. & Homma, T. (1990). An importance quantification technique in uncertainty analysis for
computer models. ISUMA '90, 398-403.
Sobol', I. M. (1993). Sensitivity estimates for nonlinear mathematical models. Math. Modeling Comput.
Experiment 1, 407-414.
Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Design and estimator for
the total sensitivity index. Comput. Phys. Commun. 181, 259-270.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: G-function coefficients of the project's deterministic test function (experiments.testfunctions).
G_A = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)


def g_mean(u: np.ndarray, a: tuple[float, ...] = G_A) -> np.ndarray:
    """Sobol' G-function ``prod (|4 u_i - 2| + a_i) / (1 + a_i)`` of unit coordinates ``u`` (n, d)."""
    u = np.atleast_2d(np.asarray(u, dtype=float))
    a_arr = np.asarray(a, dtype=float)
    return np.prod((np.abs(4.0 * u - 2.0) + a_arr) / (1.0 + a_arr), axis=1)


def g_indices(a: tuple[float, ...] = G_A) -> dict[str, np.ndarray]:
    """Exact S1 and ST of the G-function (formulas in the module docstring)."""
    vi = 1.0 / (3.0 * (1.0 + np.asarray(a, dtype=float)) ** 2)
    total = float(np.prod(1.0 + vi) - 1.0)
    st = np.array([vi[i] * np.prod(np.delete(1.0 + vi, i)) for i in range(len(vi))]) / total
    return {"S1": vi / total, "ST": st, "variance": np.array(total)}


def ishigami_mean(u: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami function of the first three unit coordinates (mapped to [-pi, pi]); further columns do nothing."""
    x = -math.pi + 2.0 * math.pi * np.atleast_2d(np.asarray(u, dtype=float))
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(n_inputs: int = 3, a: float = 7.0, b: float = 0.1) -> dict[str, np.ndarray]:
    """Exact S1 and ST of the Ishigami function, with ``n_inputs - 3`` inert inputs appended (index 0)."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    pad = np.zeros(n_inputs - 3)
    return {"S1": np.r_[np.array([v1, v2, 0.0]) / v, pad], "ST": np.r_[np.array([v1 + v13, v2, v13]) / v, pad],
            "variance": np.array(v)}


@dataclass(frozen=True)
class StochasticFunction:
    """A known-answer stochastic model ``Y = mean(u) + sd(u) Z`` on unit coordinates.

    Attributes
    ----------
    name : str
        Label used in tests and the emulator benchmark.
    n_inputs : int
        Number of inputs ``d``.
    mean : callable
        ``mean(u) -> (n,)``, the expected outcome (output units).
    sd : callable
        ``sd(u) -> (n,)``, the standard deviation of one run's noise (output units).
    S1, ST : numpy.ndarray
        Exact first-order and total indices of ``mean`` (dimensionless, shape ``(d,)``).
    noise_S1, noise_ST : numpy.ndarray or None
        Exact indices of the noise variance ``sd(u)^2``; None when it is constant.
    """

    name: str
    n_inputs: int
    mean: Callable[[np.ndarray], np.ndarray]
    sd: Callable[[np.ndarray], np.ndarray]
    S1: np.ndarray
    ST: np.ndarray
    noise_S1: np.ndarray | None = None
    noise_ST: np.ndarray | None = None

    def sample(self, u: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
        """``replicates`` independent runs at every row of ``u``: array (n, replicates), output units."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        z = rng.standard_normal((len(u), replicates))
        return self.mean(u)[:, None] + self.sd(u)[:, None] * z

    def noise_variance(self, u: np.ndarray) -> np.ndarray:
        """Exact within-point variance ``sd(u)^2`` (output units squared)."""
        return self.sd(np.atleast_2d(u)) ** 2


def _constant_sd(sd: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda u: np.full(len(np.atleast_2d(u)), float(sd))


def _input_sd(sd: float, k: int) -> Callable[[np.ndarray], np.ndarray]:
    # mean over u_k ~ U(0, 1) of 0.25 + 1.5 u_k is 1, so the average noise sd is `sd`
    return lambda u: float(sd) * (0.25 + 1.5 * np.atleast_2d(u)[:, k])


def _indicator(d: int, k: int) -> np.ndarray:
    out = np.zeros(d)
    out[k] = 1.0
    return out


def noisy_g(sd: float = 0.5, heteroscedastic: bool = False, a: tuple[float, ...] = G_A,
            noise_input: int | None = None) -> StochasticFunction:
    """G-function with Gaussian noise of sd ``sd`` (constant, or depending on input ``noise_input``).

    ``noise_input`` defaults to the last input (for the default ``a``: a factor with ``a = 99`` whose
    effect on the mean is negligible).
    """
    d = len(a)
    exact = g_indices(a)
    k = d - 1 if noise_input is None else noise_input
    name = f"G{d}, {'heteroscedastic' if heteroscedastic else 'additive'} noise sd {sd:g}"
    if heteroscedastic:
        return StochasticFunction(name, d, lambda u: g_mean(u, a), _input_sd(sd, k), exact["S1"], exact["ST"],
                                  _indicator(d, k), _indicator(d, k))
    return StochasticFunction(name, d, lambda u: g_mean(u, a), _constant_sd(sd), exact["S1"], exact["ST"])


def noisy_ishigami(sd: float = 1.0, heteroscedastic: bool = False, n_inputs: int = 3,
                   noise_input: int | None = None) -> StochasticFunction:
    """Ishigami (a = 7, b = 0.1) with ``n_inputs - 3`` inert inputs and Gaussian noise of sd ``sd``.

    ``noise_input`` (heteroscedastic noise) defaults to the first inert input, or ``x3`` when there is none.
    """
    if n_inputs < 3:
        raise ValueError(f"the Ishigami function has at least 3 inputs, got n_inputs = {n_inputs}")
    exact = ishigami_indices(n_inputs)
    k = (3 if n_inputs > 3 else 2) if noise_input is None else noise_input
    name = f"Ishigami{n_inputs}, {'heteroscedastic' if heteroscedastic else 'additive'} noise sd {sd:g}"
    if heteroscedastic:
        return StochasticFunction(name, n_inputs, ishigami_mean, _input_sd(sd, k), exact["S1"], exact["ST"],
                                  _indicator(n_inputs, k), _indicator(n_inputs, k))
    return StochasticFunction(name, n_inputs, ishigami_mean, _constant_sd(sd), exact["S1"], exact["ST"])


__all__ = [
    "G_A",
    "StochasticFunction",
    "g_indices",
    "g_mean",
    "ishigami_indices",
    "ishigami_mean",
    "noisy_g",
    "noisy_ishigami",
]
