"""Experimental designs over named factors (the seeds of the runs are in :mod:`experiments.designs.seeds`).

A design is a matrix ``U`` of *unit coordinates* (one row per design point, one column per factor, each
in [0, 1]) together with the *model values* the model receives.  Analyses use ``U`` (a factor's whole
plausible range is one unit); the model gets the values in the factor's own unit.

* :func:`full_factorial` -- every combination of explicit levels (first factor varies slowest).
* :func:`latin_hypercube` -- scipy.stats.qmc Latin hypercube, one stratum per point and factor.
* :func:`morris_trajectories` -- SALib's Morris (elementary effects) trajectories on a ``levels`` grid.
* :func:`saltelli` -- SALib's Saltelli/Sobol' sample (A, AB_i, [BA_i,] B blocks per base row).

Integer factors: a unit coordinate ``u`` maps to ``floor(low + u * (high - low + 1))`` clipped to
``high``, so every integer in the range gets the same share of the unit interval (plain rounding would
give the two end values half a share each).  Values are handed to the model as Python ``int``.

Random designs draw from the design stream of :mod:`experiments.designs.seeds` (never from a run's seed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from experiments.designs.seeds import design_rng, design_seed


@dataclass(frozen=True)
class Factor:
    """One varied input: name, range [low, high] in ``unit``, and kind ``"float"`` or ``"int"``."""

    name: str
    low: float
    high: float
    kind: str = "float"
    unit: str = ""

    def values(self, u: np.ndarray) -> np.ndarray:
        """Model values (float array; integral for int factors) for unit coordinates ``u`` in [0, 1]."""
        u = np.asarray(u, dtype=float)
        if self.kind == "int":
            low, high = math.ceil(self.low), math.floor(self.high)
            return np.clip(np.floor(low + u * (high - low + 1)), low, high)
        return self.low + u * (self.high - self.low)

    def unit_of(self, value: np.ndarray) -> np.ndarray:
        """Unit coordinates of model values (the inverse of :meth:`values` for floats; centred for ints)."""
        value = np.asarray(value, dtype=float)
        if self.kind == "int":
            low, high = math.ceil(self.low), math.floor(self.high)
            return (value - low + 0.5) / (high - low + 1)
        span = self.high - self.low
        return (value - self.low) / span if span > 0 else np.zeros_like(value)

    def to_dict(self) -> dict:
        return {"name": self.name, "low": self.low, "high": self.high, "kind": self.kind, "unit": self.unit}

    @classmethod
    def from_dict(cls, data: dict) -> Factor:
        return cls(data["name"], float(data["low"]), float(data["high"]), data.get("kind", "float"),
                   data.get("unit", ""))


def model_values(factors: Sequence[Factor], u: np.ndarray) -> np.ndarray:
    """The model-value matrix of a unit design ``u`` (points x factors)."""
    u = np.atleast_2d(np.asarray(u, dtype=float))
    return np.column_stack([f.values(u[:, j]) for j, f in enumerate(factors)]) if factors else u


def point_params(factors: Sequence[Factor], row: Sequence[float]) -> dict[str, float | int]:
    """One design point as a parameter dict; int factors become Python ``int`` (the model is strict)."""
    return {f.name: (int(v) if f.kind == "int" else float(v)) for f, v in zip(factors, row, strict=True)}


# --------------------------------------------------------------------------------------- designs


def even_levels(factor: Factor, n: int) -> list[float]:
    """``n`` evenly spaced levels over the factor's range (rounded and de-duplicated for int factors)."""
    if n == 1:
        values = [0.5 * (factor.low + factor.high)]
    else:
        values = list(np.linspace(factor.low, factor.high, n))
    if factor.kind == "int":
        values = sorted({int(round(v)) for v in values})
    return [float(v) for v in values]


def full_factorial(levels: Sequence[Sequence[float]]) -> np.ndarray:
    """Every combination of the given levels, first factor slowest (points x factors model values)."""
    return np.array(list(itertools.product(*levels)), dtype=float).reshape(-1, len(levels))


