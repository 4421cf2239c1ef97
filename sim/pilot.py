"""The pilot: a joint learning trajectory of school, entrepreneurs, government and cooperative.

A pilot is a Mesa agent with a lifecycle (model-spec section 2)::

    proposed -> running -> evaluating -> continued -> running -> ... -> structural
                                      \\-> taken over (new provider) -> running -> ...
                                      \\-> faded -> revived -> running ...

Who runs a pilot is its ``provider``: the school's initial education (Terra MBO), the school
group's own adult-education arm (Terra Next), a rival school (Nordwin) or a firm-led provider (the
contractor with a temp agency).  A pilot handed over keeps being simulated with its new provider.
Its *fate* (``fate_class``) combines phase and provider: continued with initial education,
continued by the school group's adult arm, taken over by others, structural, faded.

No fate is scripted: each transition is decided from the partners' states by the rules in the
methods below (``start_run``, ``run_month``, ``decide_continuation``, ``consider_revival``).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

from sim.agents.student import Track

if TYPE_CHECKING:
    from sim.agents.entrepreneur import Entrepreneur
    from sim.agents.student import Student
    from sim.model import LearningCommunityModel


class Phase(str, Enum):
    PROPOSED = "proposed"
    RUNNING = "running"
    EVALUATING = "evaluating"
    CONTINUED = "continued"
    STRUCTURAL = "structural"
    TAKEN_OVER = "taken_over"  # handed to a new provider, waiting for its first run there
    FADED = "faded"
    REVIVED = "revived"


#: Phases in which the pilot still has a future with its current provider.
ALIVE = frozenset(
    {Phase.PROPOSED, Phase.RUNNING, Phase.EVALUATING, Phase.CONTINUED, Phase.TAKEN_OVER, Phase.REVIVED}
)
#: Phases waiting for a start month to begin the next run.
WAITING_TO_START = frozenset({Phase.PROPOSED, Phase.CONTINUED, Phase.TAKEN_OVER, Phase.REVIVED})


class Provider(str, Enum):
    """Who runs a pilot."""

    SCHOOL = "school"  # the school's initial education (Terra MBO)
    ADULT_ARM = "adult_arm"  # the school group's own adult-education arm (Terra Next)
    RIVAL_SCHOOL = "rival_school"  # another agricultural school (Nordwin College)
    FIRM_PROVIDER = "firm_provider"  # a firm-led provider (the contractor with a temp agency)


#: Providers outside the school group: a pilot they run is 'taken over by others'.
OTHERS = frozenset({Provider.RIVAL_SCHOOL, Provider.FIRM_PROVIDER})


class Fate(str, Enum):
    """What became of a started pilot, by phase and provider (the outputs count these)."""

    WITH_INITIAL_EDUCATION = "continued_with_initial_education"
    ADULT_ARM = "continued_by_adult_arm"
    TAKEN_OVER = "taken_over"
    STRUCTURAL = "structural"
    FADED = "faded"

class Complexity(str, Enum):
    """How hard a question is (seed ch. 4: 'enkelvoudig', gecompliceerd, complex)."""

    SIMPLE = "simple"
    COMPLICATED = "complicated"
    COMPLEX = "complex"


class TargetGroup(str, Enum):
    """Whom a pilot teaches."""

    INITIAL = "initial"  # BOL/BBL students: an elective (keuzedeel)
    ADULT = "adult"  # adult (LLO) learners


COMPLEXITIES = tuple(c.value for c in Complexity)
#: Run length in months: a simple question fits one semester (Smart Farming: six sessions in spring),
#: others a school-year elective (Cowcept: a 240-hour keuzedeel over one year).  A calendar fact, not
#: an uncertain constant.
RUN_MONTHS = {Complexity.SIMPLE: 5, Complexity.COMPLICATED: 10, Complexity.COMPLEX: 10}


def complexity_demand(params, complexity: str) -> float:
    """Competence a question of this complexity demands (0-1; ``demand_*``)."""
    return getattr(params, f"demand_{Complexity(complexity).value}")


def effort(params, complexity: str) -> float:
    """A firm's time burden of a pilot of this complexity (0-1 of the commitment scale; ``effort_*``)."""
    return getattr(params, f"effort_{Complexity(complexity).value}")

