"""A run set: the folder of a sweep or sensitivity study, written so that a crash loses nothing.

Layout::

    manifest.json             what was asked for: design settings, factors and ranges, root seed,
                              replicates, seeding rule, model, outputs, code version (git commit), package
                              versions, command line, design stages.  Written before the first run.
    design/stage-000.parquet  the design points of stage 0 (later stages: stage-001, ... when
                              --until-converged doubles the sample): point, stage, u.<factor> (unit
                              coordinates used by the analysis), <factor> (the value the model got)
    parts/part-000000.parquet one file per finished chunk of runs: run_id, point, replicate, spawn_key,
                              the factor values, then one float column per model output
    failures/chunk-000000.json  runs of that chunk that raised: run id, point, replicate, seed, parameters,
                              error and traceback
    analysis/                 tables, report and plots (derived; rewritten by every analysis)

Every file is written under a temporary name in the same folder and moved into place with
``os.replace``, so a process killed at any moment (even by SIGKILL) leaves either the whole file or none
of it.  A writer holds ``writer.lock`` (its pid) while it runs; the next writer takes over the lock of a
process that no longer exists and removes the temporary files it left behind.  A run counts as done
once its row is in a part file; ``lcsim resume`` runs exactly the runs that are neither done nor
recorded as failed.  Run ids are ``point * replicates + replicate``, stable when stages are added.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.execution.chunks import ChunkResult
from experiments.store.integrity import (RUNSET_ID_KEY, bad_parts, definition, differing_fields, quarantine,
                                         study_digest)
from experiments.store.folders import staging_path, write_marker
from experiments.store.manifest import MANIFEST_FILE
from experiments.store.atomic import (TEMP_PREFIX, atomic_write_bytes, atomic_write_json, atomic_write_parquet,
                                      atomic_write_text, writer_lock)

FORMAT = "lcsim-runset/1"
DESIGN_DIR = "design"
PARTS_DIR = "parts"
FAILURES_DIR = "failures"
ANALYSIS_DIR = "analysis"
ID_COLUMNS = ("run_id", "point", "replicate", "spawn_key")
FROZEN_STUDY = f"{DESIGN_DIR}/study.json"  # the study definition as created (to name what an edit changed)

_PART = re.compile(r"^part-(\d{6,})\.parquet$")
_FAILURE = re.compile(r"^chunk-(\d{6,})\.json$")


class RunSetError(Exception):
    """A folder is not a usable run set (no manifest, unknown format, missing design stage)."""


class RunSetBusyError(RunSetError):
    """Another live process is writing the run set."""


# --------------------------------------------------------------------------------------- atomic files


# --------------------------------------------------------------------------------------- the run set


def stage_file(stage: int) -> str:
    return f"{DESIGN_DIR}/stage-{stage:03d}.parquet"


class RunSet:
    """An open run set folder.  Cheap to construct; every query reads the files again."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = Path(path)
        self.manifest = manifest

    # ----------------------------------------------------------------------------- create / open

    @classmethod
    def create(cls, path: Path, manifest: dict[str, Any], first_stage: pd.DataFrame) -> RunSet:
        """Create the folder with its manifest and stage-0 design, atomically (it appears complete or not at all).

        ``path`` must not exist.  Missing parent folders are created.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_path(path)
        staging.mkdir()
        try:
            for sub in (DESIGN_DIR, PARTS_DIR, FAILURES_DIR):
                (staging / sub).mkdir()
            write_marker(staging, "runset")
            manifest = dict(manifest)
            manifest["format"] = FORMAT
            manifest["runset_id"] = uuid.uuid4().hex
            manifest["study_digest"] = study_digest(definition(manifest))
            atomic_write_json(staging / FROZEN_STUDY, definition(manifest))
            manifest["stages"] = [_stage_entry(0, first_stage, manifest.get("stage_info", {}))]
            manifest.pop("stage_info", None)
            atomic_write_parquet(staging / stage_file(0), first_stage)
            atomic_write_json(staging / MANIFEST_FILE, manifest)
            os.rename(staging, path)  # fails if path appeared meanwhile: never clobber
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return cls(path, manifest)

    @classmethod
    def open(cls, path: Path) -> RunSet:
        """Open an existing run set (read-only until :meth:`lock` is taken)."""
        path = Path(path)
        manifest_path = path / MANIFEST_FILE
        if not manifest_path.is_file():
            raise RunSetError(f"{path}: not a run set (no {MANIFEST_FILE}); allowed: a folder written by "
                              "`lcsim sweep` or `lcsim sensitivity`")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RunSetError(f"{manifest_path}: cannot be read as JSON ({exc})") from None
        if manifest.get("format") != FORMAT:
            raise RunSetError(f"{manifest_path}: format {manifest.get('format')!r} is not {FORMAT!r}")
        for key, kind in (("study", dict), ("stages", list)):  # what every reader of a run set relies on
            if not isinstance(manifest.get(key), kind):
                raise RunSetError(
                    f"{manifest_path}: field '{key}' = {json.dumps(manifest.get(key))[:60]} is not a {kind.__name__} "
                    f"(missing or edited); allowed: the manifest as lcsim wrote it: restore it from a copy, or run "
                    "the study again into a new folder")
        if "study_digest" in manifest and study_digest(definition(manifest)) != manifest["study_digest"]:
            try:
                frozen = json.loads((path / FROZEN_STUDY).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                frozen = None
            what = differing_fields(frozen, definition(manifest)) if isinstance(frozen, dict) else []
            raise RunSetError(
                f"{manifest_path}: the study definition does not match the digest recorded when the run set was "
                f"created (changed: {', '.join(what[:8]) or 'unknown fields'}); the runs on disk belong to the "
                "recorded study, so resuming or analysing would mix them; allowed: undo the edit, or run the study "
                "again into a new folder")
        runset = cls(path, manifest)
        for stage in manifest.get("stages", []):
            if not (path / stage["file"]).is_file():
                raise RunSetError(f"{path}: design stage file {stage['file']} is missing")
            try:
                pq.read_metadata(path / stage["file"])  # the footer only: cheap, and a truncated file fails here
            except (OSError, pa.ArrowException) as exc:
                raise RunSetError(_unreadable_stage(path / stage["file"], exc)) from None
        runset.failures_by_run()  # small files: an unreadable one is named now, not halfway through an analysis
        return runset

    @contextmanager
    def lock(self, say: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the run set for writing: refuse if another live process holds it, then remove the temporary
        files a killed writer left behind.  A stale lock (its process no longer exists, after SIGKILL, or its pid
        was reused by a younger process) is taken over, with a note through ``say``."""
        with writer_lock(self.path, RunSetBusyError, say, self.remove_temporary_files):
            yield

    def remove_temporary_files(self) -> int:
        """Delete ``.tmp-*`` files (from a killed writer); returns how many were removed."""
        removed = 0
        for sub in (self.path, self.path / DESIGN_DIR, self.path / PARTS_DIR, self.path / FAILURES_DIR,
                    self.path / ANALYSIS_DIR):
            if sub.is_dir():
                for temp in sub.glob(f"{TEMP_PREFIX}*"):
                    temp.unlink(missing_ok=True)
                    removed += 1
        return removed

    # ----------------------------------------------------------------------------- manifest and design

    @property
    def replicates(self) -> int:
        return int(self.manifest["replicates"])

    @property
    def stages(self) -> list[dict[str, Any]]:
        return list(self.manifest["stages"])

    @property
    def n_points(self) -> int:
        return sum(stage["points"] for stage in self.manifest["stages"])

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replicates

    def update_manifest(self, **changes: Any) -> None:
        self.manifest.update(changes)
        atomic_write_json(self.path / MANIFEST_FILE, self.manifest)

    def add_stage(self, frame: pd.DataFrame, info: dict[str, Any] | None = None) -> None:
        """Append a design stage: its file first, then the manifest entry that makes it count."""
        stage = len(self.manifest["stages"])
        expected = self.n_points
        if int(frame["point"].iloc[0]) != expected:
            raise ValueError(f"stage {stage} must start at point {expected}, not {int(frame['point'].iloc[0])}")
        atomic_write_parquet(self.path / stage_file(stage), frame)
        self.manifest["stages"].append(_stage_entry(stage, frame, info or {}))
        atomic_write_json(self.path / MANIFEST_FILE, self.manifest)

    def design(self) -> pd.DataFrame:
        """All design points of all stages, in point order."""
        frames = []
        for stage in self.manifest["stages"]:
            try:
                frames.append(pd.read_parquet(self.path / stage["file"]))
            except (OSError, pa.ArrowException) as exc:  # truncated, empty or not Parquet at all
                raise RunSetError(_unreadable_stage(self.path / stage["file"], exc)) from None
        return pd.concat(frames, ignore_index=True)

    # ----------------------------------------------------------------------------- results

    def _numbered(self, sub: str, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
        folder = self.path / sub
        found = []
        for entry in folder.iterdir() if folder.is_dir() else []:
            match = pattern.match(entry.name)
            if match:
                found.append((int(match.group(1)), entry))
        return sorted(found)

    def part_files(self) -> list[Path]:
        return [path for _, path in self._numbered(PARTS_DIR, _PART)]

    def failure_files(self) -> list[Path]:
        return [path for _, path in self._numbered(FAILURES_DIR, _FAILURE)]

    def next_chunk_id(self) -> int:
        """A chunk id no part or failure file uses yet."""
        ids = [n for n, _ in self._numbered(PARTS_DIR, _PART)] + [n for n, _ in self._numbered(FAILURES_DIR, _FAILURE)]
        return max(ids, default=-1) + 1

    def done_run_ids(self) -> np.ndarray:
        """Sorted ids of the runs whose results are on disk."""
        arrays = [pq.read_table(path, columns=["run_id"]).column("run_id").to_numpy() for path in self.part_files()]
        return np.unique(np.concatenate(arrays)) if arrays else np.empty(0, dtype=np.int64)

    def failures_by_run(self) -> dict[int, dict[str, Any]]:
        """The latest failure record of every run that has one (done or not), by run id."""
        latest: dict[int, dict[str, Any]] = {}
        for path in self.failure_files():
            try:
                for record in json.loads(path.read_text(encoding="utf-8")):
                    latest[int(record["run_id"])] = record
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError, ValueError) as exc:
                raise RunSetError(
                    f"{path}: this failure record cannot be read ({type(exc).__name__}: {exc}); it only records "
                    f"runs that failed; allowed: move it out of {FAILURES_DIR}/ and run `lcsim resume {self.path}` "
                    "(its runs are then run again)") from None
        return latest

    def failures(self) -> list[dict[str, Any]]:
        """The latest failure record of every run that has no result, ordered by run id."""
        latest = self.failures_by_run()
        if not latest:
            return []
        done = set(self.done_run_ids().tolist())
        return [latest[run_id] for run_id in sorted(latest) if run_id not in done]

    def write_chunk(self, result: ChunkResult, factors: Sequence[tuple[str, str]], design_values: np.ndarray,
                    outputs: Sequence[str]) -> None:
        """Persist one chunk: failures first, then the part file (each atomically).

        ``factors`` is ``[(name, kind), ...]``; ``design_values[point]`` gives the factor values of a point.
        """
        if result.failures:
            atomic_write_json(self.path / FAILURES_DIR / f"chunk-{result.chunk_id:06d}.json", result.failures)
        if result.n_done:
            table = part_table(result, factors, design_values, outputs)
            if "runset_id" in self.manifest:
                table = table.replace_schema_metadata({RUNSET_ID_KEY: str(self.manifest["runset_id"]).encode()})
            atomic_write_parquet(self.path / PARTS_DIR / f"part-{result.chunk_id:06d}.parquet", table)

    def check_parts(self) -> list[tuple[Path, str]]:
        """Bad parts with the reason: unreadable, of another run set, or repeating a (point, replicate) pair."""
        return bad_parts(self.part_files(), self.manifest.get("runset_id"), self.replicates)

    def quarantine(self, bad: Sequence[tuple[Path, str]]) -> list[str]:
        """Move bad parts to ``quarantine/`` (their runs count as missing again); one line per part."""
        return quarantine(self.path, bad)

    def read_runs(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Every finished run (only ``columns`` if given; the id columns always), sorted by run id."""
        wanted = None if columns is None else list(dict.fromkeys([*ID_COLUMNS, *columns]))
        tables = [pq.read_table(path, columns=wanted) for path in self.part_files()]
        if not tables:
            return pd.DataFrame(columns=wanted or list(ID_COLUMNS))
        frame = pa.concat_tables(tables).to_pandas()
        return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def _unreadable_stage(path: Path, exc: BaseException) -> str:
    return (f"{path}: the design stage cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0]}); it holds "
            "the design points every result refers to, so nothing can be resumed or analysed without it; allowed: "
            "restore the file from a copy, or run the study again into a new folder")


def part_table(result: ChunkResult, factors: Sequence[tuple[str, str]], design_values: np.ndarray,
               outputs: Sequence[str]) -> pa.Table:
    """The Parquet table of a chunk's successful runs (fixed column order and types)."""
    points = np.asarray(result.point, dtype=np.int64)
    columns: dict[str, pa.Array] = {
        "run_id": pa.array(result.run_id, type=pa.int64()),
        "point": pa.array(points, type=pa.int64()),
        "replicate": pa.array(result.replicate, type=pa.int64()),
        "spawn_key": pa.array(result.spawn_key, type=pa.string()),
    }
    for j, (name, kind) in enumerate(factors):
        values = design_values[points, j]
        columns[name] = pa.array(values.astype(np.int64) if kind == "int" else values.astype(np.float64))
    for name in outputs:
        columns[name] = pa.array(result.outputs[name], type=pa.float64())
    return pa.table(columns)


def _stage_entry(stage: int, frame: pd.DataFrame, info: dict[str, Any]) -> dict[str, Any]:
    return {
        "stage": stage,
        "file": stage_file(stage),
        "first_point": int(frame["point"].iloc[0]) if len(frame) else 0,
        "points": len(frame),
        **info,
    }


__all__ = [
    "ANALYSIS_DIR",
    "FORMAT",
    "MANIFEST_FILE",
    "RunSet",
    "RunSetBusyError",
    "RunSetError",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_parquet",
    "atomic_write_text",
    "part_table",
]
