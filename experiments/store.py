"""The output folder of ``lcsim run``: Parquet tables plus a JSON manifest, written all or nothing.

Layout of a finished folder::

    runs.parquet     one row per replicate: replicate, root_seed, spawn_key, every summary scalar
    pilots.parquet   one row per pilot per replicate: replicate, every pilot field
    series.parquet   tidy monthly series: replicate, month (0 = first September), one column per series
    manifest.json    provenance: config file and hash, parameters, seeds, versions, git state, command, times
    summary.csv/.md  and *.png are added by the caller inside the same staging folder

Everything is written into a hidden sibling folder that is renamed into place only when complete, so
an interrupted or failed run never leaves a half-written result folder behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from numpy.random import SeedSequence

from sim import PILOT_FIELDS, SERIES_FIELDS, SUMMARY_FIELDS, Params, RunOutcome

RUNS_FILE = "runs.parquet"
PILOTS_FILE = "pilots.parquet"
SERIES_FILE = "series.parquet"
MANIFEST_FILE = "manifest.json"

#: Distributions whose versions go into the manifest (distribution names as pip knows them).
VERSIONED_PACKAGES = ("lcsim", "mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", "networkx", "pydantic")


class OutputFolderError(Exception):
    """The requested output folder cannot be used (exists without --force, or is not ours to replace)."""


# --------------------------------------------------------------------------------------- tables


def spawn_key_text(seed: SeedSequence) -> str:
    """A seed's spawn key as text, e.g. ``"3"`` for the fourth child of the root (``"3/0"`` if nested)."""
    return "/".join(str(k) for k in seed.spawn_key)


def runs_frame(outcomes: Sequence[RunOutcome], root_seed: int, seeds: Sequence[SeedSequence]) -> pd.DataFrame:
    """One row per replicate: identifiers, then the summary scalars in SUMMARY_FIELDS order (float64)."""
    rows = []
    for index, (outcome, seed) in enumerate(zip(outcomes, seeds, strict=True)):
        row: dict[str, Any] = {"replicate": index, "root_seed": root_seed, "spawn_key": spawn_key_text(seed)}
        row.update({name: float(outcome.summary[name]) for name in SUMMARY_FIELDS})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["replicate", "root_seed", "spawn_key", *SUMMARY_FIELDS])
    return frame.astype({"replicate": "int64", "root_seed": "int64", **{name: "float64" for name in SUMMARY_FIELDS}})


def pilots_frame(outcomes: Sequence[RunOutcome]) -> pd.DataFrame:
    """One row per pilot per replicate, columns ``replicate`` and then PILOT_FIELDS in order."""
    rows = [{"replicate": index, **pilot} for index, outcome in enumerate(outcomes) for pilot in outcome.pilots]
    return pd.DataFrame(rows, columns=["replicate", *PILOT_FIELDS])


def series_frame(outcomes: Sequence[RunOutcome]) -> pd.DataFrame:
    """Tidy monthly series: one row per (replicate, month), one float column per SERIES_FIELDS entry."""
    frames = []
    for index, outcome in enumerate(outcomes):
        months = len(next(iter(outcome.series.values()))) if outcome.series else 0
        data: dict[str, Any] = {"replicate": [index] * months, "month": list(range(months))}
        data.update({name: pd.array(outcome.series[name], dtype="float64") for name in SERIES_FIELDS})
        frames.append(pd.DataFrame(data))
    frame = pd.concat(frames, ignore_index=True)
    return frame.astype({"replicate": "int64", "month": "int64"})


def tables(
    outcomes: Sequence[RunOutcome], root_seed: int, seeds: Sequence[SeedSequence]
) -> dict[str, pd.DataFrame]:
    """The three result tables of a replicate ensemble: keys ``runs``, ``pilots``, ``series``."""
    return {
        "runs": runs_frame(outcomes, root_seed, seeds),
        "pilots": pilots_frame(outcomes),
        "series": series_frame(outcomes),
    }


