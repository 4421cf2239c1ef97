"""Pattern-oriented validation over replicate ensembles: the joint fate J, the documented cases C1-C3,
the patterns P1, P3 and P6, and the literature patterns L1-L3 (duration dependence, boundary-spanner
loss, prior ties).

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
    #: "document": a check of what the seed document reports (it decides ``lcsim validate``'s exit code);
    #: "literature": a pattern from the literature that the document does not support (reported as
    #: reproduced / NOT reproduced, never part of the verdict)
    kind: str = "document"
    #: literature patterns: the test-only variant with the literature's mechanism on which the check passes
    #: (tests/test_validation_mutants.py), and the document's evidence why the model does not reproduce it
    control: str = ""
    evidence: str = ""

    @property
    def verdict(self) -> str:
        """'pass' / 'FAIL' for a document check, 'reproduced' / 'NOT reproduced' for a literature pattern."""
        if self.kind == "literature":
            return "reproduced" if self.passed else "NOT reproduced"
        return "pass" if self.passed else "FAIL"


def document_checks(checks: list["Check"]) -> list["Check"]:
    """The checks of what the seed document reports: they decide the verdict."""
    return [c for c in checks if c.kind == "document"]


def literature_patterns(checks: list["Check"]) -> list["Check"]:
    """The literature patterns the seed document does not support: reported, not judged."""
    return [c for c in checks if c.kind == "literature"]


def verdict_code(checks: list["Check"]) -> int:
    """``lcsim validate``'s exit code: 1 if a check of what the document reports fails, else 0 (the literature
    patterns never change it)."""
    return int(any(not c.passed for c in document_checks(checks)))


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


#: Resamples and seed of the replicate bootstrap (fixed: the same ensemble always gives the same interval).
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20260


def ratio_difference(num_a, den_a, num_b, den_b) -> tuple[float, float, float]:
    """sum(num_a)/sum(den_a) - sum(num_b)/sum(den_b) over replicates, with a 95% percentile interval from
    resampling whole replicates (pilots of one replicate share its school, so they are not independent).
    NaN when either denominator is empty."""
    arrays = [np.asarray(x, dtype=float) for x in (num_a, den_a, num_b, den_b)]
    if not len(arrays[0]) or arrays[1].sum() == 0 or arrays[3].sum() == 0:
        return float("nan"), float("nan"), float("nan")
    na, da, nb, db = arrays
    figure = na.sum() / da.sum() - nb.sum() / db.sum()
    rng = np.random.default_rng(np.random.SeedSequence(BOOTSTRAP_SEED))
    idx = rng.integers(0, len(na), size=(BOOTSTRAP_RESAMPLES, len(na)))
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = na[idx].sum(1) / da[idx].sum(1) - nb[idx].sum(1) / db[idx].sum(1)
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(figure), float(low), float(high)


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
    # P1, turnover alone: only the director turnover differs from the baseline region (not the case
    # replays: there the case's own settings keep the school from continuing in both arms, see check_p1)
    plan["baseline_calm"] = with_overrides(plan["baseline"], **CALM_MANAGEMENT)
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


def good_school_first_runs(outcome: RunOutcome) -> tuple[int, int]:
    """(continued by the school, all) of the well-rated first runs (quality >= GOOD_RUN) the school ran:
    the decisions after them are the school's."""
    good = [p for p in outcome.pilots
            if p["runs"] > 0 and p["first_provider"] == "school" and p["first_run_quality"] >= GOOD_RUN
            and p["first_decision"] != ""]
    return sum(p["first_decision"] in BY_THE_SCHOOL for p in good), len(good)


