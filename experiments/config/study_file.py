"""The shape of a sweep or sensitivity file: frozen pydantic models, one docstring per field.

:class:`SweepFile` and :class:`SensitivityFile` check what can be checked without knowing the model --
the keys, the types, the integer and number ranges of every section.  What depends on the model (are
the factors, outputs and [parameters] inputs of it, are [ranges] within its valid bounds, are all
design points valid) is checked next by :mod:`experiments.config.study`, which knows the model.

Every pydantic error becomes one line naming the file, the field, the value and what is allowed (with a
did-you-mean for unknown keys) -- the same sentences as before the files were read through pydantic:
:func:`file_problems`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from experiments.config.reading import format_number, show_value, suggest

MAX_REPLICATES = 100_000
MAX_SEED = 2**63 - 1
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # at most 100 characters: it names a folder
SWEEP_DESIGNS = ("factorial", "lhs")
METHODS = ("morris", "sobol", "emulator")
SURROGATES = ("gp", "pce")
EMULATOR_DESIGNS = ("sobol", "lhs")
NOISE_MODELS = ("pooled", "per_point")
#: Smallest emulator design per factor (Loeppky, Sacks & Welch 2009: n = 10 d for a GP's first design).
POINTS_PER_FACTOR = 10


def _integer(default: Any, low: int, high: int, extra: str = "") -> Any:
    """An integer field from ``low`` to ``high`` whose error messages say so."""
    return Field(default, ge=low, le=high, json_schema_extra={
        "allowed": f"an integer from {low} to {high}{extra}",
        "wrong_type": f"an integer (no decimal point) from {low} to {high}{extra}",
    })


def _number(default: float, low: float, high: float) -> Any:
    """A finite number strictly between ``low`` and ``high``."""
    span = f"{format_number(low)} and {format_number(high)}"
    return Field(default, gt=low, lt=high, allow_inf_nan=False, json_schema_extra={
        "allowed": f"a number strictly between {span}", "wrong_type": f"a number between {span}"})


def _text(default: Any, allowed: str, **extra: str) -> Any:
    return Field(default, json_schema_extra={"allowed": allowed, **extra})


class Section(BaseModel):
    """A table of a study file: no unknown keys, TOML types taken as they are (no ``"3"`` -> 3)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class AnalysisSection(Section):
    """``[analysis]``: how run sets are analysed."""

    bootstrap: int = _integer(1000, 100, 100_000)
    """Bootstrap resamples for every confidence interval."""
    confidence: float = _number(0.95, 0.5, 1.0)
    """Level of the confidence intervals (0.95 = 95%)."""
    pawn_slices: int = _integer(10, 2, 100)
    """Conditioning slices of the PAWN index."""
    analyse_variance: bool = _text(True, "true or false")
    """Also analyse the replicate variance of every output (how much the factors change the noise)."""
    noise_warn_share: float = _number(0.1, 0.0, 1.0)
    """Warn when the replicate noise is more than this share of an output's variance."""


class LhsSection(Section):
    """``[lhs]``: the size of a Latin-hypercube sweep."""

    samples: int = _integer(..., 2, 10_000_000)
    """Design points (each run ``replicates`` times)."""


class MorrisSection(Section):
    """``[morris]``: elementary-effects screening."""

    trajectories: int = _integer(20, 2, 1_000_000)
    """Morris trajectories (each has one point more than there are factors)."""
    levels: int = _integer(4, 2, 100, " (even numbers recommended)")
    """Grid levels per factor; even, so that every step of a trajectory is the same size."""

    @field_validator("levels")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError("is odd; allowed: an even number of levels (e.g. 4), so every trajectory step is the "
                             "same size")
        return value


class SobolSection(Section):
    """``[sobol]``: Saltelli's sample for Sobol' indices."""

    base_samples: int = _integer(256, 8, 2**24, " and a power of two")
    """Base rows N of the Saltelli sample (N * (d + 2) runs per replicate, d factors)."""
    second_order: bool = _text(False, "true or false")
    """Also estimate second-order indices (N * (2d + 2) runs)."""

    @field_validator("base_samples")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"is not a power of two; allowed: 8, 16, ..., e.g. "
                             f"{1 << max(3, (value - 1).bit_length() - 1)} or {1 << (value - 1).bit_length()}")
        return value


