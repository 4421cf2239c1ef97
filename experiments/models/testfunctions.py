"""Cheap models with known answers, for testing the experiments layer end to end.

Every function has the sweepable signature ``f(params: dict, seed: SeedSequence) -> dict[str, float]``
and is defined at module level so worker processes can unpickle it.  Optional Gaussian noise is drawn
from ``numpy.random.default_rng(seed)`` -- never from global random state -- so it tests the replicate,
noise-share and common-random-numbers logic.

* Ishigami (a = 7, b = 0.1 by default), inputs x1..x3 uniform on [-pi, pi]; analytic S1 and ST.
* Sobol' G-function with a = (0, 1, 4.5, 9, 99, 99, 99, 99), inputs x1..x8 uniform on [0, 1].
* A linear function ``c1 x1 + ... + c4 x4`` (+ noise), whose Morris mu* equals |c_i| exactly.
* A function that raises for part of its input space (failure handling), a slow one (kill and resume),
  and a nearly free one (memory and overhead benchmarks).
* A function that kills its whole process for part of its input space (a worker lost with its chunk).
  It is deliberately not a registered name: run it only on the dask backend, whose workers can die.
* Stochastic known-answer models for the noise-corrected estimators and the emulator (``noisy_g``,
  ``noisy_ishigami``): the mean functions of :mod:`experiments.models.stochastic_testfunctions` on unit
  inputs plus Gaussian noise of sd ``noise_sd``, constant or (``heteroscedastic = 1``) depending on one
  input that does not move the mean; the exact indices of the *mean* are known.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np
from numpy.random import SeedSequence

from experiments.models.spec import FactorInfo, ModelSpec

G_A = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)


def _noise(params: dict[str, Any], seed: SeedSequence) -> tuple[float, float]:
    """(noise_sd * z, z) with z standard normal from the run's own seed."""
    sd = float(params.get("noise_sd", 0.0))
    draw = float(np.random.default_rng(seed).standard_normal())
    return sd * draw, draw


# --------------------------------------------------------------------------------------- Ishigami


def ishigami(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """Ishigami function ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` (+ optional noise of sd ``noise_sd``)."""
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    a, b = params.get("a", 7.0), params.get("b", 0.1)
    noise, _ = _noise(params, seed)
    return {"y": math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1) + noise}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, np.ndarray]:
    """Exact first-order (S1) and total (ST) indices of the Ishigami function."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {"S1": np.array([v1, v2, 0.0]) / v, "ST": np.array([v1 + v13, v2, v13]) / v}


# --------------------------------------------------------------------------------------- Sobol' G


def sobol_g(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """Sobol' G-function ``prod (|4 x_i - 2| + a_i) / (1 + a_i)`` with a = G_A (+ optional noise)."""
    value = 1.0
    for i, a in enumerate(G_A, start=1):
        value *= (abs(4.0 * params[f"x{i}"] - 2.0) + a) / (1.0 + a)
    noise, _ = _noise(params, seed)
    return {"y": value + noise}


def sobol_g_indices(a: tuple[float, ...] = G_A) -> dict[str, np.ndarray]:
    """Exact S1 and ST of the G-function: V_i = 1 / (3 (1 + a_i)^2)."""
    vi = np.array([1.0 / (3.0 * (1.0 + ai) ** 2) for ai in a])
    total = np.prod(1.0 + vi) - 1.0
    st = np.array([vi[i] * np.prod(np.delete(1.0 + vi, i)) for i in range(len(a))]) / total
    return {"S1": vi / total, "ST": st}


# --------------------------------------------------------------------------------------- linear with noise


