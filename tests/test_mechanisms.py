"""Each mechanism of the model alone, against the rule its docstring states."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import LearningCommunityModel
from sim.agents import School
from sim.pilot import ADULT_ARM, FIRM_PROVIDER, RIVAL_SCHOOL, SCHOOL, Complexity, Fate, Phase, Pilot, TargetGroup


def make_model(seed: int = 1, **overrides) -> LearningCommunityModel:
    return LearningCommunityModel(rng=np.random.SeedSequence(seed), **overrides)


def evaluating_school_pilot(model: LearningCommunityModel) -> Pilot:
    pilot = Pilot(
        model,
        partners=[model.entrepreneurs[0]],
        complexity="simple",
        target_group="initial",
        provider=SCHOOL,
        clarity=1.0,
    )
    model.add_pilot(pilot)
    pilot.first_run_month = 0
    pilot.runs = 1
    pilot.phase = Phase.EVALUATING
    return pilot


# ---------------------------------------------------------------------------------------- turnover
@pytest.mark.parametrize("rate", [0.35, 1.5])
def test_director_turnover_hazard_matches_yearly_rate(rate):
    """Departures per year with a permanent director in office equal the configured rate.

    Departures in N office-months are Binomial(N, rate/12); the tolerance is 4 standard errors.
    """
    model = make_model(3, management_turnover_rate=rate, interim_length_months=0.0, turbulent_at_start=0.0,
                       turbulence_onset_rate=0.0)  # calm throughout
    months = 60_000
    for _ in range(months):
        model.school.change_management()
    departures = model.school.director_changes
    expected = months * rate / 12
    se = math.sqrt(months * (rate / 12) * (1 - rate / 12))
    assert abs(departures - expected) < 4 * se, (departures, expected, se)


def test_interim_length_is_geometric_with_the_configured_mean():
    model = make_model(4, interim_length_months=6.0)
    draws = np.array([model.school.draw_interim_length() for _ in range(20_000)])
    assert draws.min() == 0
    # Geometric on {0,1,...} with mean 6 has variance 6 * 7 = 42.
    assert abs(draws.mean() - 6.0) < 4 * math.sqrt(42 / draws.size)


def test_interim_starts_after_a_departure_and_ends_with_a_new_director():
    model = make_model(5, management_turnover_rate=12.0, turbulent_turnover_rate=12.0, interim_length_months=3.0)
    school = model.school
    while not school.in_interim:
        school.change_management()
    assert school.responsiveness() == 0.0  # decision vacuum
    while school.in_interim:
        school.change_management()
    assert school.director_tenure_months == 0


def test_interim_blocks_continuation_decisions_until_patience_runs_out():
    model = make_model(6, entrepreneur_patience_months=4.0)
    pilot = evaluating_school_pilot(model)
    model.entrepreneurs[0].commitment[pilot] = 0.2  # not engaged enough to take it elsewhere
    model.school.interim_months_left = 100
    for month in range(4):
        pilot.decide_continuation()
        assert pilot.phase is Phase.EVALUATING, month
    assert pilot.months_waiting_for_decision == 4
    pilot.decide_continuation()  # the fifth month exceeds the firms' patience
    assert pilot.phase is Phase.FADED
    assert pilot.last_setback == "decision vacuum (interim)"


def test_after_a_decision_vacuum_engaged_firms_take_the_pilot_to_the_adult_arm():
    model = make_model(6, entrepreneur_patience_months=0.0, outside_provider_presence=1.0)
    pilot = evaluating_school_pilot(model)
    model.entrepreneurs[0].commitment[pilot] = 0.9
    model.school.interim_months_left = 100
    pilot.decide_continuation()  # patience 0: the first month in the vacuum is one too many
    assert pilot.phase is Phase.TAKEN_OVER and pilot.provider == ADULT_ARM
    assert pilot.last_setback == "decision vacuum (interim)"


def test_without_interim_a_willing_funded_school_continues():
    model = make_model(7, initial_embedding=1.0, external_stress=0.0)  # commitment 1, embedding 1
    pilot = evaluating_school_pilot(model)
    pilot.subsidy_months_left = 50  # the next run is paid
    pilot.quality = 1.0
    pilot.last_intake_drawn = 10  # demand 1, and 60k revenue against a 5k run: margin 1
    model.entrepreneurs[0].commitment[pilot] = 1.0
    assert pilot.school_will() == pytest.approx(1.0)
    pilot.decide_continuation()
    assert pilot.phase is Phase.CONTINUED  # one run: not yet structural (structural_runs_required = 3)
    assert pilot.provider == SCHOOL


@pytest.mark.parametrize("embedding", [0.0, 0.3, 0.8, 1.0])
def test_new_director_commitment_blends_old_and_fresh_by_policy_embedding(monkeypatch, embedding):
    model = make_model(8)
    school = model.school
    school.embedding_policy = embedding
    school.director_commitment = 0.9
    monkeypatch.setattr(School, "_draw_director_commitment", lambda self: 0.2)
    school.appoint_director()
    assert school.director_commitment == pytest.approx(embedding * 0.9 + (1 - embedding) * 0.2)


def test_departing_teachers_take_their_ties_along():
    model = make_model(9)
    school = model.school
    firm = model.entrepreneurs[0]
    old_keys = [t.key for t in school.teachers]
    for key in old_keys:
        model.network.connect(key, firm.key)
    model.params = model.params.model_copy(update={"teacher_turnover_rate": 12.0})  # everyone leaves
    school.replace_teachers()
    for key in old_keys:
        assert key not in model.network.graph
    assert model.network.graph.degree(firm.key) == 0
    new_keys = [t.key for t in school.teachers]
    assert len(new_keys) == len(old_keys) and not set(new_keys) & set(old_keys)


# ---------------------------------------------------------------------------------------- strategy
def test_strategy_transfer_moves_commitment_down_and_stops_in_an_interim():
    model = make_model(10, internal_communication=1.0, strategy_transfer_speed=0.5, troops_gap_tolerance=1.0)
    school = model.school
    school.director_commitment, school.middle_management_commitment, school.teacher_commitment = 1.0, 0.0, 0.0
    school.transfer_strategy()
    assert school.middle_management_commitment == pytest.approx(0.5)
    assert school.teacher_commitment == pytest.approx(0.25)
    school.interim_months_left = 3
    school.transfer_strategy()
    assert school.middle_management_commitment == pytest.approx(0.5)


def test_no_internal_communication_means_no_transfer():
    model = make_model(11, internal_communication=0.0)
    school = model.school
    before = (school.middle_management_commitment, school.teacher_commitment)
    for _ in range(24):
        school.transfer_strategy()
    assert (school.middle_management_commitment, school.teacher_commitment) == before


# ---------------------------------------------------------------------------------------- money
def test_subsidy_stops_paying_at_its_end_month():
    model = make_model(12, subsidy_duration_months=7.0, subsidy_share=1.0, school_cofunding_willingness=0.0,
                       entrepreneur_willingness_to_pay_eur=0.0)  # only the subsidy pays
    pilot = evaluating_school_pilot(model)
    model.government.grant(pilot)
    full = model.funding_plan(pilot)
    assert full is not None and full["subsidy"] == pytest.approx(model.run_cost(pilot) * min(1, 7 / 5))
    for month in range(7):
        model.month = month
        pilot.count_down_subsidy()
    assert pilot.subsidy_months_left == 0
    assert pilot.subsidy_end_month == 6
    assert model.funding_plan(pilot) is None  # nobody else pays


def test_funding_plan_refuses_a_run_nobody_can_pay():
    model = make_model(
        13, school_innovation_budget_eur=0.0, entrepreneur_willingness_to_pay_eur=0.0, cost_per_run_eur=5_000.0
    )
    pilot = evaluating_school_pilot(model)
    assert model.funding_plan(pilot) is None


def test_unclear_agreements_lose_private_money():
    """Private money counts at 0.6 + 0.4 x clarity: an 8k school offer covers a 7k run only when clear."""
    plans = {}
    for clarity in (1.0, 0.0):
        model = make_model(14, school_cofunding_willingness=1.0, entrepreneur_willingness_to_pay_eur=0.0,
                           cost_per_run_eur=14_000.0)
        model.school.budget_left_eur = 8_000.0
        pilot = evaluating_school_pilot(model)  # a simple pilot: a 5-month run costs half
        pilot.clarity = clarity
        plans[clarity] = model.funding_plan(pilot)
    assert plans[1.0] == {"subsidy": 0.0, "municipal": 0.0, "firms": 0.0, "school": pytest.approx(7_000.0),
                          "provider": 0.0, "regular": 0.0}
    assert plans[0.0] is None


def test_municipal_budget_pays_adult_runs_only():
    model = make_model(15, municipal_participation_budget_eur=50_000.0)
    firm = model.entrepreneurs[0]
    adult = Pilot(model, partners=[firm], complexity="complicated", target_group="adult",
                  provider=ADULT_ARM, clarity=0.0)
    initial = Pilot(model, partners=[firm], complexity="complicated", target_group="initial",
                    provider=ADULT_ARM, clarity=0.0)
    assert model.funding_plan(adult)["municipal"] == pytest.approx(model.run_cost(adult))
    assert model.funding_plan(initial) is None


# ---------------------------------------------------------------------------------------- cooperative
def test_monitoring_and_intervention_clarify_money_and_restore_commitment():
    model = make_model(16, monitoring_level=1.0, intervention_readiness=1.0, cooperative_budget_eur=10_000.0)
    pilot = evaluating_school_pilot(model)
    firm = model.entrepreneurs[0]
    pilot.clarity = 0.2
    firm.commitment[pilot] = 0.2
    firm.commitment_change[pilot] = -0.01  # falling: trouble
    model.cooperative.monitor_and_intervene()
    assert pilot.clarity == pytest.approx(0.6)
    assert pilot.mediated
    assert firm.commitment[pilot] == pytest.approx(0.2 + 0.3 * 0.8)
    coop = model.cooperative
    assert coop.interventions == 1  # the initial pilots, proposed a moment ago, are not in trouble
    assert coop.budget_left_eur == pytest.approx(10_000.0 - model.params.intervention_cost_eur)


def test_no_monitoring_no_intervention():
    model = make_model(17, monitoring_level=0.0, intervention_readiness=1.0)
    pilot = evaluating_school_pilot(model)
    pilot.clarity = 0.0
    pilot.waiting_for = "no room from the school"  # troubled
    for _ in range(50):
        model.cooperative.monitor_and_intervene()
    assert pilot.clarity == 0.0 and model.cooperative.interventions == 0


def test_meetings_strengthen_ties_between_those_present():
    model = make_model(18, meeting_tie_gain=0.5)
    net = model.network
    a, b = model.entrepreneurs[0].key, model.entrepreneurs[1].key
    net.connect(a, b)
    before = net.strength(a, b)
    net.meet([a, b], fixed_place=True)
    after = net.strength(a, b)
    p = model.params
    closed = {kind: getattr(p, f"initial_{kind}_proximity") for kind in ("physical", "cognitive", "organisational", "social")}
    expected = (sum(v + 0.5 * (1 - v) for k, v in closed.items() if k != "organisational")
                + closed["organisational"] + 0.25 * (1 - closed["organisational"])) / 4
    assert before == pytest.approx(sum(closed.values()) / 4)
    assert after == pytest.approx(expected)
    # every proximity closes part of its gap: social by half, organisational by a quarter
    tie = net.graph[a][b]
    assert tie["social"] == pytest.approx(model.params.initial_social_proximity + 0.5 * (1 - model.params.initial_social_proximity))


def test_ties_decay_without_upkeep():
    model = make_model(19, tie_decay_per_month=0.1)
    net = model.network
    a, b = model.entrepreneurs[0].key, model.entrepreneurs[1].key
    net.connect(a, b)
    start = net.graph[a][b]["social"]
    for _ in range(10):
        net.decay()
    assert net.graph[a][b]["social"] == pytest.approx(start * 0.9**10)


# ---------------------------------------------------------------------------------------- embedding
def test_good_runs_raise_embedding_and_neglect_erodes_it():
    model = make_model(20, initial_embedding=0.2, embedding_erosion_per_year=0.12)
    school = model.school
    school.teacher_commitment = school.middle_management_commitment = school.director_commitment = 1.0
    school.embed_run(quality=1.0)  # each level closes gain x 1 x 1 of its gap 0.8
    raised = school.embedding
    assert raised == pytest.approx(0.2 + model.params.embedding_gain_per_run * 0.8)
    school.erode_embedding()
    assert school.embedding == pytest.approx(raised * (1 - 0.12 / 12))


# ---------------------------------------------------------------------------------------- revival
def test_a_faded_elective_that_draws_students_is_revived():
    model = make_model(21, elective_draw_share=1.0, revival_student_threshold=3, initial_embedding=1.0,
                       external_stress=0.0)
    pilot = evaluating_school_pilot(model)
    pilot.reputation = 1.0
    model.entrepreneurs[0].commitment[pilot] = 0.5
    pilot.fade("school not willing")
    drawn = pilot.draw_students(30)
    assert drawn == 30  # Binomial(30, 1 x 1)
    pilot.consider_revival(drawn)
    assert pilot.phase is Phase.REVIVED and pilot.revivals == 1


def test_no_revival_when_the_firms_have_gone():
    model = make_model(22, elective_draw_share=1.0, initial_embedding=1.0, external_stress=0.0)
    pilot = evaluating_school_pilot(model)
    pilot.reputation = 1.0
    model.entrepreneurs[0].commitment[pilot] = 0.0
    pilot.fade("firms disengaged")
    pilot.consider_revival(pilot.draw_students(30))
    assert pilot.phase is Phase.FADED


# ---------------------------------------------------------------------------------------- intake
def test_intake_follows_the_demographic_trend():
    shrinking = make_model(23, demographic_trend=-0.05, elective_draw_share=0.0, horizon_months=36)
    growing = make_model(23, demographic_trend=0.02, elective_draw_share=0.0, horizon_months=36)
    for model in (shrinking, growing):
        for _ in range(36):
            model.step()
    p = shrinking.params
    expected_shrinking = round(p.bol_intake_per_year * 0.95**3) + round(p.bbl_intake_per_year * 0.95**3)
    assert shrinking.intake == expected_shrinking
    assert growing.intake == round(p.bol_intake_per_year * 1.02**3) + round(p.bbl_intake_per_year * 1.02**3)


def test_firms_lose_patience_with_an_unresponsive_school():
    model = make_model(24, entrepreneur_patience_months=3.0)
    pilot = evaluating_school_pilot(model)
    pilot.phase = Phase.CONTINUED
    firm = model.entrepreneurs[0]
    firm.commitment[pilot] = 0.8
    model.school.interim_months_left = 100  # responsiveness 0
    firm.pilots = [pilot]
    for month in range(3):
        firm.update_commitment()
        assert not firm.gave_up_on_school[pilot], month
    firm.update_commitment()  # the fourth unresponsive month exceeds a patience of three
    assert firm.gave_up_on_school[pilot]
    assert not firm.stays_with(pilot)  # never with the school it gave up on ...
    # ... though it still values the pilot: commitment moved 4 x 10% towards its target (quality 0, clarity 1)
    p = model.params
    target = 0.2 + 0.3 * p.agenda_strength + 0.6 * 0.0 + 0.2 * 0.0 - 0.1 + p.firm_weight_clarity * 0.5
    target += p.firm_weight_school_network * (0.0 - 0.5)  # no ties to any teacher yet
    assert firm.network_in_school() == 0.0
    assert firm.commitment[pilot] == pytest.approx(target + (0.8 - target) * 0.9**4)


# ---------------------------------------------------------------------------------------- actors (issue 11)
def test_a_pilot_taken_over_no_longer_draws_students_to_the_school():
    """The school's elective reputation goes with the school: after a take-over it draws nobody.

    Fails on model v1, where a taken-over pilot kept its reputation and went on recruiting.
    """
    model = make_model(40, elective_draw_share=1.0)
    pilot = evaluating_school_pilot(model)
    pilot.reputation = 1.0
    pilot.take_over(ADULT_ARM)
    assert pilot.draw_students(30) == 0
    assert pilot.students_drawn == 0


def test_an_elective_run_by_the_rival_school_draws_students_away():
    """With draw share 1 and reputation 1 the rival's elective takes the whole BOL intake (Binomial(n, 1) = n)."""
    model = make_model(41, elective_draw_share=1.0, demographic_trend=0.0)
    pilot = evaluating_school_pilot(model)
    pilot.take_over(RIVAL_SCHOOL)
    pilot.reputation = 1.0  # as after its first run there (finish_run)
    model.month = 11  # August: the intake is settled
    model.enrol()
    assert pilot.students_drawn_away == model.params.bol_intake_per_year
    assert model.intake == model.params.bbl_intake_per_year
    assert pilot.revenue_eur() == model.params.student_funding_eur_per_year * model.params.bol_intake_per_year


