"""Provenance: what every result folder records about how it was made (``manifest.json``).

The package versions, the git commit and whether the tree was dirty, the command line, the UTC times,
and for ``lcsim run`` folders the scenario, its parameters and the seed rule.  Every writer of a
manifest -- run folders, run sets, comparisons and validations -- takes these fields from here.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any


MANIFEST_FILE = "manifest.json"
#: The file that marks a folder as this tool's (experiments.store.folders reads and writes it).
MARKER_FILE = ".lcsim-folder.json"
#: Hidden folders the tool builds a result in before it moves it into place (experiments.store.folders):
#: ".<name>.<purpose>-<pid>-<8 hex digits>".
STAGING_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<purpose>partial|replacing)-(?P<pid>\d+)-[0-9a-f]{8}$")


#: Distributions whose versions go into the manifest (distribution names as pip knows them).
VERSIONED_PACKAGES = ("lcsim", "mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", "networkx", "pydantic")


def utc_now() -> str:
    """The current time as ISO-8601 UTC with second precision, e.g. ``2025-01-31T12:00:00+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a result depends on, plus Python's."""
    versions: dict[str, str | None] = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


def git_state(directory: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the git checkout holding the code; ``None`` values where git is unavailable."""
    directory = directory or Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=directory, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain")
    changed = None if status is None else [line for line in status.splitlines()
                                           if line.strip() and not _written_by_this_tool(directory, line)]
    return {
        "commit": commit.strip() if commit else None,
        "dirty": bool(changed) if changed is not None else None,
    }


def _written_by_this_tool(directory: Path, status_line: str) -> bool:
    """An untracked result folder of this tool (its marker inside) or one of its staging folders: a ``--out``
    inside the checkout does not make the code count as changed."""
    if not status_line.startswith("?? "):
        return False
    path = directory / status_line[3:].strip().strip('"').rstrip("/")
    return bool(STAGING_NAME.match(path.name)) or (path / MARKER_FILE).is_file()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def provenance() -> dict[str, Any]:
    """The fields every manifest carries: package versions, git commit and whether the tree was dirty."""
    git = git_state()
    return {"versions": package_versions(), "git_commit": git["commit"], "git_dirty": git["dirty"]}


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` (indented, keys in insertion order)."""
    (Path(folder) / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


__all__ = ["MANIFEST_FILE", "VERSIONED_PACKAGES", "file_sha256", "git_state", "package_versions", "provenance",
           "utc_now", "write_manifest"]