def linear_noise(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """``y = c1 x1 + c2 x2 + c3 x3 + c4 x4 + noise_sd * z``; ``z`` (standard normal) is also reported."""
    noise, draw = _noise(params, seed)
    signal = sum(params.get(f"c{i}", 0.0) * params[f"x{i}"] for i in range(1, 5))
    return {"y": signal + noise, "z": draw}


def flaky(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """``y = x1 + x2 + noise``, but raises ``ValueError`` whenever ``x1 > fail_above`` (default 0.75)."""
    if params["x1"] > params.get("fail_above", 0.75):
        raise ValueError(f"flaky model refuses x1 = {params['x1']:.3f}")
    noise, _ = _noise(params, seed)
    return {"y": params["x1"] + params["x2"] + noise}


def slow_linear(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """``y = x1 + x2 + noise`` after sleeping ``sleep_s`` seconds (default 0.02): a stand-in for a real run."""
    time.sleep(params.get("sleep_s", 0.02))
    noise, draw = _noise(params, seed)
    return {"y": params["x1"] + params["x2"] + noise, "z": draw}


def cheap(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """Nearly free: ``y = x1 + x2`` (and the seed's first 32-bit word as ``w``); measures the layer's cost."""
    return {"y": params["x1"] + params["x2"], "w": float(seed.generate_state(1)[0])}


def crashing(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """``y = x1 + x2 + noise``, but ends the whole process (``os._exit(13)``, no exception, no cleanup) whenever
    ``x1 > crash_above`` (default 0.9): what a segfault or the out-of-memory killer does to a worker."""
    if params["x1"] > params.get("crash_above", 0.9):
        os._exit(13)
    noise, _ = _noise(params, seed)
    return {"y": params["x1"] + params["x2"] + noise}


# --------------------------------------------------------------------------------------- stochastic known answers


def _stochastic(function: Any, params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """One run of a :class:`~experiments.models.stochastic_testfunctions.StochasticFunction` at ``params``."""
    u = np.array([[params[f"x{i}"] for i in range(1, function.n_inputs + 1)]], dtype=float)
    draw = float(np.random.default_rng(seed).standard_normal())
    return {"y": float(function.mean(u)[0] + function.sd(u)[0] * draw)}


def _noisy_g_function(params: dict[str, Any]) -> Any:
    from experiments.models.stochastic_testfunctions import noisy_g

    return noisy_g(float(params.get("noise_sd", 0.5)), bool(params.get("heteroscedastic", 0)))


def _noisy_ishigami_function(params: dict[str, Any]) -> Any:
    from experiments.models.stochastic_testfunctions import noisy_ishigami

    return noisy_ishigami(float(params.get("noise_sd", 1.0)), bool(params.get("heteroscedastic", 0)), n_inputs=8)


def noisy_g(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """G-function of x1..x8 (unit inputs, a = G_A) plus Gaussian noise: sd ``noise_sd`` (default 0.5), or
    ``noise_sd * (0.25 + 1.5 x8)`` with ``heteroscedastic = 1``."""
    return _stochastic(_noisy_g_function(params), params, seed)


def noisy_ishigami(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """Ishigami of x1..x3 (unit inputs mapped to [-pi, pi]), x4..x8 inert, plus Gaussian noise: sd
    ``noise_sd`` (default 1), or ``noise_sd * (0.25 + 1.5 x4)`` with ``heteroscedastic = 1``."""
    return _stochastic(_noisy_ishigami_function(params), params, seed)


def noisy_indices(name: str, **params: float) -> dict[str, np.ndarray]:
    """Exact S1 and ST of the *mean* of registered model ``noisy_g`` or ``noisy_ishigami``."""
    function = (_noisy_g_function if name == "noisy_g" else _noisy_ishigami_function)(params)
    return {"S1": function.S1, "ST": function.ST}


# --------------------------------------------------------------------------------------- specs


def _unit_inputs(n: int, low: float = 0.0, high: float = 1.0) -> dict[str, FactorInfo]:
    return {f"x{i}": FactorInfo(f"x{i}", 0.5 * (low + high), low, high, low, high) for i in range(1, n + 1)}


def _fixed(**defaults: float) -> dict[str, FactorInfo]:
    return {name: FactorInfo(name, value, value, value) for name, value in defaults.items()}


ISHIGAMI = ModelSpec(
    name="ishigami",
    function=ishigami,
    outputs=("y",),
    inputs={**_unit_inputs(3, -math.pi, math.pi), **_fixed(a=7.0, b=0.1, noise_sd=0.0)},
    default_factors=("x1", "x2", "x3"),
    default_outputs=("y",),
    description="Ishigami function (a = 7, b = 0.1), x_i uniform on [-pi, pi]",
)

SOBOL_G = ModelSpec(
    name="sobol_g",
    function=sobol_g,
    outputs=("y",),
    inputs={**_unit_inputs(8), **_fixed(noise_sd=0.0)},
    default_factors=tuple(f"x{i}" for i in range(1, 9)),
    default_outputs=("y",),
    description="Sobol' G-function, a = (0, 1, 4.5, 9, 99, 99, 99, 99), x_i uniform on [0, 1]",
)

LINEAR_NOISE = ModelSpec(
    name="linear_noise",
    function=linear_noise,
    outputs=("y", "z"),
    inputs={**_unit_inputs(4), **_fixed(c1=1.0, c2=2.0, c3=0.0, c4=0.0, noise_sd=0.0)},
    default_factors=("x1", "x2"),
    default_outputs=("y",),
    description="c1 x1 + c2 x2 + c3 x3 + c4 x4 + noise_sd * z",
)

FLAKY = ModelSpec(
    name="flaky",
    function=flaky,
    outputs=("y",),
    inputs={**_unit_inputs(2), **_fixed(fail_above=0.75, noise_sd=0.1)},
    default_factors=("x1", "x2"),
    default_outputs=("y",),
    description="x1 + x2 + noise; raises for x1 > fail_above",
)

SLOW_LINEAR = ModelSpec(
    name="slow_linear",
    function=slow_linear,
    outputs=("y", "z"),
    inputs={**_unit_inputs(2), **_fixed(sleep_s=0.02, noise_sd=0.1)},
    default_factors=("x1", "x2"),
    default_outputs=("y",),
    description="x1 + x2 + noise after sleeping sleep_s seconds",
)

CHEAP = ModelSpec(
    name="cheap",
    function=cheap,
    outputs=("y", "w"),
    inputs=_unit_inputs(2),
    default_factors=("x1", "x2"),
    default_outputs=("y",),
    description="x1 + x2, nearly free",
)

NOISY_G = ModelSpec(
    name="noisy_g",
    function=noisy_g,
    outputs=("y",),
    inputs={**_unit_inputs(8), **_fixed(noise_sd=0.5), "heteroscedastic": FactorInfo("heteroscedastic", 0, 0, 0, 0, 1)},
    default_factors=tuple(f"x{i}" for i in range(1, 9)),
    default_outputs=("y",),
    description="Sobol' G-function (a = 0, 1, 4.5, 9, 99 x 4) of x1..x8 in [0, 1] plus Gaussian noise of sd noise_sd",
)

NOISY_ISHIGAMI = ModelSpec(
    name="noisy_ishigami",
    function=noisy_ishigami,
    outputs=("y",),
    inputs={**_unit_inputs(8), **_fixed(noise_sd=1.0), "heteroscedastic": FactorInfo("heteroscedastic", 0, 0, 0, 0, 1)},
    default_factors=tuple(f"x{i}" for i in range(1, 9)),
    default_outputs=("y",),
    description="Ishigami (a = 7, b = 0.1) of x1..x3 in [0, 1] (mapped to [-pi, pi]), x4..x8 inert, plus Gaussian "
                "noise of sd noise_sd",
)

#: Referenced as ``model = "experiments.models.testfunctions:CRASHING"``; never run it serially (it ends the caller).
CRASHING = ModelSpec(
    name="crashing",
    function=crashing,
    outputs=("y",),
    inputs={**_unit_inputs(2), **_fixed(crash_above=0.9, noise_sd=0.1)},
    default_factors=("x1", "x2"),
    default_outputs=("y",),
    description="x1 + x2 + noise; the process exits for x1 > crash_above",
)