def write_tables(folder: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Write the ``runs``, ``pilots`` and ``series`` tables as Parquet files into ``folder``."""
    folder = Path(folder)
    frames["runs"].to_parquet(folder / RUNS_FILE, index=False)
    frames["pilots"].to_parquet(folder / PILOTS_FILE, index=False)
    frames["series"].to_parquet(folder / SERIES_FILE, index=False)


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Read back a result folder's tables: keys ``runs``, ``pilots``, ``series``."""
    folder = Path(folder)
    return {
        "runs": pd.read_parquet(folder / RUNS_FILE),
        "pilots": pd.read_parquet(folder / PILOTS_FILE),
        "series": pd.read_parquet(folder / SERIES_FILE),
    }


# --------------------------------------------------------------------------------------- manifest


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
    directory = directory or Path(__file__).resolve().parents[1]

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
    return {
        "commit": commit.strip() if commit else None,
        "dirty": (status.strip() != "") if status is not None else None,
    }


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_manifest(
    *,
    scenario_name: str,
    description: str,
    config_path: Path | None,
    config_sha256: str | None,
    params: Params,
    overrides: dict[str, Any],
    root_seed: int,
    replicates: int,
    workers: int,
    command: str,
    reproduce: str,
    started_utc: str,
    finished_utc: str,
) -> dict[str, Any]:
    """Everything needed to reproduce and trace a result folder (JSON-serialisable)."""
    git = git_state()
    return {
        "scenario": scenario_name,
        "description": description,
        "config_path": str(config_path) if config_path is not None else None,
        "config_sha256": config_sha256,
        "parameters": params.model_dump(),
        "overrides": overrides,
        "root_seed": root_seed,
        "replicates": replicates,
        "seeding": "replicate i uses numpy SeedSequence(root_seed).spawn(replicates)[i]",
        "workers": workers,
        "versions": package_versions(),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "command": command,
        "reproduce": reproduce,
        "started_utc": started_utc,
        "finished_utc": finished_utc,
        "files": {
            RUNS_FILE: "one row per replicate: summary scalars",
            PILOTS_FILE: "one row per pilot per replicate",
            SERIES_FILE: "monthly series, one row per replicate and month",
        },
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` (indented, keys in insertion order)."""
    (Path(folder) / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------- the folder


def check_out_dir(out: Path, force: bool) -> None:
    """Refuse an output path that exists (unless ``force``) or that ``--force`` must not delete.

    ``--force`` only replaces an empty folder or one written by ``lcsim run`` (it has a manifest.json),
    so a slip such as ``--out . --force`` cannot wipe a source tree.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        _check_can_create(out)
        return
    if not force:
        raise OutputFolderError(
            f"--out {out}: the output folder already exists; allowed: a path that does not exist yet, "
            "or add --force to replace it"
        )
    if out.is_symlink() or not out.is_dir():
        raise OutputFolderError(
            f"--out {out}: exists and is not a folder; allowed: a new path or an earlier lcsim result folder"
        )
    if any(out.iterdir()) and not (out / MANIFEST_FILE).is_file():
        raise OutputFolderError(
            f"--out {out}: refusing to replace a folder that is not an lcsim result folder (it has no "
            f"{MANIFEST_FILE}); allowed with --force: an empty folder or an earlier lcsim result folder"
        )


def _check_can_create(out: Path) -> None:
    """The nearest existing ancestor of ``out`` must be a writable folder (checked before any run)."""
    ancestor = out.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputFolderError(f"--out {out}: {ancestor} is not a folder; allowed: a path inside a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputFolderError(f"--out {out}: cannot write in {ancestor}; allowed: a path in a writable folder")


@contextmanager
def staged_folder(out: Path, force: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside ``out``; on success rename it to ``out``, on failure delete it.

    Parent folders of ``out`` that had to be created are removed again on failure.
    """
    out = Path(out)
    check_out_dir(out, force)
    created = [p for p in reversed(out.absolute().parents) if not p.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        _swap_into_place(staging, out, force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for parent in reversed(created):
            try:
                parent.rmdir()
            except OSError:
                pass
        raise


def _swap_into_place(staging: Path, out: Path, force: bool) -> None:
    if not out.exists():
        os.replace(staging, out)
        return
    check_out_dir(out, force)  # it may have appeared while we ran
    old = out.parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old, out)  # put the previous result back
        raise
    shutil.rmtree(old, ignore_errors=True)
