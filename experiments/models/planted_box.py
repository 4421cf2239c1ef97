"""Synthetic models with known answers for scenario discovery and robustness analysis.

Both functions have the sweepable signature ``f(params: dict, seed: SeedSequence) -> dict[str, float]``
(as :mod:`experiments.testfunctions`) and draw their noise from ``numpy.random.default_rng(seed)`` only,
so replicates differ, the same seed gives the same output, and runs that share a seed across policies
share their noise (common random numbers).

* :func:`planted_box` -- an output that is high inside a *planted box* (two restricted factors,
  :data:`PLANTED_BOX`) and low outside, plus Gaussian noise; four more inputs have no effect at all.
  Scenario discovery on ``y`` above 0.5 must find exactly that box.  The box is 0.4 wide in each
  restricted factor (a mass of 0.16 of the unit cube): narrow enough that a box whose density is within
  80 % of the best one has limits within 0.1 of the planted ones.
* :func:`policy_future` -- three policies (:data:`POLICIES`) scored over futures ``(u1, u2)``; the
  most robust policy by the 10th percentile, satisficing (``y >= 1.5``) and regret is known
  (:data:`ROBUST_POLICY`, "steady"), while another ("gamble") has the best mean, median and 90th
  percentile: the case where robustness criteria and the expected value disagree (McPhail et al. 2018).

References
----------
Bryant, B. P. and Lempert, R. J. (2010). Thinking inside the box: a participatory, computer-assisted
approach to scenario discovery. Technological Forecasting and Social Change 77(1), 34-49.

McPhail, C., Maier, H. R., Kwakkel, J. H., Giuliani, M., Castelletti, A. and Westra, S. (2018).
Robustness metrics: how are they calculated, when should they be used and why do they give different
results? Earth's Future 6(2), 169-191.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.random import SeedSequence

from experiments.models.spec import FactorInfo, ModelSpec

#: The planted box: restricted factor -> (low, high).  Every other input is irrelevant.
PLANTED_BOX: dict[str, tuple[float, float]] = {"x1": (0.5, 0.9), "x2": (0.2, 0.6)}

#: Inputs of :func:`planted_box`, all uniform on [0, 1]; x3..x6 do not enter the output.
PLANTED_FACTORS = ("x1", "x2", "x3", "x4", "x5", "x6")

#: Policies of :func:`policy_future` by their lever value ``policy``.
POLICIES: dict[str, int] = {"steady": 0, "bold": 1, "gamble": 2}

#: The policy that is most robust by 10th percentile, satisficing (y >= 1.5) and 90th-percentile and
#: maximum regret; :data:`BEST_MEAN_POLICY` has the highest mean over futures.
ROBUST_POLICY = "steady"
BEST_MEAN_POLICY = "gamble"


def planted_box(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """``y = 1`` inside :data:`PLANTED_BOX`, ``0`` outside, plus ``noise_sd * z`` (z standard normal).

    Parameters
    ----------
    params : dict
        ``x1`` .. ``x6`` (dimensionless, in [0, 1]); ``noise_sd`` (default 0.3), the replicate noise.
    seed : numpy.random.SeedSequence
        The run's seed; the only source of randomness.

    Returns
    -------
    dict
        ``y`` (dimensionless) and ``inside`` (1.0 if the point is in the planted box, else 0.0).
    """
    inside = all(low <= params[name] <= high for name, (low, high) in PLANTED_BOX.items())
    noise = float(params.get("noise_sd", 0.3)) * float(np.random.default_rng(seed).standard_normal())
    return {"y": float(inside) + noise, "inside": float(inside)}


def policy_future_signal(policy: int, u1: float, u2: float) -> float:
    """The noise-free score of a policy in future ``(u1, u2)`` (higher is better, dimensionless).

    * steady (0): ``1.5 + 0.5 u1`` -- modest, never below 1.5;
    * bold (1): ``0.3 + 2.5 u1`` -- good only when u1 is high;
    * gamble (2): steady's score ``+ 0.8`` when ``u2 >= 0.3``, ``- 1.2`` when ``u2 < 0.3`` -- the best mean
      (1.95 against steady's 1.75) but a shortfall of at least 1.2 in 30 % of the futures.

    So steady has the highest 10th percentile, meets ``y >= 1.5`` in every future, and has the lowest regret
    (at most 0.8, against at least 1.2 for gamble in 30 % of the futures and 2.0 for bold at ``u1 = 0``).
    """
    if policy == 0:
        return 1.5 + 0.5 * u1
    if policy == 1:
        return 0.3 + 2.5 * u1
    if policy == 2:
        return 1.5 + 0.5 * u1 + (0.8 if u2 >= 0.3 else -1.2)
    raise ValueError(f"policy {policy!r} is not one of {sorted(POLICIES.values())}")


def policy_future(params: dict[str, Any], seed: SeedSequence) -> dict[str, float]:
    """A policy's score in one future plus noise ``noise_sd * (0.8 z_common + 0.6 z_policy)``.

    Both normal draws come from the run's seed: ``z_common`` is shared by all policies run with the same
    seed (common random numbers), ``z_policy`` is the policy's own (one of three draws).

    Parameters
    ----------
    params : dict
        ``policy`` (lever: 0 steady, 1 bold, 2 gamble), ``u1``, ``u2`` (uncertain, in [0, 1]),
        ``noise_sd`` (default 0.1).
    seed : numpy.random.SeedSequence
        The run's seed.
    """
    policy = int(round(params["policy"]))
    signal = policy_future_signal(policy, float(params["u1"]), float(params["u2"]))
    # four draws whatever the policy, so that runs with the same seed share z_common
    z = np.random.default_rng(seed).standard_normal(4)
    noise = float(params.get("noise_sd", 0.1)) * (0.8 * z[0] + 0.6 * z[1 + policy])
    return {"y": signal + noise}


def _lhs(names: tuple[str, ...], n: int, seed: SeedSequence) -> pd.DataFrame:
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(n)
    return pd.DataFrame(unit, columns=list(names))


def planted_box_tables(n_points: int = 1000, replicates: int = 4, seed: int = 1,
                       noise_sd: float = 0.3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run set's two tables for :func:`planted_box` over a Latin hypercube of x1..x6, without the engine.

    Returns ``design`` (point, x1..x6) and ``runs`` (run_id, point, replicate, x1..x6, y, inside); run
    ``point * replicates + r`` gets seed ``SeedSequence(seed).spawn(...)`` like the engine's runs.
    """
    root = SeedSequence(seed)
    design_seed, run_root = root.spawn(2)
    design = _lhs(PLANTED_FACTORS, n_points, design_seed)
    design.insert(0, "point", np.arange(n_points))
    seeds = run_root.spawn(n_points * replicates)
    rows = []
    for point, values in enumerate(design[list(PLANTED_FACTORS)].to_dict("records")):
        for r in range(replicates):
            out = planted_box({**values, "noise_sd": noise_sd}, seeds[point * replicates + r])
            rows.append({"run_id": point * replicates + r, "point": point, "replicate": r, **values, **out})
    return design, pd.DataFrame(rows)


def policy_future_tables(n_futures: int = 200, replicates: int = 3, seed: int = 2,
                         noise_sd: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every policy of :data:`POLICIES` over the same Latin hypercube of futures (u1, u2), with common random
    numbers: replicate r of future f has the same seed under every policy.

    Returns ``futures`` (future, u1, u2) and ``runs`` (policy, future, replicate, u1, u2, y).
    """
    root = SeedSequence(seed)
    design_seed, run_root = root.spawn(2)
    futures = _lhs(("u1", "u2"), n_futures, design_seed)
    futures.insert(0, "future", np.arange(n_futures))
    seeds = run_root.spawn(n_futures * replicates)
    rows = []
    for name, lever in POLICIES.items():
        for future, values in enumerate(futures[["u1", "u2"]].to_dict("records")):
            for r in range(replicates):
                seed_fr = SeedSequence(seeds[future * replicates + r].entropy,
                                       spawn_key=seeds[future * replicates + r].spawn_key)  # same seed per policy
                out = policy_future({**values, "policy": lever, "noise_sd": noise_sd}, seed_fr)
                rows.append({"policy": name, "future": future, "replicate": r, **values, **out})
    return futures, pd.DataFrame(rows)


PLANTED_BOX_SPEC = ModelSpec(
    name="planted_box",
    function=planted_box,
    outputs=("y", "inside"),
    inputs={**{name: FactorInfo(name, 0.5, 0.0, 1.0, 0.0, 1.0) for name in PLANTED_FACTORS},
            "noise_sd": FactorInfo("noise_sd", 0.3, 0.3, 0.3)},
    default_factors=PLANTED_FACTORS,
    default_outputs=("y",),
    description="1 inside the box x1 in [0.5, 0.9], x2 in [0.2, 0.6], 0 outside, + noise; x3..x6 irrelevant",
)

POLICY_FUTURE_SPEC = ModelSpec(
    name="policy_future",
    function=policy_future,
    outputs=("y",),
    inputs={"policy": FactorInfo("policy", 0, 0, 2, 0, 2, kind="int"),
            "u1": FactorInfo("u1", 0.5, 0.0, 1.0, 0.0, 1.0),
            "u2": FactorInfo("u2", 0.5, 0.0, 1.0, 0.0, 1.0),
            "noise_sd": FactorInfo("noise_sd", 0.1, 0.1, 0.1)},
    default_factors=("u1", "u2"),
    default_outputs=("y",),
    description="three policies over futures (u1, u2): steady is robust, gamble has the best mean",
)

__all__ = ["BEST_MEAN_POLICY", "PLANTED_BOX", "PLANTED_BOX_SPEC", "PLANTED_FACTORS", "POLICIES", "POLICY_FUTURE_SPEC",
           "ROBUST_POLICY", "planted_box", "planted_box_tables", "policy_future", "policy_future_signal",
           "policy_future_tables"]
