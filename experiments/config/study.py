"""Sweep and sensitivity files: read a TOML study description and validate it completely.

A study file says which model to run, which factors to vary over which ranges, what to keep fixed,
how many replicates, the root seed, the outputs to analyse, and the design.  Keys common to both kinds::

    name = "baseline_morris"          # required; names the output folder results/<name>
    description = "..."               # optional
    model = "lcsim"                   # optional (default lcsim); or ishigami, sobol_g, ... or "module:SPEC"
    scenario = "configs/scenarios/baseline.toml"   # optional base scenario (lcsim only): a path relative to
                                      # this file (configs/... from the project) or a scenario name
    factors = "success_factors"       # or a list of names; default: the model's success factors
    outputs = ["continued_by_school_y5", ...]      # default: the model's default outputs
    replicates = 4                    # runs per design point (seeds spawned from `seed`)
    seed = 20240611                   # root seed
    common_random_numbers = false     # true: replicate r uses the same seed at every design point
    [ranges]                          # narrow a factor's plausible range (within its valid bounds)
    complex_question_share = [0.0, 0.6]
    [parameters]                      # fixed values of non-varied inputs
    horizon_months = 120
    [analysis]                        # bootstrap = 1000, confidence = 0.95, pawn_slices = 10,
                                      # analyse_variance = true, noise_warn_share = 0.1

Sweep files (``configs/sweeps``) add ``design = "factorial"`` with a ``[levels]`` table (a count of
evenly spaced levels, or an explicit list, per factor) or ``design = "lhs"`` with ``[lhs] samples = N``,
and optionally ``heatmap = ["factor_x", "factor_y"]``.

Sensitivity files (``configs/sensitivity``) add ``method = "morris"`` with ``[morris] trajectories``,
``levels``, or ``method = "sobol"`` with ``[sobol] base_samples`` (a power of two), ``second_order``; and
``[convergence] threshold = 0.05, top = 5, outputs = [...], max_runs = 200000`` for ``--until-converged``;
and optionally ``compare_with = ["results/baseline_morris"]`` (other run sets whose rankings are set
beside this one's).

The file is read in two steps, every problem of a step reported at once as a
:class:`experiments.config.reading.ConfigError` whose lines name the file, the field, the value and what is
allowed: first its shape (:mod:`experiments.config.study_file`: frozen pydantic models, unknown keys,
types, ranges), then, with the model known, what depends on the model (factors, outputs, [ranges],
[parameters], [levels], heatmap, and that every design point is valid).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from experiments.config.reading import ConfigError, format_number, parse_toml, read_config_bytes, show_value, suggest
from experiments.config.study_file import (METHODS, POINTS_PER_FACTOR, AnalysisSection, ConvergenceSection,
                                           EmulatorSection, MorrisSection, SensitivityFile, SobolSection, StudyFile,
                                           SweepFile, file_problems)
from experiments.designs.samplers import Factor
from experiments.models.registry import UnknownModelError, load_model
from experiments.models.spec import FactorInfo, ModelSpec

COMMON_KEYS = tuple(StudyFile.model_fields)
SWEEP_KEYS = tuple(SweepFile.model_fields)
SENSITIVITY_KEYS = tuple(SensitivityFile.model_fields)

ANALYSIS_DEFAULTS: dict[str, Any] = AnalysisSection().model_dump()
CONVERGENCE_DEFAULTS: dict[str, Any] = ConvergenceSection().model_dump()


@dataclass(frozen=True)
class StudyConfig:
    """A validated sweep or sensitivity study.  Serialises to the manifest and back (for resume)."""

    kind: str
    name: str
    description: str
    model: str
    factors: tuple[Factor, ...]
    base: dict[str, Any]
    outputs: tuple[str, ...]
    replicates: int
    seed: int
    common_random_numbers: bool
    design: dict[str, Any]
    analysis: dict[str, Any]
    convergence: dict[str, Any] = field(default_factory=lambda: dict(CONVERGENCE_DEFAULTS))
    heatmap: tuple[str, str] | None = None
    compare_with: tuple[str, ...] = ()
    source: str | None = None
    sha256: str | None = None
    text: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "description": self.description, "model": self.model,
            "factors": [f.to_dict() for f in self.factors], "base": self.base, "outputs": list(self.outputs),
            "replicates": self.replicates, "seed": self.seed, "common_random_numbers": self.common_random_numbers,
            "design": self.design, "analysis": self.analysis, "convergence": self.convergence,
            "heatmap": list(self.heatmap) if self.heatmap else None, "compare_with": list(self.compare_with),
            "source": self.source, "sha256": self.sha256, "text": self.text, "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyConfig:
        return cls(
            kind=data["kind"], name=data["name"], description=data.get("description", ""), model=data["model"],
            factors=tuple(Factor.from_dict(f) for f in data["factors"]), base=dict(data["base"]),
            outputs=tuple(data["outputs"]), replicates=int(data["replicates"]), seed=int(data["seed"]),
            common_random_numbers=bool(data["common_random_numbers"]), design=dict(data["design"]),
            analysis={**ANALYSIS_DEFAULTS, **data.get("analysis", {})},
            convergence={**CONVERGENCE_DEFAULTS, **data.get("convergence", {})},
            heatmap=tuple(data["heatmap"]) if data.get("heatmap") else None,
            compare_with=tuple(data.get("compare_with", ())), source=data.get("source"),
            sha256=data.get("sha256"), text=data.get("text"), warnings=tuple(data.get("warnings", ())),
        )


# --------------------------------------------------------------------------------------- loading


def load_study(path: str | Path, kind: str, settings: dict[str, Any] | None = None) -> StudyConfig:
    """Read and validate a sweep (``kind="sweep"``) or sensitivity (``kind="sensitivity"``) file.

    ``settings`` (``--set name=value``) replace fixed ``[parameters]`` values, or top-level keys
    (``replicates``, ``seed``), or ``table.key`` entries, before validation, so they are checked like
    values in the file."""
    from experiments.config.reading import resolve_reference
    from experiments.config.scenario import check_kind

    path = resolve_reference(path, None)  # configs/... works from any folder
    what = "sweep" if kind == "sweep" else "sensitivity"
    raw = read_config_bytes(path, what)
    document = parse_toml(path, raw)
    check_kind(path, document, what)
    apply_settings(document, settings or {})
    text = raw.decode("utf-8")
    if settings:  # the stored text (in the run set's manifest) records the command-line values too
        text += "\n# values given on the command line (--set), applied over the file's:\n" + "".join(
            f"# --set {name}={show_value(value)}\n" for name, value in settings.items())
    return study_from_dict(document, kind, source=str(path), sha256=hashlib.sha256(raw).hexdigest(), text=text)


def apply_settings(document: dict[str, Any], settings: dict[str, Any]) -> None:
    """Put ``--set`` values into a parsed study document: ``table.key`` into that table, a top-level key of
    either study kind as is, anything else into ``[parameters]``."""
    for name, value in settings.items():
        table, dot, key = name.partition(".")
        if dot:
            document.setdefault(table, {})[key] = value
        elif name in SWEEP_KEYS or name in SENSITIVITY_KEYS:
            document[name] = value
        else:
            document.setdefault("parameters", {})[name] = value


def study_from_dict(document: dict[str, Any], kind: str, *, source: str = "<study>", sha256: str | None = None,
                    text: str | None = None) -> StudyConfig:
    """Validate a parsed study document: its shape, then (with the model known) its content."""
    shape = SweepFile if kind == "sweep" else SensitivityFile
    check = _Problems(source)
    try:
        doc = shape.model_validate(document)
    except ValidationError as exc:
        for line in file_problems(exc, shape, document):
            check.problem(line)
        raise check.error() from None

    try:
        spec = load_model(doc.model)
    except UnknownModelError as exc:
        from experiments.models.registry import REGISTRY

        check.problem(f"field 'model' = {show_value(doc.model)}: {exc}; allowed: {', '.join(REGISTRY)} or "
                      "\"package.module:SPEC\" naming an experiments.models.spec.ModelSpec"
                      + suggest(doc.model, list(REGISTRY)))
        raise check.error() from None

    base = _base_parameters(doc, spec, check)
    factors = _factors(doc, spec, base, check)
    if spec.fill_defaults:
        varied = {f.name for f in factors}
        base = {**{name: info.default for name, info in spec.inputs.items() if name not in varied}, **base}
    outputs = _check_output_needs(_outputs(doc, spec, check), doc.outputs is None, spec, base, factors, check)

    heatmap = None
    convergence = dict(CONVERGENCE_DEFAULTS)
    compare_with: tuple[str, ...] = ()
    if isinstance(doc, SweepFile):
        design, heatmap = _sweep_design(doc, factors, check)
    else:
        design = _sensitivity_design(doc, factors, check)
        convergence = _convergence(doc.convergence, outputs, check)
        compare_with = tuple(doc.compare_with)

    if check.problems:
        raise check.error()
    return StudyConfig(
        kind=kind, name=doc.name, description=doc.description, model=doc.model, factors=tuple(factors), base=base,
        outputs=tuple(outputs), replicates=doc.replicates, seed=doc.seed,
        common_random_numbers=doc.common_random_numbers, design=design, analysis=doc.analysis.model_dump(),
        convergence=convergence, heatmap=heatmap, compare_with=compare_with, source=source, sha256=sha256,
        text=text, warnings=tuple(check.warnings),
    )


# --------------------------------------------------------------------------------------- problems


class _Problems:
    """Collects problems (and warnings) with the file name in front of each."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self.warnings: list[str] = []
        #: Factor names already reported as unknown or with a bad range: later tables that name them again
        #: ([ranges], [levels], heatmap) say nothing more, so one mistake gives one error.
        self.reported: set[str] = set()

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.source}: {text}")

    def warn(self, text: str) -> None:
        self.warnings.append(f"{self.source}: {text}")

    def error(self) -> ConfigError:
        return ConfigError("\n".join(self.problems), self.problems)


