"""The seed rule: which ``numpy.random.SeedSequence`` every run and every random design draws from.

Run ``(point p, replicate r)`` uses ``SeedSequence(root_seed, spawn_key=(p, r))`` -- child ``r`` of child
``p`` of the root -- or, with common random numbers (every scenario of a comparison, every replicate
ensemble of ``lcsim run``), ``SeedSequence(root_seed, spawn_key=(r,))``, which equals
``SeedSequence(root_seed).spawn(R)[r]``.  The seed depends only on the root seed and the key, never on the
backend, the chunking, the worker or the order of completion, and stays valid when a design grows.
Random designs draw from a separate stream, ``SeedSequence([root_seed, DESIGN_TAG], spawn_key=(batch,))``.
This is the only module that builds a run's ``SeedSequence``; everything else asks it.
"""

from __future__ import annotations

import numpy as np
from numpy.random import SeedSequence


#: Second entropy word of the design stream, so design randomness never overlaps a run's stream.
DESIGN_TAG = 0x5D3516


def design_rng(root_seed: int, batch: int = 0) -> np.random.Generator:
    """The generator for random design batch ``batch`` (independent of every run's seed)."""
    return np.random.default_rng(SeedSequence([root_seed, DESIGN_TAG], spawn_key=(batch,)))


def design_seed(root_seed: int, batch: int = 0) -> int:
    """An integer seed for samplers that want one (SALib's Sobol' sampler), from the design stream."""
    return int(SeedSequence([root_seed, DESIGN_TAG], spawn_key=(batch,)).generate_state(1, np.uint32)[0])


def spawn_key(point: int, replicate: int, common_random_numbers: bool) -> tuple[int, ...]:
    """The spawn key of run (point, replicate): ``(point, replicate)``, or ``(replicate,)`` with CRN."""
    return (replicate,) if common_random_numbers else (point, replicate)


def run_seed(root_seed: int, key: tuple[int, ...]) -> SeedSequence:
    """The seed of one run: ``SeedSequence(root_seed, spawn_key=key)``."""
    return SeedSequence(root_seed, spawn_key=key)


def same_seed(seed: SeedSequence) -> SeedSequence:
    """A fresh copy of ``seed`` (same entropy, spawn key and pool size, nothing spawned yet).

    Runs that must share their random numbers (every policy in one future) each get their own copy, so a
    model that spawns from its seed sees the same children whichever policy ran first.
    """
    return SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)


def key_text(key: tuple[int, ...]) -> str:
    """A spawn key as text, e.g. ``"12/3"`` (the form of the ``spawn_key`` column)."""
    return "/".join(str(k) for k in key)


def replicate_seeds(root_seed: int, n: int) -> list[SeedSequence]:
    """Independent seed sequences for ``n`` replicates: ``SeedSequence(root_seed).spawn(n)``."""
    return SeedSequence(root_seed).spawn(n)


def spawn_key_text(seed: SeedSequence) -> str:
    """A seed's spawn key as text, e.g. ``"3"`` for the fourth child of the root (``"3/0"`` if nested)."""
    return key_text(seed.spawn_key)


__all__ = ["DESIGN_TAG", "design_rng", "design_seed", "key_text", "replicate_seeds", "run_seed", "same_seed", "spawn_key",
           "spawn_key_text"]
