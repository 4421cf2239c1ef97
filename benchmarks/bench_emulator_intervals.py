"""How many exact ST of the noisy G-function the emulator's 95% intervals contain, with the hyperparameters
kept from the full fit (``fixed``), re-estimated in every bootstrap refit until the search converges
(``refitted``), or re-estimated with at most K L-BFGS iterations from the full fit's optimum
(``refitted-K``), in one process.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_emulator_intervals.py [--seeds 1 2 3 4] [--refits 20]
[--iterations 10]``.  Prints per seed and setting the number of the 8 exact ST inside their intervals, the
mean half-width and the wall time of the refits, then the totals and each setting's time relative to
``fixed`` (the figures quoted in docs/sensitivity.md).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numpy.random import SeedSequence
from scipy.stats import qmc

from experiments.analysis.emulator import emulator_indices, fit_emulator, told_noise
from experiments.models.stochastic_testfunctions import noisy_g

NAMES = [f"x{i + 1}" for i in range(8)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--points", type=int, default=128)
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--refits", type=int, default=20)
    parser.add_argument("--iterations", type=int, nargs="+", default=[10])
    args = parser.parse_args()
    case = noisy_g(0.5)
    print(f"noisy G (sd 0.5), {args.points} Sobol' points x R = {args.replicates}, {args.refits} refits\n")
    print("| seed | hyperparameters | exact ST inside (of 8) | mean half-width | refit seconds |")
    print("|---:|---|---:|---:|---:|")
    settings = [("fixed", 0), ("refitted", 0)] + [("refitted", k) for k in args.iterations]
    label = {s: s[0] if not s[1] else f"refitted-{s[1]}" for s in settings}
    seconds = {s: 0.0 for s in settings}
    covered = {s: 0 for s in settings}
    for seed in args.seeds:
        rng = np.random.default_rng(SeedSequence([seed, args.points, args.replicates]))
        u = qmc.Sobol(8, seed=rng).random(args.points)
        y = case.sample(u, args.replicates, rng)
        mean = y.mean(axis=1)
        noise = told_noise(y.var(axis=1, ddof=1), np.full(args.points, args.replicates))
        model = fit_emulator("gp", u, mean, noise, rng, restarts=0)
        for setting in settings:
            start = time.perf_counter()
            frame = emulator_indices(model, u, mean, noise, NAMES, np.random.default_rng(seed),
                                     bootstrap=args.refits, n_mc=1024, hyperparameters=setting[0],
                                     iterations=setting[1])
            took = time.perf_counter() - start
            seconds[setting] += took
            inside = int((np.abs(frame["ST"].to_numpy() - case.ST) <= frame["ST_conf"].to_numpy()).sum())
            covered[setting] += inside
            print(f"| {seed} | {label[setting]} | {inside} | {frame['ST_conf'].mean():.3f} | {took:.1f} |")
    print()
    for setting in settings:
        print(f"{label[setting]}: {covered[setting]} of {8 * len(args.seeds)} inside, "
              f"time / fixed {seconds[setting] / seconds[settings[0]]:.1f}")


if __name__ == "__main__":
    main()