def test_the_rival_schools_run_builds_its_reputation_but_the_adult_arms_does_not():
    for provider, expected in ((RIVAL_SCHOOL, 0.5), (ADULT_ARM, 0.0), (FIRM_PROVIDER, 0.0)):
        model = make_model(42)
        pilot = evaluating_school_pilot(model)
        pilot.take_over(provider)
        pilot.quality = 0.5
        pilot.finish_run(firm_knowledge=0.5)
        assert pilot.reputation == expected, provider


def test_a_pilot_that_never_ran_is_never_taken_over():
    model = make_model(43, outside_provider_presence=1.0, rival_school_presence=1.0, firm_provider_presence=1.0)
    firm = model.entrepreneurs[0]
    pilot = model.propose_pilot(firm, "simple", target_group="initial", provider=SCHOOL)
    firm.commitment[pilot] = 1.0  # engaged firms, providers everywhere
    model.month = pilot.ready_since + model.params.max_wait_months + 1
    pilot.give_up_waiting()
    assert pilot.phase is Phase.FADED
    assert pilot.provider == SCHOOL
    assert pilot.fate_class() is None  # never ran: no fate among started pilots


@pytest.mark.parametrize(
    ("presences", "provider", "fate"),
    [
        ((1.0, 0.0, 0.0), ADULT_ARM, Fate.ADULT_ARM),
        ((0.0, 1.0, 0.0), RIVAL_SCHOOL, Fate.TAKEN_OVER),
        ((0.0, 0.0, 1.0), FIRM_PROVIDER, Fate.TAKEN_OVER),
    ],
)
def test_the_group_adult_arm_is_its_own_fate_not_a_take_over(presences, provider, fate):
    arm, rival, firm_led = presences
    model = make_model(44, outside_provider_presence=arm, rival_school_presence=rival,
                       firm_provider_presence=firm_led, monitoring_level=0.0)
    pilot = evaluating_school_pilot(model)
    model.entrepreneurs[0].commitment[pilot] = 1.0
    pilot.hand_over_or_fade("school not willing")
    assert pilot.provider == provider
    assert pilot.phase is Phase.TAKEN_OVER
    assert pilot.fate_class() is fate
    assert pilot.first_decision == fate.value
    assert pilot.record()["fate_class"] == fate.value


