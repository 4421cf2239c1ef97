"""Scenario ensembles through the run-set store: the one "points x seeds -> run -> slice" loop.

``lcsim run`` (one point), ``lcsim compare`` and ``lcsim validate`` (several points) and the notebooks'
``api.run_ensembles`` all run here: a point is a scenario's full parameter set, replicate ``r`` of every
point uses ``SeedSequence(root_seed, spawn_key=(r,))`` = ``SeedSequence(root_seed).spawn(R)[r]`` (common
random numbers), and the runs go through the same evaluators (serial, processes, Dask) and the same
chunk-size rule (:class:`experiments.execution.chunks.ChunkSizer`) as sweeps.  Every finished chunk is
written to disk at once (:class:`experiments.store.ensemble.EnsembleRunSet`), so the parent holds only the
chunks in flight, and a killed ensemble is finished by ``lcsim resume``.  Results never depend on the
backend, the chunking or the order in which chunks finish: every run carries its own seed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim import PILOT_FIELDS, SERIES_FIELDS, SUMMARY_FIELDS, Params, RunOutcome
from experiments.designs.seeds import key_text, run_seed, spawn_key
from experiments.execution.backends import BackendSpec, Evaluator
from experiments.execution.chunks import ChunkSizer, pending_batches
from experiments.execution.quiet import QuietTask
from experiments.execution.replicates import ModelFn, run_replicate
from experiments.store.runfolder import MONTH_FIELDS, pilots_table
from experiments.store.ensemble import PILOTS_DIR, RUNS_DIR, SERIES_DIR, EnsembleRunSet

SEEDING = ("run (point p, replicate r) uses numpy SeedSequence(root_seed, spawn_key=(r,)), which is "
           "SeedSequence(root_seed).spawn(replicates)[r]: the same replicate seeds at every point (common random "
           "numbers); run id = point * replicates + replicate")


@dataclass(frozen=True, slots=True)
class EnsembleChunk:
    """Runs executed together: per run (run_id, point, replicate); the parameters of the points involved."""

    chunk_id: int
    root_seed: int
    params: Mapping[int, Params]
    runs: tuple[tuple[int, int, int], ...]

    def __len__(self) -> int:
        return len(self.runs)


@dataclass(slots=True)
class EnsembleChunkResult:
    chunk_id: int
    outcomes: list[tuple[int, int, int, RunOutcome]]
    seconds: float


def run_ensemble_chunk(model: ModelFn | None, chunk: EnsembleChunk) -> EnsembleChunkResult:
    """Worker task: every run of the chunk, with its outcome contract checked (model errors propagate)."""
    started = time.perf_counter()
    done = [(run_id, point, replicate,
             run_replicate(chunk.params[point], run_seed(chunk.root_seed, spawn_key(point, replicate, True)), model))
            for run_id, point, replicate in chunk.runs]
    return EnsembleChunkResult(chunk.chunk_id, done, time.perf_counter() - started)


# --------------------------------------------------------------------------------------- tables




def chunk_tables(result: EnsembleChunkResult, root_seed: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The run rows, pilot records (months as the model reports them) and monthly series of a chunk."""
    done = result.outcomes
    ids = np.array([d[0] for d in done], dtype=np.int64)
    points = np.array([d[1] for d in done], dtype=np.int64)
    replicates = np.array([d[2] for d in done], dtype=np.int64)
    runs = pa.table({"run_id": ids, "point": points, "replicate": replicates,
                     "root_seed": np.full(len(done), root_seed, dtype=np.int64),
                     "spawn_key": pa.array([key_text((int(r),)) for r in replicates], type=pa.string()),
                     **{name: np.array([float(d[3].summary[name]) for d in done], dtype=np.float64)
                        for name in SUMMARY_FIELDS}})
    pilots = pd.DataFrame(
        [{"run_id": run_id, "point": point, "replicate": replicate, **pilot}
         for run_id, point, replicate, o in done for pilot in o.pilots],
        columns=["run_id", "point", "replicate", *PILOT_FIELDS])
    months = np.array([len(next(iter(d[3].series.values()))) if d[3].series else 0 for d in done], dtype=np.int64)
    series = pa.table({"run_id": np.repeat(ids, months), "point": np.repeat(points, months),
                       "replicate": np.repeat(replicates, months),
                       "month": np.concatenate([np.arange(m, dtype=np.int64) for m in months]),
                       **{name: np.concatenate([np.asarray(d[3].series[name], dtype=np.float64) for d in done])
                          for name in SERIES_FIELDS}})
    return runs, pa.Table.from_pandas(pilots, preserve_index=False), series


