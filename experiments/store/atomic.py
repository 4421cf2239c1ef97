"""All-or-nothing writes: a file appears complete or not at all (temporary name, fsync, rename).

Every writer of a result (run sets, run folders, analysis tables, figures) goes through here.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.store.folders import (KINDS, LOCK_FILE, MARKER_FILE, busy_message, folder_kind, lock_record, lock_state,
                                       staging_path, write_marker)
from experiments.store.manifest import MANIFEST_FILE


TEMP_PREFIX = ".tmp-"


def temp_beside(path: Path) -> Path:
    """A unique temporary name in the same folder (so the final rename stays on one file system)."""
    return path.parent / f"{TEMP_PREFIX}{path.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _replace_durably(temp: Path, path: Path) -> None:
    with open(temp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing (temporary file, fsync, rename)."""
    path = Path(path)
    temp = temp_beside(path)
    try:
        temp.write_bytes(data)
        _replace_durably(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` all or nothing."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON all or nothing."""
    atomic_write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def atomic_write_parquet(path: Path, table: pa.Table | pd.DataFrame) -> None:
    """Write a table as Parquet all or nothing."""
    path = Path(path)
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    temp = temp_beside(path)
    try:
        pq.write_table(table, temp)
        _replace_durably(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class OutputFolderError(Exception):
    """The requested output folder cannot be used (exists without --force, or is not ours to replace)."""


def check_out_dir(out: Path, force: bool, kind: str = "run") -> None:
    """Refuse an output path that exists (unless ``force``) or that ``--force`` must not replace.

    ``--force`` only replaces an empty folder or one this tool wrote (its marker file, or for folders of
    older versions its manifest, see :mod:`experiments.store.folders`) of the same ``kind``, and not while
    a live process holds its ``writer.lock``; so a slip such as ``--out . --force`` cannot wipe a source
    tree, and ``lcsim run --force`` cannot wipe a sweep.
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
    if not any(out.iterdir()):
        return
    found = folder_kind(out)
    if found is None:
        raise OutputFolderError(
            f"--out {out}: refusing to replace a folder that is not an lcsim result folder: not written by lcsim "
            f"(no {MARKER_FILE} marker and no lcsim {MANIFEST_FILE}); nothing was deleted; allowed with --force: an empty folder or an earlier "
            f"lcsim result folder of the same kind ({KINDS[kind]})"
        )
    if found != kind:
        raise OutputFolderError(
            f"--out {out}: refusing to replace {KINDS[found]} with {KINDS[kind]}; nothing was deleted; allowed "
            "with --force: an earlier folder of the same kind, or another --out"
        )
    state, holder = lock_state(out)
    if state in ("live", "unsure"):
        raise OutputFolderError(f"--out {busy_message(out, state, holder)}; nothing was deleted")


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
def staged_folder(out: Path, force: bool = False, kind: str = "run") -> Iterator[Path]:
    """Yield a staging folder beside ``out`` (holding only the marker of ``kind``); on success rename it to
    ``out`` (replacing an earlier folder of that kind if ``force``), on failure delete it.

    Parent folders of ``out`` that had to be created are removed again on failure.
    """
    out = Path(out)
    check_out_dir(out, force, kind)
    created = [p for p in reversed(out.absolute().parents) if not p.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(out)
    staging.mkdir()
    try:
        write_marker(staging, kind)
        yield staging
        _swap_into_place(staging, out, force, kind)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for parent in reversed(created):
            try:
                parent.rmdir()
            except OSError:
                pass
        raise


def _swap_into_place(staging: Path, out: Path, force: bool, kind: str) -> None:
    if not out.exists():
        os.replace(staging, out)
        return
    check_out_dir(out, force, kind)  # it may have appeared while we ran
    swap_in(staging, out)


def swap_in(new: Path, out: Path) -> None:
    """Replace the folder ``out`` by the complete folder ``new`` (same parent): two renames, then the old
    folder is deleted; if the second rename fails the old folder is put back."""
    old = out.parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        os.replace(old, out)  # put the previous result back
        raise
    shutil.rmtree(old, ignore_errors=True)

@contextmanager
def writer_lock(folder: Path, busy: type[Exception], say: Any = None, clean: Any = None) -> Iterator[None]:
    """Hold ``folder``'s writer lock for the ``with`` block: raise ``busy`` (with the message naming the live
    process) if another live process holds it; take over a stale one (its process is gone, or its pid was
    reused), with a note through ``say``; then call ``clean`` to remove what a killed writer left behind."""
    state, holder = lock_state(folder)
    if state in ("live", "unsure"):
        raise busy(busy_message(folder, state, holder))
    if state == "stale" and say is not None:
        say(f"note: {folder / LOCK_FILE} was a stale lock of pid {holder.get('pid')} (no longer running); taken over")
    lock = folder / LOCK_FILE
    atomic_write_json(lock, lock_record())
    try:
        if clean is not None:
            clean()
        yield
    finally:
        lock.unlink(missing_ok=True)