def latin_hypercube(n_factors: int, n: int, root_seed: int) -> np.ndarray:
    """``n`` Latin-hypercube points in the unit cube (scipy.stats.qmc, random within strata)."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=n_factors, seed=design_rng(root_seed)).random(n)


def _unit_problem(n_factors: int) -> dict:
    return {"num_vars": n_factors, "names": [f"u{j}" for j in range(n_factors)], "bounds": [[0.0, 1.0]] * n_factors}


def morris_trajectories(n_factors: int, trajectories: int, levels: int, root_seed: int, batch: int = 0) -> np.ndarray:
    """``trajectories`` Morris trajectories (each ``n_factors + 1`` rows) on a ``levels``-level unit grid.

    Batch ``b`` uses its own design seed, so doubling the number of trajectories adds a new independent
    batch and keeps every earlier trajectory (and its runs).
    """
    from SALib.sample import morris

    return morris.sample(_unit_problem(n_factors), trajectories, num_levels=levels,
                         seed=design_seed(root_seed, batch))


def saltelli_rows_per_base(n_factors: int, second_order: bool) -> int:
    """Rows of the Saltelli sample per base row: D + 2, or 2D + 2 with second-order indices."""
    return (2 * n_factors + 2) if second_order else (n_factors + 2)


def saltelli(n_factors: int, base: int, second_order: bool, root_seed: int) -> np.ndarray:
    """SALib's Saltelli sample with ``base`` (N, a power of two) base rows, scrambled Sobol' points.

    The Sobol' sequence is scrambled once by the design seed and then read from its start, and SALib
    emits the rows of one base row together, so ``saltelli(D, N)`` is exactly the first rows of
    ``saltelli(D, 2N)``: doubling N keeps every earlier run (checked by :func:`saltelli_extension`).
    """
    import warnings

    from SALib.sample import sobol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balance warnings for N not a power of 2
        return sobol.sample(_unit_problem(n_factors), base, calc_second_order=second_order, scramble=True,
                            seed=design_seed(root_seed))


def saltelli_extension(n_factors: int, old_base: int, new_base: int, second_order: bool, root_seed: int,
                       existing: np.ndarray) -> np.ndarray:
    """The rows that grow a Saltelli sample from ``old_base`` to ``new_base`` base rows.

    Raises ``RuntimeError`` if the regenerated sample does not start with ``existing`` (it would mean
    the sampler changed and old runs could not be reused).
    """
    full = saltelli(n_factors, new_base, second_order, root_seed)
    cut = old_base * saltelli_rows_per_base(n_factors, second_order)
    if existing.shape != (cut, n_factors) or not np.array_equal(full[:cut], existing):
        raise RuntimeError(
            "the Saltelli sample for the doubled base size does not start with the existing design; "
            "the sampler (SALib/scipy version) changed since the runs were made, so they cannot be reused"
        )
    return full[cut:]


def space_filling(kind: str, n_factors: int, n: int, root_seed: int, start: int = 0) -> np.ndarray:
    """Points ``start .. start + n - 1`` of a space-filling design in the unit cube (an emulator's design).

    ``"sobol"``: a scrambled Sobol' sequence (scipy.stats.qmc), scrambled once by the design seed and read
    from its start, so doubling ``n`` keeps every earlier point and the first ``2^k`` points stay balanced.
    ``"lhs"``: a Latin hypercube per doubling batch (batch = ``start``'s doubling number, its own design
    seed), so earlier points are kept; the union of batches is space-filling but not itself a Latin hypercube.
    """
    from scipy.stats import qmc

    if kind == "sobol":
        sampler = qmc.Sobol(d=n_factors, scramble=True, seed=design_rng(root_seed))
        if start:
            sampler.fast_forward(start)
        return sampler.random(n)
    if kind == "lhs":
        batch = 0 if start == 0 else int(start).bit_length()
        return qmc.LatinHypercube(d=n_factors, seed=design_rng(root_seed, batch)).random(n)
    raise ValueError(f"space-filling design {kind!r} is unknown; allowed: sobol, lhs")


# --------------------------------------------------------------------------------------- seeds


__all__ = [
    "Factor",
    "even_levels",
    "full_factorial",
    "latin_hypercube",
    "model_values",
    "morris_trajectories",
    "point_params",
    "saltelli",
    "saltelli_extension",
    "space_filling",
    "saltelli_rows_per_base",
]
