"""LearningCommunityModel: the region as a Mesa 3 model with a monthly schedule of twelve processes."""

from __future__ import annotations

import numpy as np
from mesa import Agent, Model
from mesa.agent import AgentSet

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
            table_size=p.meeting_table_size,
            drop_strength=p.tie_drop_strength,
        )
        self.pilots: list[Pilot] = []  # every pilot ever proposed, for the outputs
        # The pilots that still act, in the order they were proposed: alive, or faded with a subsidy
        # clock still running (``track_pilot``).  Only these are stepped; a faded pilot is counted in
        # the tallies below and stays in ``pilots``, and comes back here if revived.
        self.live_pilots = AgentSet([], random=self.random)
        self.pilot_order = self.live_pilots  # this month's random order of live pilots (processes 4, 5, 9)
        self.settled_pilots: set[Pilot] = set()
        self.settled_started = 0
        self.settled_shocked = 0
        self.school = School(self)
        self.government = Government(self)
        self.cooperative = Cooperative(self)
        # Cached lists: indexing an AgentSet builds a list on every call in Mesa 3.3.
        self.entrepreneurs = [Entrepreneur(self, serial=i) for i in range(p.entrepreneur_count)]
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
        # one batch of draws: which firms have a question this month, asked in a random order
        chance = self.params.question_rate_per_year / 12.0
        asking = self.rng.random(len(self.entrepreneurs)) < chance
        order = self.entrepreneurs.copy()
        self.random.shuffle(order)
        for firm in order:
            if asking[firm.serial]:
                firm.raise_question()
        self.cooperative.set_agenda()

    def match_pilots(self) -> None:
        """4. Proposed pilots ask for room; at a start month ready pilots look for money, coaches and
        learners (Pilot.ask_for_room, Pilot.try_start_run); pilots waiting too long give up."""
        school_month = self.month % 12
        # One random order of the live pilots for this month's matching, runs and decisions.
        self.pilot_order = self.live_pilots.shuffle()
        for pilot in self.pilot_order:
            pilot.ask_for_room()
            if pilot.in_run or school_month not in (SEPTEMBER, FEBRUARY):
                continue
            if school_month == FEBRUARY and pilot.run_length > FEBRUARY:
                continue  # only semester runs fit in the second half of the school year
            if pilot.phase in WAITING_TO_START or pilot.phase is Phase.STRUCTURAL:
                pilot.try_start_run()
        for pilot in list(self.live_pilots):
            pilot.give_up_waiting()

    def run_pilots(self) -> None:
        """5. Running pilots produce learning, quality and knowledge (Pilot.run_month)."""
        self.pilot_order.do("run_month")

    def update_commitment(self) -> None:
        """6. Firms weigh value against effort and lose patience (Entrepreneur.update_commitment)."""
        # each firm weighs only its own pilots, so the order does not matter; the school answers all alike
        school_response = self.school.responsiveness()
        for firm in self.entrepreneurs:
            firm.update_commitment(school_response)

    def monitor_and_intervene(self) -> None:
        """7. The cooperative monitors and intervenes early (Cooperative.monitor_and_intervene)."""
        self.cooperative.monitor_and_intervene()

    def fund(self) -> None:
        """8. Budget years start in September; subsidy clocks run down; calls open (Government.open_call)."""
        if self.month % 12 == SEPTEMBER:
            self.school.start_budget_year()
            self.government.start_budget_year()
            self.cooperative.start_budget_year()
        for pilot in list(self.live_pilots):
            pilot.count_down_subsidy()
        self.government.open_call()

    def decide_continuations(self) -> None:
        """9. Pilots whose run ended are continued, made structural, taken over or faded."""
        self.pilot_order.do("decide_continuation")

    def embed(self) -> None:
        """10. Runs with the school raise embedding; a school without pilots of its own loses it."""
        for quality in self.completed_school_runs:
            self.school.embed_run(quality)
        self.completed_school_runs.clear()
        if not any(pilot.with_school for pilot in self.live_pilots):
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
        staying = []
        for student in self.students:  # graduates leave, in one pass
            if student.has_graduated(year):
                student.remove()
            else:
                staying.append(student)
        self.students = staying
        drawn_to_school = 0
        drawn_away = 0
        for pilot in self.pilots:  # faded electives still draw students for a while (and may revive)
            drawn = pilot.draw_students(bol)  # negative: they enrol at the rival school instead
            if drawn >= 0:
                drawn_to_school += drawn
                self.enrol_cohort(Track.BOL, year, drawn, drawn_by=pilot.index)
            else:
                drawn_away -= drawn
            pilot.consider_revival(drawn)
        # students the rival's electives draw away come out of the school's own BOL intake
        bol = max(0, bol - drawn_away)
        self.enrol_cohort(Track.BOL, year, bol)
        self.enrol_cohort(Track.BBL, year, bbl)
        self.intake = bol + bbl + drawn_to_school

    def collect(self) -> None:
        """12. Record this month's series into preallocated arrays (cheaper than a DataCollector)."""
        t = self.month
        series = self.series
        alive_with_school = started = with_adult_arm = taken_over = 0
        for pilot in self.live_pilots:
            series[f"phase_{pilot.phase.value}"][t] += 1
            alive_with_school += pilot.with_school
            started += pilot.started
            fate = pilot.fate_class()
            with_adult_arm += fate is Fate.ADULT_ARM
            taken_over += fate is Fate.TAKEN_OVER
        # settled pilots (faded, subsidy over) are counted, not visited
        series[f"phase_{Phase.FADED.value}"][t] += len(self.settled_pilots)
        started += self.settled_started
        series["pilots_started"][t] = started
        series["alive_with_school"][t] = alive_with_school
        series["with_adult_arm"][t] = with_adult_arm
        series["taken_over_by_others"][t] = taken_over
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
        self.live_pilots.add(pilot)

    def track_pilot(self, pilot: Pilot) -> None:
        """Step a pilot while it still acts; a faded one whose subsidy clock has run out settles.

        Called when a pilot fades, when its subsidy clock stops and when it is revived.  A settled
        pilot does nothing any process would see until an intake revives it (``enrol`` visits all
        pilots), so it leaves ``live_pilots`` and is counted in the settled tallies instead.
        """
        settles = pilot.phase is Phase.FADED and pilot.subsidy_months_left == 0
        if settles and pilot not in self.settled_pilots:
            self.live_pilots.discard(pilot)
            self.settled_pilots.add(pilot)
            self.settled_started += pilot.started
            self.settled_shocked += pilot.shocked
        elif not settles and pilot in self.settled_pilots:
            self.settled_pilots.discard(pilot)
            self.settled_started -= pilot.started
            self.settled_shocked -= pilot.shocked
            # back among the live pilots in the order they were proposed (revivals are rare)
            self.live_pilots = AgentSet(sorted([*self.live_pilots, pilot], key=lambda p: p.index), random=self.random)

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
        """Pilots alive now (all of them are live pilots)."""
        return sum(1 for pilot in self.live_pilots if pilot.phase in ALIVE)

    def random_entrepreneur(self, exclude: Entrepreneur | None = None) -> Entrepreneur | None:
        firms = self.entrepreneurs
        if exclude is None:
            return firms[int(self.rng.integers(len(firms)))] if firms else None
        if len(firms) < 2:
            return None
        pick = int(self.rng.integers(len(firms) - 1))  # uniform over the others, without a copy
        return firms[pick + (pick >= exclude.serial)]

    def mark_shock(self) -> None:
        """A director change is a shock to every live pilot that has run (for resilience)."""
        for pilot in self.live_pilots:
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
            students = self.students
            for i in self.rng.permutation(len(students)):  # a random order, without copying the list
                if len(initial) >= capacity:
                    break
                student = students[i]
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
        live = [pilot for pilot in self.live_pilots if pilot.alive]
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
        shocked = [pilot for pilot in self.live_pilots if pilot.shocked]
        shocked_count = len(shocked) + self.settled_shocked  # settled pilots are faded: none survived
        if shocked_count:
            survived = sum(1 for pilot in shocked if pilot.alive) / shocked_count
            resilience = 0.5 * self.school.embedding + 0.5 * survived
        else:
            resilience = self.school.embedding
        return {"composition": composition, "working": working, "facilitation": facilitation, "resilience": resilience}

    # ================================================================== set-up helpers
    def _enrol_initial_cohorts(self) -> None:
        p = self.params
        for cohort in (-2, -1, 0):
            self.enrol_cohort(Track.BOL, cohort, p.bol_intake_per_year)
        for cohort in (-1, 0):
            self.enrol_cohort(Track.BBL, cohort, p.bbl_intake_per_year)

    def enrol_cohort(self, track: Track, cohort: int, count: int, drawn_by: int | None = None) -> None:
        """``count`` new students of one track and cohort; their interests are drawn in one batch."""
        interests = self.rng.random(count)
        self.students.extend(
            Student(self, track, cohort, drawn_by=drawn_by, interest=float(interest)) for interest in interests
        )

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
