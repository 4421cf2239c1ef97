"""Running a study: build its design, create its run set, and execute exactly the runs still missing.

The parent process streams: design points are turned into chunks lazily, a bounded number of chunks is in
flight on the backend, and every finished chunk is written to its own Parquet part at once.  The parent
never holds the results of more than one chunk, so memory stays flat in the number of runs.

Chunk sizes adapt: the first chunks are small (at most 8 runs: they calibrate the model's cost per run),
later ones aim at the backend's ``target_chunk_seconds`` of model time each (measured in the workers: 2 s
for local processes, 1 s for Dask), but never so big that fewer than four chunks per worker remain (load
balance; the worker count is read again after every chunk, so an adaptive Dask cluster that grows gets
smaller chunks).  Chunking never changes results: every run carries its own seed.
"""

from __future__ import annotations

import math
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.designs import samplers as designs
from experiments.designs import seeds
from experiments.execution.backends import Evaluator
from experiments.config.reading import ConfigError, show_value
from experiments.execution.chunks import Chunk, ChunkSizer, RunSpec, pending_batches, run_chunk
from experiments.models.registry import load_model
from experiments.models.spec import ModelSpec
from experiments.store.runset import RunSet
from experiments.config.study import StudyConfig

SEEDING = ("run (point p, replicate r) uses numpy SeedSequence(root_seed, spawn_key=(p, r)), i.e. child r of "
           "child p of SeedSequence(root_seed); with common_random_numbers, SeedSequence(root_seed, "
           "spawn_key=(r,)) at every point. Random designs use SeedSequence([root_seed, 0x5D3516], "
           "spawn_key=(batch,)).")


# --------------------------------------------------------------------------------------- designs


def design_frame(config: StudyConfig, u: np.ndarray, values: np.ndarray, first_point: int, stage: int) -> pd.DataFrame:
    """A design stage as a table: point, stage, u.<factor> (unit coordinates), <factor> (model value)."""
    n = len(u)
    data: dict[str, Any] = {"point": np.arange(first_point, first_point + n, dtype=np.int64),
                            "stage": np.full(n, stage, dtype=np.int64)}
    for j, factor in enumerate(config.factors):
        data[f"u.{factor.name}"] = u[:, j].astype(np.float64)
    for j, factor in enumerate(config.factors):
        data[factor.name] = values[:, j].astype(np.int64) if factor.kind == "int" else values[:, j].astype(np.float64)
    return pd.DataFrame(data)


def planned_points(config: StudyConfig) -> int:
    """The number of stage-0 design points, computed from the settings without building the design (so a
    huge design can be refused at once, before any memory is spent on it)."""
    d = len(config.factors)
    kind = config.design["type"]
    if kind == "factorial":
        return math.prod(len(config.design["levels"][f.name]) for f in config.factors)
    if kind == "lhs":
        return int(config.design["samples"])
    if kind == "morris":
        return int(config.design["trajectories"]) * (d + 1)
    if kind == "sobol":
        return int(config.design["base_samples"]) * designs.saltelli_rows_per_base(d, config.design["second_order"])
    if kind == "emulator":
        return int(config.design["points"])
    raise ValueError(f"unknown design {kind!r}")  # pragma: no cover -- the config loader refuses other designs


def design_bytes(config: StudyConfig, points: int) -> int:
    """Memory of the design table: per point, ``point`` and ``stage`` plus a unit and a model value per factor
    (8 bytes each)."""
    return points * (2 + 2 * len(config.factors)) * 8


