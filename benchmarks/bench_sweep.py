"""Throughput, overhead and memory of the experiments layer (``lcsim sweep`` / ``lcsim sensitivity``).

1. Runs per second of a baseline sweep (the learning-community model, a Latin hypercube over the
   success factors around the baseline scenario) through the layer -- serial, 1 process, 2 processes --
   against a plain loop over ``experiments.execution.replicates.run_one`` with the same parameters and seeds.
   Printed as ratios to the plain loop; parallel efficiency = rate(2 processes) / (2 x plain rate).
2. Per-run overhead of the layer (seeding, chunking, Parquet parts, bookkeeping): measured with a
   nearly free model so that it is not lost in the model's own timing noise, then expressed as a share
   of one baseline run -- the median of runs of the baseline scenario measured in the same command (not
   the mean run of the sweep, whose points are not the baseline).  The direct comparison of the layer
   with the plain loop on the real model is said to be within the timing noise only when it is within
   the spread of the repeats.
3. Peak memory (VmHWM, the peak resident set) of a whole sweep of 10,000 and 100,000 runs of a cheap
   model, each in a fresh process, after execution and after the analysis.

Targets (issue 4): parallel efficiency >= 0.9 on 2 processes; overhead < 1% of a baseline run; peak
memory at 100,000 runs within 1.2x of that at 10,000.

Every measurement runs in a fresh process (the model's memory leak, mesa/mesa#3179, and the garbage
collector's growing work would otherwise favour whichever mode runs first or last), interleaved and
repeated; the fastest repeat counts.

Run: ``.venv/bin/python benchmarks/bench_sweep.py [--runs 1000] [--repeats 2] [--skip-memory]``.  It is
not part of the test suite (about 10 minutes).  Timings depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.random import SeedSequence

from experiments.designs import samplers as designs
from experiments.execution.engine import first_stage
from experiments.execution.study import run_study
from experiments.config.study import study_from_dict

REPO = Path(__file__).resolve().parents[1]


def baseline_config(runs: int, replicates: int = 2) -> object:
    return study_from_dict({
        "name": "bench", "model": "lcsim", "design": "lhs", "replicates": replicates, "seed": 1,
        "scenario": str(REPO / "configs/scenarios/baseline.toml"),
        "factors": ["management_turnover_rate", "school_cofunding_willingness", "initial_embedding",
                    "external_stress", "agenda_strength", "rival_school_presence"],
        "lhs": {"samples": runs // replicates}, "analysis": {"bootstrap": 100},
    }, "sweep", source="bench")


def cheap_config(runs: int, replicates: int = 10) -> object:
    return study_from_dict({"name": "cheap", "model": "cheap", "design": "lhs", "replicates": replicates, "seed": 1,
                            "lhs": {"samples": runs // replicates}, "analysis": {"bootstrap": 100}},
                           "sweep", source="bench")


def plain_loop(config: object) -> float:
    """Seconds for the same runs as the layer makes, in a plain loop over the model function."""
    from experiments.models.registry import load_model

    function = load_model(config.model).function
    frame, _ = first_stage(config)
    values = frame[config.factor_names].to_numpy(dtype=float)
    started = time.perf_counter()
    for point, row in enumerate(values):
        params = {**config.base, **designs.point_params(config.factors, row)}
        for replicate in range(config.replicates):
            function(params, SeedSequence(config.seed, spawn_key=(point, replicate)))
    return time.perf_counter() - started


def layer(config: object, backend: str, workers: int) -> float:
    """Seconds for creating the run set and executing every run through the layer (no analysis)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        started = time.perf_counter()
        run_study(config, folder / "rs", backend=backend, workers=workers, analyse=False)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def baseline_run_seconds(runs: int) -> float:
    """Median seconds of one run of the baseline scenario (seeds 0..runs-1), after one warm-up run."""
    from experiments.models.registry import load_model

    config = baseline_config(4)  # only its model and base parameters (the baseline scenario) are used
    function = load_model(config.model).function
    function(config.base, SeedSequence(10_000))
    times = []
    for seed in range(runs):
        started = time.perf_counter()
        function(config.base, SeedSequence(seed))
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def throughput_child(mode: str, runs: int) -> None:
    """Entry point of a fresh process: one timed measurement; prints JSON."""
    if mode == "baseline-run":
        seconds = baseline_run_seconds(runs)
    elif mode == "cheap-plain":
        seconds = plain_loop(cheap_config(runs))
    elif mode == "cheap-layer":
        seconds = layer(cheap_config(runs), "serial", 1)
    else:
        config = baseline_config(runs)
        seconds = plain_loop(config) if mode == "plain" else layer(config, *MODES[mode])
    print(json.dumps({"mode": mode, "runs": runs, "seconds": seconds}))


MODES = {"serial": ("serial", 1), "1 process": ("processes", 1), "2 processes": ("processes", 2)}