def test_a_pilot_taken_over_by_the_adult_arm_keeps_running():
    """The adult arm runs it as post-initial training: adult learners, fees and the municipality pay."""
    model = make_model(45, outside_provider_presence=1.0, municipal_participation_budget_eur=50_000.0,
                       monitoring_level=0.0)
    pilot = evaluating_school_pilot(model)
    model.entrepreneurs[0].commitment[pilot] = 1.0
    pilot.hand_over_or_fade("school not willing")
    assert pilot.target_group == "adult"
    pilot.try_start_run()
    assert pilot.in_run and pilot.phase is Phase.RUNNING
    assert len(pilot.learners) == model.params.adult_learners_per_run
    assert all(learner.track == "LLO" for learner in pilot.learners)
    for _ in range(pilot.run_length):
        pilot.run_month()
    assert pilot.runs == 2 and pilot.phase is Phase.EVALUATING
    assert pilot.fate_class() is Fate.ADULT_ARM


# ---------------------------------------------------------------------------------------- the decision (issue 11)
def test_school_will_is_the_stress_damped_weighted_mean_of_what_the_partners_weigh():
    model = make_model(46, initial_embedding=0.0, external_stress=0.4, cost_per_run_eur=10_000.0,
                       student_funding_eur_per_year=1_000.0, revival_student_threshold=4)
    school = model.school
    school.director_commitment = 0.0
    school.middle_management_commitment = school.teacher_commitment = 0.5  # commitment 0.3 x 0.5 + 0.3 x 0.5
    school.embedding_curriculum = 0.2
    pilot = evaluating_school_pilot(model)  # simple: a 5-month run costs 5,000
    pilot.quality = 0.8
    pilot.clarity = 0.6
    pilot.last_run_learners = 10  # cost 500 per learner
    pilot.last_intake_drawn = 2  # demand 0.5; revenue 2,000 = 200 per learner: balance -0.6, margin 0.2
    model.entrepreneurs[0].commitment[pilot] = 0.7
    assert school.commitment() == pytest.approx(0.3)
    assert pilot.cost_per_learner_eur() == pytest.approx(500.0)
    assert pilot.revenue_per_learner_eur() == pytest.approx(200.0)
    assert pilot.margin() == pytest.approx(0.2)
    assert pilot.demand() == pytest.approx(0.5)
    case = (0.3 * 0.3 + 0.15 * 0.8 + 0.1 * 0.7 + 0.15 * 0.5 + 0.1 * 0.2 + 0.1 * 0.6 + 0.1 * 0.2) / 1.0
    assert pilot.school_will() == pytest.approx((1 - 0.5 * 0.4) * case)
    pilot.mediated = True  # held to the agreements: half the gap to clarity 0.6
    will = (1 - 0.5 * 0.4) * case
    assert pilot.school_will() == pytest.approx(will + 0.5 * (0.6 - will))


