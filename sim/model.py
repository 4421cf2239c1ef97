"""LearningCommunityModel: the region as a Mesa 3 model with a monthly schedule of twelve processes."""

from __future__ import annotations

import numpy as np
from mesa import Agent, Model

from sim.agents import Cooperative, Entrepreneur, Government, School, Student
from sim.agents.student import Track
from sim.network import TieNetwork
from sim.outcomes import RunOutcome, SERIES_FIELDS, summarise
from sim.pilot import (
    ADULT_ARM, ALIVE, RIVAL_SCHOOL, SCHOOL, WAITING_TO_START, Complexity, Fate, Phase, Pilot, Provider, TargetGroup,
    draw_complexity,
)
from sim.params import Params

#: Month of the school year (0 = September) at which year-long and first-semester runs start.
SEPTEMBER = 0
#: Month of the school year at which second-semester (simple) runs start.
FEBRUARY = 5
#: Month of the school year at which next year's intake is settled.
AUGUST = 11
#: A year-long run (10 months) costs ``cost_per_run_eur``; shorter runs cost pro rata.
REFERENCE_RUN_MONTHS = 10


class LearningCommunityModel(Model):
    """A region with one school, entrepreneurs, students, a government and an area cooperative.

    Flat keyword arguments override the defaults of :class:`sim.params.Params`; ``rng`` is anything
    ``numpy.random.default_rng`` accepts (an int or a ``SeedSequence``) and is the run's only
    source of randomness (``self.rng``; Mesa derives ``self.random`` from it).
    """

    def __init__(self, *, rng=None, params: Params | None = None, **parameters):
        super().__init__(rng=rng)
        if params is None:
            params = Params(**parameters)
        elif parameters:
            params = params.model_copy(update=parameters)
            params = Params(**params.model_dump())
        self.params = params
        p = params
        self.month = 0
        self.network = TieNetwork(
            {
                "physical": p.initial_physical_proximity,
                "cognitive": p.initial_cognitive_proximity,
                "organisational": p.initial_organisational_proximity,
                "social": p.initial_social_proximity,
            },
            meeting_gain=p.meeting_tie_gain,
            decay_per_month=p.tie_decay_per_month,
            active_threshold=p.active_tie_threshold,
        )
        self.pilots: list[Pilot] = []
        self.school = School(self)
        self.government = Government(self)
        self.cooperative = Cooperative(self)
        # Cached lists: indexing an AgentSet builds a list on every call in Mesa 3.3.
        self.entrepreneurs = [Entrepreneur(self) for _ in range(p.entrepreneur_count)]
        self.students: list[Student] = []
        self.completed_school_runs: list[float] = []
        self.knowledge_created = 0.0
        self.eur_public = 0.0
        self.eur_private = 0.0
        self.gains: dict[str, dict[object, float]] = {
            "students": {}, "adult_learners": {}, "teachers": {}, "entrepreneurs": {}
        }
        self.intake = p.bol_intake_per_year + p.bbl_intake_per_year
        self.continued_by_school_at_year: dict[int, float] = {}
        self.series = {name: np.zeros(p.horizon_months) for name in SERIES_FIELDS}
        self._enrol_initial_cohorts()
        self._propose_initial_pilots()

    # ================================================================== schedule
    def step(self) -> None:
        """One month: the twelve processes of model-spec section 3, in order."""
        self.turnover()  # 1
        self.transfer_strategy()  # 2
        self.raise_agenda()  # 3
        self.match_pilots()  # 4
        self.run_pilots()  # 5
        self.update_commitment()  # 6
        self.monitor_and_intervene()  # 7
        self.fund()  # 8
        self.decide_continuations()  # 9
        self.embed()  # 10
        self.enrol()  # 11
        self.collect()  # 12
        self.month += 1

    def turnover(self) -> None:
        """1. Director and teacher turnover (School.change_management, School.replace_teachers)."""
        self.school.change_management()
        self.school.replace_teachers()

    def transfer_strategy(self) -> None:
        """2. Strategy transfer inside the school (School.transfer_strategy)."""
        self.school.transfer_strategy()

    def raise_agenda(self) -> None:
        """3. Ties decay; the community meets; firms raise questions; the cooperative sets the agenda."""
        self.network.decay()
        self.cooperative.convene_meeting()
        self.agents_by_type[Entrepreneur].shuffle_do("raise_question")
        self.cooperative.set_agenda()

    def match_pilots(self) -> None:
        """4. Proposed pilots ask for room; at a start month ready pilots look for money, coaches and
        learners (Pilot.ask_for_room, Pilot.try_start_run); pilots waiting too long give up."""
        school_month = self.month % 12
        for pilot in self._shuffled(self.pilots):
            pilot.ask_for_room()
            if pilot.in_run or school_month not in (SEPTEMBER, FEBRUARY):
                continue
            if school_month == FEBRUARY and pilot.run_length > FEBRUARY:
                continue  # only semester runs fit in the second half of the school year
            if pilot.phase in WAITING_TO_START or pilot.phase is Phase.STRUCTURAL:
                pilot.try_start_run()
        for pilot in self.pilots:
            pilot.give_up_waiting()

    def run_pilots(self) -> None:
        """5. Running pilots produce learning, quality and knowledge (Pilot.run_month)."""
        self.agents_by_type[Pilot].shuffle_do("run_month")

    def update_commitment(self) -> None:
        """6. Firms weigh value against effort and lose patience (Entrepreneur.update_commitment)."""
        self.agents_by_type[Entrepreneur].shuffle_do("update_commitment")

    def monitor_and_intervene(self) -> None:
        """7. The cooperative monitors and intervenes early (Cooperative.monitor_and_intervene)."""
        self.cooperative.monitor_and_intervene()

    def fund(self) -> None:
        """8. Budget years start in September; subsidy clocks run down; calls open (Government.open_call)."""
        if self.month % 12 == SEPTEMBER:
            self.school.start_budget_year()
            self.government.start_budget_year()
            self.cooperative.start_budget_year()
        for pilot in self.pilots:
            pilot.count_down_subsidy()
        self.government.open_call()

    def decide_continuations(self) -> None:
        """9. Pilots whose run ended are continued, made structural, taken over or faded."""
        self.agents_by_type[Pilot].shuffle_do("decide_continuation")

    def embed(self) -> None:
        """10. Runs with the school raise embedding; a school without pilots of its own loses it."""
        for quality in self.completed_school_runs:
            self.school.embed_run(quality)
        self.completed_school_runs.clear()
        if not any(pilot.with_school for pilot in self.pilots):
            self.school.erode_embedding()

    def enrol(self) -> None:
        """11. In August the next school year's intake is settled (demography + distinctive electives).

        Base intake = initial intake x (1 + demographic_trend) ** year; each pilot with a reputation
        draws extra students (Pilot.draw_students) - one run by the rival school draws them away
        from the school's BOL intake - and a faded one may be revived by them (Pilot.consider_revival).
        Graduates leave.
        """
        if self.month % 12 != AUGUST:
            return
        p = self.params
        year = self.month // 12 + 1
        factor = (1.0 + p.demographic_trend) ** year
        bol = int(round(p.bol_intake_per_year * factor))
        bbl = int(round(p.bbl_intake_per_year * factor))
        for student in [s for s in self.students if s.has_graduated(year)]:
            self.students.remove(student)
            student.remove()
        drawn_to_school = 0
        drawn_away = 0
        for pilot in self.pilots:
            drawn = pilot.draw_students(bol)  # negative: they enrol at the rival school instead
            if drawn >= 0:
                drawn_to_school += drawn
                self.students.extend(Student(self, Track.BOL, year, drawn_by=pilot.index) for _ in range(drawn))
            else:
                drawn_away -= drawn
            pilot.consider_revival(drawn)
        # students the rival's electives draw away come out of the school's own BOL intake
        bol = max(0, bol - drawn_away)
        self.students.extend(Student(self, Track.BOL, year) for _ in range(bol))
        self.students.extend(Student(self, Track.BBL, year) for _ in range(bbl))
        self.intake = bol + bbl + drawn_to_school

    def collect(self) -> None:
        """12. Record this month's series into preallocated arrays (cheaper than a DataCollector)."""
        t = self.month
        series = self.series
        for pilot in self.pilots:
            series[f"phase_{pilot.phase.value}"][t] += 1
        alive_with_school = sum(1 for pilot in self.pilots if pilot.with_school)
        started = sum(1 for pilot in self.pilots if pilot.started)
        series["pilots_started"][t] = started
        series["alive_with_school"][t] = alive_with_school
        fates = [pilot.fate_class() for pilot in self.pilots]
        series["with_adult_arm"][t] = sum(1 for fate in fates if fate is Fate.ADULT_ARM)
        series["taken_over_by_others"][t] = sum(1 for fate in fates if fate is Fate.TAKEN_OVER)
        series["school_commitment"][t] = self.school.commitment()
        series["embedding"][t] = self.school.embedding
        series["interim"][t] = 1.0 if self.school.in_interim else 0.0
        elements = self.community_elements()
        for name, value in elements.items():
            series[name][t] = value
        series["intake"][t] = self.intake
        series["community_size"][t] = self.network.community_size()
        if (t + 1) % 12 == 0:
            self.continued_by_school_at_year[(t + 1) // 12] = (
                alive_with_school / started if started else float("nan")
            )

    # ================================================================== services for agents
    def add_pilot(self, pilot: Pilot) -> None:
        self.pilots.append(pilot)

    def propose_pilot(
        self,
        firm: Entrepreneur,
        complexity: Complexity | str,
        *,
        target_group: TargetGroup | str | None = None,
        provider: Provider | None = None,
    ) -> Pilot:
        """The one pilot factory: a firm's question becomes a proposed pilot (processes 3 and set-up).

        A complex question recruits a second firm (communities need several owners).  Unless given,
        the pilot aims at adult learners with chance ``adult_pilot_share``, and an adult pilot is led
        by the school group's adult arm (Terra Next) with chance ``outside_provider_presence``, else by
        the school.  Agreements start at the clarity the cooperative insists on
        (``clarity_of_financial_agreements``, raised by reflection: ``Cooperative.reflect_on_fade``).
        """
        p = self.params
        partners = [firm]
        if complexity == Complexity.COMPLEX:
            other = self.random_entrepreneur(exclude=firm)
            if other is not None:
                partners.append(other)
        if target_group is None:
            target_group = TargetGroup.ADULT if self.rng.random() < p.adult_pilot_share else TargetGroup.INITIAL
        if provider is None:
            adult_arm = TargetGroup(target_group) is TargetGroup.ADULT and self.rng.random() < p.outside_provider_presence
            provider = ADULT_ARM if adult_arm else SCHOOL
        pilot = Pilot(
            self, partners=partners, complexity=complexity, target_group=target_group, provider=provider,
            clarity=self.cooperative.insisted_clarity,
        )
        self.add_pilot(pilot)
        return pilot

    def alive_pilot_count(self) -> int:
        return sum(1 for pilot in self.pilots if pilot.phase in ALIVE)

    def random_entrepreneur(self, exclude: Entrepreneur | None = None) -> Entrepreneur | None:
        candidates = [firm for firm in self.entrepreneurs if firm is not exclude]
        if not candidates:
            return None
        return candidates[int(self.rng.integers(len(candidates)))]

    def mark_shock(self) -> None:
        """A director change is a shock to every live pilot that has run (for resilience)."""
        for pilot in self.pilots:
            if pilot.started and pilot.phase in ALIVE:
                pilot.shocked = True

    def run_cost(self, pilot: Pilot) -> float:
        return self.params.cost_per_run_eur * pilot.run_length / REFERENCE_RUN_MONTHS

    def funding_plan(self, pilot: Pilot) -> dict[str, float] | None:
        """Who pays the next run, or None when its cost cannot be covered.

        In order: the subsidy (``subsidy_share`` of the cost, pro rata for the months it still pays),
        the municipality (adult runs), the firms (willingness x commitment), and for the school's
        own pilots the school (willingness x innovation budget left); another provider pays up to
        what the run's learners bring it in (``Pilot.revenue_eur``).  Private contributions are
        scaled by 1 - ``unclear_money_loss`` x (1 - clarity): without clear agreements 40% of
        them are lost in debate (Smart Farming: 'discussies over de kosten').  Structural pilots cost
        ``structural_cost_share`` of a run, paid from the school's regular budget (booked as private).
        """
        cost = self.run_cost(pilot)
        plan = {"subsidy": 0.0, "municipal": 0.0, "firms": 0.0, "school": 0.0, "provider": 0.0, "regular": 0.0}
        if pilot.phase is Phase.STRUCTURAL:
            plan["regular"] = self.params.structural_cost_share * cost  # the school's regular budget
            return plan
        remaining = cost
        if pilot.subsidy_months_left > 0:
            coverage = min(1.0, pilot.subsidy_months_left / pilot.run_length)
            plan["subsidy"] = min(remaining, cost * self.params.subsidy_share * coverage)
            remaining -= plan["subsidy"]
        plan["municipal"] = min(remaining, self.government.municipal_offer_eur(pilot))
        remaining -= plan["municipal"]
        private_factor = 1.0 - self.params.unclear_money_loss * (1.0 - pilot.clarity)
        firms = private_factor * sum(firm.contribution_eur(pilot) for firm in pilot.partners)
        plan["firms"] = min(remaining, firms)
        remaining -= plan["firms"]
        if pilot.provider == SCHOOL:
            plan["school"] = min(remaining, private_factor * self.school.offer_eur())
            remaining -= plan["school"]
        else:
            # another provider pays what the run's learners bring it (fees, per-student funding)
            offer = pilot.revenue_eur()
            if pilot.provider == RIVAL_SCHOOL:
                # a similar school with a similar budget (assumption: 'een andere aoc')
                offer += self.params.school_cofunding_willingness * self.params.school_innovation_budget_eur
            plan["provider"] = min(remaining, offer)
            remaining -= plan["provider"]
        return plan if remaining <= 1e-9 else None

    def commit_funding(self, pilot: Pilot, plan: dict[str, float]) -> None:
        """Book a run's funding plan against the budgets and the public/private totals."""
        self.government.spend_municipal(plan["municipal"])
        self.school.spend(plan["school"])
        self.eur_public += plan["subsidy"] + plan["municipal"]
        self.eur_private += plan["firms"] + plan["school"] + plan["provider"] + plan["regular"]

    def recruit_learners(self, pilot: Pilot) -> list[Student]:
        """Learners for a run: new adult learners for adult pilots; the rival's own students for an
        elective it runs; initial students who pick agenda items (Student.chooses_agenda_item) up to
        the coaches' capacity when the school takes part."""
        learners: list[Student] = []
        year = self.month // 12
        if pilot.target_group is TargetGroup.ADULT:
            learners = [Student(self, Track.LLO, year) for _ in range(self.params.adult_learners_per_run)]
        elif pilot.provider == RIVAL_SCHOOL:
            # the rival runs the elective with its own students, a group as large as two coaches take
            size = int(self.params.coaches_per_run * self.params.coaching_capacity)
            learners = [Student(self, Track.BOL, year, external=True) for _ in range(size)]
        if pilot.school_in_this_run:
            coaches = sum(1 for key in pilot.team if key[0] == "teacher")
            capacity = int(coaches * self.params.coaching_capacity)
            initial: list[Student] = []
            for student in self._shuffled(self.students):
                if len(initial) >= capacity:
                    break
                if not student.in_pilot and student.chooses_agenda_item():
                    initial.append(student)
            learners += initial
        for learner in learners:
            learner.join_pilot()
        return learners

    def release_learners(self, learners: list[Student]) -> None:
        for learner in learners:
            learner.leave_pilot()
            if learner.track is Track.LLO or learner.external:
                learner.remove()  # adult learners leave (and are hired), the rival's go back there

    def record_participation(self, pilot: Pilot) -> None:
        """Register everyone in a starting run as an LLO participant (gains are added as they learn)."""
        for learner in pilot.learners:
            group = "adult_learners" if learner.track is Track.LLO else "students"
            self.gains[group].setdefault(learner.unique_id, 0.0)
        for key in pilot.team:
            if key[0] == "teacher":
                self.gains["teachers"].setdefault(key, 0.0)
        for firm in pilot.partners:
            self.gains["entrepreneurs"].setdefault(firm.key, 0.0)

    def bank_gain(self, group: str, participant: object, amount: float) -> None:
        if participant in self.gains[group]:
            self.gains[group][participant] += amount

    # ================================================================== measures
    def community_elements(self) -> dict[str, float]:
        """The four elements of the community-learning model (seed ch. 4), each 0-1.

        composition: share of the five actor kinds active in live pilots (school, committed firms,
          learners, public money, the cooperative);
        working: mean tie strength x (0.5 + 0.5 x monitoring level) (social capital and reflection);
        facilitation: 0.5 x meeting rhythm (1 / (1 + interval / 3 months)) + 0.5 x share of live
          pilots that are running or structural (people, place and money in use);
        resilience: 0.5 x school embedding + 0.5 x share of shocked pilots still going (director
          change or subsidy end survived); the embedding alone while nothing was shocked.
        """
        p = self.params
        live = [pilot for pilot in self.pilots if pilot.alive]
        kinds = 0
        if live:
            kinds += any(pilot.provider == SCHOOL or pilot.school_in_this_run for pilot in live)
            kinds += any(pilot.engagement() >= 0.5 for pilot in live)
            kinds += any(pilot.in_run for pilot in live)
            kinds += any(pilot.subsidy_months_left > 0 for pilot in live) or (
                p.municipal_participation_budget_eur > 0 and any(pilot.target_group is TargetGroup.ADULT for pilot in live)
            )
            kinds += self.cooperative.budget_left_eur > 0
        composition = kinds / 5.0
        working = self.network.mean_strength() * (0.5 + 0.5 * p.monitoring_level)
        rhythm = 1.0 / (1.0 + p.meeting_interval_months / 3.0)
        in_use = sum(1 for pilot in live if pilot.in_run or pilot.phase is Phase.STRUCTURAL) / len(live) if live else 0.0
        facilitation = 0.5 * rhythm + 0.5 * in_use
        shocked = [pilot for pilot in self.pilots if pilot.shocked]
        if shocked:
            survived = sum(1 for pilot in shocked if pilot.alive) / len(shocked)
            resilience = 0.5 * self.school.embedding + 0.5 * survived
        else:
            resilience = self.school.embedding
        return {"composition": composition, "working": working, "facilitation": facilitation, "resilience": resilience}

    # ================================================================== set-up helpers
    def _enrol_initial_cohorts(self) -> None:
        p = self.params
        for cohort in (-2, -1, 0):
            self.students.extend(Student(self, Track.BOL, cohort) for _ in range(p.bol_intake_per_year))
        for cohort in (-1, 0):
            self.students.extend(Student(self, Track.BBL, cohort) for _ in range(p.bbl_intake_per_year))

    def _propose_initial_pilots(self) -> None:
        """The pilots on the table at the start, funded by the running programme (RIF 2014); with chance
        ``initial_room_granted`` the programme has also arranged the school's room for the first run."""
        p = self.params
        for _ in range(p.initial_pilots):
            if not self.entrepreneurs:
                break
            firm = self.entrepreneurs[int(self.rng.integers(len(self.entrepreneurs)))]
            complexity = draw_complexity(self.rng, p.simple_question_share, p.complex_question_share)
            pilot = self.propose_pilot(firm, complexity)
            self.government.grant(pilot)
            # the programme may have arranged the teachers' time already (no draw when it never does)
            if p.initial_room_granted > 0.0 and self.rng.random() < p.initial_room_granted:
                pilot.room_granted = True

    def _shuffled(self, items: list) -> list:
        order = self.rng.permutation(len(items))
        return [items[i] for i in order]

    # ================================================================== outcome
    def outcome(self) -> RunOutcome:
        """Summary scalars, per-pilot records and monthly series of the run so far."""
        return RunOutcome(
            summary=summarise(self),
            pilots=[pilot.record() for pilot in self.pilots],
            series={name: values[: self.month].copy() for name, values in self.series.items()},
        )


def run_model(params: Params, seed) -> RunOutcome:
    """Run one replicate over the full horizon and return its outcome (the unit of work downstream).

    ``seed`` is a ``numpy.random.SeedSequence`` (or an int); it is the run's only randomness.
    """
    model = LearningCommunityModel(params=params, rng=seed)
    try:
        for _ in range(params.horizon_months):
            model.step()
        return model.outcome()
    finally:
        # Mesa 3.3 keeps a unique-id counter per model in the class attribute ``Agent._ids`` and never
        # drops it (mesa/mesa#3179), so every finished model -- about 250 KB -- would stay alive for the
        # life of the process.  A sweep runs hundreds of thousands of models in one worker: let go here.
        Agent._ids.pop(model, None)