def check_p1(ens) -> Check:
    """P1, turnover alone: without director turnover the school continues more good first runs.

    Measured in the baseline region, paired by seed: per replicate, the share of well-rated school-run
    first runs the school continues with no director turnover minus as calibrated (replicates without
    such a run in either arm are left out).  Not in the case replays: there the cases' own settings
    (internal communication 0.1, so the school's responsiveness stays below the firms'
    ``unresponsive_threshold`` even under a committed director, and the firms give up on the school in
    both arms) hold the school's continuation at a floor of about 4% whatever the turnover.
    """
    pairs = [(good_school_first_runs(a), good_school_first_runs(b))
             for a, b in zip(ens["baseline"], ens["baseline_calm"])]
    usable = [(ka / na, kb / nb) for (ka, na), (kb, nb) in pairs if na > 0 and nb > 0]
    base, calm = (np.array(x) for x in zip(*usable)) if usable else (np.array([]), np.array([]))
    ci = paired(base, calm)
    k, n = sum(a[0] for a, _ in pairs), sum(a[1] for a, _ in pairs)
    k_calm, n_calm = sum(b[0] for _, b in pairs), sum(b[1] for _, b in pairs)
    return Check(
        "P1", "Turnover alone kills good pilots",
        f"baseline region, paired by seed: share of well-rated (quality >= {GOOD_RUN}) school-run first runs the "
        f"school continues with no director turnover (pooled {k_calm}/{n_calm}) minus as calibrated ({k}/{n}); "
        f"nothing else differs; {len(pairs) - len(usable)} of {len(pairs)} replicates without such a run left out",
        ci.mean, ci.low, ci.high, "lower bound > 0", bool(ci.low > 0), ci.n,
        "director turnover (interim decision vacuum, a newcomer's commitment drawn afresh and learnt in office, "
        "the strategy line lost at a change); fails if a director change leaves the school as it was (mutant: "
        "no interim, no loss, no onboarding, every director alike)",
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


# ------------------------------------------------------------------------------------- literature patterns
#: Phases of a pilot whose decision after its last completed run let it go on (a hand-over is going on).
GOING_ON = frozenset({"running", "continued", "taken_over", "revived", "structural"})
#: L2: months after the best-tied coach leaves in which an exit counts.
SPANNER_WINDOW = 12


def horizon_of(outcome: RunOutcome) -> int:
    """Months simulated (the length of the monthly series)."""
    return len(next(iter(outcome.series.values()))) if outcome.series else 0


#: L1: the kinds of provider a relationship can be with (the strata).
PROVIDERS = ("school", "adult_arm", "rival_school", "firm_provider")
#: L1: the ages compared (runs the provider completed in the relationship).
L1_AGES = (1, 3)
#: Phases of an open relationship whose decision after its last run let it go on (it survived that run).
RELATIONSHIP_GOES_ON = frozenset({"running", "continued", "structural"})


def relationships_of(pilot: dict) -> list[tuple[str, int, str]]:
    """(provider, runs, end) of each relationship in a pilot record (field ``relationships``)."""
    out = []
    for entry in str(pilot["relationships"]).split(";"):
        if entry:
            provider, runs, end = entry.split(":")
            out.append((provider, int(runs), end))
    return out


def relationship_exits(outcome: RunOutcome, k: int) -> dict[str, tuple[int, int]]:
    """Per provider: (exits, at risk) of the relationships after their k-th run.  At risk: a relationship
    with at least k runs; exit: it ended (faded or handed over) with exactly k runs; one open at the horizon
    with k runs that is still evaluating is censored, one that goes on survived."""
    counts = {s: [0, 0] for s in PROVIDERS}
    for p in outcome.pilots:
        for provider, runs, end in relationships_of(p):
            if runs < k:
                continue
            ended = end in ("faded", "handed_over")
            if runs == k and not ended and end not in RELATIONSHIP_GOES_ON:
                continue  # censored: the decision after run k is not known
            row = counts.setdefault(provider, [0, 0])
            row[0] += runs == k and ended
            row[1] += 1
    return {s: (e, n) for s, (e, n) in counts.items()}


def stratified_difference(e1, n1, e3, n3):
    """Mantel-Haenszel average over strata (last axis) of h(1) - h(3), weights n1 n3 / (n1 + n3), from the
    exits e and relationships at risk n per stratum; NaN where no stratum has some at risk at both ages."""
    e1, n1, e3, n3 = (np.asarray(x, dtype=float) for x in (e1, n1, e3, n3))
    both = (n1 > 0) & (n3 > 0)
    w = np.where(both, n1 * n3 / np.where(both, n1 + n3, 1.0), 0.0)
    d = np.where(both, e1 / np.where(n1 > 0, n1, 1.0) - e3 / np.where(n3 > 0, n3, 1.0), 0.0)
    total = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w * d).sum(-1) / np.where(total > 0, total, 1.0), np.nan)


