"""Top-10 half-widths of the emulator's ST on a finished emulator run set, analysed with fewer replicates
than it has and with capped refits, in one process: how far more replicates per point and re-estimated
hyperparameters move an output's convergence.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_emulator_replicates.py RUNSET [--outputs A B]
[--replicates 8 16] [--iterations 10] [--refits 30]``, e.g. on the all-factors design with 16 replicates:
``lcsim sensitivity configs/sensitivity/all_factors.toml --set emulator.points=576 --set replicates=16
--backend processes --workers 2 --out results/af_r16``.  Prints per output and replicate count: the
noise-corrected 5-fold Q^2, the widest top-10 half-width, how many are >= 0.05, the seconds of the fit and
of the indices, and the six leading factors (docs/sensitivity.md, "Cheaper refits").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from experiments.analysis.emulator import cross_validated_q2, emulator_indices, fit_emulator, told_noise
from experiments.analysis.noise_corrected import point_moments
from experiments.analysis.studies import replicate_values
from experiments.execution.engine import open_runset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runset", type=Path)
    parser.add_argument("--outputs", nargs="+", default=["continued_by_school_y5", "structural_share",
                                                          "taken_over_share"])
    parser.add_argument("--replicates", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--refits", type=int, default=30)
    args = parser.parse_args()
    runset, config, _, _ = open_runset(args.runset)
    names = config.factor_names
    design = runset.design()
    u = design[[f"u.{n}" for n in names]].to_numpy(float)
    values = replicate_values(runset.read_runs(columns=list(config.outputs)), list(config.outputs), len(design),
                              config)
    print(f"{args.runset}: {len(u)} points; refitted hyperparameters, at most {args.iterations} iterations, "
          f"{args.refits} refits\n")
    for name in args.outputs:
        for replicates in args.replicates:
            mean, var, count = point_moments(values[name][:, :replicates])
            ok = (count >= 2) & np.isfinite(mean)
            x, y = u[ok], mean[ok]
            noise = told_noise(var[ok], count[ok], "pooled")
            rng = np.random.default_rng(1)
            start = time.perf_counter()
            model = fit_emulator("gp", x, y, noise, rng, restarts=0)
            fitted = time.perf_counter()
            q2 = cross_validated_q2("gp", x, y, noise, rng, 5, measured_noise=var[ok] / count[ok],
                                    kernel=model.kernel)
            frame = emulator_indices(model, x, y, noise, names, rng, bootstrap=args.refits, n_mc=1024,
                                     hyperparameters="refitted", iterations=args.iterations)
            done = time.perf_counter()
            top = frame.sort_values("ST", ascending=False).head(10)
            print(f"{name}, R = {replicates}: Q2 {q2['q2_noise_corrected']:.3f}, widest top-10 half-width "
                  f"{top['ST_conf'].max():.3f}, {(top['ST_conf'] >= 0.05).sum()} >= 0.05; fit {fitted - start:.0f} s, "
                  f"indices {done - fitted:.0f} s")
            print("   " + ", ".join(f"{f} {r.ST:.3f} ± {r.ST_conf:.3f}" for f, r in top.head(6).iterrows()))


if __name__ == "__main__":
    main()
