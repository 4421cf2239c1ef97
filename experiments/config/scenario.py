"""Scenario files: read a TOML scenario and turn it into validated :class:`sim.Params`.

A scenario file holds these top-level keys::

    name = "baseline"                 # required; also the default output folder name
    description = "..."               # optional
    extends = "baseline"              # optional: a scenario (name or path) or a list, layered in order
    [parameters]                      # optional; any subset of the model parameters
    management_turnover_rate = 0.35   # units as in `lcsim params`

``extends`` layers scenarios: the parameters of each named scenario are applied in the order given,
then the file's own ``[parameters]``; a later value replaces an earlier one.  A bare name such as
``"baseline"`` is the file ``baseline.toml`` beside this one, else the shipped
``configs/scenarios/baseline.toml`` (or ``configs/regions/``); a path is relative to this file.  On the command line,
``A+B`` layers scenario B on scenario A (named ``A+B``) and ``--set name=value`` overrides a parameter
last; both are validated like values in a file.

Every problem is raised as one :class:`ConfigError` whose message names the file, the field, the
offending value and what is allowed.  Pydantic's own messages are never shown raw: they name neither
the file nor the valid range.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim import Params, parameter_table
from experiments.config.reading import (
    ConfigError, format_number, parse_toml, read_config_bytes, resolve_reference, show_value, suggest, toml_type,
)

#: Top-level keys a scenario file may hold.
TOP_LEVEL_KEYS = ("name", "description", "extends", "parameters")

#: Scenario names become folder names (results/<name>), so keep them filesystem-safe; '+' names a
#: composition (baseline+stable_management) and is allowed by every common file system.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")

#: Longest name a scenario file may give: it names results/<name> and the tool's staging folder beside it
#: (".<name>.partial-<pid>-<random>"), and most file systems allow 255 bytes per name.  Compositions on the
#: command line (A+B+C) may be longer: their default folder name is shortened with a hash.
MAX_NAME_LENGTH = 100

#: Where bare scenario names (``extends = "baseline"``, ``lcsim run baseline``) are looked up last, in order.
SHIPPED_SCENARIOS = (Path("configs") / "scenarios", Path("configs") / "regions")


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its parameters plus where they came from (for the run manifest)."""

    name: str
    description: str
    params: Params
    overrides: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None
    #: The scenarios layered under this one (resolved paths, in order), for the manifest.
    extends: tuple[str, ...] = ()
    #: Values given with ``--set name=value`` (already in ``params`` and ``overrides``).
    settings: dict[str, Any] = field(default_factory=dict)

    def implausible_values(self) -> str | None:
        """One warning naming every value the scenario sets outside its parameter's plausible range (valid, but
        beyond what the sources support for the region; `lcsim params` shows both ranges), or ``None``.  Sweeps
        warn the same way for [ranges]; case replays set such values on purpose and get the line too."""
        from sim import parameter_table

        rows = {row.name: row for row in parameter_table()}
        outside = [f"{name} = {show_value(value)} ({format_number(rows[name].low)} to "
                   f"{format_number(rows[name].high)} {rows[name].unit})"
                   for name, value in self.overrides.items()
                   if name in rows and not rows[name].low <= value <= rows[name].high]
        if not outside:
            return None
        where = str(self.path) if self.path is not None and not self.settings else self.name
        return f"{where}: outside the plausible range: {'; '.join(outside)}"

    def provenance(self) -> dict[str, Any]:
        """What a manifest records about where this scenario's values came from."""
        return {"config_path": str(self.path) if self.path else None, "config_sha256": self.sha256,
                "extends": list(self.extends), "settings": dict(self.settings)}


def load_scenario(path: str | Path, *, _chain: tuple[Path, ...] = ()) -> Scenario:
    """Read, parse and validate the scenario file at ``path`` (with the scenarios it ``extends``); raise
    :class:`ConfigError` if anything is wrong."""
    path = Path(path)
    raw = read_config_bytes(path, "scenario", example="configs/scenarios/baseline.toml")
    document = parse_toml(path, raw)
    check_kind(path, document, "scenario")
    inherited: dict[str, Any] = {}
    chain: list[str] = []
    for reference in _extends_list(document, str(path)):
        parent = resolve_scenario(reference, path)
        if parent.resolve() in {p.resolve() for p in (*_chain, path)}:
            raise ConfigError(f"{path}: field 'extends' = {show_value(reference)} makes a circle "
                              f"({' -> '.join(str(p) for p in (*_chain, path, parent))}); allowed: scenarios that do "
                              "not extend themselves")
        try:
            base = load_scenario(parent, _chain=(*_chain, path))
        except ConfigError as exc:
            raise ConfigError(f"{path}: field 'extends' = {show_value(reference)}: {exc}") from None
        inherited.update(base.overrides)
        chain += [*base.extends, str(parent)]
    return scenario_from_dict(document, source=str(path), path=path, sha256=hashlib.sha256(raw).hexdigest(),
                              inherited=inherited, extends=tuple(chain))