def check_duration_dependence(ens) -> Check:
    """L1, duration dependence (Fichman & Levinthal 1991): a relationship's exit is likelier after its first
    run than after its third.  Pre-registered (docs/validation.md, "L1 rebuilt") before any figure:

    * relationship = one pilot with one provider (school, adult arm, rival school, firm-led provider); a
      hand-over starts a new one with the new provider, a revival a new one with the school;
    * age = the runs that provider completed for the pilot in this relationship;
    * exit = the relationship ends: the pilot fades or passes to another provider (becoming structural with
      the same provider is not an exit); an exit with exactly k runs is an exit after run k;
    * at risk after run k = relationships with at least k runs, except one open at the horizon with k runs
      still evaluating (censored); one open with k runs that goes on (running, continued, structural)
      survived;
    * stratified by provider: figure = sum_s w_s (h_s(1) - h_s(3)) / sum_s w_s with Mantel-Haenszel weights
      w_s = n_s(1) n_s(3) / (n_s(1) + n_s(3)) (n_s(k): provider s's relationships at risk after run k);
    * 95% percentile bootstrap over whole replicates; pass when the lower bound is above 0.
    """
    k1, k3 = L1_AGES
    per = {k: [relationship_exits(o, k) for o in ens["baseline"]] for k in L1_AGES}
    cols = list(PROVIDERS) + sorted({s for rows in per.values() for row in rows for s in row} - set(PROVIDERS))
    # (replicate, provider, [exits, at risk]) per age
    counts = {k: np.array([[row.get(s, (0, 0)) for s in cols] for row in per[k]], dtype=float).reshape(-1, len(cols), 2)
              for k in L1_AGES}
    e = {k: counts[k][:, :, 0] for k in L1_AGES}
    n = {k: counts[k][:, :, 1] for k in L1_AGES}
    figure = float(stratified_difference(e[k1].sum(0), n[k1].sum(0), e[k3].sum(0), n[k3].sum(0)))
    low = high = float("nan")
    if len(e[k1]) and figure == figure:
        rng = np.random.default_rng(np.random.SeedSequence(BOOTSTRAP_SEED))
        idx = rng.integers(0, len(e[k1]), size=(BOOTSTRAP_RESAMPLES, len(e[k1])))
        draws = stratified_difference(e[k1][idx].sum(1), n[k1][idx].sum(1), e[k3][idx].sum(1), n[k3][idx].sum(1))
        low, high = (float(x) for x in np.nanpercentile(draws, [2.5, 97.5]))
    parts = []
    for j, s in enumerate(cols):
        a, b = int(n[k1][:, j].sum()), int(n[k3][:, j].sum())
        if a or b:
            parts.append(f"{s} {int(e[k1][:, j].sum())}/{a} vs {int(e[k3][:, j].sum())}/{b}")
    return Check("L1", "Duration dependence: a relationship's exit likelier after its first run than after its third",
                 "baseline region, one relationship = one pilot with one provider, age = that provider's runs, exit = "
                 "the pilot fades or passes to another provider: exit hazard after run 1 minus after run 3 within "
                 "provider, Mantel-Haenszel average (exits/at risk after run 1 vs run 3: " + "; ".join(parts)
                 + "); bootstrap over replicates (Fichman & Levinthal 1991)",
                 figure, low, high, "lower bound > 0", bool(low > 0), int(n[k1].sum() + n[k3].sum()),
                 L1_MECHANISM, kind="literature", control=L1_CONTROL, evidence=L1_EVIDENCE)


