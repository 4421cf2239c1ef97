"""Which folders this tool wrote (a marker file with a format id and the folder's kind) and who writes one now
(the ``writer.lock`` of a live process).

``--force`` replaces a folder only if :func:`folder_kind` recognises it as one of this tool's folders of the
same kind and no live process holds its lock.  A file name anyone can have (``manifest.json``) is not enough.

Folders written before the marker existed are recognised by their manifest: a run set by its
``"format": "lcsim-runset/1"``; an ``lcsim run`` folder by the fields only this tool writes together
(``scenario``, ``parameters``, ``seeding``, ``git_commit``, ``versions``); a comparison or validation folder by
``"kind"`` plus ``git_commit`` and ``versions``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from pathlib import Path
from typing import Any

from experiments.store.manifest import MANIFEST_FILE, MARKER_FILE, STAGING_NAME

MARKER_FORMAT = "lcsim-folder/1"
LOCK_FILE = "writer.lock"

#: The kinds of folder this tool writes, as error messages name them.
KINDS = {
    "run": "an `lcsim run` result folder",
    "runset": "a sweep or sensitivity run set",
    "comparison": "an `lcsim compare` folder",
    "validation": "an `lcsim validate` folder",
    "discovery": "an `lcsim discover` folder inside a run set",
}

_RUNSET_FORMAT = "lcsim-runset/1"  # experiments.store.runset.FORMAT (not imported: runset imports this module)


def write_marker(folder: Path, kind: str) -> None:
    """Mark ``folder`` (a staging folder, renamed into place whole) as written by this tool, of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"unknown folder kind {kind!r}")
    (Path(folder) / MARKER_FILE).write_text(json.dumps({"format": MARKER_FORMAT, "kind": kind}) + "\n",
                                            encoding="utf-8")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def folder_kind(folder: Path) -> str | None:
    """The kind of a folder this tool wrote, or None if it is not one of ours (see the module text)."""
    folder = Path(folder)
    marker = _read_json(folder / MARKER_FILE)
    if isinstance(marker, dict) and marker.get("format") == MARKER_FORMAT and marker.get("kind") in KINDS:
        return marker["kind"]
    manifest = _read_json(folder / MANIFEST_FILE)
    if not isinstance(manifest, dict) or marker is not None:
        return None
    ours = "git_commit" in manifest and isinstance(manifest.get("versions"), dict)
    if manifest.get("format") == _RUNSET_FORMAT:
        return "runset"
    if ours and {"scenario", "parameters", "seeding"} <= manifest.keys():
        return "run"
    if ours and manifest.get("kind") in ("comparison", "validation"):
        return manifest["kind"]
    return None


# --------------------------------------------------------------------------------------- the writer's lock


def process_started(pid: int) -> float | None:
    """Start time of process ``pid`` (seconds since the epoch), None if unknown; tells a reused pid apart."""
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:  # no such process, no permission, or psutil missing: unknown
        return None


def lock_record() -> dict[str, Any]:
    """What a writer puts into ``writer.lock``: its pid, host and process start time."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": process_started(os.getpid())}


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_state(folder: Path) -> tuple[str, dict[str, Any]]:
    """The state of ``folder``'s lock and its record.

    ``"free"`` (no lock, or it is this process's), ``"stale"`` (its process is gone, or its pid now belongs to
    a process started later: a reused pid), ``"live"`` (its process runs and started when the lock was
    taken), ``"unsure"`` (its pid runs but the lock, from an older version, has no start time to compare).
    A lock of another host is treated as stale, as before (its process cannot be checked from here).
    """
    path = Path(folder) / LOCK_FILE
    if not path.exists():
        return "free", {}
    holder = _read_json(path)
    holder = holder if isinstance(holder, dict) else {}
    pid = holder.get("pid")
    if pid == os.getpid() or holder.get("host") != socket.gethostname() or not _alive(pid):
        return ("free" if pid == os.getpid() else "stale"), holder
    started = holder.get("started")
    if not isinstance(started, (int, float)):
        return "unsure", holder
    now = process_started(pid)
    if now is not None and abs(now - started) > 1.0:
        return "stale", holder
    return "live", holder


def staging_path(out: Path, purpose: str = "partial") -> Path:
    """A fresh name for the hidden folder in which ``out`` is built (not created): ``.<name>.<purpose>-<pid>-<hex>``
    beside it.  Staging folders of the same ``out`` left by a killed process are removed first."""
    out = Path(out)
    remove_stale_staging(out)
    return out.parent / f".{out.name}.{purpose}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def remove_stale_staging(out: Path) -> list[Path]:
    """Delete the staging folders of ``out`` whose process is gone (SIGKILL runs no clean-up); return them.

    Only folders this tool made are touched: the name must match :data:`STAGING_NAME` for ``out`` and the
    folder must hold this tool's marker or nothing at all.  A folder whose pid runs is kept unless that
    process started after the folder was last changed (a reused pid).
    """
    out = Path(out)
    removed = []
    if not out.parent.is_dir():
        return removed
    for path in out.parent.iterdir():
        match = STAGING_NAME.match(path.name)
        if not match or match["name"] != out.name or not path.is_dir():
            continue
        pid = int(match["pid"])
        if pid == os.getpid():
            continue
        if _alive(pid):
            started = process_started(pid)
            if started is None or started <= path.stat().st_mtime:
                continue  # its writer may still be at work
        if not (path / MARKER_FILE).is_file() and any(path.iterdir()):
            continue  # not recognisably ours: leave it
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def busy_message(folder: Path, state: str, holder: dict[str, Any]) -> str:
    """Why a locked folder is refused and how to go on."""
    pid = holder.get("pid")
    text = f"{folder}: another lcsim process (pid {pid}) is writing it; allowed: wait for it to finish, or stop it first"
    if state == "unsure":
        text += (f". If pid {pid} is not an lcsim process (check with `ps -p {pid}`), the lock is stale: delete "
                 f"{Path(folder) / LOCK_FILE} and run the command again")
    return text


__all__ = ["KINDS", "LOCK_FILE", "MARKER_FILE", "MARKER_FORMAT", "busy_message", "folder_kind", "lock_record",
           "lock_state", "process_started", "remove_stale_staging", "staging_path", "write_marker"]
