"""Designs and seeds: coverage of the ranges, integer handling, Morris and Saltelli structure, nesting
of doubled designs, and seeds that depend only on (root seed, point, replicate)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.random import SeedSequence

from experiments.designs import samplers as designs
from experiments.designs import seeds
from experiments.designs.samplers import Factor


def test_full_factorial_has_every_combination_once_first_factor_slowest() -> None:
    levels = [[0.0, 1.0, 2.0], [10.0, 20.0]]
    grid = designs.full_factorial(levels)
    assert grid.shape == (6, 2)
    assert {tuple(row) for row in grid} == {(a, b) for a in levels[0] for b in levels[1]}
    assert grid[:2, 0].tolist() == [0.0, 0.0] and grid[:2, 1].tolist() == [10.0, 20.0]


def test_even_levels_span_the_range_and_round_integers() -> None:
    assert designs.even_levels(Factor("x", 0.0, 1.0), 6) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ints = designs.even_levels(Factor("n", 3, 30, "int"), 4)
    assert ints == [3.0, 12.0, 21.0, 30.0] and all(float(v).is_integer() for v in ints)
    assert designs.even_levels(Factor("n", 1, 3, "int"), 6) == [1.0, 2.0, 3.0]  # de-duplicated


def test_latin_hypercube_has_one_point_per_stratum_in_every_factor() -> None:
    n = 50
    u = designs.latin_hypercube(3, n, root_seed=4)
    assert u.shape == (n, 3)
    for j in range(3):
        assert sorted(np.floor(u[:, j] * n).astype(int).tolist()) == list(range(n))
    again = designs.latin_hypercube(3, n, root_seed=4)
    assert np.array_equal(u, again)  # reproducible from the root seed
    assert not np.array_equal(u, designs.latin_hypercube(3, n, root_seed=5))


def test_integer_factors_map_to_every_integer_equally_and_stay_in_range() -> None:
    factor = Factor("entrepreneur_count", 3, 30, "int")
    u = (np.arange(28_000) + 0.5) / 28_000
    values = factor.values(u)
    assert values.min() == 3 and values.max() == 30
    assert np.all(values == np.round(values))
    counts = np.bincount(values.astype(int))[3:]
    assert len(counts) == 28 and counts.min() == counts.max() == 1000  # the end values get full shares too
    assert factor.values(np.array([0.0, 1.0])).tolist() == [3.0, 30.0]


def test_point_params_hands_ints_to_the_model_as_int() -> None:
    factors = [Factor("a", 0.0, 1.0), Factor("n", 1, 10, "int")]
    params = designs.point_params(factors, np.array([0.25, 7.0]))
    assert params == {"a": 0.25, "n": 7}
    assert type(params["n"]) is int and type(params["a"]) is float


def test_float_factor_maps_unit_interval_onto_its_range() -> None:
    factor = Factor("rate", 0.05, 1.5)
    assert factor.values(np.array([0.0, 0.5, 1.0])) == pytest.approx([0.05, 0.775, 1.5])
    assert factor.unit_of(factor.values(np.array([0.3]))) == pytest.approx([0.3])


def test_morris_trajectories_move_one_factor_per_step_on_the_grid() -> None:
    d, r, levels = 5, 12, 4
    u = designs.morris_trajectories(d, r, levels, root_seed=9)
    assert u.shape == (r * (d + 1), d)
    grid = np.arange(levels) / (levels - 1)
    assert np.all(np.isclose(u[..., None], grid).any(axis=-1))
    steps = np.diff(u.reshape(r, d + 1, d), axis=1)
    moved = (np.abs(steps) > 1e-12).sum(axis=2)
    assert np.all(moved == 1)
    # every factor moves exactly once per trajectory
    assert np.all(np.sort(np.abs(steps).argmax(axis=2), axis=1) == np.arange(d))
    # a new batch is a different, independent set of trajectories
    assert not np.array_equal(u, designs.morris_trajectories(d, r, levels, root_seed=9, batch=1))


def test_saltelli_sample_of_n_is_the_prefix_of_the_sample_of_2n() -> None:
    for second_order in (False, True):
        small = designs.saltelli(4, 64, second_order, root_seed=3)
        large = designs.saltelli(4, 128, second_order, root_seed=3)
        rows = 64 * designs.saltelli_rows_per_base(4, second_order)
        assert small.shape == (rows, 4)
        assert np.array_equal(small, large[:rows])
        extension = designs.saltelli_extension(4, 64, 128, second_order, 3, small)
        assert np.array_equal(np.vstack([small, extension]), large)


def test_saltelli_extension_refuses_a_design_it_did_not_make() -> None:
    small = designs.saltelli(3, 32, False, root_seed=3)
    with pytest.raises(RuntimeError, match="cannot be reused"):
        designs.saltelli_extension(3, 32, 64, False, 4, small)


def test_run_seeds_are_spawned_children_of_the_root() -> None:
    root = 12345
    key = seeds.spawn_key(7, 2, common_random_numbers=False)
    assert key == (7, 2)
    expected = SeedSequence(root).spawn(8)[7].spawn(3)[2]
    assert np.array_equal(seeds.run_seed(root, key).generate_state(4), expected.generate_state(4))
    assert seeds.key_text(key) == "7/2"


def test_common_random_numbers_give_every_point_the_same_seed_per_replicate() -> None:
    keys = {seeds.spawn_key(point, 1, common_random_numbers=True) for point in range(50)}
    assert keys == {(1,)}
    independent = {seeds.spawn_key(point, 1, common_random_numbers=False) for point in range(50)}
    assert len(independent) == 50
    assert seeds.spawn_key(3, 0, True) != seeds.spawn_key(3, 1, True)
