"""Integrity of a run set: the study definition's digest, the run-set id every part carries, and the repair of
bad parts (moved to ``quarantine/``, their runs computed again).

The manifest records a SHA-256 of the study definition (seed, replicates, design, factors, outputs, model) and
a frozen copy of it; a manifest edited afterwards (``study.seed``, ``replicates``) is refused, naming the fields
that differ.  Every Parquet part carries the run-set id in its metadata, so a part copied from another run
set, an unreadable part or two parts holding the same (point, replicate) run are found before anything mixes.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

RUNSET_ID_KEY = b"lcsim.runset_id"
QUARANTINE_DIR = "quarantine"

#: The manifest fields of a sweep run set that decide which runs it holds.
DEFINITION_FIELDS = ("study", "root_seed", "replicates", "common_random_numbers", "design", "factors", "model",
                     "fixed_parameters")


def definition(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The study definition of a sweep run set's manifest (the fields that decide its runs)."""
    return {name: manifest.get(name) for name in DEFINITION_FIELDS}


def study_digest(study: Mapping[str, Any]) -> str:
    """SHA-256 of a study definition in canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(study, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def differing_fields(a: Any, b: Any, prefix: str = "") -> list[str]:
    """The dotted names of the fields where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in a or key not in b:
                found.append(name)
            else:
                found.extend(differing_fields(a[key], b[key], name))
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        found = []
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            found.extend(differing_fields(x, y, f"{prefix}[{k}]"))
        return found
    return [] if a == b else [prefix or "(the whole definition)"]


def part_problem(path: Path, runset_id: str | None) -> str | None:
    """Why a part cannot be used (unreadable, or of another run set), or None."""
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is reported the same way
        return f"cannot be read as Parquet ({type(exc).__name__})"
    if runset_id is None:  # a run set written before parts carried an id
        return None
    owner = (schema.metadata or {}).get(RUNSET_ID_KEY)
    if owner is None or owner.decode("ascii", "replace") != runset_id:
        shown = owner.decode("ascii", "replace") if owner else "no run-set id"
        return f"belongs to another run set ({shown}, not {runset_id})"
    return None


def bad_parts(parts: Sequence[Path], runset_id: str | None, replicates: int,
              companions: Sequence[Path] = ()) -> list[tuple[Path, str]]:
    """The bad parts among ``parts`` (in order) with the reason; a part repeating a run of an earlier part is bad.
    ``companions`` are folders whose part of the same name belongs with each part (pilot records, series)."""
    bad: list[tuple[Path, str]] = []
    seen: dict[int, Path] = {}
    for path in parts:
        problem = part_problem(path, runset_id)
        if problem is None:
            ids = pq.read_table(path, columns=["run_id"]).column("run_id").to_numpy().tolist()
            repeated = [i for i in ids if i in seen]
            if repeated or len(set(ids)) != len(ids):
                first = repeated[0] if repeated else ids[0]
                point, replicate = divmod(int(first), replicates)
                problem = (f"repeats run (point {point}, replicate {replicate})"
                           + (f" of {seen[first].name}" if repeated else ""))
            else:
                seen.update({i: path for i in ids})
        for folder in companions if problem is None else ():
            other = Path(folder) / path.name
            problem = part_problem(other, runset_id) if other.exists() else f"has no {Path(folder).name}/{path.name}"
            if problem:
                break
        if problem:
            bad.append((path, problem))
    return bad


def quarantine(root: Path, bad: Sequence[tuple[Path, str]], companions: Sequence[str] = ()) -> list[str]:
    """Move each bad part (and its companions' parts of the same name) to ``root/quarantine/``; one line each."""
    lines = []
    for path, reason in bad:
        for source in (path, *(Path(root) / sub / path.name for sub in companions)):
            if source.exists():
                target = Path(root) / QUARANTINE_DIR / source.parent.name
                target.mkdir(parents=True, exist_ok=True)
                os.replace(source, target / f"{source.stem}-{uuid.uuid4().hex[:6]}{source.suffix}")
        lines.append(f"{path.relative_to(root)}: {reason}; moved to {QUARANTINE_DIR}/")
    return lines


__all__ = ["DEFINITION_FIELDS", "QUARANTINE_DIR", "RUNSET_ID_KEY", "bad_parts", "definition", "differing_fields",
           "part_problem", "quarantine", "study_digest"]
