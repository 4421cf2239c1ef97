"""The model's output distributions against a stored reference ensemble (issue 13).

Speed-ups reorder random draws, so a faster model is not bit-identical with the one before it; its
*distributions* must be the same.  ``tests/data/reference_ensemble.parquet`` holds the summary outputs
(``sim.SUMMARY_FIELDS``) of ``REFERENCE_REPLICATES`` replicates of six scenarios -- the baseline, the
three documented cases and two policy scenarios -- made by the model as it was when the file was
written.  The test runs ``TEST_REPLICATES`` fresh replicates of each (from a different seed root, so
the two samples are independent) and compares the means.

Regenerate (only together with a deliberate rule change, documented in docs/ODD.md, with a line in
the commit message saying why)::

    PYTHONPATH=$PWD .venv/bin/python tests/test_reference_ensemble.py --replicates 400

Scenario files are read with ``tomllib`` and turned into ``Params`` here, so that this check does not
depend on the experiments package.
"""

from __future__ import annotations

import argparse
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import SUMMARY_FIELDS, Params, run_model

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "reference_ensemble.parquet"
SCENARIOS = (
    "baseline", "cowcept", "smart_farming", "together_in_the_green",
    "all_accelerators", "monitoring_and_early_intervention",
)
REFERENCE_SEED = 20261201
REFERENCE_REPLICATES = 400
TEST_SEED = 13
TEST_REPLICATES = 100
#: Allowed |difference of means| in standard errors of the difference (see the test's docstring).
Z_LIMIT = 4.0


def scenario_params(name: str) -> Params:
    """The ``[parameters]`` table of ``configs/scenarios/<name>.toml`` as ``Params``."""
    with open(ROOT / "configs" / "scenarios" / f"{name}.toml", "rb") as handle:
        return Params(**tomllib.load(handle).get("parameters", {}))


def ensemble(name: str, seed: int, replicates: int) -> pd.DataFrame:
    """Summary outputs of ``replicates`` runs of a scenario, replicate i seeded by SeedSequence(seed).spawn(n)[i]."""
    params = scenario_params(name)
    rows = [run_model(params, child).summary for child in np.random.SeedSequence(seed).spawn(replicates)]
    frame = pd.DataFrame(rows, columns=list(SUMMARY_FIELDS))
    frame.insert(0, "scenario", name)
    return frame


def compare(reference: pd.DataFrame, fresh: pd.DataFrame) -> list[str]:
    """Outputs whose means differ by more than ``Z_LIMIT`` standard errors of the difference.

    Per output, NaN replicates (e.g. a share with no started pilot) are left out of both samples, and
    the share of NaN replicates is compared the same way (a proportion's standard error).
    """
    failures = []
    for field in SUMMARY_FIELDS:
        a, b = reference[field].to_numpy(float), fresh[field].to_numpy(float)
        checks = [("NaN share", np.isnan(a).astype(float), np.isnan(b).astype(float))]
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        if len(a) >= 2 and len(b) >= 2:
            checks.append(("mean", a, b))
        elif len(a) + len(b) > 0 and min(len(a), len(b)) == 0 and max(len(a), len(b)) >= 5:
            failures.append(f"{field}: defined in one ensemble only ({len(a)} vs {len(b)} replicates)")
        for what, x, y in checks:
            diff = float(np.mean(y) - np.mean(x))
            se = math.sqrt(np.var(x, ddof=1) / len(x) + np.var(y, ddof=1) / len(y))
            if se == 0.0:
                if abs(diff) > 1e-9:
                    failures.append(f"{field} {what}: constant in both, {np.mean(x):.6g} -> {np.mean(y):.6g}")
            elif abs(diff) > Z_LIMIT * se:
                failures.append(f"{field} {what}: {np.mean(x):.4g} -> {np.mean(y):.4g} ({diff / se:+.1f} SE)")
    return failures


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_parquet(REFERENCE)


def test_reference_file_holds_every_scenario_and_output(reference):
    assert sorted(reference["scenario"].unique()) == sorted(SCENARIOS)
    assert (reference.groupby("scenario").size() == REFERENCE_REPLICATES).all()
    assert list(reference.columns[1:]) == list(SUMMARY_FIELDS)


def test_comparison_flags_a_shifted_output(reference):
    """The comparison has teeth: a shift of half a standard deviation in one output is flagged."""
    ref = reference[reference["scenario"] == "baseline"]
    fresh = ref.sample(TEST_REPLICATES, random_state=0).copy()
    assert compare(ref, fresh) == []
    field = "llo_students"
    fresh[field] += 0.5 * ref[field].std()
    assert [line.split(" ")[0] for line in compare(ref, fresh)] == [field]


@pytest.mark.parametrize("name", SCENARIOS)
def test_model_means_match_the_reference_ensemble(reference, name):
    """Every summary output's mean (and NaN share) agrees with the reference within 4 SE of the difference.

    The reference (400 replicates) and the fresh ensemble (100, independent seeds) are two samples of
    the same distribution if the model is unchanged in law.  The difference of means then has standard
    error SE = sqrt(s_ref^2/400 + s_new^2/100) and, by the central limit theorem, |diff|/SE is close to a
    standard normal, exceeding 4 with probability 6.3e-5.  Six scenarios x 34 outputs x (mean, NaN
    share) are about 400 comparisons; by Bonferroni's inequality the chance that any one of them fails
    for an unchanged model is at most 400 x 6.3e-5 = 2.5% (less, since outputs are correlated).  With
    fixed seeds the verdict is deterministic.  Power: SE is about 0.11 standard deviations of an
    output, so a shift of about half a standard deviation in any output is caught.
    """
    fresh = ensemble(name, TEST_SEED, TEST_REPLICATES)
    failures = compare(reference[reference["scenario"] == name], fresh)
    assert failures == [], f"{name}: " + "; ".join(failures)


def main() -> None:
    parser = argparse.ArgumentParser(description="Regenerate tests/data/reference_ensemble.parquet")
    parser.add_argument("--replicates", type=int, default=REFERENCE_REPLICATES)
    args = parser.parse_args()
    frames = [ensemble(name, REFERENCE_SEED, args.replicates) for name in SCENARIOS]
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(frames, ignore_index=True).to_parquet(REFERENCE, index=False)
    print(f"wrote {REFERENCE} ({args.replicates} replicates x {len(SCENARIOS)} scenarios)")


if __name__ == "__main__":
    main()