def _extends_list(document: dict[str, Any], source: str) -> list[str]:
    value = document.get("extends", [])
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        raise ConfigError(f"{source}: field 'extends' = {show_value(value)} has the wrong type; allowed: a scenario "
                          "name or path (string), or a list of them, e.g. extends = \"baseline\"")
    return items


def resolve_scenario(reference: str, named_in: Path | None = None) -> Path:
    """The file a scenario reference names: a path (``.toml``, relative to ``named_in``'s folder or the
    working directory), or a bare name -- ``NAME.toml`` beside ``named_in``, else in the working
    directory, else the shipped ``configs/scenarios/NAME.toml``."""
    if reference.endswith(".toml") or "/" in reference or "\\" in reference:
        return resolve_reference(reference, named_in)
    base = named_in.resolve().parent if named_in is not None else Path.cwd()
    beside = base / f"{reference}.toml"
    if beside.exists():
        return beside
    for folder in SHIPPED_SCENARIOS:
        shipped = resolve_reference(folder / f"{reference}.toml", named_in)
        if shipped.exists():
            return shipped
    return beside


def scenario_argument(argument: str | Path, settings: dict[str, Any] | None = None) -> Scenario:
    """The scenario a command-line argument names, with ``--set`` values applied last.

    ``argument`` is a scenario file, a bare scenario name (see :func:`resolve_scenario`), or several
    joined by ``+`` (``baseline+stable_management``): each layered on the previous, named by the stems
    joined with ``+``."""
    text = str(argument)
    parts = [text] if Path(text).exists() else text.split("+")
    if any(not part for part in parts):
        raise ConfigError(f"{text}: empty scenario name in a '+' composition; allowed: NAME or A+B (scenario names "
                          "or files, layered in order)")
    scenarios = [load_scenario(resolve_scenario(part)) for part in parts]
    if len(scenarios) == 1:
        scenario = scenarios[0]
    else:
        overrides: dict[str, Any] = {}
        for part in scenarios:
            overrides.update(part.overrides)
        scenario = scenario_from_dict(
            {"name": "+".join(s.name for s in scenarios),
             "description": " + ".join(s.description or s.name for s in scenarios), "parameters": overrides},
            source=text)
        scenario = replace(scenario, extends=tuple(e for s in scenarios for e in (*s.extends, str(s.path))))
    return with_settings(scenario, settings or {})


def with_settings(scenario: Scenario, settings: dict[str, Any]) -> Scenario:
    """``scenario`` with ``--set`` values applied last, validated like file values (errors name ``--set``)."""
    if not settings:
        return scenario
    overrides = {**scenario.overrides, **settings}
    try:
        params = Params(**overrides)
    except ValidationError as exc:
        problems = param_errors(exc, "--set", settings)
        problems = [line.replace("--set: [parameters] field", "--set", 1) for line in problems]
        raise ConfigError("\n".join(problems), problems) from None
    return replace(scenario, params=params, overrides=overrides, settings=dict(settings))


def parse_settings(items: list[str] | None) -> dict[str, Any]:
    """``--set name=value`` options as a dict; the value is read as a TOML value (``0.5``, ``24``,
    ``true``, ``"text"``; a bare word is taken as a string)."""
    settings: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise ConfigError(f"--set {item}: not of the form name=value; allowed: a parameter and a value, e.g. "
                              "--set management_turnover_rate=0.5 (names: `lcsim params`)")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        settings[name] = value
    return settings


def check_kind(path: Path, document: dict[str, Any], expected: str) -> None:
    """Name a file of the wrong kind once, with the command that reads it, instead of listing its keys as
    unknown.  ``expected`` is "scenario", "sweep" or "sensitivity"."""
    kind = file_kind(document)
    if kind is None or kind == expected:
        return
    use = {"scenario": f"lcsim run {path}", "sweep": f"lcsim sweep {path}",
           "sensitivity": f"lcsim sensitivity {path}",
           "cluster": f"lcsim sweep SWEEP.toml --cluster {path} (or lcsim sensitivity ... --cluster)"}[kind]
    raise ConfigError(f"{path}: this is a {kind} file, not a {expected} file; use: {use}")


def file_kind(document: dict[str, Any]) -> str | None:
    """What kind of config a parsed TOML document is, from its keys (None when it does not tell)."""
    if "method" in document or any(key in document for key in ("morris", "sobol", "convergence", "compare_with")):
        return "sensitivity"
    if any(key in document for key in ("design", "levels", "lhs", "heatmap")):
        return "sweep"
    if "cluster" in document:
        return "cluster"
    if "parameters" in document and not any(key in document for key in ("factors", "outputs", "replicates")):
        return "scenario"
    return None