#: L1's audit column.  No single mechanism was found whose removal makes it fail beyond its own seed-to-seed
#: spread (issue 12 session 3b: curriculum embedding per run, the firms' network in the school, quality in
#: the will, structural status; docs/validation.md), so no mutant is claimed.
L1_MECHANISM = ("what a relationship accumulates with its runs (curriculum embedding per run with the school, the "
                "firms' network in the school built by runs, structural status) and selection on the run quality "
                "the partners weigh; no single one's removal makes L1 fail beyond its seed-to-seed spread, so no "
                "mutant is claimed")
L1_CONTROL = ("passes on a test-only variant whose every provider's will grows by 0.5 x (1 - 1/runs) "
              "(tests/test_validation_mutants.py)")
L1_EVIDENCE = ("the document follows no relationship past its first run or two (Cowcept: not continued after the "
               "first run; Smart Farming: one run with the school, then the adult arm; Samen in het groen: 'De pilot "
               "is nog maar net gestart'), and names nothing that grows with a provider's runs ('Het uitzendbureau "
               "zorgt voor kandidaten voor nascholing')")


def spanner_exposure(outcome: RunOutcome) -> tuple[int, int, int, int]:
    """(exits, treated, exits, controls) for L2 in one replicate.  Treated: a pilot whose best-tied coach
    left the school during a run in month m (``coach_left_month``) with the whole window observed; exit:
    it faded in months m .. m + SPANNER_WINDOW - 1.  Controls, matched on the seed and the month: every
    other pilot of the same replicate that had started by m, had not faded before m and whose best-tied
    coach did not leave within SPANNER_WINDOW months of m; its exit counted in the same window."""
    horizon = horizon_of(outcome)
    pilots = outcome.pilots
    t_exit = t_n = c_exit = c_n = 0

    def fades_in(p, m):
        return p["fate"] == "faded" and m <= p["fade_month"] < m + SPANNER_WINDOW

    for p in pilots:
        m = p["coach_left_month"]
        if m < 0 or m + SPANNER_WINDOW > horizon:
            continue
        t_n += 1
        t_exit += fades_in(p, m)
        for q in pilots:
            if q is p or not (0 <= q["first_run_month"] <= m):
                continue
            if q["fate"] == "faded" and q["fade_month"] < m:
                continue
            if q["coach_left_month"] >= 0 and abs(q["coach_left_month"] - m) < SPANNER_WINDOW:
                continue
            c_n += 1
            c_exit += fades_in(q, m)
    return t_exit, t_n, c_exit, c_n


def check_boundary_spanner(ens) -> Check:
    """L2, boundary-spanner loss: a pilot whose best-tied coach leaves exits more often within a year than
    matched pilots on the same seeds whose coach stays."""
    rows = np.array([spanner_exposure(o) for o in ens["baseline"]]).reshape(-1, 4)
    diff, low, high = ratio_difference(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])
    t = rows.sum(axis=0)
    return Check("L2", "Boundary-spanner loss: exit likelier after the best-tied coach leaves",
                 f"baseline region: share of pilots that fade within {SPANNER_WINDOW} months after their best-tied "
                 f"coach left the school during a run ({int(t[0])}/{int(t[1])}) minus that share for matched "
                 f"pilots of the same replicate and month whose coach stayed ({int(t[2])}/{int(t[3])}); bootstrap "
                 "over replicates (seed: 'Als de expert weg was, verdween ook de kennis')",
                 diff, low, high, "lower bound > 0", bool(low > 0), int(t[1]),
                 "the coach carrying the pilot's ties and coaching (a run that loses its best-tied coach loses "
                 "coaching adequacy and tie strength, so quality, and the decision follows quality); fails when a "
                 "departing coach takes nothing the decision weighs (passes on a test-only variant whose firms "
                 "lose heart when the coach leaves)", kind="literature",
                 control="passes on a test-only variant whose firms lose half their commitment and give up on the "
                 "school when the best-tied coach leaves (tests/test_validation_mutants.py)",
                 evidence="in the model 80-89% of pilots leave the school (fade or are handed over) within a year of "
                 "being in a run, whether their coach leaves or not, so there is no room for a spanner effect; the "
                 "document's 'Als de expert weg was, verdween ook de kennis' is about external experts whose "
                 "knowledge was not embedded ('Externe expertise wordt soms gevoeld als bemoeienis van buitenaf'), "
                 "and it never says a pilot ended because a teacher left")