def test_a_better_pilot_gets_a_stronger_will_from_the_same_school():
    """The decision is about the pilot: with the school unchanged, quality, demand and clarity move it."""
    model = make_model(47)
    good, poor = evaluating_school_pilot(model), evaluating_school_pilot(model)
    for pilot, (quality, drawn, clarity) in ((good, (0.9, 6, 0.9)), (poor, (0.2, 0, 0.1))):
        pilot.quality, pilot.last_intake_drawn, pilot.clarity = quality, drawn, clarity
    p = model.params
    gap = (p.will_weight_quality * 0.7 + p.will_weight_demand * 1.0 + p.will_weight_margin * 1.0
           + p.will_weight_clarity * 0.8) * (1 - p.will_stress_damping * p.external_stress)
    # margin 1 (revenue 36,000 vs 5,000, balance clipped at +1) against 0 (no revenue, balance -1)
    assert good.school_will() - poor.school_will() == pytest.approx(gap)


def test_other_providers_weigh_quality_satisfaction_and_margin_only():
    model = make_model(48, llo_fee_eur_per_learner=0.0)
    pilot = evaluating_school_pilot(model)
    pilot.take_over(ADULT_ARM)  # an adult run now: fees 0, margin 0
    pilot.quality = 0.6
    model.entrepreneurs[0].commitment[pilot] = 0.4
    p = model.params
    total = p.will_weight_quality + p.will_weight_satisfaction + p.will_weight_margin
    expected = (p.will_weight_quality * 0.6 + p.will_weight_satisfaction * 0.4) / total
    assert pilot.margin() == 0.0
    assert pilot.provider_will() == pytest.approx(expected)


