"""A broken model for every validation check (mutation testing of the validation).

Each test switches off the mechanism a check names in its audit column -- by a parameter setting or a
test-only subclass of the model, never a switch that names a case -- and shows that the check fails on
that broken model.  A check that passes on every mutant says nothing about the mechanism.  The same
checks on the unbroken model are in tests/test_validation.py (100 replicates); here the ensembles are
small (40 replicates for the case replays, 30 for the baseline region) because a mutant that really
breaks a mechanism fails its check by a wide margin.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mesa import Agent

from experiments.analysis import validation as v
from sim import Params, RunOutcome
from sim.model import LearningCommunityModel
from sim.pilot import Pilot

SCENARIOS = Path(__file__).resolve().parents[1] / "configs" / "scenarios"
CASE_REPLICATES = 40
REGION_REPLICATES = 30
#: the literature patterns' positive controls: few pilots lose their coach or reach a third run
CONTROL_REPLICATES = 100
SEED = 7


class _AlwaysWillingPilot(Pilot):
    """Mutant of the continuation decision: the school always wants the pilot and the firms always stay."""

    def school_will(self) -> float:
        return 1.0

    def firms_stay(self) -> bool:
        return True


class _AlwaysWillingModel(LearningCommunityModel):
    def add_pilot(self, pilot: Pilot) -> None:
        pilot.__class__ = _AlwaysWillingPilot  # test-only: the same pilot, the decision rule replaced
        super().add_pilot(pilot)


def always_willing_model(params: Params, seed) -> RunOutcome:
    """sim.run_model with the mutant decision (module level, so the runner can pickle it)."""
    return _run(_AlwaysWillingModel, params, seed)


def _run(model_class, params: Params, seed) -> RunOutcome:
    model = model_class(params=params, rng=seed)
    try:
        for _ in range(params.horizon_months):
            model.step()
        return model.outcome()
    finally:
        Agent._ids.pop(model, None)  # as sim.run_model: Mesa keeps finished models alive otherwise


# ---------------------------------------------------------------- positive controls (literature patterns)
# L1-L3 are literature patterns the model does NOT reproduce (docs/validation.md says why, from the document).  A check that can never pass would say as little
# as one that can never fail, so each is shown to pass on a test-only variant that has the mechanism the
# literature describes, at the small region ensemble.

class _SeasonedPilot(Pilot):
    """Variant with duration dependence: every completed run adds to the partners' will (a stock of
    experience and goodwill): +0.5 x (1 - 1 / runs)."""

    def school_will(self) -> float:
        return min(1.0, super().school_will() + 0.5 * (1.0 - 1.0 / max(self.runs, 1)))

    def provider_will(self) -> float:
        return min(1.0, super().provider_will() + 0.5 * (1.0 - 1.0 / max(self.runs, 1)))


class _SpannerPilot(Pilot):
    """Variant with boundary-spanner loss: when the best-tied coach leaves, the firms lose half their
    commitment and give up on the school (the ties and the knowledge left with the expert)."""

    def lose_coach(self, key) -> None:
        before = self.coach_left_month
        super().lose_coach(key)
        if self.coach_left_month != before:
            for firm in self.partners:
                firm.commitment[self] *= 0.5
                firm.gave_up_on_school[self] = True


class _TrustingPilot(Pilot):
    """Variant with prior ties in the decision (trust lowers the barriers): the school's will rises by the tie
    strength at proposal, and the firms stay at least with that chance."""

    def school_will(self) -> float:
        return min(1.0, super().school_will() + self.ties_at_proposal)

    def firms_stay(self) -> bool:
        return super().firms_stay() or self.model.rng.random() < self.ties_at_proposal


def _variant(pilot_class):
    class VariantModel(LearningCommunityModel):
        def add_pilot(self, pilot: Pilot) -> None:
            pilot.__class__ = pilot_class  # test-only: the same pilot, one rule replaced
            super().add_pilot(pilot)
    return VariantModel


_SEASONED, _SPANNER, _TRUSTING = _variant(_SeasonedPilot), _variant(_SpannerPilot), _variant(_TrustingPilot)


def seasoned_model(params: Params, seed) -> RunOutcome:
    return _run(_SEASONED, params, seed)


def spanner_model(params: Params, seed) -> RunOutcome:
    return _run(_SPANNER, params, seed)


def trusting_model(params: Params, seed) -> RunOutcome:
    return _run(_TRUSTING, params, seed)


@pytest.fixture(scope="module")
def plan():
    return v.ensemble_plan(SCENARIOS)


def _mutate(plan, names, replicates, model=None, **overrides):
    mutant = {name: v.with_overrides(plan[name], **overrides) for name in names}
    return v.run_ensembles(mutant, replicates, SEED, model=model)


def _check(checks, pattern):
    return next(c for c in checks if c.pattern == pattern)


def test_c1_fails_when_the_school_always_continues(plan):
    ens = v.run_ensembles({k: plan[k] for k in v.CASES}, CASE_REPLICATES, SEED, model=always_willing_model)
    c1 = _check(v.check_cases(ens), "C1")
    assert not c1.passed, c1


def test_c2_fails_when_engaged_firms_cannot_carry_a_pilot_over(plan):
    ens = {**_mutate(plan, ["smart_farming"], CASE_REPLICATES, handover_engagement=1.0),
           **{k: plan_ens for k, plan_ens in v.run_ensembles({k: plan[k] for k in ("cowcept", "together_in_the_green")},
                                                              5, SEED).items()}}
    c2 = _check(v.check_cases(ens), "C2")
    assert not c2.passed and c2.figure == 0.0, c2


def test_c3_fails_when_the_municipal_money_cannot_pay(plan):
    ens = {**v.run_ensembles({k: plan[k] for k in ("cowcept", "smart_farming")}, 5, SEED),
           **_mutate(plan, ["together_in_the_green"], CASE_REPLICATES, municipal_participation_budget_eur=0.0)}
    c3 = _check(v.check_cases(ens), "C3")
    assert not c3.passed and c3.high < 0.5, c3


#: A director change that changes nothing: no interim (no decision vacuum), nothing of the strategy line
#: lost, a newcomer who knows the strategy at once, and every director alike (the same commitment, never in
#: rivalry).  Directors still come and go at the calibrated rates (the draws for them still happen).
TURNOVER_WITHOUT_EFFECT = {"interim_length_months": 0.0, "strategy_loss_at_director_change": 0.0,
                           "director_onboarding_months": 0.0, "director_commitment_spread": 0.0,
                           "management_rivalry": 0.0}


def test_p1_fails_when_a_director_change_changes_nothing(plan):
    ens = _mutate(plan, ["baseline", "baseline_calm"], REGION_REPLICATES, **TURNOVER_WITHOUT_EFFECT)
    assert sum(o.summary["director_changes"] for o in ens["baseline"]) > 0  # directors do change
    p1 = v.check_p1(ens)
    assert not p1.passed, p1


def test_p3_fails_without_students_drawn_by_the_elective(plan):
    ens = _mutate(plan, ["cowcept"], CASE_REPLICATES, elective_draw_share=0.0)
    p3 = v.check_p3(ens)
    assert not p3.passed and p3.figure == 0.0, p3


def test_p6_fails_when_mediation_changes_nothing(plan):
    off = {"mediation_clarity_gain": 0.0, "mediation_commitment_gain": 0.0, "mediation_will_pull": 0.0}
    ens = _mutate(plan, ["baseline", "monitoring_and_early_intervention"], REGION_REPLICATES, **off)
    p6 = v.check_p6(ens)
    assert not p6.passed, p6


def test_joint_fate_fails_without_the_adult_arm(plan):
    ens = _mutate(plan, ["baseline"], REGION_REPLICATES, outside_provider_presence=0.0)
    joint = v.check_joint_fate(ens)
    assert not joint.passed and joint.figure == 0.0, joint


def test_documented_triple_reads_the_three_fates():
    dropped = {"runs": 1, "first_decision": "faded", "revivals": 1, "target_group": "initial",
               "provider": "school", "initial_education_involved": True}
    handed = {**dropped, "first_decision": "continued_by_adult_arm", "revivals": 0, "provider": "adult_arm",
              "target_group": "adult"}
    adult = {**handed, "target_group": "adult", "first_decision": "continued", "initial_education_involved": False}
    never = {**adult, "runs": 0}
    assert v.documented_triple(RunOutcome(summary={}, pilots=[dropped, handed, adult])) == (True, True, True)
    assert v.documented_triple(RunOutcome(summary={}, pilots=[dropped, handed, never])) == (True, True, False)
    # the handed-over pilot is not also the adult trajectory: (c) needs another pilot
    assert v.documented_triple(RunOutcome(summary={}, pilots=[dropped, handed])) == (True, True, False)
    assert v.documented_triple(RunOutcome(summary={}, pilots=[{**dropped, "first_decision": "continued"}])) == (
        False, False, False)


def test_l1_fails_when_runs_leave_no_stock(plan):
    """The off-state of the curriculum embedding gained per run, for L1 (a relationship's exit after its first
    run vs its third, within provider).  L1 is a literature pattern the model does NOT reproduce: it fails on
    the model itself at the unseen seeds 10 and 12 (200 replicates), so this mutant shows the off-state only
    and is not a mutant that proves the check.  No single mechanism was found whose removal makes L1 fail
    beyond its seed-to-seed spread (embedding gain 0: 0.032 at seed 7, -0.020 at seed 10; firms' network in
    the school 0, quality out of the will, never structural: 0.030-0.045; the model: 0.049 and 0.040;
    issue 12 session 3b, /work/wt/notes/issue-12-l1-mutants.py)."""
    ens = _mutate(plan, ["baseline"], REGION_REPLICATES, embedding_gain_per_run=0.0)
    l1 = v.check_duration_dependence(ens)
    assert not l1.passed, l1


@pytest.mark.slow  # positive controls, 100 replicates each (about 20 s in all): make test-slow
@pytest.mark.parametrize("check, model", [("check_duration_dependence", seasoned_model),
                                          ("check_boundary_spanner", spanner_model),
                                          ("check_prior_ties", trusting_model)])
def test_literature_check_passes_on_a_model_with_its_mechanism(plan, check, model):
    ens = v.run_ensembles({"baseline": plan["baseline"]}, CONTROL_REPLICATES, SEED, model=model)
    result = getattr(v, check)(ens)
    assert result.passed, result


def test_l2_and_l3_fail_without_the_firms_network_in_the_school(plan):
    """Mutant of the firms' network within the school (issue 12, Entrepreneur.network_in_school): with its
    weight at 0 ties reach the decision only through run quality, and a departing best-tied coach takes
    nothing the firms weigh.  L2 and L3 fail.  They fail on the model with the mechanism too (its weight is a
    moderate assumption, 0.1; docs/validation.md gives the figures), so this mutant shows the off-state
    only; the rule itself is pinned by the exact-value tests in tests/test_mechanisms.py."""
    ens = _mutate(plan, ["baseline"], REGION_REPLICATES, firm_weight_school_network=0.0)
    for check in (v.check_boundary_spanner, v.check_prior_ties):
        result = check(ens)
        assert not result.passed, result