# --------------------------------------------------------------------------------------- parts


def _base_parameters(doc: StudyFile, spec: ModelSpec, check: _Problems) -> dict[str, Any]:
    base: dict[str, Any] = {}
    model_ref = doc.model
    scenario = doc.scenario
    if scenario is not None:
        if spec.name != "lcsim":
            check.problem(f"field 'scenario' = {show_value(scenario)}; allowed: only with model = \"lcsim\"")
        else:
            from experiments.config.scenario import load_scenario, resolve_scenario

            named_in = Path(check.source) if Path(check.source).is_file() else None
            try:
                base.update(load_scenario(resolve_scenario(scenario, named_in)).overrides)
            except ConfigError as exc:
                for line in exc.problems:
                    check.problem(f"field 'scenario' = {show_value(scenario)}: {line}")
    parameters = doc.parameters
    for key, value in parameters.items():
        if key not in spec.inputs:
            check.problem(f"[parameters] field '{key}' = {show_value(value)} is unknown; allowed: the inputs of model "
                          f"'{model_ref}'" + suggest(key, list(spec.inputs)))
        elif not isinstance(value, int | float) or isinstance(value, bool):
            check.problem(f"[parameters] field '{key}' = {show_value(value)} has the wrong type; allowed: a number")
        elif _outside_valid(spec.inputs[key], value):
            info = spec.inputs[key]
            low = "-inf" if info.valid_min is None else format_number(info.valid_min)
            high = "inf" if info.valid_max is None else format_number(info.valid_max)
            check.problem(f"[parameters] field '{key}' = {show_value(value)} is outside the valid range of model "
                          f"'{model_ref}'; allowed: {low} to {high}")
        else:
            base[key] = value
    if spec.name == "lcsim" and parameters:
        from pydantic import ValidationError

        from experiments.config.scenario import param_errors
        from sim import Params

        try:
            Params(**base)
        except ValidationError as exc:
            check.problems.extend(param_errors(exc, check.source, base))
    return base


