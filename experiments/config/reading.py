"""Reading a TOML config file, and the parts every config error message is made of.

Shared by scenario, study (sweep/sensitivity) and cluster files: the same read errors, the same way of
showing a value, the same did-you-mean.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A scenario file or a command-line value is wrong.  The message is meant for the user as is."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


def read_config_bytes(path: Path, kind: str, *, noun: str = "config", example: str | None = None) -> bytes:
    """The bytes of a ``kind`` TOML file (scenario, sweep, cluster ...); a missing, non-file or unreadable
    path raises :class:`ConfigError` naming the path and what is allowed."""
    if not path.exists():
        such_as = f" such as {example}" if example else ""
        raise ConfigError(f"{path}: {noun} file not found; allowed: a path to an existing .toml {kind} file{such_as}")
    if not path.is_file():
        raise ConfigError(f"{path}: is not a file; allowed: a path to a .toml {kind} file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); allowed: a readable .toml {kind} file") from None


def parse_toml(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: byte {exc.start} is not valid UTF-8; allowed: a UTF-8 encoded TOML file"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11 has no lineno attribute; the position is in the message "(at line L, column C)".
        message = str(exc)
        where = re.search(r"line (\d+), column (\d+)", message)
        context = ""
        if where:
            line_number = int(where.group(1))
            lines = text.splitlines()
            if 1 <= line_number <= len(lines):
                context = f"; the line reads: {lines[line_number - 1].strip()!r}"
        raise ConfigError(
            f"{path}: malformed TOML: {message}{context}; allowed: TOML syntax (https://toml.io), "
            "e.g. management_turnover_rate = 0.35"
        ) from None


def suggest(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if not close:
        # Fall back to substring matches: 'turnover' should still point at the turnover parameters.
        close = [c for c in candidates if name.lower() in c.lower() or c.lower() in name.lower()][:3]
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def toml_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array", dict: "table"}
    return names.get(type(value), type(value).__name__)


def show_value(value: Any) -> str:
    """A value as the user would have written it in TOML (shortened if long)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace('"', '\\"') + '"'
    elif isinstance(value, float) and math.isnan(value):
        text = "nan"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def format_number(value: float | int | None) -> str:
    """Format a bound or default compactly: 12.0 -> 12, 10000.0 -> 10000, 1e7 -> 1e+07."""
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:g}"


# --------------------------------------------------------------------------------------- paths inside files

#: The folder of the installed lcsim project (it holds ``configs/`` when installed from a checkout).
INSTALLED_PROJECT = Path(__file__).resolve().parents[2]


def project_of(path: Path) -> Path | None:
    """The lcsim project a file lies in: the nearest folder at or above it holding ``pyproject.toml`` and
    ``configs/``; None outside any project."""
    here = path.resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "configs").is_dir():
            return folder
    return None


def resolve_reference(reference: str | Path, named_in: Path | None) -> Path:
    """Where a path written inside a config file (or on the command line) points.

    Relative paths are taken relative to the folder of the file that names them (``named_in``; the
    working directory when None), so a config works from any folder.  A path starting with
    ``configs/`` that is not there names a shipped config: it is looked up in the project the naming
    file lies in, then the working directory's project, then the installed lcsim project, and the
    first that holds it wins.  The returned path may not exist; the reader reports that.
    """
    path = Path(reference).expanduser()
    if path.is_absolute() or (named_in is None and path.exists()):
        return path  # as given (messages name it so)
    base = named_in.resolve().parent if named_in is not None else Path.cwd()
    if (base / path).exists() or not (path.parts and path.parts[0] == "configs"):
        return path if named_in is None else base / path
    roots = [root for root in (project_of(base), project_of(Path.cwd()), INSTALLED_PROJECT) if root is not None]
    for root in roots:
        if (root / path).exists():
            return root / path
    return path if named_in is None else base / path  # not found: as given, so the message names it so
