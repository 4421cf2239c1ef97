"""Pattern P8 over replicate ensembles: continuation by the school is (statistically) non-increasing in
management turnover and non-decreasing in embedding, clarity of financial agreements and agenda strength.

Design: three levels per factor (the ends and middle of its plausible range), the other parameters at
their defaults, 100 replicates per level with common random numbers (the same spawned seeds at every
level), so each comparison is a paired difference with standard error SE = sd(diff) / sqrt(n).

* "Never against the direction": every step between adjacent levels may go the wrong way by at most
  3 SE (a one-sided false alarm rate of about 0.1% per comparison for a model that is right).
* "The factor matters": from the lowest to the highest level the response moves the expected way by
  more than 2 SE; a model in which the factor had no effect fails this about 97.7% of the time.

The response is the mean of the shares continued by the school at years 3, 5 and 10.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import Params, run_model

REPLICATES = 100
SEEDS = np.random.SeedSequence(2026).spawn(REPLICATES)


def continuation(summary: dict[str, float]) -> float:
    values = [summary[f"continued_by_school_y{year}"] for year in (3, 5, 10)]
    return float("nan") if all(np.isnan(values)) else float(np.nanmean(values))


def responses(name: str, level: float) -> np.ndarray:
    params = Params(**{name: level})
    return np.array([continuation(run_model(params, seed).summary) for seed in SEEDS])


def paired(low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
    diff = high - low
    diff = diff[~np.isnan(diff)]
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(diff.size))


@pytest.mark.parametrize(
    ("name", "levels", "direction"),
    [
        ("management_turnover_rate", (0.1, 0.5, 1.5), -1),
        ("initial_embedding", (0.0, 0.4, 0.8), +1),
        ("clarity_of_financial_agreements", (0.0, 0.5, 1.0), +1),
        ("agenda_strength", (0.1, 0.5, 0.9), +1),
    ],
)
def test_continuation_responds_monotonically(name, levels, direction):
    ensembles = [responses(name, level) for level in levels]
    for low, high in zip(ensembles, ensembles[1:]):
        step, se = paired(low, high)
        assert direction * step > -3 * se, f"{name}: step {step:+.3f} against the expected direction (SE {se:.3f})"
    total, se = paired(ensembles[0], ensembles[-1])
    assert direction * total > 2 * se, f"{name}: total change {total:+.3f} not distinguishable (SE {se:.3f})"