def scenario_from_dict(
    document: dict[str, Any], *, source: str = "<scenario>", path: Path | None = None, sha256: str | None = None,
    inherited: dict[str, Any] | None = None, extends: tuple[str, ...] = (),
) -> Scenario:
    """Validate an already parsed scenario document; ``source`` names it in error messages; ``inherited``
    holds the parameters of the scenarios it extends (its own ``[parameters]`` override them)."""
    problems: list[str] = []
    unknown = [key for key in document if key not in TOP_LEVEL_KEYS]
    for key in unknown:
        problems.append(
            f"{source}: unknown top-level key '{key}' = {show_value(document[key])}; "
            f"allowed: only {', '.join(TOP_LEVEL_KEYS)} at top level "
            "(model parameters belong in the [parameters] table)"
            + suggest(key, list(TOP_LEVEL_KEYS) + list(Params.model_fields))
        )

    name = document.get("name")
    if name is None:
        problems.append(f"{source}: field 'name' is missing; allowed: a string such as name = \"baseline\"")
    elif not isinstance(name, str) or not _NAME_PATTERN.match(name):
        problems.append(
            f"{source}: field 'name' = {show_value(name)} is not a valid scenario name; allowed: a string of "
            "letters, digits, '_', '-', '.' or '+', starting with a letter or digit (it names the output folder)"
        )
    elif path is not None and len(name) > MAX_NAME_LENGTH:
        problems.append(
            f"{source}: field 'name' = {show_value(name[:40] + '...')} has {len(name)} characters; allowed: at most "
            f"{MAX_NAME_LENGTH} (it names the output folder)")

    description = document.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{source}: field 'description' = {show_value(description)} has the wrong type; allowed: a string")

    overrides = document.get("parameters", {})
    if not isinstance(overrides, dict):
        problems.append(
            f"{source}: field 'parameters' = {show_value(overrides)} has the wrong type; "
            "allowed: a table, written as a [parameters] section"
        )
        overrides = {}

    params = None
    merged = {**(inherited or {}), **overrides}
    try:
        params = Params(**merged)
    except ValidationError as exc:
        problems.extend(param_errors(exc, source, merged))

    if problems:
        raise ConfigError("\n".join(problems), problems)
    assert params is not None  # no problems means pydantic accepted the overrides
    return Scenario(
        name=name, description=description, params=params, overrides=merged, path=path, sha256=sha256,
        extends=extends,
    )


# --------------------------------------------------------------------------------------- reading


# --------------------------------------------------------------------------------------- translating pydantic


def param_errors(exc: ValidationError, source: str, overrides: dict[str, Any]) -> list[str]:
    """Turn each pydantic error into one sentence naming file, field, value and what is allowed."""
    rows = {row.name: row for row in parameter_table()}
    messages = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        loc = error.get("loc", ())
        name = str(loc[0]) if loc else ""
        value = error.get("input")
        row = rows.get(name)
        if kind == "extra_forbidden":
            messages.append(
                f"{source}: [parameters] field '{name}' = {show_value(value)} is unknown; allowed: the parameter "
                f"names listed by `lcsim params`" + suggest(name, list(rows))
            )
        elif row is not None and kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
            messages.append(
                f"{source}: [parameters] field '{name}' = {show_value(value)} is out of range; "
                f"allowed: {_valid_range(row)} "
                f"({row.unit}; plausible {format_number(row.low)} to {format_number(row.high)})"
            )
        elif row is not None and (kind.endswith("_type") or kind in {"int_from_float", "finite_number"}):
            messages.append(
                f"{source}: [parameters] field '{name}' = {show_value(value)} has the wrong type "
                f"({toml_type(value)}); allowed: {_expected_type(row)} in {_valid_range(row)} ({row.unit})"
            )
        elif not loc and kind == "value_error":
            # A check across several fields (model validator); its message already names fields and limits.
            reason = error["msg"].removeprefix("Value error, ")
            messages.append(f"{source}: [parameters] {reason}")
        else:  # anything pydantic may add later: still name the file, the field and the value
            allowed = f"{_expected_type(row)} in {_valid_range(row)}" if row else "see `lcsim params`"
            messages.append(
                f"{source}: [parameters] field '{name or '?'}' = {show_value(value)} is invalid "
                f"({error['msg']}); allowed: {allowed}"
            )
    return messages


def _valid_range(row: Any) -> str:
    if row is None:
        return "the valid range"
    if row.valid_min is not None and row.valid_max is not None:
        return f"{format_number(row.valid_min)} to {format_number(row.valid_max)}"
    if row.valid_min is not None:
        return f"at least {format_number(row.valid_min)}"
    if row.valid_max is not None:
        return f"at most {format_number(row.valid_max)}"
    return "any value"


def _expected_type(row: Any) -> str:
    if row is None:
        return "a value"
    if row.kind == "int":
        return "an integer (written without a decimal point, e.g. 24)"
    if row.kind == "float":
        return "a number (e.g. 0.35 or 12)"
    return f"a value of type {row.kind}"


