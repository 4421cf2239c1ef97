"""Noise-corrected Sobol' and Morris indices on stochastic known-answer functions (exact indices of the mean)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.random import SeedSequence

from experiments.designs.samplers import morris_trajectories, saltelli
from experiments.analysis.noise_corrected import (
    noise_corrected_morris,
    noise_corrected_sobol,
    point_moments,
    replicate_matrix,
    saltelli_estimates,
)
from experiments.models.stochastic_testfunctions import noisy_g, noisy_ishigami


def names(d: int) -> list[str]:
    return [f"x{i + 1}" for i in range(d)]


@pytest.mark.parametrize("case", [noisy_g(0.0), noisy_ishigami(0.0)], ids=["G8", "Ishigami"])
def test_raw_estimator_with_one_noise_free_replicate_equals_salib(case):
    from SALib.analyze import sobol

    u = saltelli(case.n_inputs, 256, False, root_seed=3)
    y = case.mean(u)
    problem = {"num_vars": case.n_inputs, "names": names(case.n_inputs), "bounds": [[0, 1]] * case.n_inputs}
    reference = sobol.analyze(problem, y, calc_second_order=False, num_resamples=10, seed=1)
    ours = saltelli_estimates(y, case.n_inputs)
    np.testing.assert_allclose(ours["S1"], reference["S1"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["ST"], reference["ST"], rtol=0, atol=1e-12)
    # a second-order design holds the same A, AB and B rows (plus BA, unused)
    u2 = saltelli(case.n_inputs, 256, True, root_seed=3)
    reference2 = sobol.analyze(problem, case.mean(u2), calc_second_order=True, num_resamples=10, seed=1)
    ours2 = saltelli_estimates(case.mean(u2), case.n_inputs, second_order=True)
    np.testing.assert_allclose(ours2["ST"], reference2["ST"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours2["S1"], reference2["S1"], rtol=0, atol=1e-12)
    # zero noise: the correction changes nothing
    corrected = saltelli_estimates(y, case.n_inputs, np.zeros_like(y))
    np.testing.assert_allclose(corrected["ST"], ours["ST"], atol=1e-15)


CASES = [
    # (function, base rows N): G-function with noise sd 0.5, Ishigami with mean sd 3 depending on x3
    (noisy_g(0.5), 512),
    (noisy_ishigami(3.0, heteroscedastic=True), 1024),
]


@pytest.mark.parametrize("replicates", [2, 4, 8])
@pytest.mark.parametrize("case,base", CASES, ids=["G8-additive", "Ishigami-heteroscedastic"])
def test_corrected_indices_cover_exact_values_while_raw_ones_do_not(case, base, replicates):
    rng = np.random.default_rng(SeedSequence([17, replicates, case.n_inputs]))
    u = saltelli(case.n_inputs, base, False, root_seed=replicates)
    values = case.sample(u, replicates, rng)
    frame = noise_corrected_sobol(values, names(case.n_inputs), bootstrap=150, rng=rng)
    for index, exact in (("S1", case.S1), ("ST", case.ST)):
        error = np.abs(frame[f"{index}_corrected"] - exact)
        assert (error <= frame[f"{index}_corrected_conf"]).all(), (index, frame.round(3).to_string())
    # the raw total index carries the noise: some factor's raw interval misses its exact value
    raw_miss = np.abs(frame["ST"] - case.ST) > frame["ST_conf"]
    assert raw_miss.any(), frame.round(3).to_string()
    # and it is biased upwards for every factor by about mean(s2/R) / Var(Ybar) (the noise floor)
    assert (frame["ST"] > frame["ST_corrected"]).all()


def test_intervals_are_calibrated_over_independent_seeds():
    """95% intervals of the corrected S1 and ST cover the exact value in >= 90% of 24 seeds x 8 factors."""
    case = noisy_g(0.5)
    u = saltelli(case.n_inputs, 256, False, root_seed=11)
    hits = {"S1_corrected": [], "ST_corrected": [], "ST": []}
    for seed in range(24):
        rng = np.random.default_rng(SeedSequence([2026, seed]))
        frame = noise_corrected_sobol(case.sample(u, 4, rng), names(8), bootstrap=80, rng=rng)
        for key, exact in (("S1_corrected", case.S1), ("ST_corrected", case.ST), ("ST", case.ST)):
            hits[key].append(np.abs(frame[key] - exact) <= frame[f"{key}_conf"])
    coverage = {key: float(np.mean(value)) for key, value in hits.items()}
    assert coverage["S1_corrected"] >= 0.90, coverage
    assert coverage["ST_corrected"] >= 0.90, coverage
    assert coverage["ST"] < 0.6, coverage  # the raw intervals are badly miscalibrated


def test_noise_correction_needs_two_replicates():
    u = saltelli(3, 16, False, root_seed=1)
    values = noisy_ishigami(1.0).sample(u, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="R >= 2"):
        noise_corrected_sobol(values, names(3), bootstrap=5, rng=np.random.default_rng(0))


def test_bootstrap_is_reproducible_from_the_generator():
    case = noisy_ishigami(1.0)
    u = saltelli(3, 64, False, root_seed=2)
    values = case.sample(u, 3, np.random.default_rng(5))
    a = noise_corrected_sobol(values, names(3), bootstrap=20, rng=np.random.default_rng(9))
    b = noise_corrected_sobol(values, names(3), bootstrap=20, rng=np.random.default_rng(9))
    pd.testing.assert_frame_equal(a, b)


def test_replicate_matrix_and_moments_follow_the_run_table():
    runs = pd.DataFrame({"point": [0, 0, 1, 1, 1, 2, 2], "y": [1.0, 3.0, 2.0, np.nan, 4.0, 5.0, 5.0]})
    values = replicate_matrix(runs, "y", 3)
    mean, var, count = point_moments(values)
    np.testing.assert_allclose(mean, [2.0, 3.0, 5.0])
    np.testing.assert_allclose(var, [2.0, 2.0, 0.0])
    np.testing.assert_array_equal(count, [2, 2, 2])


def linear(u: np.ndarray) -> np.ndarray:
    return u @ np.array([2.0, -1.0, 0.5, 0.0])


def test_morris_rms_effect_is_noise_corrected_while_mu_star_sits_on_its_noise_floor():
    """Linear model c.u + noise: every elementary effect equals c_i (per whole range)."""
    rng = np.random.default_rng(SeedSequence([7, 7]))
    u = morris_trajectories(4, 200, 4, root_seed=4)
    sd = 0.4
    values = linear(u)[:, None] + sd * rng.standard_normal((len(u), 4))
    frame = noise_corrected_morris(u, values, names(4), bootstrap=150, rng=rng)
    c = np.array([2.0, 1.0, 0.5, 0.0])
    # mu is unbiased, the root mean squared effect after correction is |c|
    assert (np.abs(frame["mu"] - [2.0, -1.0, 0.5, 0.0]) <= frame["mu_conf"]).all(), frame.round(3)
    assert (np.abs(frame["mu_rms_corrected"].to_numpy()[:3] - c[:3]) <= frame["mu_rms_corrected_conf"][:3]).all()
    # for the factor without effect the corrected square is ~0 (sqrt of its sampling error, ~0.13 here),
    # well below the mu* that noise alone gives
    assert frame["mu_rms_corrected"].iloc[3] < 0.5 * frame["mu_star_noise_floor"].iloc[3]
    # raw mu* of the factor without effect is the noise floor, far above zero; raw sigma likewise
    assert frame["mu_star"].iloc[3] == pytest.approx(frame["mu_star_noise_floor"].iloc[3], rel=0.15)
    assert frame["mu_star"].iloc[3] - frame["mu_star_conf"].iloc[3] > 0.2
    assert (frame["sigma"] > 0.3).all() and (frame["sigma_corrected"] < 0.15).all(), frame.round(3)