def _outside_valid(info: FactorInfo, value: float) -> bool:
    """True if a fixed value lies outside an input's declared valid bounds (the model would reject it)."""
    return (info.valid_min is not None and value < info.valid_min) or (
        info.valid_max is not None and value > info.valid_max)


def _factors(doc: StudyFile, spec: ModelSpec, base: dict[str, Any], check: _Problems) -> list[Factor]:
    chosen = doc.factors if doc.factors is not None else ("success_factors" if spec.name == "lcsim" else "default")
    names: list[str] = []
    if chosen in ("success_factors", "default"):
        names = list(spec.default_factors)
    elif isinstance(chosen, list) and chosen and all(isinstance(n, str) for n in chosen):
        names = list(chosen)
        for name in names:
            if name not in spec.inputs:
                check.reported.add(name)
                check.problem(f"field 'factors' names '{name}', which is not an input of model '{spec.name}'; "
                              "allowed: names listed by `lcsim params`" + suggest(name, list(spec.inputs)))
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            check.problem(f"field 'factors' lists {', '.join(duplicates)} more than once; allowed: each factor once")
    else:
        check.problem(f"field 'factors' = {show_value(chosen)}; allowed: \"success_factors\" or a non-empty list of "
                      "input names")
    names = [n for n in dict.fromkeys(names) if n in spec.inputs]
    for name in names:
        if name in doc.parameters:
            check.problem(f"[parameters] field '{name}' = {show_value(doc.parameters[name])} fixes a factor that is "
                          "also varied; allowed: a factor is either in 'factors' or in [parameters], not both")
        elif name in base:  # the value came from the base scenario: say so, not [parameters]
            check.problem(f"field 'scenario' = {show_value(doc.scenario)} fixes '{name}' = {show_value(base[name])}, "
                          "a factor this study varies; allowed: vary it over a scenario that does not set it, or "
                          "leave it out of 'factors'")

    ranges = doc.ranges
    for key, value in ranges.items():
        if key not in names and key not in check.reported:
            check.problem(f"[ranges] field '{key}' = {show_value(value)}: '{key}' is not a varied factor; allowed: one "
                          f"of the factors ({', '.join(names) or 'none'})" + suggest(key, names))
    factors = []
    for name in names:
        info = spec.inputs[name]
        low, high = info.low, info.high
        if name in ranges:
            given = _range(ranges[name], name, info, check)
            if given is None:
                check.reported.add(name)  # its [levels] entry is then not "not a varied factor" as well
                continue
            low, high = given
        elif not high > low:
            check.problem(f"factor '{name}' has no plausible range to vary over (it is fixed at "
                          f"{format_number(info.default)}); allowed: give one in [ranges], e.g. {name} = [low, high]")
            continue
        factors.append(Factor(name, float(low), float(high), info.kind, info.unit))
    return factors


