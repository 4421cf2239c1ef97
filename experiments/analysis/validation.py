"""Pattern-oriented validation: the documented cases and patterns P1-P8 over replicate ensembles.

Each check measures one figure over an ensemble, gives its 95% interval, and passes when the interval
lies on the side the pattern claims.  Tolerances are therefore the ensembles' own sampling error,
never picked by hand: a larger ensemble gives a sharper check.

Ensembles share replicate seeds (common random numbers): replicate i of every ensemble uses
``SeedSequence(root).spawn(R)[i]``, so paired differences between ensembles are sharp.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments.config.scenario import Scenario, load_scenario
from experiments.analysis.summary import mean_ci
from sim import Params, RunOutcome

#: First-run quality at or above which all partners rate the run positively (quality is what they rate).
GOOD_RUN = 0.6

#: P1: no director leaves (calm and turbulent regime rates 0, no turbulence at the start); nothing else changes.
CALM_MANAGEMENT = {"management_turnover_rate": 0.0, "turbulent_turnover_rate": 0.0, "turbulent_at_start": 0.0}
#: School-run continuation decisions (first_decision values).
BY_THE_SCHOOL = ("continued", "structural")

CASES = ("cowcept", "smart_farming", "together_in_the_green")
POLICIES = ("baseline", "monitoring_and_early_intervention")


@dataclass(frozen=True)
class Check:
    """One validation line: the measured figure, its 95% interval, and whether the pattern holds."""

    pattern: str
    title: str
    measure: str
    figure: float
    low: float
    high: float
    criterion: str
    passed: bool
    n: int
    #: the model mechanism whose failure would make this check fail (the audit column), and the mutant
    #: in tests/test_validation_mutants.py that switches it off
    mechanism: str = ""


# ------------------------------------------------------------------------------------- statistics
def proportion(successes: int, n: int) -> tuple[float, float, float]:
    """Share with its 95% Wilson interval (NaN when n = 0)."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return successes / n, float(ci.low), float(ci.high)


def proportion_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """p2 - p1 of two independent samples with a 95% Newcombe (Wilson score) interval."""
    p1, l1, u1 = proportion(k1, n1)
    p2, l2, u2 = proportion(k2, n2)
    d = p2 - p1
    return d, d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def paired(a: np.ndarray, b: np.ndarray):
    """Mean and 95% t-interval of b - a over replicates (common random numbers)."""
    return mean_ci(np.asarray(b, dtype=float) - np.asarray(a, dtype=float))


def continuation(outcome: RunOutcome) -> float:
    """Mean of the shares continued by the school at years 3, 5 and 10 (NaN if no pilot started)."""
    values = [outcome.summary[f"continued_by_school_y{year}"] for year in (3, 5, 10)]
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


# ------------------------------------------------------------------------------------- ensembles
def with_overrides(params: Params, **overrides) -> Params:
    return Params(**{**params.model_dump(), **overrides})


def ensemble_plan(scenarios_dir: Path) -> dict[str, Params]:
    """Every ensemble the checks need, by name."""
    loaded: dict[str, Scenario] = {name: load_scenario(scenarios_dir / f"{name}.toml") for name in CASES + POLICIES}
    plan = {name: scenario.params for name, scenario in loaded.items()}
    # P1, turnover alone: only the director turnover differs from the calibrated replay
    plan["cowcept_calm"] = with_overrides(plan["cowcept"], **CALM_MANAGEMENT)
    plan["smart_farming_calm"] = with_overrides(plan["smart_farming"], **CALM_MANAGEMENT)
    return plan


def run_ensembles(plan: dict[str, Params], replicates: int, root_seed: int, *, workers: int = 1,
                  on_done: Callable[[int], None] | None = None, backend: Any = None,
                  model: Callable | None = None) -> dict[str, list[RunOutcome]]:
    """Run every ensemble on the same replicate seeds, through one evaluator and the run-set store
    (:func:`experiments.execution.ensemble.ensemble_outcomes`; ``backend``: see there).
    ``model`` replaces :func:`sim.run_model` (the mutation tests pass a broken model)."""
    from experiments.execution.ensemble import ensemble_outcomes

    return ensemble_outcomes(plan, replicates, root_seed, workers=workers, on_done=on_done, backend=backend,
                             model=model)


