"""Wall time and parallel efficiency of every backend, and the cost Dask adds per run.

1. The baseline Morris design (configs/sensitivity/baseline_morris.toml: 27 success factors around the
   baseline scenario, ten-year runs), made smaller with ``--trajectories`` and ``--replicates``, executed
   on serial, processes (1, 2 workers) and a Dask LocalCluster (1, 2 workers).  Printed as the speed-up over
   serial and the parallel efficiency ``serial time / (workers x time)``.  Timed is the execution of every
   run of the design with the pool or cluster already started and warmed up (each worker has imported the
   model); starting it is printed separately.
2. Dask's overhead per run, with chunk_size = 1 (one task per run) and with the chunks the baseline model
   gets on dask (about 1 s of model time per task): a nearly free model (``cheap``) through the whole
   layer on a one-worker LocalCluster, minus the same chunks run serially, divided by the runs; shown as
   a share of one baseline run.
3. What shipping a task costs: the pickled size of the task function and of one chunk.

Targets (issue 5): efficiency >= 0.9 with 2 processes and >= 0.85 with 2 Dask workers; Dask's overhead
per run < 1% of a baseline run with chunking.

Every measurement runs in a fresh process, the modes interleaved and repeated (``--repeats``; the fastest
counts).  Timings depend on what else the machine is doing: on a shared 2-core machine, efficiencies
of 2 workers are only as good as the second core is free.

Run: ``.venv/bin/python benchmarks/bench_backends.py [--trajectories 4] [--replicates 2] [--repeats 1]``
(about 1-3 minutes with the defaults).  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: mode -> (backend, workers)
MODES = {
    "serial": ("serial", 1),
    "processes 1": ("processes", 1),
    "processes 2": ("processes", 2),
    "dask 1": ("dask", 1),
    "dask 2": ("dask", 2),
}


def morris_config(trajectories: int, replicates: int):
    """configs/sensitivity/baseline_morris.toml with fewer trajectories and replicates."""
    from experiments.config.study import study_from_dict

    document = tomllib.loads((REPO / "configs/sensitivity/baseline_morris.toml").read_text(encoding="utf-8"))
    document["scenario"] = str(REPO / document["scenario"])
    document["morris"]["trajectories"] = trajectories
    document["replicates"] = replicates
    return study_from_dict(document, "sensitivity", source="baseline_morris (benchmark)")


def cheap_config(runs: int):
    from experiments.config.study import study_from_dict

    return study_from_dict({"name": "cheap", "model": "cheap", "design": "lhs", "replicates": 10, "seed": 1,
                            "lhs": {"samples": runs // 10}, "analysis": {"bootstrap": 100}}, "sweep", source="cheap")


def warm_up(evaluator, config, spec) -> None:
    """One single-run chunk per worker (twice over), so every worker has started and imported the model."""
    from experiments.designs.samplers import point_params
    from experiments.execution.engine import first_stage
    from experiments.execution.chunks import Chunk, run_chunk

    frame, _ = first_stage(config)
    values = tuple(point_params(config.factors, frame[config.factor_names].iloc[0]).values())
    chunks = [Chunk(-1 - k, 12345, config.base, tuple(config.factor_names), ((0, 0, 0, (0, k), values),))
              for k in range(2 * evaluator.workers)]
    for _ in evaluator.map_chunks(partial(run_chunk, spec.function, tuple(spec.outputs)), chunks):
        pass


def timed_execution(config, backend: str, workers: int, chunk_size: int | None = None) -> dict:
    """Start the backend, warm it up, then time executing every run of ``config`` (no analysis)."""
    from experiments.execution.backends import BackendSpec
    from experiments.execution.evaluators import make_evaluator
    from experiments.execution.engine import create_runset, execute

    folder = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    try:
        started = time.perf_counter()
        evaluator = make_evaluator(BackendSpec(backend, workers))
        with evaluator:
            startup = time.perf_counter() - started
            runset, spec = create_runset(config, folder / "rs")
            warm_up(evaluator, config, spec)
            with runset.lock():
                began = time.perf_counter()
                stats = execute(runset, config, spec, evaluator, chunk_size=chunk_size)
                seconds = time.perf_counter() - began
        return {"seconds": seconds, "startup": startup, "runs": stats.done + stats.failed, "chunks": stats.chunks,
                "model_seconds": stats.model_seconds}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def child(args: argparse.Namespace) -> None:
    """Entry point of a fresh process: one measurement, printed as JSON."""
    mode = args.child
    if mode in MODES:
        result = timed_execution(morris_config(args.trajectories, args.replicates), *MODES[mode])
    elif mode in ("cheap serial", "cheap dask"):
        backend = "serial" if mode == "cheap serial" else "dask"
        result = timed_execution(cheap_config(args.cheap_runs), backend, 1, chunk_size=args.chunk)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps({"mode": mode, **result}))


def measure(mode: str, args: argparse.Namespace, runs: int | None = None, chunk: int | None = None) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--trajectories", str(args.trajectories), "--replicates",
               str(args.replicates), "--cheap-runs", str(runs or args.cheap_runs)]
    if chunk:
        command += ["--chunk", str(chunk)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"measurement {mode!r} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def dask_overhead(runs: int, chunk: int, args: argparse.Namespace) -> tuple[float, int]:
    """Seconds per run that a one-worker LocalCluster adds over serial, both with chunks of ``chunk`` runs of the
    nearly free model (the serial run pays the same per-chunk Parquet writes, so only Dask's share is left)."""
    serial = measure("cheap serial", args, runs, chunk)
    dask = measure("cheap dask", args, runs, chunk)
    return (dask["seconds"] - serial["seconds"]) / runs, dask["chunks"]


def shipping_sizes(config) -> tuple[int, int, int]:
    """Pickled bytes of the task function, of one chunk of 50 runs, and runs per such chunk."""
    from experiments.execution.engine import ChunkSizer, first_stage, pending_chunks
    from experiments.execution.chunks import run_chunk
    from experiments.models.registry import load_model

    import numpy as np

    spec = load_model(config.model)
    frame, _ = first_stage(config)
    sizer = ChunkSizer(workers=1, fixed=50)
    chunk = next(pending_chunks(config, frame[config.factor_names].to_numpy(dtype=float), np.empty(0, dtype=np.int64),
                                sizer, 0))
    function = partial(run_chunk, spec.function, tuple(spec.outputs))
    return len(pickle.dumps(function)), len(pickle.dumps(chunk)), len(chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=4, help="Morris trajectories (default 4; the file has 20)")
    parser.add_argument("--replicates", type=int, default=2, help="replicates per point (default 2; the file has 8)")
    parser.add_argument("--repeats", type=int, default=1, help="repeats of every measurement; the fastest counts")
    parser.add_argument("--cheap-runs", type=int, default=10_000, help="runs of the free model, chunked")
    parser.add_argument("--per-run-runs", type=int, default=1_000, help="runs of the free model, one per task")
    parser.add_argument("--chunk", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    config = morris_config(args.trajectories, args.replicates)
    points = args.trajectories * (len(config.factors) + 1)
    runs = points * args.replicates
    print(f"baseline Morris design: {args.trajectories} trajectories x {len(config.factors) + 1} points x "
          f"{args.replicates} replicates = {runs} ten-year runs; each mode in a fresh process, fastest of "
          f"{args.repeats}; the pool or cluster started and warmed up before timing")
    print(f"  load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other work skews every figure)")
    best: dict[str, dict] = {}
    for _ in range(args.repeats):  # interleaved, so slow phases of a shared machine hit every mode alike
        for mode in MODES:
            result = measure(mode, args)
            if mode not in best or result["seconds"] < best[mode]["seconds"]:
                best[mode] = result
    serial = best["serial"]["seconds"]
    per_run = serial / runs
    print(f"  {'mode':<13} {'wall s':>7} {'runs/s':>7} {'speed-up':>9} {'efficiency':>11} {'chunks':>7} "
          f"{'start-up s':>11}")
    for mode, (_, workers) in MODES.items():
        r = best[mode]
        print(f"  {mode:<13} {r['seconds']:7.2f} {runs / r['seconds']:7.1f} {serial / r['seconds']:9.3f} "
              f"{serial / (workers * r['seconds']):11.3f} {r['chunks']:7d} {r['startup']:11.2f}")
    print(f"  one baseline run: {1000 * per_run:.1f} ms (serial wall time / runs)")
    print(f"  efficiency with 2 processes: {serial / (2 * best['processes 2']['seconds']):.3f} (target >= 0.9); "
          f"with 2 Dask workers: {serial / (2 * best['dask 2']['seconds']):.3f} (target >= 0.85)")

    # with chunking: chunks as big as the baseline model gets on dask (DASK_CHUNK_SECONDS of model time each)
    from experiments.execution.dask import DASK_CHUNK_SECONDS

    baseline_chunk = max(1, round(DASK_CHUNK_SECONDS / per_run))
    single, single_tasks = dask_overhead(args.per_run_runs, 1, args)
    chunked, chunked_tasks = dask_overhead(args.cheap_runs, baseline_chunk, args)
    print("Dask's overhead per run (nearly free model on a one-worker LocalCluster, minus the same chunks serially):")
    print(f"  chunk_size = 1 ({single_tasks} tasks):  {1e3 * single:8.3f} ms/run = {single / per_run:8.2%} of a "
          "baseline run")
    print(f"  chunk_size = {baseline_chunk} ({chunked_tasks} tasks; what {DASK_CHUNK_SECONDS:g} s of baseline runs makes): "
          f"{1e3 * chunked:8.3f} ms/run = {chunked / per_run:8.2%} of a baseline run   (target < 1%)")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")
    function_bytes, chunk_bytes, chunk_runs = shipping_sizes(config)
    print(f"shipping a task: the task function pickles to {function_bytes} bytes (by reference: run_chunk and the "
          f"model function), a chunk of {chunk_runs} baseline runs to {chunk_bytes} bytes")


if __name__ == "__main__":
    main()