def test_clear_agreements_raise_a_firms_target_commitment():
    """target = 0.2 + 0.3 x agenda + 0.6 x value + 0.2 x hiring - effort + w x (clarity - 0.5); 10% of the gap a month."""
    model = make_model(49, agenda_strength=0.5, firm_weight_clarity=0.1, firm_weight_school_network=0.0)
    firm = model.entrepreneurs[0]
    pilot = evaluating_school_pilot(model)  # runs 1: value = quality
    pilot.quality = 0.5
    pilot.clarity = 1.0
    firm.commitment[pilot] = 0.0
    firm.hiring_value[pilot] = 0.0
    firm.pilots = [pilot]
    firm.update_commitment()
    target = 0.2 + 0.3 * 0.5 + 0.6 * 0.5 + 0.0 - 0.1 + 0.1 * 0.5
    assert firm.commitment[pilot] == pytest.approx(0.1 * target)


# ---------------------------------------------------------------------------------------- turnover in bursts (issue 11)
def test_a_turbulent_school_loses_directors_at_the_turbulent_rate():
    model = make_model(50, management_turnover_rate=0.1, turbulent_turnover_rate=2.0, turbulent_at_start=1.0,
                       turbulence_end_rate=0.0, interim_length_months=0.0)
    months = 30_000
    for _ in range(months):
        model.school.change_management()
    assert model.school.turbulent_months == months
    expected = months * 2.0 / 12
    se = math.sqrt(months * (2.0 / 12) * (1 - 2.0 / 12))
    assert abs(model.school.director_changes - expected) < 4 * se


def test_regimes_alternate_with_the_stationary_share_and_turnover_comes_in_bursts():
    """Share of turbulent months -> onset / (onset + end); yearly departures are over-dispersed.

    With onset 0.6/yr and end 1.8/yr the chain is turbulent a quarter of the time; the long-run
    departure rate is 0.75 x 0.1 + 0.25 x 3 = 0.825/yr.  A constant hazard would give yearly counts
    with variance = mean (Poisson); bursts give a variance well above it.
    """
    model = make_model(51, management_turnover_rate=0.1, turbulent_turnover_rate=3.0, turbulence_onset_rate=0.6,
                       turbulence_end_rate=1.8, interim_length_months=0.0)
    years = 3_000
    per_year = []
    for _ in range(years):
        before = model.school.director_changes
        for _ in range(12):
            model.school.change_management()
        per_year.append(model.school.director_changes - before)
    per_year = np.array(per_year)
    assert abs(model.school.turbulent_months / (12 * years) - 0.25) < 0.03
    assert abs(per_year.mean() - 0.825) < 0.08
    assert per_year.var() > 1.5 * per_year.mean()


# ---------------------------------------------------------------------------------------- targeted monitoring (issue 11)
@pytest.mark.parametrize(
    ("setting", "troubled"),
    [
        ({}, False),
        ({"clarity": 0.1}, False),  # unclear agreements alone are not trouble yet (model v1 flagged them)
        ({"commitment": 0.3, "change": -0.01}, True),  # falling below 0.5
        ({"commitment": 0.3, "change": +0.01}, False),  # low but recovering
        ({"commitment": 0.7, "change": -0.05}, False),  # falling but still committed
        ({"waiting_for": "no room from the school"}, True),  # an agreement not kept
        ({"waiting_for": "no money for the run"}, True),
        ({"waiting_for": "no coaches or learners"}, False),
        ({"waiting_decision": 1}, True),  # a decision vacuum
        ({"unresponsive": 1}, True),
        ({"gave_up": True}, True),
    ],
)
def test_monitoring_flags_real_trouble_only(setting, troubled):
    from sim.agents.cooperative import Cooperative

    model = make_model(52)
    pilot = evaluating_school_pilot(model)
    firm = model.entrepreneurs[0]
    firm.commitment[pilot] = setting.get("commitment", 0.8)
    firm.commitment_change[pilot] = setting.get("change", 0.0)
    firm.unresponsive_months[pilot] = setting.get("unresponsive", 0)
    firm.gave_up_on_school[pilot] = setting.get("gave_up", False)
    pilot.clarity = setting.get("clarity", 1.0)
    pilot.waiting_for = setting.get("waiting_for", "")
    pilot.months_waiting_for_decision = setting.get("waiting_decision", 0)
    assert Cooperative.troubled(pilot) is troubled


