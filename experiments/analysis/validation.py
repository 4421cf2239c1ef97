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
from experiments.execution.replicates import run_jobs
from experiments.designs.seeds import replicate_seeds
from experiments.analysis.summary import mean_ci
from sim import Params, RunOutcome

#: Phases in which a trajectory is still going with its provider at the horizon.
RUNNING_FATES = {"proposed", "running", "evaluating", "continued", "structural", "revived"}
#: First-run quality at or above which all partners rate the run positively (quality is what they rate).
GOOD_RUN = 0.6
#: Months after a subsidy's end counted as 'just after' for the fade hazard (P5).
AFTER_SUBSIDY_WINDOW = 6

#: P8: factor, three levels over its plausible range, expected direction of continuation.
MONOTONE_FACTORS: list[tuple[str, tuple[float, float, float], int]] = [
    ("management_turnover_rate", (0.1, 0.5, 1.5), -1),
    ("initial_embedding", (0.0, 0.4, 0.8), +1),
    ("clarity_of_financial_agreements", (0.0, 0.5, 1.0), +1),
    ("agenda_strength", (0.1, 0.5, 0.9), +1),
]

CASES = ("cowcept", "smart_farming", "together_in_the_green")
POLICIES = ("baseline", "monitoring_and_early_intervention", "embed_in_curriculum")


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
    stable = {"management_turnover_rate": 0.1, "interim_length_months": 1.0, "initial_embedding": 0.6,
              "internal_communication": 0.7}
    plan["cowcept_stable"] = with_overrides(plan["cowcept"], **stable)
    plan["smart_farming_stable"] = with_overrides(plan["smart_farming"], **stable)
    plan["cowcept_no_elective_draw"] = with_overrides(plan["cowcept"], elective_draw_share=0.0)
    plan["together_no_municipal_money"] = with_overrides(
        plan["together_in_the_green"], municipal_participation_budget_eur=0.0
    )
    for name, levels, _ in MONOTONE_FACTORS:
        for level in levels:
            plan[f"{name}={level:g}"] = with_overrides(plan["baseline"], **{name: level})
    return plan


def run_ensembles(plan: dict[str, Params], replicates: int, root_seed: int, *, workers: int = 1,
                  on_done: Callable[[int], None] | None = None, backend: Any = None) -> dict[str, list[RunOutcome]]:
    """Run every ensemble on the same replicate seeds, through one evaluator (``backend``: see run_jobs)."""
    seeds = replicate_seeds(root_seed, replicates)
    names = list(plan)
    outcomes = run_jobs([(plan[name], seed) for name in names for seed in seeds], workers=workers, on_done=on_done,
                        backend=backend)
    return {name: outcomes[k * replicates : (k + 1) * replicates] for k, name in enumerate(names)}


def first_pilots(outcomes: list[RunOutcome]) -> pd.DataFrame:
    """The documented pilot of each case replicate (the model's first pilot), one row per replicate."""
    return pd.DataFrame([outcome.pilots[0] for outcome in outcomes])


# ------------------------------------------------------------------------------------- the checks
def check_cases(ens: dict[str, list[RunOutcome]]) -> list[Check]:
    """C1-C3: each case's documented outcome is the most frequent one over replicates."""
    checks = []
    cow = first_pilots(ens["cowcept"])
    classes = np.where(cow["runs"] == 0, "never ran",
                       np.where(cow["first_decision"].isin(["continued", "structural"]), "continued by the school",
                                np.where(cow["first_decision"] == "", "undecided", "ran, not continued by the school")))
    counts = pd.Series(classes).value_counts()
    k = int(counts.get("ran, not continued by the school", 0))
    share, low, high = proportion(k, len(cow))
    good = cow.loc[cow["runs"] > 0, "first_run_quality"].mean()
    checks.append(Check(
        "C1", "Cowcept: the run succeeds, the school does not continue it",
        f"share of replicates whose pilot ran (mean first-run quality {good:.2f}) and was not continued by "
        "the school after it; outcome classes: " + ", ".join(f"{c} {v / len(cow):.0%}" for c, v in counts.items()),
        share, low, high, "the most frequent outcome, with mean first-run quality >= 0.6",
        counts.index[0] == "ran, not continued by the school" and good >= GOOD_RUN, len(cow),
    ))
    smart = first_pilots(ens["smart_farming"])
    fates = smart["fate"].value_counts()
    k = int(fates.get("taken_over", 0))
    share, low, high = proportion(k, len(smart))
    checks.append(Check(
        "C2", "Smart Farming: the school drops it, others continue it",
        "share of replicates whose pilot is taken over by another provider at the horizon; fates: "
        + ", ".join(f"{f} {v / len(smart):.0%}" for f, v in fates.items()),
        share, low, high, "taken over is the most frequent fate", fates.index[0] == "taken_over", len(smart),
    ))
    green = first_pilots(ens["together_in_the_green"])
    going = green["fate"].isin(RUNNING_FATES)
    share, low, high = proportion(int(going.sum()), len(green))
    checks.append(Check(
        "C3", "Together in the green: still running at the horizon",
        "share of replicates whose trajectory is still going with its provider at the horizon",
        share, low, high, "lower bound > 0.5 (most replicates)", low > 0.5, len(green),
    ))
    return checks