def first_pilots(outcomes: list[RunOutcome]) -> pd.DataFrame:
    """The documented pilot of each case replicate (the model's first pilot), one row per replicate."""
    return pd.DataFrame([outcome.pilots[0] for outcome in outcomes])


# ------------------------------------------------------------------------------------- the checks
def _ran(outcomes: list[RunOutcome]) -> tuple[pd.DataFrame, int]:
    """The documented pilot of the replicates in which it ran (the document starts with the run), and
    how many replicates it never ran in (reported, not judged: the document does not tell that story)."""
    frame = first_pilots(outcomes)
    ran = frame[frame["runs"] > 0]
    return ran, len(frame) - len(ran)


def check_cases(ens: dict[str, list[RunOutcome]]) -> list[Check]:
    """C1-C3: each case replayed as documented, judged only on what the document reports."""
    cow, cow_never = _ran(ens["cowcept"])
    dropped = ~cow["first_decision"].isin(BY_THE_SCHOOL)
    share, low, high = proportion(int(dropped.sum()), len(cow))
    smart, smart_never = _ran(ens["smart_farming"])
    decisions = smart["first_decision"].replace("", "undecided").value_counts()
    k = int(decisions.get("continued_by_adult_arm", 0))
    s_share, s_low, s_high = proportion(k, len(smart))
    green = first_pilots(ens["together_in_the_green"])
    trained = (green["runs"] > 0) & ~green["initial_education_involved"].astype(bool)
    g_share, g_low, g_high = proportion(int(trained.sum()), len(green))
    return [
        Check("C1", "Cowcept: the run happens, the school does not continue it",
              f"of the replicates whose pilot ran (it never ran in {cow_never} of {len(ens['cowcept'])}; mean "
              f"first-run quality {cow['first_run_quality'].mean():.2f}), the share the school did not continue "
              "after the first run", share, low, high, "lower bound > 0.5", bool(low > 0.5), len(cow),
              "the school's continuation decision (its will for the pilot, Pilot.school_will) and the firms "
              "staying on; fails if the school continues a good run (mutant: the school always willing, firms stay)"),
        Check("C2", "Smart Farming: continued by the adult arm, without initial education",
              f"of the replicates whose pilot ran (never ran in {smart_never}), the share whose first decision is "
              "continuation by the group's adult arm; first decisions: "
              + ", ".join(f"{d} {v / max(len(smart), 1):.0%}" for d, v in decisions.items()),
              s_share, s_low, s_high, "the most frequent first decision",
              bool(len(decisions) and decisions.index[0] == "continued_by_adult_arm"), len(smart),
              "hand-over by engaged firms to another provider (Pilot.find_provider); fails if engaged firms "
              "cannot carry a pilot over (mutant: hand-over engagement threshold 1)"),
        Check("C3", "Samen in het groen: the trajectory starts and trains its first adults",
              "share of replicates in which the trajectory ran at least once without the school's initial "
              "education (the document reports the start only: 'De pilot is nog maar net gestart')",
              g_share, g_low, g_high, "lower bound > 0.5", bool(g_low > 0.5), len(green),
              "the funding plan paying an adult run from the municipal participation budget; fails if that "
              "money cannot pay (mutant: municipal budget 0)"),
    ]


def _good_first_runs(ens, names) -> tuple[int, int]:
    frame = pd.concat([first_pilots(ens[name]) for name in names])
    good = frame[frame["first_run_quality"] >= GOOD_RUN]
    return int(good["first_decision"].isin(BY_THE_SCHOOL).sum()), len(good)


