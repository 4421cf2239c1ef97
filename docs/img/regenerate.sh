#!/usr/bin/env bash
# Regenerates every picture in docs/img/ that the README shows, and prints the numbers the README quotes
# beside them, with the README's own commands at the README's sizes and seeds:
#
#   bash docs/img/regenerate.sh            # from the project root, after `make install`
#
# Steps 1-3 and 5-7 of the README's tour; step 4's ranking chart comes from its sensitivity study
# (docs/sensitivity.md, "The all-factors study") and step 9's viewer picture from `make test-browser`
# (results/browser/viewer.png).  Results go to results/ as usual (existing folders are replaced with
# --force, which replaces only folders this tool wrote).
set -euo pipefail
cd "$(dirname "$0")/../.."

LCSIM=${LCSIM:-.venv/bin/lcsim}
PAPERMILL=${PAPERMILL:-.venv/bin/papermill}
IMG=docs/img
mkdir -p results/notebooks
say() { printf '\n== %s\n' "$*" >&2; }

say "1. one scenario: lcsim run baseline (100 replicates, seed 7)"
"$LCSIM" run configs/scenarios/baseline.toml --replicates 100 --seed 7 --out results/baseline --force --no-progress
cp results/baseline/phases.png "$IMG/baseline_phases.png"

say "2. the documented cases: notebook 1 (200 replicates)"
"$PAPERMILL" notebooks/01_cases_and_scenarios.ipynb results/notebooks/01.ipynb -p reuse False >/dev/null
cp results/notebooks/01_cases_and_scenarios/figures/cases_fates.png "$IMG/cases_fates.png"

say "3. a policy comparison: lcsim compare (100 replicates, seed 7)"
"$LCSIM" compare configs/scenarios/baseline.toml configs/scenarios/all_accelerators.toml \
    configs/scenarios/stable_management.toml --out results/compare/readme --force --no-progress
cp results/compare/readme/continuation_curves.png "$IMG/compare_continuation.png"

say "5. how much is enough: notebook 3 (the two sweeps, 20 replicates a cell)"
"$PAPERMILL" notebooks/03_sweeps_and_thresholds.ipynb results/notebooks/03.ipynb -p reuse False >/dev/null
cp results/notebooks/03_sweeps_and_thresholds/figures/threshold_turnover_x_cofunding.png "$IMG/"

say "6. under which conditions a pilot lasts: lcsim sweep (LHS) + lcsim discover"
"$LCSIM" sweep configs/sweeps/success_factors_lhs.toml --force --no-progress
"$LCSIM" discover results/success_factors_lhs --output continued_by_school_y5 --above "${DISCOVER_ABOVE:-0.25}"
cp results/success_factors_lhs/discovery/continued_by_school_y5/box_limits.png "$IMG/discover_box_limits.png"

say "7. which accelerator package holds up: lcsim robust"
"$LCSIM" robust configs/robust/accelerators.toml --force
cp results/accelerators/robustness/regret_continued_by_school_y5.png "$IMG/robust_regret.png"
sed -n '1,40p' results/accelerators/robustness/report.md