SCHOOL, ADULT_ARM, RIVAL_SCHOOL, FIRM_PROVIDER = (
    Provider.SCHOOL, Provider.ADULT_ARM, Provider.RIVAL_SCHOOL, Provider.FIRM_PROVIDER
)

#: Learning per run month at quality 1, for each LLO angle (0-1 scale).
LEARNING_PER_MONTH = 0.02
#: Pilot knowledge created per run month at quality 1 (arbitrary units).
KNOWLEDGE_PER_MONTH = 0.05


class Pilot(Agent):
    """One pilot and its state (phase, partners, money, quality, knowledge)."""

    def __init__(
        self,
        model: LearningCommunityModel,
        *,
        partners: list[Entrepreneur],
        complexity: Complexity | str,
        target_group: TargetGroup | str,
        provider: Provider | str,
        clarity: float,
    ):
        super().__init__(model)
        self.index = len(model.pilots)
        self.partners = partners
        self.complexity = Complexity(complexity)
        self.target_group = TargetGroup(target_group)
        self.provider = Provider(provider)
        self.clarity = clarity
        self.phase = Phase.PROPOSED
        self.proposed_month = model.month
        self.ready_since = model.month
        self.room_granted = False
        self.waiting_for = ""
        self.first_run_month = -1
        self.first_provider = ""  # who ran the first run (the first decision is this provider's)
        self.coach_left_month = -1  # first month its best-tied coach left the school during a run
        self.fade_month = -1
        self.runs = 0
        # L1 (Fichman & Levinthal 1991): the pilot's relationships with its providers, one at a time.  The
        # open one is with self.provider and has relation_runs runs; closed ones are "provider:runs:end".
        self.relation_runs = 0
        self.closed_relationships: list[str] = []
        self.revivals = 0
        self.grown = 0  # steps along a growth path (grow)
        self.in_run = False
        self.run_months_left = 0
        self.run_length = RUN_MONTHS[self.complexity]
        self.months_waiting_for_decision = 0
        self.last_setback = ""
        # the first run and the decision after it (the documented cases are about these)
        self.first_run_quality = float("nan")
        self.satisfaction_after_first_run = float("nan")
        self.first_decision = ""
        self.students_drawn = 0
        self.students_drawn_away = 0  # students lost to the rival school running this elective
        self.last_intake_drawn = 0  # students it drew (to the school or away) at the last intake
        self.initial_education_involved = False
        self.school_in_this_run = False
        # money
        self.subsidy_months_left = 0
        self.reserved_plan: dict[str, float] | None = None
        self.mediated = False  # the cooperative intervened since the last decision
        self.subsidy_end_month = -1
        self.funding_end_month = -1  # end of the last run a subsidy could pay (P5)
        self.ever_subsidised = False
        # quality and learning of the current run
        self.quality = 0.0
        self._quality_sum = 0.0
        self._run_month = 0
        self.team: list[object] = []  # teacher keys (school) or a trainer key (adult provider)
        self.learners: list[Student] = []
        self.last_run_learners = 0
        self.reputation = 0.0
        # knowledge (P7): held by external experts vs. embedded in the school's curriculum
        self.knowledge_with_experts = 0.0
        self.knowledge_in_curriculum = 0.0
        # shocks survived (resilience)
        self.shocked = False
        for firm in partners:
            firm.join(self)
        # prior ties (Bruneel, D'Este & Salter 2010): the school's best-tied teacher to the partner firms
        # when the pilot is proposed (no draws; the coach assign_coaches would pick first)
        # (only teachers tied to a partner can be the best tied: the others count 0)
        ties = model.network.strength_to_each([firm.key for firm in partners])
        self.ties_at_proposal = max(
            (strength for key, strength in ties.items() if key in model.school.teacher_by_key), default=0.0
        )

    # ------------------------------------------------------------------ state queries
    @property
    def alive(self) -> bool:
        return self.phase in ALIVE or self.phase is Phase.STRUCTURAL

    @property
    def started(self) -> bool:
        return self.first_run_month >= 0

    @property
    def with_school(self) -> bool:
        """Alive and run by the school (the share 'continued by the school' counts these)."""
        return self.provider == SCHOOL and self.alive and self.started

    def fate_class(self) -> Fate | None:
        """The pilot's fate now (None for a pilot that never ran)."""
        if not self.started:
            return None
        if self.phase is Phase.STRUCTURAL:
            return Fate.STRUCTURAL
        if self.phase is Phase.FADED:
            return Fate.FADED
        if self.provider == SCHOOL:
            return Fate.WITH_INITIAL_EDUCATION
        if self.provider == ADULT_ARM:
            return Fate.ADULT_ARM
        return Fate.TAKEN_OVER

    def engagement(self) -> float:
        """Mean commitment of the partner firms to this pilot (0-1)."""
        if not self.partners:
            return 0.0
        return sum(firm.commitment[self] for firm in self.partners) / len(self.partners)

    # ------------------------------------------------------------------ 4. matching and start
    @property
    def needs_room(self) -> bool:
        """A school-led pilot that never ran needs the school to give its teachers room first."""
        return self.provider == SCHOOL and self.phase is Phase.PROPOSED and not self.room_granted

    def ask_for_room(self) -> None:
        """Each month a proposed school pilot asks the school for teachers' time (process 4).

        Granted with chance = the school's responsiveness, so never during an interim (Cowcept: 'de
        docenten kregen van de toenmalige interim-directie niet voldoende ruimte'); partners keep
        asking until they give up (``give_up_waiting``).
        """
        if self.needs_room and self.model.school.gives_room():
            self.room_granted = True

    def give_up_waiting(self) -> None:
        """A pilot ready to run that has not started within ``max_wait_months`` is given up (process 4):
        engaged firms take it elsewhere, or it fades (``hand_over_or_fade``)."""
        if self.phase in WAITING_TO_START and self.model.month - self.ready_since > self.model.params.max_wait_months:
            self.last_setback = self.waiting_for or "never started"
            self.hand_over_or_fade(self.last_setback)

    def try_start_run(self) -> None:
        """At a start month, find room, money, coaches and learners, and start a run (process 4).

        A school-led pilot's first run needs room from the school (``ask_for_room``).  Every run
        needs a funding plan covering its cost, a coach and at least ``min_learners`` learners.
        What is missing is recorded as the reason the pilot is waiting.
        """
        model = self.model
        school = model.school
        structural = self.phase is Phase.STRUCTURAL
        if self.needs_room:
            self.waiting_for = "no room from the school"
            return
        # Money set aside at a continuation decision, else a plan now (structural: the regular budget).
        plan = self.reserved_plan if self.reserved_plan is not None else model.funding_plan(self)
        if plan is None:
            self.waiting_for = "no money for the run"
            return
        # Initial education may join an adult run of its own group (Samen in het groen: 'als ook
        # Terra met haar initiele opleiding zou aanhaken'), never one of a rival or a firm.
        self.school_in_this_run = self.provider == SCHOOL or structural or (
            self.target_group is TargetGroup.ADULT and self.provider == ADULT_ARM and school.joins_adult_run()
        )
        team = school.assign_coaches(self) if self.school_in_this_run else []
        if self.provider != SCHOOL:
            team = [("trainer", self.index), *team]
            model.network.add_person(team[0])
        self.team = team
        learners = model.recruit_learners(self)
        if not team or len(learners) < model.params.min_learners:
            school.release_coaches(self)
            model.release_learners(learners)
            self.team = []
            self.waiting_for = "no coaches or learners"
            return
        if self.reserved_plan is None:
            model.commit_funding(self, plan)
        self.reserved_plan = None
        self.waiting_for = ""  # nothing missing any more
        self.learners = learners
        if self.school_in_this_run and self.target_group is TargetGroup.ADULT:
            self.initial_education_involved = True
        elif self.provider == SCHOOL and self.target_group is TargetGroup.INITIAL:
            self.initial_education_involved = True
        model.network.work_together(team, [firm.key for firm in self.partners], 0.0)
        if self.first_run_month < 0:
            self.first_run_month = model.month
            self.first_provider = self.provider.value
        if not structural:
            self.phase = Phase.RUNNING
        self.in_run = True
        self.run_months_left = self.run_length
        self._quality_sum = 0.0
        self._run_month = 0
        model.record_participation(self)

    # ------------------------------------------------------------------ 5. running
    def run_month(self) -> None:
        """One month of a running pilot: learning, quality and knowledge (process 5).

        Monthly quality q = coaching adequacy x (0.6 + 0.4 x tie strength team-partners) x fit, where
        coaching adequacy = min(1, coaches x coaching capacity / learners) and fit = 1 - 0.6 x
        max(0, demand - competence) compares the question's complexity with the mean expertise of
        coaches and firms (Carley 1992: learning needs cognitive overlap; seed: 'hoe meer je weet,
        des te beter de vragen die je stelt').  Learners gain 0.02 x q a month on each LLO angle;
        coaches and firms learn too; new pilot knowledge is held by the experts except the share the
        curriculum embedding absorbs (seed: 'als de expert weg was, verdween ook de kennis').
        """
        if not self.in_run:
            return
        model = self.model
        partner_keys = [firm.key for firm in self.partners]
        coaches = len(self.team)
        adequacy = min(1.0, coaches * model.params.coaching_capacity / max(len(self.learners), 1))
        ties = model.network.mean_strength_between(self.team, partner_keys)
        expertise = model.school.team_expertise(self.team)
        firm_knowledge = sum(f.knowledge for f in self.partners) / max(len(self.partners), 1)
        competence = 0.5 * expertise + 0.5 * firm_knowledge
        demand = complexity_demand(model.params, self.complexity)
        fit = 1.0 - 0.6 * max(0.0, demand - competence)
        q = adequacy * (0.6 + 0.4 * ties) * fit
        self._quality_sum += q
        self._run_month += 1
        self.quality = self._quality_sum / self._run_month
        model.network.work_together(self.team, partner_keys, 0.05 * q)
        model.school.coach_learns(self.team, q, firm_knowledge)
        for firm in self.partners:
            firm.learn(q * demand)
        created = KNOWLEDGE_PER_MONTH * q
        absorbed = created * model.school.embedding_curriculum if self.school_in_this_run else 0.0
        self.knowledge_in_curriculum += absorbed
        self.knowledge_with_experts += created - absorbed
        model.knowledge_created += created
        self.run_months_left -= 1
        if self.run_months_left == 0:
            self.finish_run(firm_knowledge)

    def finish_run(self, firm_knowledge: float) -> None:
        """End of a run: learners bank their gains, firms meet future staff, the pilot is evaluated."""
        model = self.model
        autonomy = model.params.student_autonomy
        months = self._run_month
        per_angle = LEARNING_PER_MONTH * self.quality * months
        for learner in self.learners:
            gains = (per_angle, per_angle * firm_knowledge, per_angle * autonomy)
            learner.learn(*gains)
            model.bank_gain("adult_learners" if learner.track is Track.LLO else "students", learner.unique_id, sum(gains))
        hiring_value = 1.0 if self.target_group is TargetGroup.ADULT else 0.5
        for firm in self.partners:
            firm.meet_future_staff(self, hiring_value * len(self.learners))
        model.school.release_coaches(self)
        model.release_learners(self.learners)
        self.last_run_learners = len(self.learners)
        self.learners = []
        self.in_run = False
        self.runs += 1
        self.relation_runs += 1
        if self.ever_subsidised and self.funding_end_month < 0 and self.subsidy_months_left < self.run_length:
            self.funding_end_month = model.month  # the subsidy cannot pay another run
        if self.runs == 1:
            self.first_run_quality = self.quality
            self.satisfaction_after_first_run = self.engagement()
        # An initial-education elective makes a name for whichever school runs it: the school's own
        # draws students to it, the rival's draws them away (Cowcept: 'bij Terra ... (en niet bij Nordwin)').
        in_a_school = self.provider in (SCHOOL, RIVAL_SCHOOL)
        self.reputation = self.quality if self.target_group is TargetGroup.INITIAL and in_a_school else 0.0
        if self.school_in_this_run:
            model.completed_school_runs.append(self.quality)  # embedding follows in process 10
        if self.phase is not Phase.STRUCTURAL:
            self.phase = Phase.EVALUATING
            self.months_waiting_for_decision = 0
        elif model.school.embedding_curriculum < model.params.structural_exit_embedding:
            # a regular programme nobody carries any more is dropped ('Als de expert weg was,
            # verdween ook de kennis')
            self.fade("dropped from the regular programme")

    # ------------------------------------------------------------------ 9. continuation decision
    def decide_continuation(self) -> None:
        """The continuation decision at the end of every run (process 9).

        With the school as provider: during an interim nobody decides (Smart Farming: 'je kunt
        niemand aanwijzen die er wel over gaat'); the pilot waits until the firms' patience runs out.
        Otherwise the pilot continues when (a) the provider wants to (school: chance = its
        will for this pilot, ``school_will``; others: ``provider_will``), (b) a funding plan covers the
        next run, and (c) at least
        one partner firm stays (each with chance = its commitment, none that gave up on the school).  A continued school pilot with enough runs and
        curriculum embedding becomes structural.  If not continued: engaged firms (commitment >= 0.5)
        take it to an adult-education provider or a rival school when one is present; else it fades.
        """
        if self.phase is not Phase.EVALUATING:
            return
        model = self.model
        rng = model.rng
        school = model.school
        if self.provider == SCHOOL and school.in_interim:
            self.months_waiting_for_decision += 1
            if self.months_waiting_for_decision <= model.params.entrepreneur_patience_months:
                return
            reason = "decision vacuum (interim)"
        elif self.provider == SCHOOL and rng.random() >= self.school_will():
            reason = "school not willing"
        elif self.provider != SCHOOL and rng.random() >= self.provider_will():
            reason = "provider not willing"
        elif (plan := model.funding_plan(self)) is None:
            reason = "no money for the next run"
        elif not self.firms_stay():
            reason = "firms disengaged"
        else:
            model.commit_funding(self, plan)  # the money is set aside now, for the next run
            self.reserved_plan = plan
            self.mediated = False
            self.continue_with(self.provider)
            return
        self.last_setback = reason
        self.mediated = False
        self.hand_over_or_fade(reason)

    def revenue_eur(self) -> float:
        """What one run brings its provider in (EUR): the adult learners' fees for an adult run; for an
        elective, a year's per-student funding of the students it drew at the last intake (to the
        school, or away to the rival).  Seed, Smart Farming: 'Terra denkt in kosten per leerling ...
        Daardoor kan de school meer BOL-leerlingen trekken, maar ook meer (BBL)cursisten en
        LLO-deelnemers uit de regio'."""
        p = self.model.params
        if self.target_group is TargetGroup.ADULT:
            return p.llo_fee_eur_per_learner * p.adult_learners_per_run
        return p.student_funding_eur_per_year * self.last_intake_drawn

    def cost_per_learner_eur(self) -> float:
        """The run's external cost per learner of the last run (EUR); the full cost if it had none."""
        return self.model.run_cost(self) / max(len(self.learners) or self.last_run_learners, 1)

    def revenue_per_learner_eur(self) -> float:
        """What the last run's learners bring in, per learner (EUR; ``revenue_eur`` / learners)."""
        return self.revenue_eur() / max(len(self.learners) or self.last_run_learners, 1)

    def margin(self) -> float:
        """Revenue against cost per learner on a 0-1 scale: 0.5 at break-even, 0 (1) at a loss (profit)
        as large as the cost: 0.5 + 0.5 x clip((revenue - cost) / cost, -1, 1)."""
        cost = self.cost_per_learner_eur()
        if cost <= 0.0:
            return 1.0
        balance = (self.revenue_per_learner_eur() - cost) / cost
        return 0.5 + 0.5 * min(1.0, max(-1.0, balance))

    def demand(self) -> float:
        """Students the elective drew at the last intake, against the number that makes the school seek
        contact again: min(1, drawn / ``revival_student_threshold``) (0-1)."""
        threshold = self.model.params.revival_student_threshold
        return min(1.0, self.last_intake_drawn / threshold) if threshold > 0 else 1.0

    def school_will(self) -> float:
        """The school's will to continue this pilot (0-1): what the partners weigh, weighted.

        will = (1 - ``will_stress_damping`` x stress) x weighted mean of the school's commitment, the
        last run's quality, the firms' satisfaction (mean commitment), demand (``demand``), the
        revenue-against-cost margin (``margin``), the clarity of the agreements and the curriculum
        embedding, with weights ``will_weight_*``.  After a mediation by the cooperative the decision
        is taken on the agreements: the will closes half its gap to the pilot's clarity when that is
        higher (Smart Farming: 'een faciliterende partij die vroegtijdig ingrijpt wanneer afspraken
        niet worden nagekomen').
        """
        model = self.model
        p = model.params
        school = model.school
        terms = (
            (p.will_weight_commitment, school.commitment()),
            (p.will_weight_quality, self.quality),
            (p.will_weight_satisfaction, self.engagement()),
            (p.will_weight_demand, self.demand()),
            (p.will_weight_margin, self.margin()),
            (p.will_weight_clarity, self.clarity),
            (p.will_weight_embedding, school.embedding_curriculum),
        )
        total = sum(weight for weight, _ in terms)
        case = sum(weight * value for weight, value in terms) / total if total > 0 else 0.0
        will = (1.0 - p.will_stress_damping * p.external_stress) * case
        if self.mediated:
            will += p.mediation_will_pull * max(0.0, self.clarity - will)
        return will

    def provider_will(self) -> float:
        """Another provider's will to continue (0-1): the weighted mean of the last run's quality, the
        firms' satisfaction and the margin, with the school's weights for these (a provider without
        a regional strategy weighs only the pilot: Smart Farming's follow-up by Terra Next and the
        temp agency rests on 'kandidaten voor nascholing')."""
        p = self.model.params
        terms = (
            (p.will_weight_quality, self.quality),
            (p.will_weight_satisfaction, self.engagement()),
            (p.will_weight_margin, self.margin()),
        )
        total = sum(weight for weight, _ in terms)
        return sum(weight * value for weight, value in terms) / total if total > 0 else 1.0

    def firms_stay(self) -> bool:
        """Whether at least one partner firm stays on (Entrepreneur.stays_with); all firms are asked."""
        return sum(firm.stays_with(self) for firm in self.partners) > 0

    def continue_with(self, provider: str) -> None:
        """Continue with ``provider``; a school pilot repeated often and embedded enough becomes structural."""
        params = self.model.params
        self.provider = provider
        self.grow()
        if (
            provider == SCHOOL
            and self.runs >= params.structural_runs_required
            and self.model.school.embedding_curriculum >= params.structural_embedding_threshold
        ):
            self.phase = Phase.STRUCTURAL
        else:
            self.phase = Phase.CONTINUED
            self.ready_since = self.model.month
        self._note_first_decision()

    def grow(self) -> None:
        """Along one of the two growth paths, a continued pilot whose last run reached
        ``growth_quality`` grows with chance ``growth_chance``: a simple one scales up to complicated
        (a longer run that demands more), a complex one widens with another partner firm.  Seed, ch. 4:
        'beginnen met enkelvoudige vraagstukken en eenvoudige vragen en dan middels iteratieslagen
        uitbouwen' or 'beginnen met complexe vaagstukken en advanced skills op hele kleine schaal en dan
        middels iteratieslagen uitbreiden'."""
        p = self.model.params
        if self.quality < p.growth_quality or self.complexity is Complexity.COMPLICATED:
            return
        if self.model.rng.random() >= p.growth_chance:
            return
        if self.complexity is Complexity.SIMPLE:
            self.complexity = Complexity.COMPLICATED
            self.run_length = RUN_MONTHS[Complexity.COMPLICATED]
        else:
            others = [firm for firm in self.model.entrepreneurs if firm not in self.partners]
            if not others:
                return
            firm = others[int(self.model.rng.integers(len(others)))]
            self.partners.append(firm)
            firm.join(self)
        self.grown += 1

    def hand_over_or_fade(self, reason: str) -> None:
        """Engaged firms look for another provider (Smart Farming: Terra Next; Nordwin waiting); if they
        find none, the cooperative may step in and broker one (``Cooperative.broker_provider``); a deal
        made without it leaves it out (``Cooperative.left_out_of_deal``).  A pilot that never ran has
        nothing to hand over: it fades."""
        if not self.started:
            self.fade(reason)
        elif self.find_provider():
            self.model.cooperative.left_out_of_deal()  # the firms made the deal without it
        elif not (self.model.cooperative.broker_provider(self) and self.find_provider()):
            self.fade(reason)

    def find_provider(self) -> bool:
        """With firms engaged (mean commitment >= ``handover_engagement``), the school group's adult arm takes the pilot on
        with chance ``outside_provider_presence``, else a rival school with ``rival_school_presence``,
        else a firm-led provider with ``firm_provider_presence`` (Smart Farming: 'een afspraak ...
        tussen Terra Next, het loonbedrijf en een (cooperatief!) agrarisch uitzendbureau'; 'als Terra
        de bal niet intrapt, neemt Nordwin hem over')."""
        rng = self.model.rng
        params = self.model.params
        if self.engagement() < params.handover_engagement:
            return False
        for provider, presence in (
            (ADULT_ARM, params.outside_provider_presence),
            (RIVAL_SCHOOL, params.rival_school_presence),
            (FIRM_PROVIDER, params.firm_provider_presence),
        ):
            if self.provider != provider and rng.random() < presence:
                self.take_over(provider)
                return True
        return False

    def take_over(self, provider: Provider) -> None:
        """A new provider takes the pilot on; it starts its next run there when it can (process 4).

        The school's elective no longer carries the school's name: its reputation is reset (a rival
        school builds its own with its first run, see ``finish_run``).
        """
        self._close_relationship("handed_over")
        self.provider = Provider(provider)
        if self.provider in (ADULT_ARM, FIRM_PROVIDER):
            self.target_group = TargetGroup.ADULT  # they run it as post-initial education ('postinitieel onderwijs')
        self.phase = Phase.TAKEN_OVER
        self.ready_since = self.model.month
        self.reputation = 0.0
        self.release()
        self._note_first_decision()

    def fade(self, reason: str) -> None:
        self._close_relationship("faded")
        self.last_setback = reason
        self.phase = Phase.FADED
        self.fade_month = self.model.month
        self.release()
        self._note_first_decision()
        self.model.cooperative.reflect_on_fade(self)
        self.model.track_pilot(self)

    def _close_relationship(self, end: str) -> None:
        """The relationship with the current provider ends ('handed_over' or 'faded'); the next one, if any
        (a hand-over, a revival), starts at 0 runs."""
        self.closed_relationships.append(f"{self.provider.value}:{self.relation_runs}:{end}")
        self.relation_runs = 0

    def relationships(self) -> str:
        """Every relationship of the pilot with one provider, in order, as "provider:runs:end" joined by ";";
        the open one (not faded) ends in the phase at the horizon."""
        entries = list(self.closed_relationships)
        if self.phase is not Phase.FADED:
            entries.append(f"{self.provider.value}:{self.relation_runs}:{self.phase.value}")
        return ";".join(entries)

    def release(self) -> None:
        """The pilot leaves its current hands: free its coaches and learners, stop any run."""
        self.model.school.release_coaches(self)
        self.model.release_learners(self.learners)
        self.learners = []
        self.in_run = False

    def lose_coach(self, key: tuple[str, int]) -> None:
        """A coaching teacher left the school (School.replace_teachers).  The first teacher of the team is
        the one best tied to the firms (``School.assign_coaches``); the first month such a coach leaves
        during a run is recorded (``coach_left_month``: 'Als de expert weg was, verdween ook de kennis')."""
        teachers = [k for k in self.team if k[0] == "teacher"]
        if teachers and key == teachers[0] and self.coach_left_month < 0:
            self.coach_left_month = self.model.month
        self.team.remove(key)

    def receive_subsidy(self, months: int) -> None:
        """A grant (Government.grant) pays for ``months`` from now."""
        self.subsidy_months_left = months
        self.ever_subsidised = months > 0

    def clarify_agreements(self, share: float) -> None:
        """A mediation: the agreements' clarity closes ``share`` of its gap, and the school's next
        decision is held to them (``school_will``)."""
        self.clarity += share * (1.0 - self.clarity)
        self.mediated = True

    def _note_first_decision(self) -> None:
        """Remember what happened after the first run (continued, structural, continued_by_adult_arm,
        taken_over, faded)."""
        if self.runs >= 1 and not self.first_decision:
            if self.phase is Phase.TAKEN_OVER:
                self.first_decision = (
                    Fate.ADULT_ARM.value if self.provider == ADULT_ARM else Fate.TAKEN_OVER.value
                )
            else:
                self.first_decision = self.phase.value

    # ------------------------------------------------------------------ 11. revival by demand
    def draw_students(self, base_intake: int) -> int:
        """Students who enrol because of this pilot's distinctive elective (process 11); negative when
        the rival school runs it and they enrol there instead.

        Binomial(base intake, elective draw share x reputation); reputation is the last run's quality
        of an initial-education elective run by a school, reset when the pilot changes provider, and
        halving at every intake after the pilot faded (the first intake after a fade still draws at
        full reputation: those students chose while it ran).  Seed, Cowcept: students enrolled
        'speciaal vanwege dit keuzedeel bij Terra ... (en niet bij Nordwin)'.
        """
        self.last_intake_drawn = 0
        if self.reputation <= 0.0:
            return 0
        p = self.model.params.elective_draw_share * self.reputation
        drawn = int(self.model.rng.binomial(base_intake, min(p, 1.0)))
        self.last_intake_drawn = drawn
        if self.phase is Phase.FADED:
            # this year's applicants still saw it running; next year's less so
            self.reputation *= self.model.params.reputation_decay_after_fade
        if self.provider == RIVAL_SCHOOL:
            self.students_drawn_away += drawn
            return -drawn
        self.students_drawn += drawn
        return drawn

    def consider_revival(self, drawn: int) -> None:
        """A faded elective that drew enough students makes the school seek contact again (P3).

        Revived when the school is not in an interim, is willing (chance = ``school_will``) and at
        least one former partner still cares (commitment > ``revival_commitment``).
        """
        if self.phase is not Phase.FADED or self.provider != SCHOOL:
            return
        if drawn < self.model.params.revival_student_threshold:
            return
        school = self.model.school
        if school.in_interim or self.model.rng.random() >= self.school_will():
            return
        threshold = self.model.params.revival_commitment
        if not any(firm.commitment.get(self, 0.0) > threshold for firm in self.partners):
            return
        for firm in self.partners:
            firm.rejoin(self)
        self.provider = SCHOOL
        self.phase = Phase.REVIVED
        self.revivals += 1
        self.ready_since = self.model.month
        self.model.track_pilot(self)

    # ------------------------------------------------------------------ 8. subsidy clock
    def count_down_subsidy(self) -> None:
        """A subsidy pays for a fixed number of months and then stops (process 8)."""
        if self.subsidy_months_left > 0:
            self.subsidy_months_left -= 1
            if self.subsidy_months_left == 0:
                self.subsidy_end_month = self.model.month
                if self.alive:
                    self.shocked = True
                self.model.track_pilot(self)

    def record(self) -> dict[str, object]:
        """The per-pilot record of model outputs (PILOT_FIELDS)."""
        end = self.fade_month if self.fade_month >= 0 else self.model.month + 1
        return {
            "pilot_id": self.index,
            "target_group": self.target_group.value,
            "complexity": self.complexity.value,
            "provider": self.provider.value,
            "fate": self.phase.value,
            "fate_class": fate.value if (fate := self.fate_class()) is not None else "",
            "months_alive": max(0, end - self.first_run_month) if self.started else 0,
            "runs": self.runs,
            "proposed_month": self.proposed_month,
            "first_run_month": self.first_run_month,
            "first_provider": self.first_provider,
            "fade_month": self.fade_month,
            "subsidy_end_month": self.subsidy_end_month,
            "funding_end_month": self.funding_end_month,
            "revivals": self.revivals,
            "last_setback": self.last_setback,
            "initial_education_involved": self.initial_education_involved,
            "first_run_quality": self.first_run_quality,
            "satisfaction_after_first_run": self.satisfaction_after_first_run,
            "first_decision": self.first_decision,
            "students_drawn": self.students_drawn,
            "students_drawn_away": self.students_drawn_away,
            "ties_at_proposal": self.ties_at_proposal,
            "coach_left_month": self.coach_left_month,
            "relationships": self.relationships(),
        }


def draw_complexity(rng: np.random.Generator, simple_share: float, complex_share: float) -> Complexity:
    """A question's complexity from the simple/complex shares (the rest complicated)."""
    u = rng.random()
    if u < simple_share:
        return Complexity.SIMPLE
    if u < simple_share + complex_share:
        return Complexity.COMPLEX
    return Complexity.COMPLICATED