def test_a_firm_records_how_its_commitment_moved():
    model = make_model(53)
    firm = model.entrepreneurs[0]
    pilot = evaluating_school_pilot(model)
    firm.pilots = [pilot]
    firm.commitment[pilot] = 1.0  # far above its target: it falls
    firm.update_commitment()
    assert firm.commitment_change[pilot] == pytest.approx(firm.commitment[pilot] - 1.0)
    assert firm.commitment_change[pilot] < 0


def test_after_a_fade_the_cooperative_reflects_and_insists_on_clearer_agreements():
    model = make_model(54, reflection_rate=0.2, intervention_readiness=0.5, clarity_of_financial_agreements=0.4)
    coop = model.cooperative
    pilot = evaluating_school_pilot(model)
    pilot.fade("school not willing")
    assert coop.readiness == pytest.approx(0.5 + 0.2 * 0.5)
    assert coop.insisted_clarity == pytest.approx(0.4 + 0.2 * 0.6)
    new = model.propose_pilot(model.entrepreneurs[1], "simple")
    assert new.clarity == pytest.approx(0.52)
    never_ran = model.propose_pilot(model.entrepreneurs[2], "simple")
    never_ran.fade("never started")  # nothing to learn from a pilot that never ran
    assert coop.reflections == 1 and coop.readiness == pytest.approx(0.6)


# ---------------------------------------------------------------------------------------- structure (issue 11)
def test_a_structural_pilot_costs_the_school_a_share_of_the_run():
    model = make_model(55, structural_cost_share=0.5, cost_per_run_eur=10_000.0)
    pilot = evaluating_school_pilot(model)  # simple: a 5-month run costs 5,000
    pilot.phase = Phase.STRUCTURAL
    plan = model.funding_plan(pilot)
    assert plan == {"subsidy": 0.0, "municipal": 0.0, "firms": 0.0, "school": 0.0, "provider": 0.0,
                    "regular": pytest.approx(2_500.0)}
    before = model.eur_private
    model.commit_funding(pilot, plan)
    assert model.eur_private - before == pytest.approx(2_500.0)
    assert model.school.budget_left_eur == model.params.school_innovation_budget_eur  # not the innovation budget


@pytest.mark.parametrize(("embedding", "ends"), [(0.2, True), (0.3, False)])
def test_a_structural_pilot_ends_when_the_curriculum_no_longer_carries_it(embedding, ends):
    model = make_model(56, structural_exit_embedding=0.25)
    pilot = evaluating_school_pilot(model)
    pilot.phase = Phase.STRUCTURAL
    model.school.embedding_curriculum = embedding
    pilot.finish_run(firm_knowledge=0.5)
    assert (pilot.phase is Phase.FADED) is ends
    assert pilot.last_setback == ("dropped from the regular programme" if ends else "")


def test_structural_constants_are_parameters_in_their_own_group():
    from sim.params import parameter_table

    rows = {row.name: row for row in parameter_table()}
    structure = {name for name, row in rows.items() if row.group == "structure"}
    assert {"commitment_weight_director", "handover_engagement", "unresponsive_threshold", "max_wait_months",
            "unclear_money_loss", "coaches_per_run", "min_learners", "demand_complex", "effort_simple",
            "reputation_decay_after_fade", "revival_commitment", "mediation_clarity_gain",
            "active_tie_threshold", "structural_cost_share", "structural_exit_embedding"} <= structure
    assert not any(rows[name].success_factor for name in structure)


def test_unclear_money_loss_and_handover_engagement_drive_their_rules():
    model = make_model(57, unclear_money_loss=0.8, entrepreneur_willingness_to_pay_eur=1_000.0,
                       handover_engagement=0.9, outside_provider_presence=1.0)
    pilot = evaluating_school_pilot(model)
    firm = model.entrepreneurs[0]
    firm.commitment[pilot] = 0.8
    pilot.clarity = 0.5  # private factor 1 - 0.8 x 0.5 = 0.6
    model.school.budget_left_eur = 0.0
    plan_firms = (1 - 0.8 * 0.5) * 1_000.0 * 0.8
    assert model.funding_plan(pilot) is None  # 480 does not pay 5,000
    pilot.subsidy_months_left = 50
    plan = model.funding_plan(pilot)
    assert plan["firms"] == pytest.approx(min(plan_firms, 5_000.0 - plan["subsidy"]))
    assert not pilot.find_provider()  # engagement 0.8 is below the hand-over threshold 0.9


# ---------------------------------------------------------------------------------------- new mechanisms (issue 11)
def test_a_director_far_ahead_of_the_troops_pulls_them_only_a_little():
    """Each layer moves towards min(leader, own + tolerance): 0.5 x min(1, 0 + 0.3) = 0.15, then 0.5 x 0.15."""
    model = make_model(58, internal_communication=1.0, strategy_transfer_speed=0.5, troops_gap_tolerance=0.3)
    school = model.school
    school.director_commitment, school.middle_management_commitment, school.teacher_commitment = 1.0, 0.0, 0.0
    school.transfer_strategy()
    assert school.middle_management_commitment == pytest.approx(0.15)
    assert school.teacher_commitment == pytest.approx(0.075)