def _range(value: Any, name: str, info: Any, check: _Problems) -> tuple[float, float] | None:
    valid = f"{format_number(info.valid_min)} to {format_number(info.valid_max)}"
    if (not isinstance(value, list) or len(value) != 2
            or any(not isinstance(v, int | float) or isinstance(v, bool) for v in value)):
        check.problem(f"[ranges] field '{name}' = {show_value(value)}; allowed: two numbers [low, high] within the "
                      f"valid range {valid} ({info.unit})")
        return None
    low, high = float(value[0]), float(value[1])
    if not low < high:
        check.problem(f"[ranges] field '{name}' = {show_value(value)}: low must be below high; allowed: [low, high] "
                      f"with low < high within {valid} ({info.unit})")
        return None
    if info.kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
        check.problem(f"[ranges] field '{name}' = {show_value(value)}: '{name}' is an integer parameter; allowed: "
                      f"whole-number bounds within {valid} ({info.unit})")
        return None
    below = info.valid_min is not None and low < info.valid_min
    above = info.valid_max is not None and high > info.valid_max
    if below or above:
        check.problem(f"[ranges] field '{name}' = {show_value(value)} widens the range beyond the valid bounds; "
                      f"allowed: a range within {valid} ({info.unit}; plausible {format_number(info.low)} to "
                      f"{format_number(info.high)})")
        return None
    if low < info.low or high > info.high:
        check.warn(f"[ranges] '{name}' = {show_value(value)} reaches outside the plausible range "
                   f"{format_number(info.low)} to {format_number(info.high)} ({info.unit})")
    return low, high


