"""Robustness files (``configs/robust``): which policies to compare over which uncertain futures.

A robustness file names the policies (scenario files, or tables of lever values), the uncertain factors
whose Latin hypercube makes the futures, and per output whether more or less is better and an optional
satisficing threshold::

    name = "accelerators"                 # names the run set, results/<name>
    model = "lcsim"                       # or another registered model, or "module:SPEC"
    scenario = "configs/scenarios/baseline.toml"   # base of every policy (lcsim only)
    uncertain = ["management_turnover_rate", "external_stress"]
    futures = 40                          # Latin-hypercube points of the uncertain factors
    replicates = 4
    seed = 20261201
    [ranges]                              # narrow an uncertain factor's plausible range
    external_stress = [0.1, 0.6]
    [parameters]                          # fixed inputs of every run
    horizon_months = 120
    [policies]
    baseline = "configs/scenarios/baseline.toml"      # a scenario file: its [parameters] are the levers
    cofund = { school_cofunding_willingness = 0.9 }    # or lever values
    [outputs.continued_by_school_y5]
    goal = "max"                          # "max": more is better; "min": less is better
    threshold = 0.5                       # satisficing: share of futures with the output >= 0.5
    [analysis]
    bootstrap = 200                       # resamples of the replicate intervals (0: none)
    confidence = 0.95

The shape (keys, types, ranges) is checked by frozen pydantic models that forbid unknown keys; what depends
on the model (factor, output and parameter names, valid bounds, the scenario files) is checked next.
Every problem is reported at once as a :class:`experiments.config.reading.ConfigError` whose lines name the
file, the field, the value and what is allowed.

A policy sets its levers in every future.  When a policy sets an uncertain factor (``stable_management``
sets ``management_turnover_rate``), its value replaces the sampled one under that policy: the policy takes
that factor into the region's hands.  The loaded :class:`RobustConfig` lists those cases in
``overridden``, and the report repeats them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from experiments.config.reading import ConfigError, format_number, parse_toml, read_config_bytes, show_value, suggest

MAX_FUTURES = 1_000_000
MAX_REPLICATES = 100_000
MAX_SEED = 2**63 - 1
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # at most 100 characters: it names a folder


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class OutputGoal(_Section):
    """``[outputs.<name>]``: which direction is better, and the satisficing threshold."""

    goal: Literal["max", "min"] = "max"
    """"max" when more of the output is better, "min" when less is."""
    threshold: float | None = Field(None, allow_inf_nan=False)
    """Satisficing threshold in the output's unit: a future is satisfied when the output is >= it ("max") or
    <= it ("min").  Without it the output gets no satisficing metric."""


class RobustAnalysis(_Section):
    """``[analysis]``: the replicate intervals of the robustness metrics."""

    bootstrap: int = Field(200, ge=0, le=100_000)
    """Bootstrap resamples over replicates within futures (0: no intervals)."""
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    """Level of the intervals (0.95 = 95 %): a bootstrap over replicates within futures, bias-corrected and
    centred at ties for the regret metrics (experiments/analysis/robustness.py)."""


class RobustFile(_Section):
    """The whole robustness file, as written (before the model is consulted)."""

    name: str = Field(pattern=NAME_PATTERN)
    """Names the run set folder (results/<name>): letters, digits, '_', '-', '.', at most 100 characters."""
    description: str = ""
    """One sentence on what is compared."""
    model: str = "lcsim"
    """A registered model name (lcsim, policy_future, ...) or "package.module:SPEC"."""
    scenario: str | None = None
    """Scenario file whose [parameters] every policy starts from (lcsim only; a path from the cwd)."""
    uncertain: list[str] = Field(min_length=1)
    """The uncertain factors (inputs of the model) whose Latin hypercube makes the futures."""
    futures: int = Field(ge=2, le=MAX_FUTURES)
    """Number of futures: points of the Latin hypercube of the uncertain factors."""
    replicates: int = Field(ge=1, le=MAX_REPLICATES)
    """Runs per policy and future; replicate r has the same seed under every policy (common random numbers)."""
    seed: int = Field(ge=0, le=MAX_SEED)
    """Root seed of the runs and of the Latin hypercube."""
    ranges: dict[str, list[float]] = {}
    """Narrowed [low, high] ranges of uncertain factors (within their valid bounds)."""
    parameters: dict[str, int | float] = {}
    """Fixed values of inputs that are neither levers nor uncertain."""
    policies: dict[str, str | dict[str, int | float]] = Field(min_length=2)
    """Policy name -> a scenario file (its [parameters] are the policy's levers) or a table of lever values."""
    outputs: dict[str, OutputGoal] = Field(min_length=1)
    """Output name -> its goal and satisficing threshold."""
    analysis: RobustAnalysis = RobustAnalysis()
    """How the metrics' intervals are computed."""


class RobustConfig(BaseModel):
    """A validated robustness study: the file plus what was resolved against the model."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    file: RobustFile
    """The file as written."""
    base: dict[str, Any]
    """Parameters of every run before the policy's levers and the future's values (scenario + [parameters])."""
    levers: dict[str, dict[str, Any]]
    """Policy name -> the inputs it sets, in policy order."""
    uncertain_ranges: dict[str, tuple[float, float]]
    """Uncertain factor -> its [low, high] range in the Latin hypercube."""
    overridden: dict[str, list[str]]
    """Policy name -> the uncertain factors it sets itself (its value replaces the sampled one)."""
    source: str = "<robust>"
    """The file the config was read from."""
    sha256: str | None = None
    """SHA-256 of the file's bytes (a rerun continues the run set only for the same file)."""

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def policies(self) -> list[str]:
        return list(self.levers)


def load_robust(path: str | Path) -> RobustConfig:
    """Read and validate a robustness file; every problem in one :class:`ConfigError`."""
    path = Path(path)
    raw = read_config_bytes(path, "robustness")
    document = parse_toml(path, raw)
    return robust_from_dict(document, source=str(path), sha256=hashlib.sha256(raw).hexdigest())


def robust_config(path: str | Path, *, root: str | Path, **changes: Any) -> RobustConfig:
    """Load a robustness file with some top-level fields changed (a table is merged into the file's table),
    relative scenario paths taken from ``root`` (the project root), validated as ``lcsim robust`` does.

    The config's ``sha256`` is that of the changed document, so a changed size makes a new run set.
    """
    import json

    root = Path(root)
    source = Path(path) if Path(path).is_absolute() else root / path
    document = parse_toml(source, read_config_bytes(source, "robustness"))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = value

    def rooted(text: Any) -> Any:
        return str(root / text) if isinstance(text, str) and not Path(text).is_absolute() else text

    if "scenario" in document:
        document["scenario"] = rooted(document["scenario"])
    if isinstance(document.get("policies"), dict):
        document["policies"] = {k: rooted(v) for k, v in document["policies"].items()}
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
    return robust_from_dict(document, source=str(source), sha256=digest)


def _pydantic_problems(exc: ValidationError, document: dict[str, Any], source: str) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        location = [str(part) for part in error["loc"]]
        where = ".".join(location)
        value: Any = document
        for part in error["loc"]:
            value = value.get(part) if isinstance(value, dict) else None
        kind = error["type"]
        if kind == "extra_forbidden":
            parent = document
            for part in error["loc"][:-1]:
                parent = parent.get(part, {}) if isinstance(parent, dict) else {}
            section = ".".join(location[:-1])
            allowed = {"": RobustFile, "analysis": RobustAnalysis}.get(section)
            if allowed is None and section.startswith("outputs."):
                allowed = OutputGoal
            keys = list(allowed.model_fields) if allowed else []
            problems.append(f"{source}: unknown field '{where}' = {show_value(value)}; allowed: {', '.join(keys)}"
                            + suggest(location[-1], keys))
        elif kind == "missing":
            problems.append(f"{source}: field '{where}' is missing; allowed: {_field_doc(location).lower()} "
                            "(example: configs/robust/accelerators.toml)")
        elif kind == "too_short":  # pydantic's "Dictionary should have at least 2 items after validation, not 1"
            least = error.get("ctx", {}).get("min_length", 1)
            problems.append(f"{source}: field '{where}' = {show_value(value)} has {len(value or {})} "
                            f"entr{'y' if len(value or {}) == 1 else 'ies'}; allowed: at least {least} "
                            f"({_field_doc(location)})")
        else:
            message = error["msg"].removeprefix("Value error, ")
            allowed = message.partition("should be ")[2] or message
            problems.append(f"{source}: field '{where}' = {show_value(value)}: {message[0].lower() + message[1:]}; "
                            f"allowed: {allowed} ({_field_doc(location)})")
    return problems


def _field_doc(location: list[str]) -> str:
    """The first sentence of the docstring of the field at ``location`` (sections and dict keys walked)."""
    model: type[BaseModel] = RobustFile
    parts = list(location)
    while parts:
        field = model.model_fields.get(parts.pop(0))
        if field is None:
            break
        annotation = field.annotation
        if get_origin(annotation) is dict and parts:  # [outputs.<name>]: skip the key
            annotation = get_args(annotation)[1]
            parts.pop(0)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and parts:
            model = annotation
            continue
        return (field.description or "").split(".")[0].replace("\n", " ")
    return model.__doc__.split(".")[0] if model.__doc__ else ""


def robust_from_dict(document: dict[str, Any], *, source: str = "<robust>", sha256: str | None = None) -> RobustConfig:
    """Validate a parsed robustness document against its model."""
    from experiments.models.registry import REGISTRY, UnknownModelError, load_model

    try:
        file = RobustFile.model_validate(document)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, document, source)
        raise ConfigError("\n".join(problems), problems) from None
    problems: list[str] = []
    try:
        spec = load_model(file.model)
    except UnknownModelError as exc:
        problems.append(f"{source}: field 'model' = {show_value(file.model)}: {exc}; allowed: {', '.join(REGISTRY)} "
                        "or \"package.module:SPEC\"" + suggest(file.model, list(REGISTRY)))
        raise ConfigError("\n".join(problems), problems) from None

    def known(name: str, where: str) -> bool:
        if name in spec.inputs:
            return True
        problems.append(f"{source}: {where} names '{name}', which is not an input of model '{spec.name}'; allowed: "
                        "names listed by `lcsim params`" + suggest(name, list(spec.inputs)))
        return False

    base: dict[str, Any] = {}
    if file.scenario is not None:
        if spec.name != "lcsim":
            problems.append(f"{source}: field 'scenario' = {show_value(file.scenario)}; allowed: only with model = "
                            "\"lcsim\"")
        else:
            base.update(_scenario_levers(file.scenario, "field 'scenario'", source, problems))
    for key, value in file.parameters.items():
        if known(key, f"[parameters] field '{key}'"):
            base[key] = value

    ranges: dict[str, tuple[float, float]] = {}
    for name in file.uncertain:
        if not known(name, "field 'uncertain'"):
            continue
        info = spec.inputs[name]
        low, high = info.low, info.high
        if name in file.ranges:
            given = file.ranges[name]
            valid_low = -float("inf") if info.valid_min is None else info.valid_min
            valid_high = float("inf") if info.valid_max is None else info.valid_max
            if len(given) != 2 or not given[0] < given[1] or given[0] < valid_low or given[1] > valid_high:
                problems.append(f"{source}: [ranges] field '{name}' = {show_value(given)}; allowed: [low, high] with "
                                f"low < high within the valid range {format_number(info.valid_min)} to "
                                f"{format_number(info.valid_max)} ({info.unit})")
                continue
            low, high = given
        if not high > low:
            problems.append(f"{source}: uncertain factor '{name}' has no plausible range (fixed at "
                            f"{format_number(info.default)}); allowed: give one in [ranges]")
            continue
        ranges[name] = (float(low), float(high))
    for name in file.ranges:
        if name not in file.uncertain:
            problems.append(f"{source}: [ranges] field '{name}': '{name}' is not an uncertain factor; allowed: one of "
                            f"{', '.join(file.uncertain)}" + suggest(name, file.uncertain))
    for name in base:
        if name in file.uncertain:
            problems.append(f"{source}: '{name}' is both fixed (scenario or [parameters]) and uncertain; allowed: "
                            "either, not both")

    levers: dict[str, dict[str, float]] = {}
    overridden: dict[str, list[str]] = {}
    for policy, given in file.policies.items():
        where = f"[policies] field '{policy}'"
        if isinstance(given, str):
            if spec.name != "lcsim":
                problems.append(f"{source}: {where} = {show_value(given)}; allowed: a table of lever values (scenario "
                                "files only with model = \"lcsim\")")
                continue
            values = _scenario_levers(given, where, source, problems)
        else:
            values = {k: v for k, v in given.items() if known(k, f"{where}")}
        levers[policy] = dict(values)
        hit = [name for name in values if name in file.uncertain]
        if hit:
            overridden[policy] = hit
    for output in file.outputs:
        if output not in spec.outputs:
            problems.append(f"{source}: [outputs] field '{output}': model '{spec.name}' does not report it; allowed: "
                            f"{', '.join(spec.outputs)}" + suggest(output, list(spec.outputs)))
    if spec.check is not None and not problems:
        for policy, values in levers.items():
            params = {**base, **{n: (low + high) / 2 for n, (low, high) in ranges.items()}, **values}
            problem = spec.check(params)
            if problem:
                problems.append(f"{source}: [policies] field '{policy}' gives invalid parameters: {problem}")
    if problems:
        raise ConfigError("\n".join(problems), problems)
    if spec.fill_defaults:
        varied = set(ranges) | {n for values in levers.values() for n in values}
        base = {**{n: info.default for n, info in spec.inputs.items() if n not in varied}, **base}
    return RobustConfig(file=file, base=base, levers=levers, uncertain_ranges=ranges, overridden=overridden,
                        source=source, sha256=sha256)


def _scenario_levers(path: str, where: str, source: str, problems: list[str]) -> dict[str, Any]:
    """The [parameters] of a scenario file (a policy's levers, or the base)."""
    from experiments.config.scenario import load_scenario

    try:
        return dict(load_scenario(path).overrides)
    except ConfigError as exc:
        problems.extend(f"{source}: {where} = {show_value(path)}: {line}" for line in exc.problems)
        return {}


__all__ = ["OutputGoal", "RobustAnalysis", "RobustConfig", "RobustFile", "load_robust", "robust_config",
           "robust_from_dict"]