def test_a_director_in_rivalry_passes_nothing_to_middle_management():
    model = make_model(59, internal_communication=1.0, strategy_transfer_speed=0.5, management_rivalry=1.0,
                       troops_gap_tolerance=1.0)
    school = model.school
    school.appoint_director()
    assert school.rivalry
    school.director_commitment, school.middle_management_commitment, school.teacher_commitment = 1.0, 0.4, 0.0
    school.transfer_strategy()
    assert school.middle_management_commitment == 0.4  # the clash blocks the line down
    assert school.teacher_commitment == pytest.approx(0.2)  # middle management still reaches the teachers
    model_calm = make_model(59, management_rivalry=0.0)
    model_calm.school.appoint_director()
    assert not model_calm.school.rivalry


def test_a_deal_made_without_the_cooperative_leaves_it_out_but_a_brokered_one_does_not():
    model = make_model(60, outside_provider_presence=1.0, left_out_loss=0.2, intervention_readiness=0.5)
    pilot = evaluating_school_pilot(model)
    model.entrepreneurs[0].commitment[pilot] = 1.0
    pilot.hand_over_or_fade("school not willing")  # the firms find the adult arm themselves
    assert model.cooperative.readiness == pytest.approx(0.4)
    assert model.cooperative.deals_left_out == 1


def test_a_brokered_hand_over_keeps_the_cooperative_in():
    model = make_model(61, outside_provider_presence=1.0, left_out_loss=0.2, intervention_readiness=1.0,
                       monitoring_level=1.0, cooperative_budget_eur=10_000.0)
    pilot = evaluating_school_pilot(model)
    model.entrepreneurs[0].commitment[pilot] = 0.45  # below the hand-over threshold 0.5 on their own
    pilot.hand_over_or_fade("school not willing")  # brokering lifts it to 0.45 + 0.3 x 0.55 = 0.615
    assert pilot.provider == ADULT_ARM
    assert model.cooperative.readiness == 1.0 and model.cooperative.deals_left_out == 0


@pytest.mark.parametrize(("complexity", "quality", "grows"), [("simple", 0.7, True), ("simple", 0.5, False),
                                                               ("complex", 0.7, True), ("complicated", 0.9, False)])
def test_a_good_pilot_grows_along_its_path(complexity, quality, grows):
    model = make_model(62, growth_chance=1.0, growth_quality=0.6)
    pilot = evaluating_school_pilot(model)
    pilot.complexity = Complexity(complexity)
    pilot.quality = quality
    partners = len(pilot.partners)
    pilot.continue_with(SCHOOL)
    assert pilot.grown == (1 if grows else 0)
    if complexity == "simple":
        assert pilot.complexity == ("complicated" if grows else "simple")
        assert pilot.run_length == (10 if grows else 5)
    if complexity == "complex":
        assert len(pilot.partners) == partners + 1
        assert pilot in pilot.partners[-1].pilots


# ---------------------------------------------------------------------------------------- exact values (issue 11)
def test_run_month_quality_is_adequacy_times_ties_times_fit():
    """q = min(1, coaches x capacity / learners) x (0.6 + 0.4 x tie strength) x (1 - 0.6 x max(0, demand - competence))."""
    model = make_model(63, coaching_capacity=9.0, initial_pilots=0)
    school = model.school
    firm = model.entrepreneurs[0]
    firm.knowledge = 0.7
    pilot = evaluating_school_pilot(model)
    pilot.complexity = Complexity.COMPLEX  # demands 0.8
    teachers = school.teachers[:2]
    teachers[0].expertise, teachers[1].expertise = 0.4, 0.6  # team expertise 0.5, competence 0.6
    pilot.team = [t.key for t in teachers]
    pilot.learners = [model.students[i] for i in range(24)]  # adequacy 18 / 24 = 0.75
    for key in pilot.team:
        model.network.connect(key, firm.key)
    ties = model.network.mean_strength_between(pilot.team, [firm.key])
    pilot.in_run, pilot.run_months_left = True, 10
    pilot.run_month()
    assert pilot.quality == pytest.approx(0.75 * (0.6 + 0.4 * ties) * (1 - 0.6 * (0.8 - 0.6)))


def test_community_elements_exact_for_one_running_school_pilot():
    model = make_model(64, initial_pilots=0, monitoring_level=0.4, meeting_interval_months=3.0)
    assert model.community_elements()["composition"] == 0.0  # nothing live
    pilot = evaluating_school_pilot(model)
    model.entrepreneurs[0].commitment[pilot] = 0.8
    pilot.phase, pilot.in_run, pilot.subsidy_months_left = Phase.RUNNING, True, 6
    elements = model.community_elements()
    assert elements["composition"] == 1.0  # school, committed firm, learners in a run, public money, cooperative
    assert elements["working"] == pytest.approx(model.network.mean_strength() * (0.5 + 0.5 * 0.4))
    assert elements["facilitation"] == pytest.approx(0.5 * (1 / (1 + 3 / 3)) + 0.5 * 1.0)
    assert elements["resilience"] == pytest.approx(model.school.embedding)  # nothing shocked yet
    pilot.shocked = True
    pilot.fade("school not willing")
    assert model.community_elements()["resilience"] == pytest.approx(0.5 * model.school.embedding)