def _outputs(doc: StudyFile, spec: ModelSpec, check: _Problems) -> list[str]:
    outputs = doc.outputs if doc.outputs is not None else list(spec.default_outputs)
    if not isinstance(outputs, list) or not outputs or any(not isinstance(o, str) for o in outputs):
        check.problem(f"field 'outputs' = {show_value(outputs)}; allowed: a non-empty list of output names such as "
                      f"{show_value(list(spec.default_outputs))}")
        return list(spec.default_outputs)
    for name in outputs:
        if name not in spec.outputs:
            check.problem(f"field 'outputs' names '{name}', which model '{spec.name}' does not report; allowed: "
                          f"{', '.join(spec.outputs)}" + suggest(name, list(spec.outputs)))
    return [o for o in dict.fromkeys(outputs) if o in spec.outputs]


def _check_output_needs(outputs: list[str], defaulted: bool, spec: ModelSpec, base: dict[str, Any],
                        factors: list[Factor], check: _Problems) -> list[str]:
    """The outputs the study can define.  One it can never define (a year-5 share with a 24-month horizon) is
    refused when the file names it and left out, with a warning, when it came with the defaults; one that only
    part of the design defines is warned about before any run."""
    varied = {factor.name: factor for factor in factors}
    kept = []
    for output in outputs:
        if output not in spec.output_needs:
            kept.append(output)
            continue
        name, minimum = spec.output_needs[output]
        info = spec.inputs[name]
        if name in varied:
            low, high = varied[name].low, varied[name].high
            shown = f"{name} varied from {format_number(low)} to {format_number(high)}"
        else:
            low = high = float(base.get(name, info.default))
            shown = f"{name} = {format_number(low)}"
        need = f"needs {name} >= {format_number(minimum)} ({info.unit})"
        if high < minimum and defaulted:
            check.warn(f"default output '{output}' left out: it {need}, but the study runs {shown}")
            continue
        if high < minimum:
            check.problem(f"field 'outputs' names '{output}', which {need}, but the study runs {shown}; allowed: a "
                          f"longer {name} in [parameters] or the scenario, or another output")
        elif low < minimum:
            check.warn(f"'{output}' {need}; with {shown} the design points below that will report no value")
        kept.append(output)
    return kept


def _sweep_design(doc: SweepFile, factors: list[Factor],
                  check: _Problems) -> tuple[dict[str, Any], tuple[str, str] | None]:
    from experiments.designs.samplers import even_levels

    kind = doc.design
    names = [f.name for f in factors]
    design: dict[str, Any] = {"type": kind}
    levels_table = doc.levels or {}
    if kind == "factorial":
        if doc.lhs is not None:
            check.problem("[lhs] is given but design = \"factorial\"; allowed: [lhs] only with design = \"lhs\"")
        levels: dict[str, list[float]] = {}
        for key in levels_table:
            if key not in names and key not in check.reported:
                check.problem(f"[levels] field '{key}' = {show_value(levels_table[key])}: '{key}' is not a varied factor; "
                              f"allowed: one of {', '.join(names)}" + suggest(key, names))
        for factor in factors:
            given = levels_table.get(factor.name)
            where = f"[levels] field '{factor.name}'"
            if given is None:
                check.problem(f"{where} is missing; allowed: a number of evenly spaced levels (2 to 1000) or an "
                              f"explicit list of values within {format_number(factor.low)} to "
                              f"{format_number(factor.high)}")
            elif isinstance(given, int) and not isinstance(given, bool):
                if not 2 <= given <= 1000:
                    check.problem(f"{where} = {given} is out of range; allowed: 2 to 1000 evenly spaced levels")
                else:
                    values = even_levels(factor, given)
                    if len(values) < given:
                        check.warn(f"{where} = {given}: the integer factor has only {len(values)} distinct levels "
                                   f"in {format_number(factor.low)} to {format_number(factor.high)}")
                    levels[factor.name] = values
            elif (isinstance(given, list) and given
                  and all(isinstance(v, int | float) and not isinstance(v, bool) for v in given)):
                bad = [v for v in given if not factor.low <= v <= factor.high]
                if bad:
                    check.problem(f"{where} = {show_value(given)} has values outside the factor's range "
                                  f"({show_value(bad)}); allowed: values within {format_number(factor.low)} to "
                                  f"{format_number(factor.high)} ({factor.unit}), or widen it in [ranges]")
                elif factor.kind == "int" and any(not float(v).is_integer() for v in given):
                    check.problem(f"{where} = {show_value(given)}: '{factor.name}' is an integer parameter; allowed: "
                                  "whole numbers")
                elif len(set(given)) != len(given):
                    check.problem(f"{where} = {show_value(given)} repeats a value; allowed: distinct values")
                elif len(given) < 2:  # like a count of 1: a factor that does not vary belongs in [parameters]
                    check.problem(f"{where} = {show_value(given)} is a single level; allowed: a list of at least 2 "
                                  f"distinct values, or set '{factor.name}' in [parameters] to hold it fixed")
                else:
                    levels[factor.name] = [float(v) for v in given]
            else:
                check.problem(f"{where} = {show_value(given)}; allowed: an integer count of levels or a list of numbers")
        design["levels"] = levels
    else:  # lhs (the file model allows nothing else)
        if levels_table:
            check.problem("[levels] is given but design = \"lhs\"; allowed: [levels] only with design = \"factorial\"")
        if doc.lhs is None:
            check.problem("field 'lhs.samples' is missing; allowed: an integer from 2 to 10000000")
        else:
            design["samples"] = doc.lhs.samples

    heatmap = doc.heatmap
    if heatmap is None:
        pair = (names[0], names[1]) if len(names) >= 2 else None
    elif (isinstance(heatmap, list) and len(heatmap) == 2 and all(h in names for h in heatmap)
          and heatmap[0] != heatmap[1]):
        pair = (heatmap[0], heatmap[1])
    elif isinstance(heatmap, list) and any(h in check.reported for h in heatmap):
        pair = None  # the misspelt factor is already reported
    else:
        check.problem(f"field 'heatmap' = {show_value(heatmap)}; allowed: two different varied factors, e.g. "
                      f"{show_value(names[:2])}")
        pair = None
    return design, pair