def _school_first_decisions(outcome: RunOutcome) -> list[dict]:
    """Pilots proposed after the start whose first run the school ran and whose first decision is known
    (the pilots on the table at the start have no ties yet: the network is built by meetings)."""
    return [p for p in outcome.pilots if p["runs"] > 0 and p["first_provider"] == "school"
            and p["first_decision"] != "" and p["proposed_month"] > 0]


def check_prior_ties(ens) -> Check:
    """L3, prior ties (Bruneel, D'Este & Salter 2010): the stronger the ties between the partners when a pilot
    is proposed, the likelier the school continues it after the first run."""
    pilots = [(i, p) for i, o in enumerate(ens["baseline"]) for p in _school_first_decisions(o)]
    n_rep = len(ens["baseline"])
    if not pilots:
        return Check("L3", "Prior ties raise continuation", "no school-run pilot proposed after the start",
                     float("nan"), float("nan"), float("nan"), "lower bound > 0", False, 0, "", kind="literature")
    median = float(np.median([p["ties_at_proposal"] for _, p in pilots]))
    counts = np.zeros((n_rep, 4))
    for i, p in pilots:
        col = 0 if p["ties_at_proposal"] > median else 2
        counts[i, col] += p["first_decision"] in BY_THE_SCHOOL
        counts[i, col + 1] += 1
    diff, low, high = ratio_difference(counts[:, 0], counts[:, 1], counts[:, 2], counts[:, 3])
    t = counts.sum(axis=0)
    return Check("L3", "Prior ties raise continuation after the first run",
                 "baseline region, school-run pilots proposed after the start: share the school continues after "
                 f"the first run when the best-tied teacher's tie to the firms at proposal was above the median "
                 f"({median:.2f}) ({int(t[0])}/{int(t[1])}) minus at or below it ({int(t[2])}/{int(t[3])}); "
                 "bootstrap over replicates (Bruneel, D'Este & Salter 2010)",
                 diff, low, high, "lower bound > 0", bool(low > 0), int(t[1] + t[3]),
                 "ties reaching the decision: stronger ties give the run a better-tied coach and quality "
                 "(0.6 + 0.4 x tie strength), which the school's will weighs; fails when ties reach no decision "
                 "(passes on a test-only variant in which ties raise the will and keep the firms)", kind="literature",
                 control="passes on a test-only variant whose school's will rises by the tie strength at proposal "
                 "and whose firms stay at least with that chance (tests/test_validation_mutants.py)",
                 evidence="the document's one case of long prior ties is Cowcept ('bestond al langere tijd een "
                 "samenwerking tussen Terra en J. Lievaart'): the ties led to a new proposal, and that pilot was "
                 "not continued after its first run; the document supports ties leading to a proposal, not to "
                 "continuation")


def run_checks(ens: dict[str, list[RunOutcome]]) -> list[Check]:
    """All checks, in report order (the joint fate first: it is the headline); the document checks decide the
    verdict, the literature patterns L1-L3 are reported beside it (``Check.kind``)."""
    return [check_joint_fate(ens), *check_cases(ens), check_p1(ens), check_p3(ens), check_p6(ens),
            check_duration_dependence(ens), check_boundary_spanner(ens), check_prior_ties(ens)]


def checks_frame(checks: list[Check]) -> pd.DataFrame:
    return pd.DataFrame([{**asdict(check), "verdict": check.verdict} for check in checks])