def point_tables(runset: EnsembleRunSet, point: int | None = None) -> dict[str, dict[str, pd.DataFrame]] | dict[str, pd.DataFrame]:
    """The tables of ``lcsim run`` (``runs``, ``pilots``, ``series``, replicate order) built from the parts, for
    one point, or for every point keyed by name when ``point`` is None."""
    runs = runset.read(RUNS_DIR)
    pilot_parts = [p for p in runset.part_files(PILOTS_DIR)]
    import pyarrow.parquet as pq

    pilot_frames = [t.to_pandas() for t in (pq.read_table(p) for p in pilot_parts) if t.num_rows]
    pilots = (pd.concat(pilot_frames, ignore_index=True).sort_values("run_id", kind="stable")
              if pilot_frames else pd.DataFrame(columns=["run_id", "point", "replicate", *PILOT_FIELDS]))
    series = runset.read(SERIES_DIR)
    names = runset.point_names
    wanted = range(len(names)) if point is None else [point]
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for p in wanted:
        mine_runs = runs[runs["point"] == p].drop(columns=["run_id", "point"]).reset_index(drop=True)
        mine_pilots = pilots[pilots["point"] == p]
        # built from records, as from outcomes, so dtypes are inferred over all of the point's pilots
        frame = pilots_table(mine_pilots.drop(columns=["run_id", "point"]).to_dict("records"))
        mine_series = series[series["point"] == p].drop(columns=["run_id", "point"]).reset_index(drop=True)
        out[names[p]] = {"runs": mine_runs, "pilots": frame, "series": mine_series}
    return out if point is None else out[names[point]]


def tables_to_outcomes(frames: Mapping[str, pd.DataFrame]) -> list[RunOutcome]:
    """Each replicate's :class:`sim.RunOutcome` rebuilt from the three tables (replicate order)."""
    runs, pilots, series = frames["runs"], frames["pilots"], frames["series"]
    pilots_of = {int(r): g for r, g in pilots.groupby("replicate", sort=False)} if len(pilots) else {}
    series_of = {int(r): g.sort_values("month") for r, g in series.groupby("replicate", sort=False)}
    outcomes = []
    for row in runs.sort_values("replicate").itertuples(index=False):
        replicate = int(row.replicate)
        summary = {name: float(getattr(row, name)) for name in SUMMARY_FIELDS}
        group = pilots_of.get(replicate)
        records = [] if group is None else [
            {name: _python(value, month=name in MONTH_FIELDS) for name, value in record.items()}
            for record in group[list(PILOT_FIELDS)].to_dict("records")]
        months = series_of[replicate]
        outcomes.append(RunOutcome(summary=summary, pilots=records,
                                   series={name: months[name].to_numpy(dtype=float) for name in SERIES_FIELDS}))
    return outcomes


def _python(value: Any, month: bool = False) -> Any:
    if month and (value is pd.NA or value is None or (isinstance(value, float) and np.isnan(value))):
        return -1  # a missing month in the table is the model's -1 ("never") in a RunOutcome
    return value.item() if isinstance(value, np.generic) else value  # numpy scalar -> Python bool/int/float


# --------------------------------------------------------------------------------------- the study


def ensemble_study(points: Mapping[str, Params], replicates: int, root_seed: int) -> dict[str, Any]:
    """The study definition recorded (and digested) in the manifest: points with every parameter, seed, replicates."""
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates}")
    return {"model": "lcsim", "outputs": {"runs": list(SUMMARY_FIELDS), "pilots": list(PILOT_FIELDS),
                                          "series": list(SERIES_FIELDS)},
            "root_seed": int(root_seed), "replicates": int(replicates), "common_random_numbers": True,
            "seeding": SEEDING,
            "points": [{"name": name, "parameters": params.model_dump(mode="json")} for name, params in points.items()]}