def check_p1(ens) -> Check:
    """P1: a good first run under turnover and low embedding is usually not continued by the school."""
    def counts(names):
        frame = pd.concat([first_pilots(ens[name]) for name in names])
        good = frame[frame["first_run_quality"] >= GOOD_RUN]
        return int(good["first_decision"].isin(["continued", "structural"]).sum()), len(good)

    k, n = counts(["cowcept", "smart_farming"])
    k_stable, n_stable = counts(["cowcept_stable", "smart_farming_stable"])
    share, low, high = proportion(k, n)
    diff, d_low, _ = proportion_difference(k, n, k_stable, n_stable)
    return Check(
        "P1", "Turnover kills good pilots",
        f"share of well-rated first runs (quality >= {GOOD_RUN}) continued by the school in the Cowcept and Smart "
        f"Farming scenarios; with stable management and embedding the share rises by {diff:+.2f} "
        f"(95% interval from {d_low:+.2f})",
        share, low, high, "upper bound < 0.5, and the rise with stability has lower bound > 0",
        high < 0.5 and d_low > 0, n,
    )


def check_p2(ens) -> Check:
    """P2: where Smart Farming continues, it continues without the school."""
    frame = first_pilots(ens["smart_farming"])
    continued = frame[frame["first_decision"].isin(["continued", "structural", "taken_over"])]
    k = int((continued["first_decision"] == "taken_over").sum())
    share, low, high = proportion(k, len(continued))
    return Check(
        "P2", "Continuation moves elsewhere",
        "Smart Farming: share of continuations after the first run that are by another provider",
        share, low, high, "lower bound > 0.5", low > 0.5, len(continued),
    )


def check_p3(ens) -> list[Check]:
    """P3: revival by student demand happens, and only through students drawn by the elective."""
    revived = first_pilots(ens["cowcept"])["revivals"] > 0
    share, low, high = proportion(int(revived.sum()), len(revived))
    without = first_pilots(ens["cowcept_no_elective_draw"])["revivals"] > 0
    share0, low0, high0 = proportion(int(without.sum()), len(without))
    return [
        Check("P3", "Revival by demand",
              "Cowcept: share of replicates in which the faded pilot is revived by students enrolling for its elective",
              share, low, high, "lower bound > 0", low > 0, len(revived)),
        Check("P3b", "No demand, no revival",
              "Cowcept with no students drawn by electives: share of replicates with a revival",
              share0, low0, high0, "exactly 0", int(without.sum()) == 0, len(without)),
    ]


def check_p4(ens) -> list[Check]:
    """P4: municipal money plus a committed, hiring firm keep the trajectory going; initial education stays out."""
    def going(name):
        frame = first_pilots(ens[name])
        return int(frame["fate"].isin(RUNNING_FATES).sum()), len(frame)

    k, n = going("together_in_the_green")
    k0, n0 = going("together_no_municipal_money")
    diff, d_low, d_high = proportion_difference(k0, n0, k, n)
    green = first_pilots(ens["together_in_the_green"])
    involved = int(green["initial_education_involved"].sum())
    share, low, high = proportion(involved, len(green))
    return [
        Check("P4", "Public money plus a committed firm keep a trajectory going",
              "Together in the green: share still going at the horizon, with the municipal budget minus without it",
              diff, d_low, d_high, "lower bound > 0", d_low > 0, n),
        Check("P4b", "The school's initial education stays out",
              "Together in the green: share of replicates in which initial education took part in a run",
              share, low, high, "upper bound < 0.5", high < 0.5, len(green)),
    ]


def fade_hazards(outcomes: list[RunOutcome], horizon: int) -> np.ndarray:
    """Per replicate: fades and pilot-months at risk of started pilots while subsidised runs go on, in
    the first months after the last run the subsidy could pay, and later -> array (replicates x 3
    windows x [fades, months]).  Funding 'stops' for a pilot when its subsidised runs are over: that
    is when the next run needs other money (``funding_end_month``)."""
    result = np.zeros((len(outcomes), 3, 2))
    for i, outcome in enumerate(outcomes):
        for p in outcome.pilots:
            start, end, fade = p["first_run_month"], p["funding_end_month"], p["fade_month"]
            if start < 0 or end < 0:
                continue
            stop = fade + 1 if fade >= 0 else horizon  # months at risk include the month of fading
            bounds = [(start, end), (end, end + AFTER_SUBSIDY_WINDOW), (end + AFTER_SUBSIDY_WINDOW, horizon)]
            for w, (a, b) in enumerate(bounds):
                a = max(a, start)
                months = max(0, min(b, stop) - a)
                result[i, w, 1] += months
                if fade >= 0 and a <= fade < b:
                    result[i, w, 0] += 1
    return result


