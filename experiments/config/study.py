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

Every problem is reported at once as a :class:`experiments.config.scenario.ConfigError` whose lines name the
file, the field, the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.config.reading import ConfigError, format_number, parse_toml, read_config_bytes, show_value, suggest
from experiments.designs.samplers import Factor
from experiments.models.registry import UnknownModelError, load_model
from experiments.models.spec import FactorInfo, ModelSpec

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

COMMON_KEYS = ("name", "description", "model", "scenario", "factors", "outputs", "replicates", "seed",
               "common_random_numbers", "ranges", "parameters", "analysis")
SWEEP_KEYS = (*COMMON_KEYS, "design", "levels", "lhs", "heatmap")
SENSITIVITY_KEYS = (*COMMON_KEYS, "method", "morris", "sobol", "convergence", "compare_with")

SWEEP_DESIGNS = ("factorial", "lhs")
METHODS = ("morris", "sobol")

ANALYSIS_DEFAULTS: dict[str, Any] = {
    "bootstrap": 1000, "confidence": 0.95, "pawn_slices": 10, "analyse_variance": True, "noise_warn_share": 0.1,
}
CONVERGENCE_DEFAULTS: dict[str, Any] = {"threshold": 0.05, "top": 5, "outputs": None, "max_runs": 200_000}

MAX_REPLICATES = 100_000
MAX_SEED = 2**63 - 1


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
    """Validate a parsed study document; every problem is collected into one ConfigError."""
    check = _Checker(source)
    allowed_keys = SWEEP_KEYS if kind == "sweep" else SENSITIVITY_KEYS
    for key in document:
        if key not in allowed_keys:
            check.problem(f"unknown top-level key '{key}' = {show_value(document[key])}; allowed: "
                          f"{', '.join(allowed_keys)}" + suggest(key, list(allowed_keys)))

    name = document.get("name")
    if name is None:
        check.problem("field 'name' is missing; allowed: a string such as name = \"baseline_morris\"")
    elif not isinstance(name, str) or not _NAME_PATTERN.match(name):
        check.problem(f"field 'name' = {show_value(name)} is not a valid name; allowed: letters, digits, '_', '-' "
                      "or '.', starting with a letter or digit (it names the output folder)")
    description = check.typed(document, "description", str, "a string", "")

    model_ref = check.typed(document, "model", str, "a model name such as \"lcsim\"", "lcsim")
    spec: ModelSpec | None = None
    try:
        spec = load_model(model_ref)
    except UnknownModelError as exc:
        from experiments.models.registry import REGISTRY

        check.problem(f"field 'model' = {show_value(model_ref)}: {exc}; allowed: {', '.join(REGISTRY)} or "
                      "\"package.module:SPEC\" naming an experiments.models.registry.ModelSpec"
                      + suggest(str(model_ref), list(REGISTRY)))
    if spec is None:
        raise check.error()

    base = _base_parameters(document, spec, model_ref, check)
    factors = _factors(document, spec, base, check)
    if spec.fill_defaults:
        varied = {f.name for f in factors}
        base = {**{name: info.default for name, info in spec.inputs.items() if name not in varied}, **base}
    outputs = _outputs(document, spec, check)
    replicates = check.integer(document, "replicates", 1, MAX_REPLICATES, None)
    seed = check.integer(document, "seed", 0, MAX_SEED, None)
    crn = check.typed(document, "common_random_numbers", bool, "true or false", False)
    analysis = _analysis(document, check)

    design: dict[str, Any] = {}
    heatmap = None
    convergence = dict(CONVERGENCE_DEFAULTS)
    compare_with: tuple[str, ...] = ()
    if kind == "sweep":
        design, heatmap = _sweep_design(document, factors, check)
    else:
        design = _sensitivity_design(document, factors, check)
        convergence = _convergence(document, outputs, check)
        compare = check.typed(document, "compare_with", list, "a list of run-set folders", [])
        if any(not isinstance(item, str) for item in compare):
            check.problem(f"field 'compare_with' = {show_value(compare)}; allowed: a list of folder paths (strings)")
        else:
            compare_with = tuple(compare)

    if check.problems:
        raise check.error()
    return StudyConfig(
        kind=kind, name=name, description=description, model=model_ref, factors=tuple(factors), base=base,
        outputs=tuple(outputs), replicates=replicates, seed=seed, common_random_numbers=crn, design=design,
        analysis=analysis, convergence=convergence, heatmap=heatmap, compare_with=compare_with, source=source,
        sha256=sha256, text=text, warnings=tuple(check.warnings),
    )