def check_p1(ens) -> Check:
    """P1, turnover alone: without director turnover the school continues more good first runs."""
    k, n = _good_first_runs(ens, ["cowcept", "smart_farming"])
    k_calm, n_calm = _good_first_runs(ens, ["cowcept_calm", "smart_farming_calm"])
    diff, d_low, d_high = proportion_difference(k, n, k_calm, n_calm)
    return Check(
        "P1", "Turnover alone kills good pilots",
        f"Cowcept and Smart Farming: share of well-rated first runs (quality >= {GOOD_RUN}) the school continues "
        f"with no director turnover ({k_calm}/{n_calm}) minus as calibrated ({k}/{n}); nothing else differs",
        diff, d_low, d_high, "lower bound > 0", bool(d_low > 0), n + n_calm,
        "director turnover (interim decision vacuum, commitment lost at a change); fails if a director change "
        "leaves the decision unchanged",
    )


def check_p3(ens) -> Check:
    """P3: revival by student demand."""
    revived = first_pilots(ens["cowcept"])["revivals"] > 0
    share, low, high = proportion(int(revived.sum()), len(revived))
    return Check("P3", "Revival by demand",
                 "Cowcept: share of replicates in which the pilot is revived (contact sought again) after students "
                 "enrolled for its elective, within the horizon (by 2019)",
                 share, low, high, "lower bound > 0", bool(low > 0), len(revived),
                 "students drawn by the elective (elective_draw_share) prompting the school to seek contact "
                 "(Pilot.consider_revival); fails without that draw (mutant: elective_draw_share 0)")


def check_p6(ens) -> Check:
    """P6: monitoring plus an intervening facilitator lower the fade rate."""
    base = [o.summary["faded_share"] for o in ens["baseline"]]
    mon = [o.summary["faded_share"] for o in ens["monitoring_and_early_intervention"]]
    ci = paired(base, mon)
    return Check("P6", "Monitoring and early intervention lower fading",
                 "faded share with monitoring and early intervention minus baseline (paired by seed)",
                 ci.mean, ci.low, ci.high, "upper bound < 0", bool(ci.high < 0), ci.n,
                 "the cooperative's mediation (clarity, commitment and will gains); fails if mediation changes "
                 "nothing (mutant: the three mediation gains 0)")


def documented_triple(outcome: RunOutcome) -> tuple[bool, bool, bool]:
    """The three documented fates in one region run: (a) a pilot that ran, was not continued by the
    school and was sought again (revived); (b) a school pilot handed to the group's adult arm after its
    first run (the adult arm then runs it as adult training, so its record reads 'adult'); (c) another
    pilot, an adult trajectory led by the adult arm from the start, without initial education."""
    pilots = [p for p in outcome.pilots if p["runs"] > 0]
    a = any(p["first_decision"] not in (*BY_THE_SCHOOL, "") and p["revivals"] > 0 for p in pilots)
    b = any(p["first_decision"] == "continued_by_adult_arm" for p in pilots)
    c = any(p["target_group"] == "adult" and p["provider"] == "adult_arm" and not p["initial_education_involved"]
            and p["first_decision"] != "continued_by_adult_arm" for p in pilots)
    return a, b, c


def check_joint_fate(ens) -> Check:
    """J: how often the baseline region (as of 2015) produces the documented triple of fates."""
    triples = np.array([documented_triple(o) for o in ens["baseline"]], dtype=bool).reshape(-1, 3)
    k = int(triples.all(axis=1).sum())
    share, low, high = proportion(k, len(triples))
    parts = triples.mean(axis=0) if len(triples) else [np.nan] * 3
    return Check("J", "Joint fate: the region produces the documented history",
                 "baseline region: share of replicates with all three documented fates (revived after the school "
                 f"dropped it {parts[0]:.0%}; handed to the adult arm {parts[1]:.0%}; adult "
                 f"trajectory with the adult arm {parts[2]:.0%}) - the model's likelihood of its own history",
                 share, low, high, "lower bound > 0.01", bool(low > 0.01), len(triples),
                 "all of the above together: revival by demand, hand-over to the adult arm, adult runs by the "
                 "adult arm; fails without the adult arm (mutant: outside_provider_presence 0)")


def run_checks(ens: dict[str, list[RunOutcome]]) -> list[Check]:
    """All checks, in report order (the joint fate first: it is the headline)."""
    return [check_joint_fate(ens), *check_cases(ens), check_p1(ens), check_p3(ens), check_p6(ens)]


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    return pd.DataFrame([asdict(check) for check in checks])