class EmulatorSection(Section):
    """``[emulator]``: a space-filling design with replicates, a surrogate of the replicate means that knows
    each point's noise, and Sobol' indices of its mean (docs/sensitivity.md)."""

    design: Literal["sobol", "lhs"] = Field("sobol", json_schema_extra={
        "invalid": "; allowed: " + " or ".join(f'"{d}"' for d in EMULATOR_DESIGNS)})
    """Space-filling design of the points: ``"sobol"`` (scrambled Sobol' sequence; doubling keeps its balance)
    or ``"lhs"`` (Latin hypercube, a new batch per doubling)."""
    points: int = _integer(256, 8, 1_000_000, " and at least 10 per factor")
    """Design points (each run ``replicates`` times, R >= 2); ``--until-converged`` doubles them."""
    grow: Literal["points", "replicates"] = Field("points", json_schema_extra={
        "invalid": '; allowed: "points" or "replicates"'})
    """What ``--until-converged`` doubles: ``"points"`` (default) new design points; ``"replicates"`` the runs
    at the existing points (a stage repeats every point so far with new seeds, and the analysis pools the
    replicates of equal points) -- for outcomes whose indices are limited by replicate noise rather than by
    the emulator's coverage of the factor space (docs/sensitivity.md, "Growing replicates instead of points")."""
    surrogate: Literal["gp", "pce"] = Field("gp", json_schema_extra={
        "invalid": "; allowed: " + " or ".join(f'"{k}"' for k in SURROGATES)})
    """``"gp"``: Gaussian process, anisotropic Matern-5/2 kernel, nugget = noise of the replicate mean;
    ``"pce"``: sparse Legendre polynomial chaos (LARS), rows weighted by their noise."""
    noise: Literal["pooled", "per_point"] = Field("pooled", json_schema_extra={
        "invalid": "; allowed: " + " or ".join(f'"{k}"' for k in NOISE_MODELS)})
    """The noise of each replicate mean the surrogate is told: ``"pooled"`` (default) the pooled within-point
    variance / R at every point; ``"per_point"`` each point's own s2 / R, which is 0 where all replicates agree
    (an outcome that is 0 in every replicate), so the GP must pass through those points exactly -- use it only
    when R is large and no point's replicates are all equal (docs/sensitivity.md, "Which noise")."""
    warping: Literal["none", "kumaraswamy"] = Field("none", json_schema_extra={
        "invalid": '; allowed: "none" or "kumaraswamy"'})
    """GP only: ``"kumaraswamy"`` warps every factor's unit coordinate by a Kumaraswamy CDF chosen by marginal
    likelihood, for outcomes that change fast in one part of a factor's range and hardly in the rest (Snoek
    et al. 2014; docs/sensitivity.md, "Warped inputs"); ``"none"`` (default): no warp."""
    q2_threshold: float = _number(0.9, 0.0, 1.0)
    """Smallest noise-corrected cross-validated Q^2 at which an output's emulator indices are trusted (and
    ``--until-converged`` may stop)."""
    folds: int = _integer(5, 2, 50)
    """Folds of the cross-validated Q^2."""
    cross_validation: Literal["fixed", "nested"] = Field("fixed", json_schema_extra={
        "invalid": '; allowed: "fixed" or "nested"'})
    """GP only: ``"fixed"`` (default) the folds keep the full fit's hyperparameters (and warps): one fit per
    output, but Q^2 is optimistic -- by 0.05 for continuation on the all-factors design, 0.10 with warped
    inputs (benchmarks/bench_emulator_variants.py --nested); ``"nested"`` every fold estimates them anew
    from its own points: the honest Q^2, at ``folds`` more fits per output."""
    refits: int = _integer(50, 10, 10_000)
    """Bootstrap refits behind every interval (points resampled with replacement)."""
    hyperparameters: Literal["refitted", "fixed"] = Field("refitted", json_schema_extra={
        "invalid": '; allowed: "refitted" or "fixed"'})
    """In each refit, ``"refitted"`` (default): the GP's hyperparameters are estimated anew (maximum likelihood
    started from the full fit's values; PCE: the terms chosen anew), so the intervals include their
    uncertainty; ``"fixed"``: they are kept from the full fit -- faster (6 times on the noisy G-function,
    more at 27 factors), but the intervals are too narrow (benchmarks/bench_emulator_intervals.py: 8 of 32
    exact indices inside, against 24 of 32 refitted)."""
    refit_iterations: int = _integer(0, 0, 100_000)
    """With ``hyperparameters = "refitted"`` (GP): the most L-BFGS iterations of each refit's maximum-likelihood
    search, which starts at the full fit's optimum (a k-step bootstrap, Andrews 2002); 0 (default): search
    until it converges.  Cheaper, but only part of the repair: on the noisy G-function 18 of 32 exact indices
    inside at 10 iterations, against 24 of 32 uncapped and 8 of 32 fixed (docs/sensitivity.md, "Cheaper
    refits")."""
    mc_samples: int = _integer(4096, 256, 1_000_000)
    """Monte Carlo base rows of the sample that every refit's indices share (the point estimate uses 16 times
    as many fresh rows, and its Monte Carlo error enters the half-width)."""
    restarts: int = _integer(1, 0, 20)
    """Extra random starts of the GP's hyperparameter optimisation."""
    order: int = _integer(3, 1, 8)
    """Total polynomial degree of the PCE (``surrogate = "pce"`` only)."""

    @field_validator("points")
    @classmethod
    def _sobol_points(cls, value: int, info: Any) -> int:
        if info.data.get("design", "sobol") == "sobol" and value & (value - 1):
            raise ValueError(f"is not a power of two (a Sobol' design is balanced only at powers of two); allowed: "
                             f"e.g. {1 << max(3, (value - 1).bit_length() - 1)} or {1 << (value - 1).bit_length()}, "
                             'or design = "lhs"')
        return value


