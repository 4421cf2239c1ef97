"""Models that can be swept: a picklable function plus what a config needs to know about it.

Any function ``model(params: dict, seed: numpy.random.SeedSequence) -> dict[str, float]`` can be swept
and analysed.  A :class:`ModelSpec` wraps it with the names of its outputs, its factors (range, valid
bounds, kind, unit), the fixed parameters a config may set, and an optional check of a whole parameter
set.  The learning-community model plugs in through :func:`experiments.execution.replicates.run_one`; the analytic test
functions live in :mod:`experiments.models.testfunctions`.

A config names a model by a registered short name (``"lcsim"``, ``"ishigami"``, ...) or by a reference
``"package.module:ATTRIBUTE"`` to a ``ModelSpec`` object.  The function must be defined at module level
so that worker processes can unpickle it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from experiments.models.spec import FactorInfo, ModelSpec

# --------------------------------------------------------------------------------------- the learning-community model


def _check_lcsim(params: dict[str, Any]) -> str | None:
    from pydantic import ValidationError

    from sim import Params

    try:
        Params(**params)
    except ValidationError as exc:
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors(include_url=False))
    return None


def _resolve_lcsim(params: dict[str, Any]) -> dict[str, Any]:
    from sim import Params

    return Params(**params).model_dump()


#: Outputs the sensitivity analysis looks at unless a config says otherwise.
LCSIM_DEFAULT_OUTPUTS = (
    "continued_by_school_y5",
    "structural_share",
    "taken_over_share",
    "faded_share",
    "llo_adult_learners",
)


def lcsim_spec() -> ModelSpec:
    """The learning-community model: ``experiments.execution.replicates.run_one`` with the parameter table of ``sim``."""
    from experiments.execution.replicates import run_one
    from sim import SUMMARY_FIELDS, parameter_table, success_factors

    inputs = {
        row.name: FactorInfo(row.name, row.default, float(row.low), float(row.high), row.valid_min, row.valid_max,
                             "int" if row.kind == "int" else "float", row.unit)
        for row in parameter_table()
    }
    return ModelSpec(
        name="lcsim",
        function=run_one,
        outputs=tuple(SUMMARY_FIELDS),
        inputs=inputs,
        default_factors=tuple(success_factors()),
        default_outputs=tuple(o for o in LCSIM_DEFAULT_OUTPUTS if o in SUMMARY_FIELDS),
        check=_check_lcsim,
        fill_defaults=False,
        resolve=_resolve_lcsim,
        description="regional learning-community model (sim), one run per call via experiments.execution.replicates.run_one",
        output_meaning=dict(SUMMARY_FIELDS),
        # continued_by_school_yN is read at month 12 N: a shorter horizon leaves it undefined (NaN)
        output_needs={name: ("horizon_months", 12 * int(name.rsplit("_y", 1)[1])) for name in SUMMARY_FIELDS
                      if name.startswith("continued_by_school_y")},
    )


# --------------------------------------------------------------------------------------- registry


def _testfunction(attribute: str) -> Callable[[], ModelSpec]:
    def load() -> ModelSpec:
        from experiments.models import testfunctions

        return getattr(testfunctions, attribute)

    return load


def _planted(attribute: str) -> Callable[[], ModelSpec]:
    def load() -> ModelSpec:
        from experiments.models import planted_box

        return getattr(planted_box, attribute)

    return load


REGISTRY: dict[str, Callable[[], ModelSpec]] = {
    "lcsim": lcsim_spec,
    "ishigami": _testfunction("ISHIGAMI"),
    "sobol_g": _testfunction("SOBOL_G"),
    "linear_noise": _testfunction("LINEAR_NOISE"),
    "flaky": _testfunction("FLAKY"),
    "slow_linear": _testfunction("SLOW_LINEAR"),
    "cheap": _testfunction("CHEAP"),
    "noisy_g": _testfunction("NOISY_G"),
    "noisy_ishigami": _testfunction("NOISY_ISHIGAMI"),
    # synthetic models with a known answer for scenario discovery and robustness (experiments.models.planted_box)
    "planted_box": _planted("PLANTED_BOX_SPEC"),
    "policy_future": _planted("POLICY_FUTURE_SPEC"),
}


class UnknownModelError(LookupError):
    """A model reference names nothing sweepable."""


def load_model(reference: str) -> ModelSpec:
    """The ModelSpec named by a registry name or a ``"module:ATTRIBUTE"`` reference."""
    if reference in REGISTRY:
        return REGISTRY[reference]()
    if ":" in reference:
        module_name, _, attribute = reference.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UnknownModelError(f"cannot import module '{module_name}' ({exc})") from None
        spec = getattr(module, attribute, None)
        if callable(spec) and not isinstance(spec, ModelSpec):
            spec = spec()
        if not isinstance(spec, ModelSpec):
            raise UnknownModelError(f"'{reference}' is not an experiments.models.registry.ModelSpec")
        return spec
    raise UnknownModelError(f"unknown model '{reference}'")


__all__ = ["LCSIM_DEFAULT_OUTPUTS", "REGISTRY", "UnknownModelError", "lcsim_spec", "load_model"]
