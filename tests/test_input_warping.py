"""Kumaraswamy input warping of the GP emulator: its likelihood against scikit-learn's, and what it buys on
a factor whose effect saturates (known answer: an additive function with analytic Sobol' indices)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.random import SeedSequence
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

from experiments.analysis.emulator import GaussianProcessEmulator, cross_validated_q2, emulator_indices
from experiments.analysis.gp_likelihood import log_likelihood_of_distances
from experiments.analysis.input_warping import INERT_LENGTH_SCALE, choose_warps, kumaraswamy

RATE = 30.0  # f = 1 - exp(-RATE u1) + u2 / 2: u1's effect is over by u1 = 0.15


def saturating(u: np.ndarray) -> np.ndarray:
    return 1 - np.exp(-RATE * u[:, 0]) + 0.5 * u[:, 1]


def saturating_indices() -> np.ndarray:
    """Exact ST (= S1, additive) of ``saturating`` on the unit cube: Var(e^{-cU}) and Var(U/2) = 1/48."""
    c = RATE
    first = (1 - np.exp(-c)) / c
    var1 = (1 - np.exp(-2 * c)) / (2 * c) - first**2
    var2 = 0.25 / 12
    return np.array([var1, var2, 0, 0, 0]) / (var1 + var2)


def noisy_design(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """200 random points x R = 8 replicates of ``saturating`` plus noise of sd 0.1: means and their noise."""
    rng = np.random.default_rng(SeedSequence(seed))
    u = rng.random((200, 5))
    replicates = saturating(u)[:, None] + rng.normal(0, 0.1, (200, 8))
    return u, replicates.mean(axis=1), np.full(200, 0.01 / 8)


def test_kumaraswamy_is_a_monotone_map_of_the_unit_interval_and_shape_one_is_no_warp() -> None:
    u = np.linspace(0, 1, 101)[:, None].repeat(3, axis=1)
    warped = kumaraswamy(u, [[1, 1], [0.33, 3], [3, 0.5]])
    np.testing.assert_array_equal(warped[:, 0], u[:, 0])
    assert np.all(np.diff(warped, axis=0) >= 0)
    np.testing.assert_allclose(warped[[0, -1]], [[0, 0, 0], [1, 1, 1]])
    assert warped[10, 1] > 0.5 > warped[10, 2]  # (0.33, 3) stretches the low end, (3, 0.5) the high end


def test_the_direct_likelihood_is_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    u, shapes = rng.random((150, 4)), np.array([[0.5, 2.0], [1, 1], [3, 0.7], [1.4, 1]])
    z, alpha = rng.normal(size=150), np.full(150, 0.02)
    length_scales, amplitude = np.array([0.3, 1.0, 2.0, 50.0]), 1.7
    x = kumaraswamy(u, shapes)
    expected = GaussianProcessRegressor(ConstantKernel(amplitude) * Matern(length_scales, nu=2.5), alpha=alpha,
                                        optimizer=None).fit(x, z).log_marginal_likelihood_value_
    squared = sum(((x[:, j, None] - x[None, :, j]) / length_scales[j]) ** 2 for j in range(4))
    assert log_likelihood_of_distances(squared, z, amplitude, alpha) == pytest.approx(expected, rel=1e-10)


def test_the_search_stretches_the_saturating_factor_and_leaves_inert_ones_alone() -> None:
    u, mean, noise = noisy_design(41)
    z = (mean - mean.mean()) / mean.std()
    length_scales = np.array([0.2, 1.5, 80.0, 90.0, 100.0])
    shapes = choose_warps(u, z, noise / mean.var(), 1.0, length_scales)
    assert kumaraswamy(np.array([[0.1]]), shapes[:1])[0, 0] > 0.4  # the first 10% of u1 get > 40% of w1
    assert (length_scales[2:] > INERT_LENGTH_SCALE).all() and (shapes[2:] == 1).all()


def test_warping_cuts_the_error_on_a_saturating_factor_and_its_indices_are_exact() -> None:
    """Unwarped, the stationary kernel must be short-ranged everywhere to follow u1's early rise; warped, it
    need not.  Measured over three designs (seeds 41-43, 200 points x R = 8): RMS error against the exact
    mean 0.019, 0.019, 0.015 unwarped -> 0.016, 0.007, 0.009 warped (mean ratio 0.62)."""
    test = np.random.default_rng(7).random((4000, 5))
    errors = {"none": [], "kumaraswamy": []}
    for seed in (41, 42, 43):
        u, mean, noise = noisy_design(seed)
        for warping, found in errors.items():
            fit = GaussianProcessEmulator.fit(u, mean, noise, np.random.default_rng(1), restarts=0, warping=warping)
            assert (fit.warps is None) == (warping == "none")
            found.append(np.sqrt(np.mean((fit.predict(test) - saturating(test)) ** 2)))
    assert np.mean(errors["kumaraswamy"]) < 0.75 * np.mean(errors["none"]), errors
    # the cross-validation keeps the warps, as the pipeline does
    assert fit.warps.shape == (5, 2)
    q2 = cross_validated_q2("gp", u, mean, noise, np.random.default_rng(2), kernel=fit.kernel, warps=fit.warps)
    assert q2["q2_noise_corrected"] > 0.99
    # bootstrap refits keep the warps too; the indices are those of u's uniform measure
    frame = emulator_indices(fit, u, mean, noise, [f"u{i}" for i in range(1, 6)], np.random.default_rng(4),
                             bootstrap=10, n_mc=1024, hyperparameters="fixed")
    exact = saturating_indices()  # 0.427, 0.573, 0, 0, 0
    inside = np.abs(frame["ST"].to_numpy() - exact) < frame["ST_conf"].to_numpy() + 0.02
    assert inside.all(), frame.assign(exact=exact)


def test_an_unknown_warping_is_named() -> None:
    with pytest.raises(ValueError, match="warping 'beta' is unknown; allowed: none, kumaraswamy"):
        GaussianProcessEmulator.fit(np.random.default_rng(0).random((20, 2)), np.arange(20.0), np.ones(20),
                                    np.random.default_rng(0), warping="beta")
