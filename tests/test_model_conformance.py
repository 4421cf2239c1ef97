"""One conformance check for every registered ``ModelSpec`` (in the spirit of scikit-learn's check_estimator).

A model plugged into the sweep layer must (1) survive pickling (worker processes and Dask unpickle it),
(2) return every output it declares, as finite numbers, (3) give the same result for the same seed, and
(4) have a bad parameter refused with exit code 2 *before any run* -- the model function is replaced by one
that fails the test if it is ever called.  Adding a name to ``REGISTRY`` adds it to every check here.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
from pathlib import Path
from typing import Any

import pytest
from numpy.random import SeedSequence
from typer.testing import CliRunner

from experiments.cli import app
from experiments.models.registry import REGISTRY, load_model
from experiments.models.spec import ModelSpec

NAMES = sorted(REGISTRY)
#: Extra parameters per model for the output checks (none needed: the default lcsim run covers year 10).
CHEAP_PARAMS: dict[str, dict[str, Any]] = {}


def call_params(spec: ModelSpec) -> dict[str, Any]:
    """Parameters at every input's default (what the engine passes when ``fill_defaults`` is set)."""
    params = {name: info.default for name, info in spec.inputs.items()} if spec.fill_defaults else {}
    return {**params, **CHEAP_PARAMS.get(spec.name, {})}


def bad_value(spec: ModelSpec) -> tuple[str, float]:
    """An input and a value outside its valid bounds."""
    for name, info in spec.inputs.items():
        if info.valid_min is not None:
            return name, info.valid_min - 1 - abs(info.valid_min)
        if info.valid_max is not None:
            return name, info.valid_max + 1 + abs(info.valid_max)
    pytest.fail(f"{spec.name}: no input declares valid bounds, so no value can be refused")


def test_every_registered_name_loads_a_spec_of_that_name() -> None:
    assert {"lcsim", "ishigami", "sobol_g", "linear_noise"} <= set(NAMES)
    for name in NAMES:
        spec = load_model(name)
        assert isinstance(spec, ModelSpec) and spec.name == name
        assert spec.outputs and set(spec.default_outputs) <= set(spec.outputs)
        assert set(spec.default_factors) <= set(spec.inputs)


@pytest.mark.parametrize("name", NAMES)
def test_the_spec_survives_pickling(name: str) -> None:
    spec = load_model(name)
    again = pickle.loads(pickle.dumps(spec))
    assert again.function is spec.function  # a module-level function: unpickled by reference
    assert again.outputs == spec.outputs and dict(again.inputs) == dict(spec.inputs)


@pytest.mark.parametrize("name", NAMES)
def test_declared_outputs_are_returned_and_the_same_seed_gives_the_same_result(name: str) -> None:
    spec = load_model(name)
    params = call_params(spec)
    if spec.check is not None:
        assert spec.check(params) is None, "the default parameters must be valid"
    first = dict(spec.function(dict(params), SeedSequence(11, spawn_key=(0, 1))))
    again = dict(spec.function(dict(params), SeedSequence(11, spawn_key=(0, 1))))
    assert set(spec.outputs) <= set(first), f"missing outputs: {sorted(set(spec.outputs) - set(first))}"
    for output in spec.outputs:
        value = first[output]
        assert isinstance(value, int | float) and math.isfinite(value), (output, value)
    assert first == again
    # the seed matters for models that draw anything: an unseeded draw would make these two equal too
    noisy = {**params, "noise_sd": 1.0} if "noise_sd" in spec.inputs else params
    other = [dict(spec.function(dict(noisy), SeedSequence(s))) for s in (1, 2)]
    if name not in ("ishigami", "sobol_g") or "noise_sd" in spec.inputs:
        assert other[0] != other[1], "two seeds gave identical outputs"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mistake", ["out_of_bounds", "unknown_name"])
def test_a_bad_parameter_is_refused_before_any_run(name: str, mistake: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_model(name)

    def never(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
        raise AssertionError("the model ran although its parameters were refused")

    monkeypatch.setitem(REGISTRY, name, lambda: dataclasses.replace(spec, function=never))
    if mistake == "out_of_bounds":
        parameter, value = bad_value(spec)
        shown = str(value)
    else:
        first = sorted(spec.inputs)[0]
        parameter, value, shown = first + "x", 1, first  # a typo: the message suggests the real name
    # vary one other input, so that the bad one is only fixed
    varied = next(n for n, info in spec.inputs.items() if info.low < info.high and not parameter.startswith(n))
    study = tmp_path / "bad.toml"
    study.write_text(f'name = "conformance"\nmodel = "{name}"\ndesign = "lhs"\nreplicates = 1\nseed = 1\n'
                     f'factors = ["{varied}"]\n[lhs]\nsamples = 2\n[parameters]\n{parameter} = {value}\n',
                     encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(study), "--out", str(out), "--backend", "serial",
                                      "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "bad.toml" in result.output
    assert parameter in result.output and shown in result.output
    assert not out.exists()
