"""A model that runs every policy in one future on the same seed: the unit of a robustness study.

One run of :func:`every_policy` is one (future, replicate) of a robustness run set: it calls the inner model
(``lcsim`` or a synthetic one) once per policy, each time with the future's parameters, the policy's levers
on top (a lever that is also an uncertain factor replaces the future's value) and a fresh copy of the same
seed (:func:`experiments.designs.seeds.same_seed`).  That is common random numbers by construction:
replicate r of future f has one seed, ``SeedSequence(root, spawn_key=(f, r))``, shared by every policy and
by no other future.  Outputs are named ``<policy>.<output>``.

The policies travel in the run's fixed parameters (keys :data:`POLICIES_KEY`, :data:`MODEL_KEY`,
:data:`OUTPUTS_KEY`), so a chunk carries everything a worker needs and any backend runs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from numpy.random import SeedSequence

from experiments.designs.seeds import same_seed
from experiments.models.spec import ModelSpec

POLICIES_KEY = "robust.policies"
MODEL_KEY = "robust.model"
OUTPUTS_KEY = "robust.outputs"
KEYS = (POLICIES_KEY, MODEL_KEY, OUTPUTS_KEY)


def output_name(policy: str, output: str) -> str:
    """The run-set column of one policy's output, e.g. ``"all_accelerators.continued_by_school_y5"``."""
    return f"{policy}.{output}"


@lru_cache(maxsize=8)
def _inner(reference: str) -> ModelSpec:
    from experiments.models.registry import load_model

    return load_model(reference)


def policy_params(params: Mapping[str, Any], levers: Mapping[str, Any]) -> dict[str, Any]:
    """One policy's parameters in a future: the future's (and the fixed) values with the levers on top."""
    return {**{k: v for k, v in params.items() if k not in KEYS}, **levers}


def every_policy(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """Run every policy of ``params[POLICIES_KEY]`` in this future with the same seed; ``<policy>.<output>``."""
    inner = _inner(params[MODEL_KEY])
    outputs = params[OUTPUTS_KEY]
    reported: dict[str, float] = {}
    for policy, levers in params[POLICIES_KEY].items():
        values = inner.function(policy_params(params, levers), same_seed(seed))
        for output in outputs:
            reported[output_name(policy, output)] = float(values[output])
    return reported


def _check(params: dict[str, Any]) -> str | None:
    inner = _inner(params[MODEL_KEY])
    if inner.check is None:
        return None
    for policy, levers in params[POLICIES_KEY].items():
        problem = inner.check(policy_params(params, levers))
        if problem:
            return f"policy {policy}: {problem}"
    return None


def policies_spec(model: str, policies: Sequence[str], outputs: Sequence[str]) -> ModelSpec:
    """The ModelSpec of :func:`every_policy` for ``policies`` of ``model`` and their ``outputs``."""
    inner = _inner(model)
    return ModelSpec(
        name=f"every_policy({inner.name})",
        function=every_policy,
        outputs=tuple(output_name(p, o) for p in policies for o in outputs),
        inputs=inner.inputs,
        default_factors=inner.default_factors,
        default_outputs=tuple(output_name(p, o) for p in policies for o in outputs),
        check=_check,
        fill_defaults=False,
        description=f"every policy of a robustness study run on {inner.name} in one future with the same seed",
    )


def base_parameters(base: Mapping[str, Any], model: str, levers: Mapping[str, Mapping[str, Any]],
                    outputs: Sequence[str]) -> dict[str, Any]:
    """The fixed parameters of a robustness run set: the base plus the policies, inner model and outputs."""
    return {**base, POLICIES_KEY: {p: dict(v) for p, v in levers.items()}, MODEL_KEY: model,
            OUTPUTS_KEY: list(outputs)}


__all__ = ["KEYS", "MODEL_KEY", "OUTPUTS_KEY", "POLICIES_KEY", "base_parameters", "every_policy", "output_name",
           "policies_spec", "policy_params"]