def first_stage(config: StudyConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The stage-0 design of a study and the stage's description for the manifest."""
    d = len(config.factors)
    kind = config.design["type"]
    if kind == "factorial":
        values = designs.full_factorial([config.design["levels"][f.name] for f in config.factors])
        u = np.column_stack([f.unit_of(values[:, j]) for j, f in enumerate(config.factors)])
        info: dict[str, Any] = {"design": "factorial"}
    elif kind == "lhs":
        u = designs.latin_hypercube(d, config.design["samples"], config.seed)
        values = designs.model_values(config.factors, u)
        info = {"design": "lhs", "samples": config.design["samples"]}
    elif kind == "morris":
        r = config.design["trajectories"]
        u = designs.morris_trajectories(d, r, config.design["levels"], config.seed, batch=0)
        values = designs.model_values(config.factors, u)
        info = {"design": "morris", "trajectories": r, "batch": 0, "total_trajectories": r}
    elif kind == "sobol":
        n = config.design["base_samples"]
        u = designs.saltelli(d, n, config.design["second_order"], config.seed)
        values = designs.model_values(config.factors, u)
        info = {"design": "sobol", "base_samples": n, "total_base_samples": n}
    elif kind == "emulator":
        n = config.design["points"]
        u = designs.space_filling(config.design["design"], d, n, config.seed)
        values = designs.model_values(config.factors, u)
        info = {"design": "emulator", "points": n, "total_points": n}
    else:  # pragma: no cover -- the config loader refuses other designs
        raise ValueError(f"unknown design {kind!r}")
    return design_frame(config, u, values, 0, 0), info


def next_stage(config: StudyConfig, runset: RunSet) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The stage that doubles the base sample (Sobol' base rows, Morris trajectories or emulator points),
    reusing all runs."""
    d = len(config.factors)
    stage = len(runset.stages)
    last = runset.stages[-1]
    first_point = runset.n_points
    if config.design["type"] == "morris":
        total = last["total_trajectories"]
        u = designs.morris_trajectories(d, total, config.design["levels"], config.seed, batch=stage)
        info = {"design": "morris", "trajectories": total, "batch": stage, "total_trajectories": 2 * total}
    elif config.design["type"] == "sobol":
        total = last["total_base_samples"]
        existing = runset.design()[[f"u.{f.name}" for f in config.factors]].to_numpy()
        u = designs.saltelli_extension(d, total, 2 * total, config.design["second_order"], config.seed, existing)
        info = {"design": "sobol", "base_samples": total, "total_base_samples": 2 * total}
    elif config.design["type"] == "emulator":
        total = last["total_points"]
        if config.design.get("grow") == "replicates":
            # the same coordinates again as new points: new run ids and seeds, pooled by the analysis
            u = runset.design()[[f"u.{f.name}" for f in config.factors]].to_numpy()
        else:
            u = designs.space_filling(config.design["design"], d, total, config.seed, start=total)
        info = {"design": "emulator", "points": total, "total_points": 2 * total,
                "grow": config.design.get("grow", "points")}
    else:
        raise ValueError(f"design {config.design['type']!r} cannot be doubled")
    return design_frame(config, u, designs.model_values(config.factors, u), first_point, stage), info


def check_design(config: StudyConfig, spec: ModelSpec, frame: pd.DataFrame, limit: int = 5) -> None:
    """Refuse a design with points the model would reject (e.g. two shares summing above 1), before any run."""
    if spec.check is None:
        return
    names = config.factor_names
    problems = []
    seen: set[str] = set()
    bad = 0
    for point, row in zip(frame["point"], frame[names].itertuples(index=False), strict=True):
        params = {**config.base, **designs.point_params(config.factors, row)}
        problem = spec.check(params)
        if problem:
            bad += 1
            if problem not in seen and len(problems) < limit:
                seen.add(problem)
                # show the factors the message is about (all of them if it names none)
                named = [n for n in names if n in problem] or names
                shown = ", ".join(f"{n} = {show_value(params[n])}" for n in named)
                problems.append(f"{config.source}: design point {point} ({shown}) is invalid: {problem}")
    if bad:
        problems.append(f"{config.source}: {bad} of {len(frame)} design points are invalid; allowed: narrow "
                        "[ranges] or change [parameters] so that every combination in the ranges is valid")
        raise ConfigError("\n".join(problems), problems)


# --------------------------------------------------------------------------------------- manifest


def build_manifest(config: StudyConfig, spec: ModelSpec, *, command: str | None = None) -> dict[str, Any]:
    """The provenance record written before the first run."""
    from experiments.store.manifest import provenance, utc_now

    function = spec.function
    return {
        "kind": config.kind,
        "name": config.name,
        "description": config.description,
        "created_utc": utc_now(),
        "command": command if command is not None else shlex.join(sys.argv),
        "cwd": str(Path.cwd()),
        "config_path": config.source,
        "config_sha256": config.sha256,
        "model": {"reference": config.model, "function": f"{function.__module__}:{function.__qualname__}",
                  "description": spec.description, "outputs": list(spec.outputs)},
        "factors": [f.to_dict() for f in config.factors],
        "fixed_parameters": config.base,
        "fixed_parameters_resolved": (
            {k: v for k, v in spec.resolve(config.base).items() if k not in config.factor_names}
            if spec.resolve else config.base),
        "root_seed": config.seed,
        "replicates": config.replicates,
        "common_random_numbers": config.common_random_numbers,
        "seeding": SEEDING,
        "run_id": "point * replicates + replicate",
        "design": config.design,
        **provenance(),
        "study": config.to_dict(),
        "resumed": [],
    }


# --------------------------------------------------------------------------------------- chunks


def _run_values(config: StudyConfig, design_values: np.ndarray, point: int) -> tuple[float | int, ...]:
    row = design_values[point]
    return tuple(int(v) if f.kind == "int" else float(v) for f, v in zip(config.factors, row, strict=True))


def pending_chunks(config: StudyConfig, design_values: np.ndarray, skip: np.ndarray, sizer: ChunkSizer,
                   first_chunk_id: int, block: int = 4096) -> Iterator[Chunk]:
    """Chunks of every run of the design whose id is not in ``skip`` (sorted), in run-id order, lazily."""
    replicates = config.replicates
    total = len(design_values) * replicates
    for chunk_id, ids in enumerate(pending_batches(total, skip, sizer, block), start=first_chunk_id):
        runs: list[RunSpec] = []
        for run_id in ids:
            point, replicate = divmod(run_id, replicates)
            key = seeds.spawn_key(point, replicate, config.common_random_numbers)
            runs.append((run_id, point, replicate, key, _run_values(config, design_values, point)))
        yield Chunk(chunk_id, config.seed, config.base, tuple(config.factor_names), tuple(runs))


# --------------------------------------------------------------------------------------- execution


@dataclass
class ExecutionStats:
    """Counts of one execution pass (runs, not chunks)."""

    total: int = 0
    already_done: int = 0
    already_failed: int = 0
    done: int = 0
    failed: int = 0
    model_seconds: float = 0.0
    chunks: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)


ProgressCallback = Callable[[str, dict[str, int]], None]


def execute(runset: RunSet, config: StudyConfig, spec: ModelSpec, evaluator: Evaluator, *,
            chunk_size: int | None = None, retry_failed: bool = False,
            progress: ProgressCallback | None = None) -> ExecutionStats:
    """Run every run of the run set's design that has no result yet (and no failure, unless ``retry_failed``).

    The caller holds ``runset.lock()``.  ``progress(event, counts)`` is called with ``"start"`` (total, done,
    failed) and after every chunk with ``"chunk"`` (done, failed: the chunk's counts).
    """
    design = runset.design()
    design_values = design[config.factor_names].to_numpy(dtype=float)
    done = runset.done_run_ids()
    failed_ids = np.array(sorted(int(f["run_id"]) for f in runset.failures()), dtype=np.int64)
    skip = done if retry_failed or not len(failed_ids) else np.union1d(done, failed_ids)
    stats = ExecutionStats(total=len(design) * config.replicates, already_done=len(done),
                           already_failed=0 if retry_failed else len(failed_ids))
    if progress:
        progress("start", {"total": stats.total, "done": stats.already_done, "failed": stats.already_failed})
    if len(skip) >= stats.total:
        return stats
    factors = [(f.name, f.kind) for f in config.factors]
    work = partial(run_chunk, spec.function, tuple(spec.outputs))
    with evaluator:
        sizer = ChunkSizer(workers=evaluator.workers, fixed=chunk_size,
                           target_chunk_seconds=getattr(evaluator, "target_chunk_seconds", 2.0))
        chunks = pending_chunks(config, design_values, skip, sizer, runset.next_chunk_id())
        for result in evaluator.map_chunks(work, chunks):
            runset.write_chunk(result, factors, design_values, spec.outputs)
            if result.seconds > 0 or result.n_done:  # a chunk lost with its worker measured nothing
                sizer.observe(result.n_done + result.n_failed, result.seconds)
            sizer.workers = max(1, evaluator.workers)
            stats.done += result.n_done
            stats.failed += result.n_failed
            stats.model_seconds += result.seconds
            stats.chunks += 1
            if progress:
                progress("chunk", {"done": result.n_done, "failed": result.n_failed})
    return stats


# --------------------------------------------------------------------------------------- studies


def create_runset(config: StudyConfig, out: Path, *, command: str | None = None) -> tuple[RunSet, ModelSpec]:
    """Build and check the stage-0 design, then create the run set folder (manifest + design)."""
    spec = load_model(config.model)
    frame, info = first_stage(config)
    check_design(config, spec, frame)
    manifest = build_manifest(config, spec, command=command)
    manifest["stage_info"] = info
    return RunSet.create(out, manifest, frame), spec


def open_runset(path: Path) -> tuple[RunSet, StudyConfig, ModelSpec, list[str]]:
    """Open a run set for resuming; returns warnings (e.g. the code changed since it was created)."""
    from experiments.store.manifest import git_state

    runset = RunSet.open(path)
    config = StudyConfig.from_dict(runset.manifest["study"])
    spec = load_model(config.model)
    warnings = []
    git = git_state()
    if runset.manifest.get("git_commit") and git["commit"] != runset.manifest["git_commit"]:
        warnings.append(f"the code is at commit {git['commit']}, but the run set was started at "
                        f"{runset.manifest['git_commit']}; new runs may not match the old ones")
    if git["dirty"] or runset.manifest.get("git_dirty"):
        warnings.append("the git working tree was or is dirty: the exact code of the runs is not recorded")
    return runset, config, spec, warnings


def record_resume(runset: RunSet, command: str | None = None, backend: dict[str, Any] | None = None) -> None:
    """Append this resume (time, command, code version, backend) to the manifest.  Hold the lock."""
    from experiments.store.manifest import git_state, utc_now

    git = git_state()
    resumed = list(runset.manifest.get("resumed", []))
    resumed.append({"utc": utc_now(), "command": command if command is not None else shlex.join(sys.argv),
                    "git_commit": git["commit"], "git_dirty": git["dirty"], "backend": backend})
    runset.update_manifest(resumed=resumed)


def add_doubling_stage(runset: RunSet, config: StudyConfig, spec: ModelSpec) -> int:
    """Add the stage that doubles the base sample; returns the number of new runs."""
    frame, info = next_stage(config, runset)
    check_design(config, spec, frame)
    runset.add_stage(frame, info)
    return len(frame) * config.replicates


__all__ = [
    "ChunkSizer",
    "ExecutionStats",
    "SEEDING",
    "add_doubling_stage",
    "build_manifest",
    "check_design",
    "create_runset",
    "design_frame",
    "execute",
    "first_stage",
    "next_stage",
    "open_runset",
    "record_resume",
    "pending_chunks",
]