def noise_verdict(difference: float, measured: dict[str, list[float]]) -> str:
    """Whether a relative difference of the fastest serial and plain times is within the timing noise,
    taken as the larger relative spread (max / min - 1) of the repeats of either mode."""
    if min(len(measured["plain"]), len(measured["serial"])) < 2:
        return "timing noise not measured (one repeat; use --repeats 2 or more)"
    spread = max(max(times) / min(times) - 1.0 for times in (measured["plain"], measured["serial"]))
    if abs(difference) <= spread:
        return f"within the machine's timing noise (spread of the repeats {spread:.2%})"
    return f"larger than the machine's timing noise (spread of the repeats {spread:.2%})"


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(runs: int) -> None:
    """Entry point of a fresh process: one cheap sweep of ``runs`` runs; prints peak RSS as JSON."""
    from experiments.analysis.studies import analyse_runset, write_analysis

    config = cheap_config(runs)
    folder = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    try:
        started = time.perf_counter()
        result = run_study(config, folder / "rs", backend="serial", analyse=False)
        executed = time.perf_counter() - started
        after_runs = peak_rss_mib()
        analysis = analyse_runset(result.runset, config, with_convergence=False)
        write_analysis(result.runset, analysis)
        after_analysis = peak_rss_mib()
        parts = len(result.runset.part_files())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"runs": runs, "seconds": executed, "parts": parts, "peak_mib_after_runs": after_runs,
                      "peak_mib_after_analysis": after_analysis}))


def child(*args: object) -> dict:
    done = subprocess.run([sys.executable, __file__, *map(str, args)], capture_output=True, text=True, check=True,
                          cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="baseline runs per measurement (default 1000)")
    parser.add_argument("--repeats", type=int, default=2, help="repeats of every measurement; the fastest counts")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--throughput-child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child)
        return
    if args.throughput_child is not None:
        throughput_child(args.throughput_child[0], int(args.throughput_child[1]))
        return

    if not args.skip_throughput:
        n = args.runs
        print(f"baseline sweep: {n} runs of the learning-community model (LHS over 6 success factors, 2 replicates);"
              f" each measurement in a fresh process, fastest of {args.repeats}")
        best: dict[str, float] = {}
        measured: dict[str, list[float]] = {}
        for _ in range(args.repeats):  # interleaved, so slow phases of the machine hit every mode alike
            for mode in ("plain", *MODES):
                seconds = child("--throughput-child", mode, n)["seconds"]
                best[mode] = min(best.get(mode, float("inf")), seconds)
                measured.setdefault(mode, []).append(seconds)
        plain = best["plain"]
        print(f"  plain loop over run_one      {plain:7.1f} s   {n / plain:6.1f} runs/s   "
              f"({1000 * plain / n:.1f} ms/run)")
        for mode in MODES:
            seconds = best[mode]
            print(f"  layer, {mode:<21} {seconds:7.1f} s   {n / seconds:6.1f} runs/s   ratio to plain "
                  f"{plain / seconds:.3f}")
        print(f"  parallel efficiency on 2 processes: {plain / (2 * best['2 processes']):.3f}   (target >= 0.9)")

        cheap_runs = 20_000
        baseline_runs = 50
        cheap_plain = cheap_layer = baseline_run = float("inf")
        for _ in range(args.repeats):  # interleaved with the baseline run it is compared with
            cheap_plain = min(cheap_plain, child("--throughput-child", "cheap-plain", cheap_runs)["seconds"])
            cheap_layer = min(cheap_layer, child("--throughput-child", "cheap-layer", cheap_runs)["seconds"])
            baseline_run = min(baseline_run, child("--throughput-child", "baseline-run", baseline_runs)["seconds"])
        overhead = (cheap_layer - cheap_plain) / cheap_runs
        print(f"one baseline run (baseline scenario, median of {baseline_runs}, fastest of {args.repeats} processes): "
              f"{1e3 * baseline_run:.1f} ms")
        print(f"per-run overhead of the layer (cheap model, {cheap_runs} runs, serial, incl. creating the run set): "
              f"{1e6 * overhead:.1f} us/run = {overhead / baseline_run:.3%} of that baseline run   (target < 1%)")
        difference = (best["serial"] - plain) / plain
        print(f"  (baseline model directly: layer serial vs plain = {difference:+.2%}, {noise_verdict(difference, measured)})")

    if not args.skip_memory:
        results = [child("--memory-child", runs) for runs in (10_000, 100_000)]
        for r in results:
            print(f"memory, {r['runs']:>7} cheap runs ({r['parts']} parts, {r['seconds']:.1f} s): peak RSS "
                  f"{r['peak_mib_after_runs']:.1f} MiB after the runs, {r['peak_mib_after_analysis']:.1f} MiB "
                  "after the analysis")
        small, large = results
        print(f"  ratio 100k / 10k: runs {large['peak_mib_after_runs'] / small['peak_mib_after_runs']:.3f}, "
              f"with analysis {large['peak_mib_after_analysis'] / small['peak_mib_after_analysis']:.3f}"
              "   (target <= 1.2)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
