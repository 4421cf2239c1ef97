"""A short Morris screen of the parameters model v2 added (issue 11), around the baseline.

Which of the new mechanisms matter for continuation?  Morris elementary effects (SALib) on the
share of started pilots continued with the school at year 5 and the faded share, each design point
the mean of R replicates; factors move over their plausible ranges.  Prints mu* and sigma per
factor, largest mu* first, for each output.

Run: ``PYTHONPATH=$PWD .venv/bin/python benchmarks/screen_new_mechanisms.py [--trajectories 10] [--replicates 4]``
"""

from __future__ import annotations

import argparse

import numpy as np
from numpy.random import SeedSequence
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

from sim import Params, run_model

FACTORS = [
    "troops_gap_tolerance", "management_rivalry", "left_out_loss", "growth_chance", "growth_quality",
    "reflection_rate", "turbulent_turnover_rate", "turbulence_onset_rate", "firm_provider_presence",
    "structural_exit_embedding", "structural_cost_share",
    "will_weight_quality", "will_weight_demand", "will_weight_margin", "will_weight_clarity",
]
OUTPUTS = ("continued_by_school_y5", "faded_share")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=10)
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    schema = Params.model_json_schema()["properties"]
    problem = {
        "num_vars": len(FACTORS),
        "names": FACTORS,
        "bounds": [schema[name]["plausible"] for name in FACTORS],
    }
    design = morris_sample.sample(problem, args.trajectories, num_levels=4, seed=args.seed)
    seeds = SeedSequence(args.seed).spawn(args.replicates)  # common random numbers across points
    results = {name: np.empty(len(design)) for name in OUTPUTS}
    for i, point in enumerate(design):
        params = Params(**dict(zip(FACTORS, map(float, point))))
        outcomes = [run_model(params, seed).summary for seed in seeds]
        for name in OUTPUTS:
            results[name][i] = np.nanmean([o[name] for o in outcomes])
    print(f"Morris screen: {len(FACTORS)} factors, {args.trajectories} trajectories, "
          f"{len(design)} points x {args.replicates} replicates, seed {args.seed}.")
    for name in OUTPUTS:
        si = morris_analyze.analyze(problem, design, results[name], num_levels=4, seed=args.seed)
        order = np.argsort(si["mu_star"])[::-1]
        print(f"\n| {name} | mu* | sigma |\n|---|---|---|")
        for k in order:
            print(f"| `{FACTORS[k]}` | {si['mu_star'][k]:.4f} | {si['sigma'][k]:.4f} |")


if __name__ == "__main__":
    main()
