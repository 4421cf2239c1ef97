"""The emulator's own GP likelihood against scikit-learn's (the library that also computes it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

from experiments.analysis.gp_likelihood import MaternSearch, matern52_log_likelihood


def data(n: int, d: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    y = np.sin(3 * x[:, 0]) + x[:, 1 % d] ** 2 + rng.normal(0, 0.3, n)
    return rng, x, (y - y.mean()) / y.std(), rng.uniform(0.01, 0.3, n)


def kernel(d: int):
    return ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.full(d, 0.5), (1e-2, 1e2), nu=2.5)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(5, 60), d=st.integers(1, 9), seed=st.integers(0, 10**6))
def test_likelihood_and_gradient_are_scikit_learns(n, d, seed):
    rng, x, y, alpha = data(n, d, seed)
    theta = np.log(np.r_[rng.uniform(0.1, 5), rng.uniform(0.05, 5, d)])
    gp = GaussianProcessRegressor(kernel(d), alpha=alpha, optimizer=None).fit(x, y)
    expected, expected_gradient = gp.log_marginal_likelihood(theta, eval_gradient=True)
    value, gradient = matern52_log_likelihood(theta, x, y, alpha)
    np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-7, atol=1e-8 * np.abs(expected_gradient).max())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # inert factors at their bound
def test_the_search_finds_scikit_learns_optimum_from_the_same_start():
    """Same start, same L-BFGS-B, the same objective computed another way: the same maximum, within the
    search's tolerance, with 20 factors of which two matter."""
    _, x, y, alpha = data(200, 20, 3)
    own = GaussianProcessRegressor(kernel(20), alpha=alpha, optimizer="fmin_l_bfgs_b").fit(x, y)
    fast = GaussianProcessRegressor(kernel(20), alpha=alpha, optimizer=MaternSearch(x, y, alpha)).fit(x, y)
    assert abs(fast.log_marginal_likelihood_value_ - own.log_marginal_likelihood_value_) < 1e-4
    np.testing.assert_allclose(fast.kernel_.theta[:3], own.kernel_.theta[:3], atol=1e-3)


def test_a_kernel_matrix_that_is_not_positive_definite_has_no_likelihood():
    x = np.zeros((3, 2))  # three equal points and no nugget: a singular kernel matrix
    value, gradient = matern52_log_likelihood(np.zeros(3), x, np.array([1.0, -1.0, 0.5]), np.zeros(3))
    assert value == -np.inf and not gradient.any()