def _sensitivity_design(doc: SensitivityFile, factors: list[Factor], check: _Problems) -> dict[str, Any]:
    method = doc.method
    for other in METHODS:
        if other != method and getattr(doc, other) is not None:
            check.problem(f"[{other}] is given but method = {show_value(method)}; allowed: only the section of the "
                          "chosen method")
    if len(factors) < 2 and not check.problems:
        check.problem("field 'factors' selects fewer than 2 factors; allowed: at least 2 for a sensitivity analysis")
    if method == "morris":
        morris = doc.morris or MorrisSection()
        return {"type": "morris", "trajectories": morris.trajectories, "levels": morris.levels}
    if method == "emulator":
        emulator = doc.emulator or EmulatorSection()
        if doc.replicates < 2:
            check.problem(f"field 'replicates' = {doc.replicates} with method = \"emulator\"; allowed: at least 2 "
                          "(the emulator is told each point's noise, estimated from its replicates)")
        smallest = POINTS_PER_FACTOR * len(factors)
        if factors and emulator.points < smallest:
            check.problem(f"field 'emulator.points' = {emulator.points} is too small for {len(factors)} factors; "
                          f"allowed: at least {POINTS_PER_FACTOR} points per factor ({smallest} or more"
                          + (f", a power of two such as {1 << (smallest - 1).bit_length()}"
                             if emulator.design == "sobol" else "") + ")")
        return {"type": "emulator", **emulator.model_dump()}
    sobol = doc.sobol or SobolSection()
    return {"type": "sobol", "base_samples": sobol.base_samples, "second_order": sobol.second_order}


def _convergence(table: ConvergenceSection, outputs: list[str], check: _Problems) -> dict[str, Any]:
    chosen = table.outputs
    if chosen is not None and (any(o not in outputs for o in chosen) or not chosen):
        check.problem(f"field 'convergence.outputs' = {show_value(chosen)}; allowed: a non-empty list of the analysed "
                      f"outputs ({', '.join(outputs)})")
        chosen = None
    return {**table.model_dump(), "outputs": list(chosen) if chosen else list(outputs)}


__all__ = ["ANALYSIS_DEFAULTS", "CONVERGENCE_DEFAULTS", "StudyConfig", "load_study", "study_from_dict"]
