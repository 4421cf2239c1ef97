"""What a sweepable model declares: a picklable function, its inputs (factors) and its outputs.

The registry of models is :mod:`experiments.models.registry`; the analytic test functions are in
:mod:`experiments.models.testfunctions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from numpy.random import SeedSequence

ModelFunction = Callable[[dict[str, Any], SeedSequence], Mapping[str, float]]


@dataclass(frozen=True)
class FactorInfo:
    """What a model declares about one input: default, plausible range, valid bounds, kind, unit."""

    name: str
    default: float | int
    low: float
    high: float
    valid_min: float | None = None
    valid_max: float | None = None
    kind: str = "float"
    unit: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """A sweepable model.

    ``function`` is called as ``function(params, seed)`` with ``params`` = fixed parameters + factor values.
    ``inputs`` lists every input a config may vary or fix; ``default_factors`` those varied when a config
    does not say.  ``check(params)`` returns a problem description or ``None`` (used to refuse a design
    before any run).  With ``fill_defaults`` the default of every input that is neither varied nor fixed
    by the config is passed explicitly (off for lcsim, whose ``Params`` supplies its own defaults).
    """

    name: str
    function: ModelFunction
    outputs: tuple[str, ...]
    inputs: Mapping[str, FactorInfo]
    default_factors: tuple[str, ...]
    default_outputs: tuple[str, ...]
    check: Callable[[dict[str, Any]], str | None] | None = None
    fill_defaults: bool = True
    resolve: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    description: str = ""
    output_meaning: Mapping[str, str] = field(default_factory=dict)
    #: Outputs defined only when an input reaches a value: ``{"continued_by_school_y5": ("horizon_months", 60)}``
    #: (a study that can never reach it is refused before any run, one that sometimes does is warned).
    output_needs: Mapping[str, tuple[str, float]] = field(default_factory=dict)


__all__ = ["FactorInfo", "ModelFunction", "ModelSpec"]
