"""The run set of a scenario ensemble (``lcsim run``, ``compare``, ``validate``): points x replicates, streamed.

A scenario ensemble is a design of ``P`` points (scenarios, each a full parameter set) with ``R`` replicates;
run ``(p, r)`` has run id ``p * R + r`` and the seed ``SeedSequence(root_seed, spawn_key=(r,))`` -- which is
``SeedSequence(root_seed).spawn(R)[r]``, so every point uses the same replicate seeds (common random numbers)
and a one-point ensemble is exactly today's ``lcsim run``.

Layout while it runs (the folder is the command's output folder, or ``.NAME.next`` beside an earlier result
that ``--force`` replaces when the new one is complete)::

    manifest.json            format lcsim-ensemble/1, state "running", the study definition (points with their
                             parameters, root seed, replicates), its digest, the run-set id, what to build at the end
    study.json               a frozen copy of the study definition (to name what differs if the manifest is edited)
    parts/part-NNNNNN.parquet    one file per finished chunk: run_id, point, replicate, root_seed, spawn_key,
                             every summary scalar (written last: a run counts as done once its row is here)
    pilots/part-NNNNNN.parquet   the same chunk's pilot records (run_id, point, replicate, pilot fields)
    series/part-NNNNNN.parquet   the same chunk's monthly series (run_id, point, replicate, month, series)
    writer.lock              the writing process (see experiments.store.folders)

Every file is written whole or not at all (experiments.store.atomic); each part carries the run-set id in its
Parquet metadata.  When every run is on disk the final folder (the files of the command: runs/pilots/series
tables, summary, figures, report, manifest) is built from the parts, and the working files are removed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.store.atomic import TEMP_PREFIX, atomic_write_json, atomic_write_parquet, writer_lock
from experiments.store.integrity import (QUARANTINE_DIR, RUNSET_ID_KEY, bad_parts, differing_fields, quarantine,
                                         study_digest)
from experiments.store.folders import staging_path, write_marker
from experiments.store.manifest import MANIFEST_FILE

FORMAT = "lcsim-ensemble/1"
STUDY_FILE = "study.json"
RUNS_DIR = "parts"
PILOTS_DIR = "pilots"
SERIES_DIR = "series"
WORK_DIRS = (RUNS_DIR, PILOTS_DIR, SERIES_DIR)
ID_COLUMNS = ("run_id", "point", "replicate")


class EnsembleError(Exception):
    """A folder is not a usable ensemble run set, or it does not match itself (edited, foreign parts)."""


class EnsembleBusyError(EnsembleError):
    """Another live process is writing the run set."""


def next_folder(out: Path) -> Path:
    """Where a replacement of the finished folder ``out`` is built (``--force``): ``.NAME.next`` beside it."""
    out = Path(out)
    return out.parent / f".{out.name}.next"


def _write_table(path: Path, table: pa.Table, runset_id: str) -> None:
    metadata = dict(table.schema.metadata or {})
    metadata[RUNSET_ID_KEY] = runset_id.encode("ascii")
    atomic_write_parquet(path, table.replace_schema_metadata(metadata))


class EnsembleRunSet:
    """An open ensemble run set folder.  Every query reads the files again."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = Path(path)
        self.manifest = manifest

    # ----------------------------------------------------------------------------- create / open

    @classmethod
    def create(cls, path: Path, kind: str, study: dict[str, Any], manifest: dict[str, Any]) -> EnsembleRunSet:
        """Create the folder (marker of ``kind``, manifest, frozen study) atomically; ``path`` must not exist."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_path(path)
        staging.mkdir()
        try:
            for sub in WORK_DIRS:
                (staging / sub).mkdir()
            write_marker(staging, kind)
            full = {"format": FORMAT, "kind": kind, "state": "running", "runset_id": uuid.uuid4().hex,
                    "study_digest": study_digest(study), **manifest, "study": study, "resumed": []}
            atomic_write_json(staging / STUDY_FILE, study)
            atomic_write_json(staging / MANIFEST_FILE, full)
            os.rename(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return cls(path, full)

    @staticmethod
    def read_manifest(path: Path) -> dict[str, Any] | None:
        """The manifest of ``path`` if it is an ensemble run set (any state), else None."""
        try:
            manifest = json.loads((Path(path) / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None

    @classmethod
    def open(cls, path: Path) -> EnsembleRunSet:
        """Open a running ensemble run set and check it against itself (study digest and frozen copy)."""
        path = Path(path)
        manifest = cls.read_manifest(path)
        if manifest is None:
            raise EnsembleError(f"{path / MANIFEST_FILE}: missing, unreadable or not an {FORMAT} manifest")
        study = manifest.get("study")
        if not isinstance(study, dict) or not isinstance(study.get("points"), list):
            raise EnsembleError(f"{path / MANIFEST_FILE}: field 'study' is not a study definition; the manifest was "
                                f"damaged: run the command again into a new folder")
        if study_digest(study) != manifest.get("study_digest"):
            try:
                frozen = json.loads((path / STUDY_FILE).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                frozen = None
            what = differing_fields(frozen, study) if isinstance(frozen, dict) else []
            raise EnsembleError(
                f"{path / MANIFEST_FILE}: the study definition does not match the digest recorded when the runs "
                f"began (changed: {', '.join('study.' + w for w in what[:8]) or 'unknown fields'}); the runs on disk "
                f"belong to the recorded study, so resuming would mix them; allowed: undo the edit, or run the "
                f"command again into a new folder")
        return cls(path, manifest)

    # ----------------------------------------------------------------------------- the definition

    @property
    def study(self) -> dict[str, Any]:
        return self.manifest["study"]

    @property
    def replicates(self) -> int:
        return int(self.study["replicates"])

    @property
    def root_seed(self) -> int:
        return int(self.study["root_seed"])

    @property
    def point_names(self) -> list[str]:
        return [point["name"] for point in self.study["points"]]

    @property
    def n_runs(self) -> int:
        return len(self.study["points"]) * self.replicates

    @property
    def runset_id(self) -> str:
        return str(self.manifest["runset_id"])

    def update_manifest(self, **changes: Any) -> None:
        self.manifest.update(changes)
        atomic_write_json(self.path / MANIFEST_FILE, self.manifest)

    # ----------------------------------------------------------------------------- lock

    @contextmanager
    def lock(self, say: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the folder for writing (refused while another live process holds it); clean a killed writer's
        temporary files and parts of chunks whose run rows never arrived."""
        with writer_lock(self.path, EnsembleBusyError, say, self.remove_leftovers):
            yield

    def remove_leftovers(self) -> None:
        """Delete temporary files, and pilot/series parts without the chunk's run part (a writer killed between)."""
        for sub in (self.path, *(self.path / d for d in WORK_DIRS)):
            if sub.is_dir():
                for temp in sub.glob(f"{TEMP_PREFIX}*"):
                    temp.unlink(missing_ok=True)
        done = {p.name for p in self.part_files(RUNS_DIR)}
        for sub in (PILOTS_DIR, SERIES_DIR):
            for part in self.part_files(sub):
                if part.name not in done:
                    part.unlink(missing_ok=True)

    # ----------------------------------------------------------------------------- parts

    def part_files(self, sub: str = RUNS_DIR) -> list[Path]:
        folder = self.path / sub
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    def next_chunk_id(self) -> int:
        ids = [int(p.stem.split("-")[1]) for sub in WORK_DIRS for p in self.part_files(sub)]
        return max(ids, default=-1) + 1

    def write_chunk(self, chunk_id: int, runs: pa.Table, pilots: pa.Table, series: pa.Table) -> None:
        """Persist one chunk: pilot records and series first, the run rows last (each whole or not at all)."""
        name = f"part-{chunk_id:06d}.parquet"
        _write_table(self.path / PILOTS_DIR / name, pilots, self.runset_id)
        _write_table(self.path / SERIES_DIR / name, series, self.runset_id)
        _write_table(self.path / RUNS_DIR / name, runs, self.runset_id)

    def check_parts(self) -> list[tuple[Path, str]]:
        """Bad parts with the reason: unreadable, of another run set, or repeating (point, replicate) pairs."""
        return bad_parts(self.part_files(RUNS_DIR), self.runset_id, self.replicates,
                         companions=[self.path / PILOTS_DIR, self.path / SERIES_DIR])

    def quarantine(self, bad: Sequence[tuple[Path, str]]) -> list[str]:
        """Move bad run parts and their pilot/series parts to ``quarantine/``; returns one line per part moved."""
        return quarantine(self.path, bad, companions=[PILOTS_DIR, SERIES_DIR])

    def done_run_ids(self) -> np.ndarray:
        arrays = [pq.read_table(p, columns=["run_id"]).column("run_id").to_numpy() for p in self.part_files(RUNS_DIR)]
        return np.unique(np.concatenate(arrays)) if arrays else np.empty(0, dtype=np.int64)

    def read(self, sub: str) -> pd.DataFrame:
        """Every stored row of ``parts``, ``pilots`` or ``series``, sorted by run id (and month)."""
        tables = [pq.read_table(p) for p in self.part_files(sub)]
        if not tables:
            raise EnsembleError(f"{self.path / sub}: no parts")
        frame = pa.concat_tables(tables).to_pandas()
        order = ["run_id", "month"] if sub == SERIES_DIR else ["run_id"]
        return frame.sort_values(order, kind="stable").reset_index(drop=True)

    def remove_work_files(self) -> None:
        """After the final folder is built: the parts and the frozen study are no longer needed."""
        for sub in WORK_DIRS:
            shutil.rmtree(self.path / sub, ignore_errors=True)
        (self.path / STUDY_FILE).unlink(missing_ok=True)


__all__ = ["EnsembleBusyError", "EnsembleError", "EnsembleRunSet", "FORMAT", "PILOTS_DIR", "QUARANTINE_DIR",
           "RUNS_DIR", "SERIES_DIR", "differing_fields", "next_folder", "study_digest"]
