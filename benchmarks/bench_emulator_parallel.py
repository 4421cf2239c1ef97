"""An emulator study's analysis with its outputs fitted one after the other or in parallel processes (one
output per process, as many as there are cores), in one process: wall seconds of both and the largest
difference between their indices.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_emulator_parallel.py RUNSET [--outputs A B ...]`` on a
finished emulator run set, e.g. ``lcsim sensitivity configs/sensitivity/all_factors.toml --set
emulator.points=576 --set replicates=32 --set emulator.refits=10 --backend processes --workers 2 --out
results/af_r32``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from experiments.analysis import emulator_study
from experiments.analysis.emulator_study import analysed_sizes, emulate_mean, fit_outputs, stage_ends
from experiments.analysis.studies import replicate_values
from experiments.execution.engine import open_runset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runset", type=Path)
    parser.add_argument("--outputs", nargs="+")
    args = parser.parse_args()
    runset, config, _, _ = open_runset(args.runset)
    names = config.factor_names
    design = runset.design()
    outputs = args.outputs or list(config.outputs)
    u = design[[f"u.{n}" for n in names]].to_numpy(float)
    values = replicate_values(runset.read_runs(columns=outputs), outputs, len(design), config)
    ends = stage_ends(runset.stages)

    sizes = analysed_sizes(len(u), ends)

    def indices() -> dict[tuple[str, int], np.ndarray]:
        return {(name, n): emulate_mean(u[:n], values[name][:n], name, names, config)["frame"].to_numpy()
                for name in outputs for n in sizes}

    start = time.perf_counter()
    serial = indices()
    serial_seconds = time.perf_counter() - start

    emulator_study._MEMO.clear()
    start = time.perf_counter()
    fit_outputs(u, values, outputs, names, config, ends)
    parallel = indices()
    parallel_seconds = time.perf_counter() - start

    differences = [np.nanmax(np.abs(serial[key] - parallel[key])) for key in serial]
    print(f"{args.runset}: {len(u)} points, {len(outputs)} outputs, sizes {sizes}")
    print(f"one after the other: {serial_seconds:.1f} s; in parallel processes: {parallel_seconds:.1f} s "
          f"(ratio {parallel_seconds / serial_seconds:.2f}); largest difference of an index or half-width: "
          f"{max(differences):.1e}")


if __name__ == "__main__":
    main()
