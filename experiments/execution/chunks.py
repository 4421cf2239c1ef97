"""The unit of work shipped to a backend: a chunk of runs, executed with every failure caught.

This module runs inside worker processes, so it imports little (no pandas, no pyarrow).  A chunk
carries everything a run needs -- the root seed, the fixed parameters, and per run its id, design point,
replicate, spawn key and factor values -- so the result never depends on which worker ran it or when.
A run that raises is recorded (parameters, seed, traceback) and the chunk goes on.  A chunk that never
came back (its worker died every time it was tried) is recorded run by run with :func:`chunk_failed`.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.random import SeedSequence

from experiments.designs.seeds import key_text, run_seed

#: One run of a chunk: (run_id, point, replicate, spawn_key, factor values in model units).
RunSpec = tuple[int, int, int, tuple[int, ...], tuple[float | int, ...]]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Several runs executed together so that process start-up and pickling are paid per chunk."""

    chunk_id: int
    root_seed: int
    base: Mapping[str, Any]
    factor_names: tuple[str, ...]
    runs: tuple[RunSpec, ...]

    def __len__(self) -> int:
        return len(self.runs)


@dataclass(slots=True)
class ChunkResult:
    """What came back from a chunk: successful runs column-wise, failures one dict each."""

    chunk_id: int
    run_id: list[int] = field(default_factory=list)
    point: list[int] = field(default_factory=list)
    replicate: list[int] = field(default_factory=list)
    spawn_key: list[str] = field(default_factory=list)
    outputs: dict[str, list[float]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # wall time spent inside the model calls of this chunk (s)

    @property
    def n_done(self) -> int:
        return len(self.run_id)

    @property
    def n_failed(self) -> int:
        return len(self.failures)


def run_chunk(
    model: Callable[[dict[str, Any], SeedSequence], Mapping[str, float]],
    outputs: Sequence[str],
    chunk: Chunk,
) -> ChunkResult:
    """Run every run of ``chunk`` with ``model``; keep the named ``outputs`` of each (as float)."""
    result = ChunkResult(chunk.chunk_id, outputs={name: [] for name in outputs})
    spent = 0.0
    for run_id, point, replicate, key, values in chunk.runs:
        params = dict(chunk.base)
        params.update(zip(chunk.factor_names, values, strict=True))
        started = time.perf_counter()
        try:
            reported = model(params, run_seed(chunk.root_seed, key))
            missing = [name for name in outputs if name not in reported]
            if missing:
                raise KeyError(f"model did not report {', '.join(missing)} (required outputs: {', '.join(outputs)})")
            row = [float(reported[name]) for name in outputs]
        except Exception as exc:  # noqa: BLE001 -- every model failure is recorded, the sweep goes on
            spent += time.perf_counter() - started
            result.failures.append(failure_record(chunk, (run_id, point, replicate, key, values),
                                                  f"{type(exc).__name__}: {exc}", traceback.format_exc()))
            continue
        spent += time.perf_counter() - started
        result.run_id.append(run_id)
        result.point.append(point)
        result.replicate.append(replicate)
        result.spawn_key.append(key_text(key))
        for name, value in zip(outputs, row, strict=True):
            result.outputs[name].append(value)
    result.seconds = spent
    return result


def chunk_failed(chunk: Chunk, error: str, trace: str) -> ChunkResult:
    """Every run of ``chunk`` recorded as failed with the same ``error`` (e.g. the chunk killed its worker).

    The records have the fields of a failing run in :func:`run_chunk`, so ``lcsim resume --retry-failed``
    and the failure reports treat them alike.
    """
    result = ChunkResult(chunk.chunk_id)
    result.failures.extend(failure_record(chunk, run, error, trace) for run in chunk.runs)
    return result


def failure_record(chunk: Chunk, run: RunSpec, error: str, trace: str) -> dict[str, Any]:
    """What is kept of a failed run: its identity, seed, factor values, the error and its traceback."""
    run_id, point, replicate, key, values = run
    return {
        "run_id": run_id,
        "point": point,
        "replicate": replicate,
        "spawn_key": key_text(key),
        "root_seed": chunk.root_seed,
        "params": dict(zip(chunk.factor_names, values, strict=True)),
        "error": error,
        "traceback": trace,
    }


# --------------------------------------------------------------------------------------- chunk sizes


def balanced_chunk_size(remaining: int, workers: int) -> int:
    """The load-balance bound of every chunk size: about four chunks per worker of the runs remaining."""
    return max(1, math.ceil(remaining / (workers * 4)))


@dataclass
class ChunkSizer:
    """Chooses the size of the next chunk (the one chunk-size rule of every command).

    The first chunks are small (at most 8 runs: they calibrate the model's cost per run), later ones aim at
    ``target_chunk_seconds`` of model time each, but never above :func:`balanced_chunk_size` (load balance)
    nor ``max_size``.  ``fixed`` (``--chunk-size``) overrides it.  Chunking never changes results.
    """

    workers: int
    fixed: int | None = None
    target_chunk_seconds: float = 2.0
    max_size: int = 5000
    seconds: float = 0.0
    runs: int = 0

    def observe(self, runs: int, seconds: float) -> None:
        self.runs += runs
        self.seconds += seconds

    def size(self, remaining: int) -> int:
        if self.fixed:
            return self.fixed
        balance = balanced_chunk_size(remaining, self.workers)
        if self.runs == 0:
            return max(1, min(balance, 8))
        per_run = max(self.seconds / self.runs, 1e-7)
        return max(1, min(self.max_size, balance, math.ceil(self.target_chunk_seconds / per_run)))


def pending_batches(total: int, skip: np.ndarray, sizer: ChunkSizer, block: int = 4096) -> Iterator[list[int]]:
    """The run ids ``0 .. total-1`` not in ``skip`` (sorted), in order, in batches sized by ``sizer`` (asked
    again after every batch), lazily: memory does not grow with ``total``."""
    remaining = total - len(skip)
    buffer: list[int] = []
    size = sizer.size(remaining)
    for start in range(0, total, block):
        ids = np.arange(start, min(total, start + block), dtype=np.int64)
        if len(skip):
            position = np.searchsorted(skip, ids)
            found = (position < len(skip)) & (skip[np.minimum(position, len(skip) - 1)] == ids)
            ids = ids[~found]
        for run_id in ids.tolist():
            buffer.append(run_id)
            if len(buffer) >= size:
                yield buffer
                remaining -= len(buffer)
                buffer = []
                size = sizer.size(remaining)
    if buffer:
        yield buffer


__all__ = ["Chunk", "ChunkResult", "ChunkSizer", "RunSpec", "balanced_chunk_size", "chunk_failed", "pending_batches",
           "run_chunk"]