def pending_chunks(runset: EnsembleRunSet, sizer: ChunkSizer) -> Iterator[EnsembleChunk]:
    """Chunks of every run not yet on disk, in run-id order, lazily."""
    replicates = runset.replicates
    params = {k: Params(**point["parameters"]) for k, point in enumerate(runset.study["points"])}
    chunk_id = runset.next_chunk_id()
    for ids in pending_batches(runset.n_runs, runset.done_run_ids(), sizer):
        runs = tuple((run_id, *divmod(run_id, replicates)) for run_id in ids)
        yield EnsembleChunk(chunk_id, runset.root_seed, {p: params[p] for p in {r[1] for r in runs}}, runs)
        chunk_id += 1


def execute_ensemble(runset: EnsembleRunSet, evaluator: Evaluator, *, model: ModelFn | None = None,
                     chunk_size: int | None = None, on_done: Callable[[int], None] | None = None) -> int:
    """Run every run of the run set not yet on disk; returns how many ran.  The caller holds ``runset.lock()``."""
    ran = 0
    with evaluator:
        sizer = ChunkSizer(workers=evaluator.workers, fixed=chunk_size,
                           target_chunk_seconds=getattr(evaluator, "target_chunk_seconds", 2.0))
        for result in evaluator.map_chunks(QuietTask(partial(run_ensemble_chunk, model)),
                                             pending_chunks(runset, sizer)):
            runset.write_chunk(result.chunk_id, *chunk_tables(result, runset.root_seed))
            sizer.observe(len(result.outcomes), result.seconds)
            sizer.workers = max(1, evaluator.workers)
            ran += len(result.outcomes)
            if on_done:
                on_done(len(result.outcomes))
    return ran


def evaluator_for(backend: BackendSpec | str | None, workers: int, runs: int,
                  say: Callable[[str], None] | None = None) -> Evaluator:
    """The evaluator of ``backend`` (default: serial for one worker, else local processes, never more than runs)."""
    from experiments.execution.evaluators import make_evaluator

    spec = BackendSpec.of(backend if backend is not None else ("serial" if workers == 1 else "processes"), workers)
    if spec.name == "processes" and spec.scheduler is None and spec.cluster_config is None:
        if min(spec.workers, runs) <= 1:
            spec = BackendSpec("serial", 1)
        else:
            spec = BackendSpec("processes", min(spec.workers, runs))
    return make_evaluator(spec, say=say)


def run_points(points: Mapping[str, Params], replicates: int, root_seed: int, folder: Path, *, kind: str = "run",
               manifest: Mapping[str, Any] | None = None, backend: BackendSpec | str | None = None, workers: int = 1,
               model: ModelFn | None = None, chunk_size: int | None = None,
               on_done: Callable[[int], None] | None = None, say: Callable[[str], None] | None = None
               ) -> EnsembleRunSet:
    """Create the ensemble run set at ``folder`` (must not exist) and run all of it."""
    study = ensemble_study(points, replicates, root_seed)
    evaluator = evaluator_for(backend, workers, len(points) * replicates, say)
    with evaluator:  # started first: a backend that cannot start leaves no folder behind
        runset = EnsembleRunSet.create(folder, kind, study, dict(manifest or {}))
        with runset.lock(say=say):
            execute_ensemble(runset, evaluator, model=model, chunk_size=chunk_size, on_done=on_done)
    return runset


def ensemble_tables(points: Mapping[str, Params], replicates: int, root_seed: int, **options: Any
                    ) -> dict[str, dict[str, pd.DataFrame]]:
    """Run the points in a temporary run set and return each point's ``lcsim run`` tables, keyed by name."""
    with tempfile.TemporaryDirectory(prefix="lcsim-ensemble-") as work:
        runset = run_points(points, replicates, root_seed, Path(work) / "ensemble", **options)
        return point_tables(runset)  # type: ignore[return-value]


def ensemble_outcomes(points: Mapping[str, Params], replicates: int, root_seed: int, **options: Any
                      ) -> dict[str, list[RunOutcome]]:
    """:func:`ensemble_tables` as each point's outcomes (replicate order), keyed by name."""
    return {name: tables_to_outcomes(frames)
            for name, frames in ensemble_tables(points, replicates, root_seed, **options).items()}


__all__ = ["EnsembleChunk", "EnsembleChunkResult", "SEEDING", "chunk_tables", "ensemble_outcomes",
           "ensemble_study", "ensemble_tables", "evaluator_for", "execute_ensemble", "pending_chunks", "point_tables",
           "run_ensemble_chunk", "run_points", "tables_to_outcomes"]