class ConvergenceSection(Section):
    """``[convergence]``: when ``--until-converged`` stops doubling the base sample."""

    threshold: float = _number(0.05, 0.0, 1.0)
    """Largest half-width of the top factors' intervals that counts as converged."""
    top: int = _integer(5, 1, 1000)
    """How many top-ranked factors must be converged and keep their ranking."""
    outputs: list[str] | None = _text(None, "a non-empty list of the analysed outputs")
    """Outputs that must converge (default: every analysed output); checked against ``outputs``."""
    max_runs: int = _integer(200_000, 1, 10**9)
    """Stop doubling before the run set would exceed this many runs."""


class StudyFile(Section):
    """What sweep and sensitivity files share.  Fields checked against the model are typed loosely
    (``Any``) here and checked with the model in :mod:`experiments.config.study`."""

    name: str = Field(..., pattern=NAME_PATTERN, json_schema_extra={
        "allowed": 'a string such as name = "baseline_morris"',
        "invalid": "is not a valid name; allowed: letters, digits, '_', '-' or '.', starting with a letter or digit, at most "
                   "100 characters (it names the output folder)"})
    """The study's name; it names the output folder ``results/<name>``."""
    description: str = _text("", "a string")
    """One sentence saying what the study asks."""
    model: str = _text("lcsim", 'a model name such as "lcsim"')
    """A registered model name (``lcsim``, ``ishigami``, ...) or ``"package.module:SPEC"``."""
    scenario: str | None = _text(None, 'a path (string) to a scenario file such as "configs/scenarios/baseline.toml"')
    """A scenario file whose parameters are the fixed base (lcsim only)."""
    factors: Any = None
    """``"success_factors"`` (lcsim's default), ``"default"``, or a list of input names to vary."""
    outputs: Any = None
    """Output names to analyse (default: the model's default outputs)."""
    replicates: int = _integer(..., 1, MAX_REPLICATES)
    """Runs per design point, each with its own seed."""
    seed: int = _integer(..., 0, MAX_SEED)
    """Root seed of every run and of random designs."""
    common_random_numbers: bool = _text(False, "true or false")
    """Replicate r uses the same seed at every design point (sharper differences between points)."""
    ranges: dict[str, Any] = _text({}, "a table, written as a [ranges] section")
    """``factor = [low, high]``: a range other than the plausible range of the parameter table."""
    parameters: dict[str, Any] = _text({}, "a table, written as a [parameters] section")
    """``input = value``: fixed inputs (on top of ``scenario``)."""
    analysis: AnalysisSection = _text(AnalysisSection(), "a table, written as a [analysis] section")
    """How the run set is analysed."""


class SweepFile(StudyFile):
    """A sweep file (``configs/sweeps/*.toml``): a factorial grid or a Latin hypercube."""

    design: Literal["factorial", "lhs"] = Field(..., json_schema_extra={
        "missing": " or ".join(f'design = "{d}"' for d in SWEEP_DESIGNS),
        "invalid": "; allowed: " + " or ".join(f'"{d}"' for d in SWEEP_DESIGNS)})
    """``"factorial"`` (every combination of [levels]) or ``"lhs"`` (Latin hypercube of [lhs] samples)."""
    levels: dict[str, Any] | None = _text(None, "a table, written as a [levels] section")
    """Factorial levels per factor: a count of evenly spaced levels or a list of values."""
    lhs: LhsSection | None = _text(None, "a table, written as a [lhs] section")
    """The Latin-hypercube size."""
    heatmap: Any = None
    """The two varied factors on the heatmap axes (default: the first two)."""