def test_open_call_grants_by_success_rate_and_network_fit():
    model = make_model(65, initial_pilots=0, application_success_rate=1.0, network_proposal_fit=0.0,
                       subsidy_duration_months=12.0)
    firm = model.entrepreneurs[0]
    simple = model.propose_pilot(firm, Complexity.SIMPLE)
    complex_ = model.propose_pilot(firm, Complexity.COMPLEX)
    model.month = 0  # a call month
    model.government.open_call()
    assert model.government.applications == 2 and model.government.grants == 1
    assert simple.subsidy_months_left == 12 and simple.ever_subsidised
    assert complex_.subsidy_months_left == 0  # 'allemaal afgewezen'
    model.month = 1  # no call
    model.government.open_call()
    assert model.government.applications == 2


def test_recruit_learners_exact_for_each_kind_of_run():
    model = make_model(66, initial_pilots=0, student_autonomy=0.0, coaching_capacity=6.0, adult_learners_per_run=8)
    firm = model.entrepreneurs[0]
    adult = model.propose_pilot(firm, Complexity.SIMPLE, target_group=TargetGroup.ADULT, provider=ADULT_ARM)
    adult.school_in_this_run = False
    learners = model.recruit_learners(adult)
    assert len(learners) == 8 and {learner.track.value for learner in learners} == {"LLO"}
    school_pilot = model.propose_pilot(firm, Complexity.SIMPLE, target_group=TargetGroup.INITIAL, provider=SCHOOL)
    school_pilot.school_in_this_run = True
    school_pilot.team = model.school.assign_coaches(school_pilot)
    pupils = model.recruit_learners(school_pilot)  # autonomy 0: everyone picks the agenda, up to 2 x 6
    assert len(pupils) == 12 and all(p.in_pilot and not p.external for p in pupils)
    assert {p.track.value for p in pupils} <= {"BOL", "BBL"}
    rival = model.propose_pilot(firm, Complexity.SIMPLE, target_group=TargetGroup.INITIAL, provider=RIVAL_SCHOOL)
    rival.school_in_this_run = False
    theirs = model.recruit_learners(rival)
    assert len(theirs) == 12 and all(p.external for p in theirs)
    assert not set(theirs) & set(model.students)  # the rival's students are not the school's


# ---------------------------------------------------------------------------------------- the firms' network within the school (issue 12)
def _tie(model, a, b, strength):
    """A tie between a and b with all four proximities at ``strength``."""
    model.network.connect(a, b)
    for dim in ("physical", "cognitive", "organisational", "social"):
        model.network.graph[a][b][dim] = strength


def test_a_firms_network_in_the_school_is_its_strongest_tie_to_a_teacher_still_there():
    model = make_model(51)
    firm = model.entrepreneurs[0]
    other_firm = model.entrepreneurs[1]
    first, second = model.school.teachers[:2]
    assert firm.network_in_school() == 0.0  # no ties yet
    _tie(model, first.key, firm.key, 0.8)
    _tie(model, second.key, firm.key, 0.3)
    _tie(model, other_firm.key, firm.key, 0.9)  # a tie to another firm is no network within the school
    assert firm.network_in_school() == pytest.approx(0.8)
    # the best-tied teacher leaves and takes the tie along ('Als de expert weg was, verdween ook de kennis')
    model.school.teachers.remove(first)
    model.network.remove_person(first.key)
    assert firm.network_in_school() == pytest.approx(0.3)


@pytest.mark.parametrize("provider", [SCHOOL, ADULT_ARM])
def test_a_good_network_in_the_school_raises_commitment_to_a_school_run_pilot_only(provider):
    """target = 0.2 + 0.3 x agenda + 0.6 x value + 0.2 x hiring - effort + w_c x (clarity - 0.5)
    + w_n x (network within the school - 0.5) for a school-run pilot; 10% of the gap a month."""
    model = make_model(52, agenda_strength=0.5, firm_weight_clarity=0.1, firm_weight_school_network=0.2)
    firm = model.entrepreneurs[0]
    pilot = evaluating_school_pilot(model)
    pilot.provider = provider
    pilot.quality = 0.5
    pilot.clarity = 1.0
    firm.commitment[pilot] = 0.0
    firm.hiring_value[pilot] = 0.0
    firm.pilots = [pilot]
    _tie(model, model.school.teachers[0].key, firm.key, 0.9)
    firm.update_commitment()
    target = 0.2 + 0.3 * 0.5 + 0.6 * 0.5 + 0.0 - 0.1 + 0.1 * 0.5
    if provider == SCHOOL:
        target += 0.2 * (0.9 - 0.5)
    assert firm.commitment[pilot] == pytest.approx(0.1 * target)


def test_losing_the_best_tied_teacher_lowers_the_firms_commitment_to_the_school_pilot():
    model = make_model(53)
    firm = model.entrepreneurs[0]
    pilot = evaluating_school_pilot(model)
    firm.pilots = [pilot]
    best = model.school.teachers[0]
    _tie(model, best.key, firm.key, 0.9)
    _tie(model, model.school.teachers[1].key, firm.key, 0.2)
    firm.commitment[pilot] = 0.5
    firm.update_commitment()
    kept = firm.commitment[pilot]
    firm.commitment[pilot] = 0.5
    model.school.teachers.remove(best)
    model.network.remove_person(best.key)
    firm.update_commitment()
    lost = firm.commitment[pilot]
    w = model.params.firm_weight_school_network
    assert kept - lost == pytest.approx(model.params.firm_commitment_adjustment * w * (0.9 - 0.2))
