"""Scenario files: read a TOML scenario and turn it into validated :class:`sim.Params`.

A scenario file holds exactly three top-level keys::

    name = "baseline"                 # required; also the default output folder name
    description = "..."               # optional
    [parameters]                      # optional; any subset of the model parameters
    management_turnover_rate = 0.35   # units as in `lcsim params`

Every problem is raised as one :class:`ConfigError` whose message names the file, the field, the
offending value and what is allowed.  Pydantic's own messages are never shown raw: they name neither
the file nor the valid range.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim import Params, parameter_table
from experiments.config.reading import ConfigError, format_number, parse_toml, read_config_bytes, show_value, suggest, toml_type

#: Top-level keys a scenario file may hold.
TOP_LEVEL_KEYS = ("name", "description", "parameters")

#: Scenario names become folder names (results/<name>), so keep them filesystem-safe.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its parameters plus where they came from (for the run manifest)."""

    name: str
    description: str
    params: Params
    overrides: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None


def load_scenario(path: str | Path) -> Scenario:
    """Read, parse and validate the scenario file at ``path``; raise :class:`ConfigError` if anything is wrong."""
    path = Path(path)
    raw = read_config_bytes(path, "scenario")
    document = parse_toml(path, raw)
    return scenario_from_dict(document, source=str(path), path=path, sha256=hashlib.sha256(raw).hexdigest())


def scenario_from_dict(
    document: dict[str, Any], *, source: str = "<scenario>", path: Path | None = None, sha256: str | None = None
) -> Scenario:
    """Validate an already parsed scenario document; ``source`` names it in error messages."""
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
            "letters, digits, '_', '-' or '.', starting with a letter or digit (it names the output folder)"
        )

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
    try:
        params = Params(**overrides)
    except ValidationError as exc:
        problems.extend(param_errors(exc, source, overrides))

    if problems:
        raise ConfigError("\n".join(problems), problems)
    assert params is not None  # no problems means pydantic accepted the overrides
    return Scenario(
        name=name, description=description, params=params, overrides=dict(overrides), path=path, sha256=sha256
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