class SensitivityFile(StudyFile):
    """A sensitivity file (``configs/sensitivity/*.toml``): Morris screening or Sobol' indices."""

    method: Literal["morris", "sobol", "emulator"] = Field(..., json_schema_extra={
        "missing": " or ".join(f'method = "{m}"' for m in METHODS),
        "invalid": "; allowed: " + " or ".join(f'"{m}"' for m in METHODS)})
    """``"morris"`` (elementary effects), ``"sobol"`` (Saltelli sample, Sobol' indices) or ``"emulator"``
    (space-filling design, surrogate, Sobol' indices of its mean)."""
    morris: MorrisSection | None = _text(None, "a table, written as a [morris] section")
    """Morris settings (defaults when absent)."""
    sobol: SobolSection | None = _text(None, "a table, written as a [sobol] section")
    """Sobol' settings (defaults when absent)."""
    emulator: EmulatorSection | None = _text(None, "a table, written as a [emulator] section")
    """Emulator settings (defaults when absent; needs replicates >= 2)."""
    convergence: ConvergenceSection = _text(ConvergenceSection(), "a table, written as a [convergence] section")
    """When ``--until-converged`` stops."""
    compare_with: list[str] = _text([], "a list of folder paths (strings)")
    """Earlier run sets whose rankings the report compares with this one."""


SECTIONS: dict[str, type[Section]] = {"analysis": AnalysisSection, "lhs": LhsSection, "morris": MorrisSection,
                                      "sobol": SobolSection, "emulator": EmulatorSection,
                                      "convergence": ConvergenceSection}


def _extra(model: type[BaseModel], name: str, key: str) -> str | None:
    info = model.model_fields.get(name)
    extra = info.json_schema_extra if info is not None and isinstance(info.json_schema_extra, dict) else {}
    value = extra.get(key)
    return None if value is None else str(value)


def _lookup(document: dict[str, Any], loc: tuple[Any, ...]) -> Any:
    value: Any = document
    for part in loc:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value


def file_problems(exc: ValidationError, model: type[StudyFile], document: dict[str, Any]) -> list[str]:
    """One sentence per pydantic error (without the file name): field, value, what is allowed."""
    problems = []
    top_keys = list(model.model_fields)
    for error in exc.errors(include_url=False):
        kind, loc = error["type"], tuple(error.get("loc", ()))
        if not loc:
            problems.append(error["msg"])
            continue
        owner: type[BaseModel] = model
        if len(loc) > 1 and loc[0] in SECTIONS and not isinstance(_lookup(document, loc[:1]), list):
            owner, name, path = SECTIONS[str(loc[0])], str(loc[1]), f"{loc[0]}.{loc[1]}"
        else:
            name, path = str(loc[0]), str(loc[0])
        value = _lookup(document, loc[:2] if owner is not model else loc[:1])
        shown = show_value(value)
        allowed = _extra(owner, name, "allowed") or ""
        if kind == "extra_forbidden":
            if owner is model:
                problems.append(f"unknown top-level key '{name}' = {shown}; allowed: {', '.join(top_keys)}"
                                + suggest(name, top_keys))
            else:
                keys = list(owner.model_fields)
                problems.append(f"[{loc[0]}] unknown field '{name}' = {shown}; allowed: {', '.join(keys)}"
                                + suggest(name, keys))
        elif kind == "missing":
            problems.append(f"field '{path}' is missing; allowed: {_extra(owner, name, 'missing') or allowed}")
        elif (invalid := _extra(owner, name, "invalid")) is not None:
            problems.append(f"field '{path}' = {shown}{'' if invalid.startswith(';') else ' '}{invalid}")
        elif kind == "value_error":
            problems.append(f"field '{path}' = {shown} {error['msg'].removeprefix('Value error, ')}")
        elif kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
            problems.append(f"field '{path}' = {shown} is out of range; allowed: {allowed}")
        elif kind == "model_type" or (kind == "dict_type" and len(loc) == 1):
            problems.append(f"field '{path}' = {shown} has the wrong type; allowed: {allowed}")
        else:  # a wrong type (also nan/inf where a finite number is needed)
            wrong = _extra(owner, name, "wrong_type") or allowed
            problems.append(f"field '{path}' = {shown} has the wrong type; allowed: {wrong}")
    return list(dict.fromkeys(problems))


__all__ = ["AnalysisSection", "ConvergenceSection", "EmulatorSection", "LhsSection", "METHODS", "POINTS_PER_FACTOR", "MAX_REPLICATES", "MAX_SEED",
           "MorrisSection", "NAME_PATTERN", "SWEEP_DESIGNS", "SensitivityFile", "SobolSection", "StudyFile",
           "SweepFile", "file_problems"]