# --------------------------------------------------------------------------------------- checker


class _Checker:
    """Collects problems (and warnings) with the file name in front of each."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self.warnings: list[str] = []
        #: Factor names already reported as unknown: later tables that name them again ([ranges], [levels],
        #: heatmap) say nothing more, so one misspelling gives one error.
        self.reported: set[str] = set()

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.source}: {text}")

    def warn(self, text: str) -> None:
        self.warnings.append(f"{self.source}: {text}")

    def error(self) -> ConfigError:
        return ConfigError("\n".join(self.problems), self.problems)

    def typed(self, table: dict[str, Any], key: str, kind: type, allowed: str, default: Any, where: str = "") -> Any:
        if key not in table:
            return default
        value = table[key]
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            self.problem(f"field '{where}{key}' = {show_value(value)} has the wrong type; allowed: {allowed}")
            return default
        return value

    def integer(self, table: dict[str, Any], key: str, low: int, high: int, default: int | None,
                where: str = "", extra: str = "") -> Any:
        if key not in table:
            if default is None:
                self.problem(f"field '{where}{key}' is missing; allowed: an integer from {low} to {high}{extra}")
            return default
        value = table[key]
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(f"field '{where}{key}' = {show_value(value)} has the wrong type; allowed: an integer "
                         f"(no decimal point) from {low} to {high}{extra}")
            return default
        if not low <= value <= high:
            self.problem(f"field '{where}{key}' = {value} is out of range; allowed: an integer from {low} to "
                         f"{high}{extra}")
            return default
        return value

    def number(self, table: dict[str, Any], key: str, low: float, high: float, default: float,
               where: str = "", inclusive: bool = False) -> float:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            self.problem(f"field '{where}{key}' = {show_value(value)} has the wrong type; allowed: a number between "
                         f"{format_number(low)} and {format_number(high)}")
            return default
        inside = low <= value <= high if inclusive else low < value < high
        if not inside:
            bounds = "from {} to {}" if inclusive else "strictly between {} and {}"
            self.problem(f"field '{where}{key}' = {show_value(value)} is out of range; allowed: a number "
                         + bounds.format(format_number(low), format_number(high)))
            return default
        return float(value)

    def table(self, document: dict[str, Any], key: str) -> dict[str, Any]:
        value = document.get(key, {})
        if not isinstance(value, dict):
            self.problem(f"field '{key}' = {show_value(value)} has the wrong type; allowed: a table, written as a "
                         f"[{key}] section")
            return {}
        return value

    def known_keys(self, table: dict[str, Any], section: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                self.problem(f"[{section}] unknown field '{key}' = {show_value(table[key])}; allowed: "
                             f"{', '.join(allowed)}" + suggest(key, list(allowed)))


# --------------------------------------------------------------------------------------- parts


def _base_parameters(document: dict[str, Any], spec: ModelSpec, model_ref: str, check: _Checker) -> dict[str, Any]:
    base: dict[str, Any] = {}
    scenario = document.get("scenario")
    if scenario is not None:
        if spec.name != "lcsim":
            check.problem(f"field 'scenario' = {show_value(scenario)}; allowed: only with model = \"lcsim\"")
        elif not isinstance(scenario, str):
            check.problem(f"field 'scenario' = {show_value(scenario)} has the wrong type; allowed: a path (string) to "
                          "a scenario file such as \"configs/scenarios/baseline.toml\"")
        else:
            from experiments.config.scenario import load_scenario, resolve_scenario

            named_in = Path(check.source) if Path(check.source).is_file() else None
            try:
                base.update(load_scenario(resolve_scenario(scenario, named_in)).overrides)
            except ConfigError as exc:
                for line in exc.problems:
                    check.problem(f"field 'scenario' = {show_value(scenario)}: {line}")
    parameters = check.table(document, "parameters")
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


def _factors(document: dict[str, Any], spec: ModelSpec, base: dict[str, Any], check: _Checker) -> list[Factor]:
    chosen = document.get("factors", "success_factors" if spec.name == "lcsim" else "default")
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
        if name in base:
            check.problem(f"[parameters] field '{name}' = {show_value(base[name])} fixes a factor that is also varied; "
                          "allowed: a factor is either in 'factors' or in [parameters], not both")

    ranges = check.table(document, "ranges")
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
                continue
            low, high = given
        elif not high > low:
            check.problem(f"factor '{name}' has no plausible range to vary over (it is fixed at "
                          f"{format_number(info.default)}); allowed: give one in [ranges], e.g. {name} = [low, high]")
            continue
        factors.append(Factor(name, float(low), float(high), info.kind, info.unit))
    return factors


def _range(value: Any, name: str, info: Any, check: _Checker) -> tuple[float, float] | None:
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


def _outputs(document: dict[str, Any], spec: ModelSpec, check: _Checker) -> list[str]:
    outputs = document.get("outputs", list(spec.default_outputs))
    if not isinstance(outputs, list) or not outputs or any(not isinstance(o, str) for o in outputs):
        check.problem(f"field 'outputs' = {show_value(outputs)}; allowed: a non-empty list of output names such as "
                      f"{show_value(list(spec.default_outputs))}")
        return list(spec.default_outputs)
    for name in outputs:
        if name not in spec.outputs:
            check.problem(f"field 'outputs' names '{name}', which model '{spec.name}' does not report; allowed: "
                          f"{', '.join(spec.outputs)}" + suggest(name, list(spec.outputs)))
    return [o for o in dict.fromkeys(outputs) if o in spec.outputs]


def _analysis(document: dict[str, Any], check: _Checker) -> dict[str, Any]:
    table = check.table(document, "analysis")
    check.known_keys(table, "analysis", tuple(ANALYSIS_DEFAULTS))
    return {
        "bootstrap": check.integer(table, "bootstrap", 100, 100_000, ANALYSIS_DEFAULTS["bootstrap"], "analysis."),
        "confidence": check.number(table, "confidence", 0.5, 1.0, ANALYSIS_DEFAULTS["confidence"], "analysis."),
        "pawn_slices": check.integer(table, "pawn_slices", 2, 100, ANALYSIS_DEFAULTS["pawn_slices"], "analysis."),
        "analyse_variance": check.typed(table, "analyse_variance", bool, "true or false",
                                        ANALYSIS_DEFAULTS["analyse_variance"], "analysis."),
        "noise_warn_share": check.number(table, "noise_warn_share", 0.0, 1.0, ANALYSIS_DEFAULTS["noise_warn_share"],
                                         "analysis."),
    }


def _sweep_design(document: dict[str, Any], factors: list[Factor],
                  check: _Checker) -> tuple[dict[str, Any], tuple[str, str] | None]:
    from experiments.designs.samplers import even_levels

    kind = document.get("design")
    names = [f.name for f in factors]
    design: dict[str, Any] = {"type": kind}
    levels_table = check.table(document, "levels")
    lhs_table = check.table(document, "lhs")
    if kind == "factorial":
        if "lhs" in document:
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
                else:
                    levels[factor.name] = [float(v) for v in given]
            else:
                check.problem(f"{where} = {show_value(given)}; allowed: an integer count of levels or a list of numbers")
        design["levels"] = levels
    elif kind == "lhs":
        if levels_table:
            check.problem("[levels] is given but design = \"lhs\"; allowed: [levels] only with design = \"factorial\"")
        check.known_keys(lhs_table, "lhs", ("samples",))
        design["samples"] = check.integer(lhs_table, "samples", 2, 10_000_000, None, "lhs.")
    elif kind is None:
        check.problem("field 'design' is missing; allowed: " + " or ".join(f'design = "{d}"' for d in SWEEP_DESIGNS))
    else:
        check.problem(f"field 'design' = {show_value(kind)}; allowed: " + " or ".join(f'"{d}"' for d in SWEEP_DESIGNS))

    heatmap = document.get("heatmap")
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


def _sensitivity_design(document: dict[str, Any], factors: list[Factor], check: _Checker) -> dict[str, Any]:
    method = document.get("method")
    for other in METHODS:
        if method is not None and other != method and other in document:
            check.problem(f"[{other}] is given but method = {show_value(method)}; allowed: only the section of the "
                          "chosen method")
    if len(factors) < 2 and not check.problems:
        check.problem("field 'factors' selects fewer than 2 factors; allowed: at least 2 for a sensitivity analysis")
    if method == "morris":
        table = check.table(document, "morris")
        check.known_keys(table, "morris", ("trajectories", "levels"))
        trajectories = check.integer(table, "trajectories", 2, 1_000_000, 20, "morris.")
        levels = check.integer(table, "levels", 2, 100, 4, "morris.", " (even numbers recommended)")
        if isinstance(levels, int) and levels % 2:
            check.problem(f"field 'morris.levels' = {levels} is odd; allowed: an even number of levels "
                          "(e.g. 4), so every trajectory step is the same size")
        return {"type": "morris", "trajectories": trajectories, "levels": levels}
    if method == "sobol":
        table = check.table(document, "sobol")
        check.known_keys(table, "sobol", ("base_samples", "second_order"))
        base = check.integer(table, "base_samples", 8, 2**24, 256, "sobol.", " and a power of two")
        if isinstance(base, int) and base & (base - 1):
            check.problem(f"field 'sobol.base_samples' = {base} is not a power of two; allowed: 8, 16, ..., "
                          f"e.g. {1 << max(3, (base - 1).bit_length() - 1)} or {1 << (base - 1).bit_length()}")
        second = check.typed(table, "second_order", bool, "true or false", False, "sobol.")
        return {"type": "sobol", "base_samples": base, "second_order": second}
    if method is None:
        check.problem("field 'method' is missing; allowed: " + " or ".join(f'method = "{m}"' for m in METHODS))
    else:
        check.problem(f"field 'method' = {show_value(method)}; allowed: " + " or ".join(f'"{m}"' for m in METHODS))
    return {}


def _convergence(document: dict[str, Any], outputs: list[str], check: _Checker) -> dict[str, Any]:
    table = check.table(document, "convergence")
    check.known_keys(table, "convergence", tuple(CONVERGENCE_DEFAULTS))
    chosen = table.get("outputs")
    if chosen is not None and (not isinstance(chosen, list) or any(o not in outputs for o in chosen) or not chosen):
        check.problem(f"field 'convergence.outputs' = {show_value(chosen)}; allowed: a non-empty list of the analysed "
                      f"outputs ({', '.join(outputs)})")
        chosen = None
    return {
        "threshold": check.number(table, "threshold", 0.0, 1.0, CONVERGENCE_DEFAULTS["threshold"], "convergence."),
        "top": check.integer(table, "top", 1, 1000, CONVERGENCE_DEFAULTS["top"], "convergence."),
        "outputs": list(chosen) if chosen else list(outputs),
        "max_runs": check.integer(table, "max_runs", 1, 10**9, CONVERGENCE_DEFAULTS["max_runs"], "convergence."),
    }


__all__ = ["ANALYSIS_DEFAULTS", "CONVERGENCE_DEFAULTS", "StudyConfig", "load_study", "study_from_dict"]