def _bootstrap_ratio(counts: np.ndarray, top: int, bottom: int, seed: int = 0) -> tuple[float, float, float]:
    """Hazard ratio window ``top`` / window ``bottom`` with a 95% percentile bootstrap over replicates."""
    def ratio(sample):
        fades, months = sample[:, :, 0].sum(axis=0), sample[:, :, 1].sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard = fades / months
            return hazard[top] / hazard[bottom]

    rng = np.random.default_rng(seed)
    draws = np.array([ratio(counts[rng.integers(len(counts), size=len(counts))]) for _ in range(2000)])
    # inverted_cdf never interpolates, so a resample with no fades in the reference window (ratio = inf)
    # gives an infinite bound instead of NaN.
    low, high = np.nanquantile(draws, [0.025, 0.975], method="inverted_cdf")
    return float(ratio(counts)), float(low), float(high)


def check_p5(ens) -> list[Check]:
    """P5: the hazard of fading peaks in the months after the subsidy ends."""
    outcomes = ens["baseline"]
    counts = fade_hazards(outcomes, len(outcomes[0].series["intake"]))
    during, d_low, d_high = _bootstrap_ratio(counts, 1, 0)
    later, l_low, l_high = _bootstrap_ratio(counts, 1, 2)
    n = len(outcomes)
    return [
        Check("P5", "Fades cluster after subsidy end",
              f"baseline: monthly fade hazard of started, subsidised pilots in the {AFTER_SUBSIDY_WINDOW} months after "
              "their last subsidised run divided by the hazard while subsidised runs go on",
              during, d_low, d_high, "lower bound > 1", d_low > 1, n),
        Check("P5b", "... and falls again later",
              f"baseline: the same hazard divided by the hazard more than {AFTER_SUBSIDY_WINDOW} months after the end",
              later, l_low, l_high, "lower bound > 1", l_low > 1, n),
    ]


def check_p6(ens) -> Check:
    """P6: monitoring plus an intervening facilitator lower the fade rate."""
    base = [o.summary["faded_share"] for o in ens["baseline"]]
    mon = [o.summary["faded_share"] for o in ens["monitoring_and_early_intervention"]]
    ci = paired(base, mon)
    return Check("P6", "Monitoring and early intervention lower fading",
                 "faded share with monitoring and early intervention minus baseline (paired by seed)",
                 ci.mean, ci.low, ci.high, "upper bound < 0", ci.high < 0, ci.n)


def check_p7(ens) -> list[Check]:
    """P7: knowledge held by external experts leaves unless embedded in the curriculum."""
    base = np.array([o.summary["knowledge_retained_share"] for o in ens["baseline"]])
    embedded = np.array([o.summary["knowledge_retained_share"] for o in ens["embed_in_curriculum"]])
    level = mean_ci(base)
    rise = paired(base, embedded)
    return [
        Check("P7", "Knowledge leaves with the experts",
              "baseline: share of pilot knowledge held in the curriculum (the rest leaves with the experts)",
              level.mean, level.low, level.high, "upper bound < 0.5", level.high < 0.5, level.n),
        Check("P7b", "... unless embedded in the curriculum",
              "knowledge share in the curriculum with the approach embedded minus baseline (paired by seed)",
              rise.mean, rise.low, rise.high, "lower bound > 0", rise.low > 0, rise.n),
    ]


def check_p8(ens) -> list[Check]:
    """P8: continuation is non-increasing in turnover, non-decreasing in embedding, clarity and agenda.

    Passes when the change from the lowest to the highest level has the expected sign with its 95%
    interval excluding 0, and no step between adjacent levels goes the other way by more than 3 SE.
    """
    checks = []
    for name, levels, direction in MONOTONE_FACTORS:
        values = [np.array([continuation(o) for o in ens[f"{name}={level:g}"]]) for level in levels]
        total = paired(values[0], values[-1])
        steps = [paired(a, b) for a, b in zip(values, values[1:])]
        worst = min(direction * s.mean / (s.sd / np.sqrt(s.n)) for s in steps)
        ok = (total.low > 0 if direction > 0 else total.high < 0) and worst > -3
        word = "rises" if direction > 0 else "falls"
        checks.append(Check(
            "P8", f"Continuation {word} with {name}",
            f"continuation by the school (mean share at years 3, 5, 10) at {name} = {levels[-1]:g} minus {levels[0]:g}, "
            f"paired by seed; largest step against the direction {max(0.0, -worst):.1f} SE",
            total.mean, total.low, total.high,
            ("lower bound > 0" if direction > 0 else "upper bound < 0") + ", no step against it beyond 3 SE",
            bool(ok), total.n,
        ))
    return checks


def run_checks(ens: dict[str, list[RunOutcome]]) -> list[Check]:
    """All checks, in report order."""
    return [*check_cases(ens), check_p1(ens), check_p2(ens), *check_p3(ens), *check_p4(ens), *check_p5(ens),
            check_p6(ens), *check_p7(ens), *check_p8(ens)]


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    return pd.DataFrame([asdict(check) for check in checks])
