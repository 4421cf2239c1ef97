"""Entrepreneurs: raise questions, join pilots, weigh value against effort, lose patience."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from sim.pilot import ALIVE, SCHOOL, draw_complexity, effort

if TYPE_CHECKING:
    from sim.model import LearningCommunityModel
    from sim.pilot import Pilot

SECTORS = ("dairy", "veterinary", "contracting", "landscaping", "arable", "temp_agency")


class Entrepreneur(Agent):
    """A firm in the region (vets, a contractor, gardeners, a temp agency in the seed document)."""

    def __init__(self, model: LearningCommunityModel, serial: int = 0):
        super().__init__(model)
        self.serial = serial  # place in the model's list of firms
        p = model.params
        rng = model.rng
        self.key = ("firm", self.unique_id)
        self.sector = SECTORS[int(rng.integers(len(SECTORS)))]
        self.knowledge = float(rng.uniform(0.5, 0.9))  # firms bring state-of-the-art practice
        self.knowledge_gained = 0.0
        self.engagement = min(1.0, max(0.0, float(rng.normal(p.entrepreneur_engagement, 0.1))))
        self.commitment: dict[Pilot, float] = {}
        self.unresponsive_months: dict[Pilot, int] = {}
        self.gave_up_on_school: dict[Pilot, bool] = {}
        self.hiring_value: dict[Pilot, float] = {}
        self.commitment_change: dict[Pilot, float] = {}  # last month's change, for monitoring
        self.pilots: list[Pilot] = []
        model.network.add_person(self.key)

    # ------------------------------------------------------------------ 3. questions
    def raise_question(self) -> None:
        """Bring a knowledge question to the cooperative (process 3).

        Each month a firm has a question with chance ``question_rate_per_year / 12``; the model draws
        that for all firms in one batch and asks those that have one, in a random order
        (``LearningCommunityModel.raise_agenda``).  Its complexity is drawn from the
        simple/complicated/complex mix (seed ch. 4).
        """
        p = self.model.params
        complexity = draw_complexity(self.model.rng, p.simple_question_share, p.complex_question_share)
        self.model.cooperative.receive_question(self, complexity)

    # ------------------------------------------------------------------ pilots
    def join(self, pilot: Pilot) -> None:
        self.pilots.append(pilot)
        self.commitment[pilot] = self.engagement
        self.unresponsive_months[pilot] = 0
        self.gave_up_on_school[pilot] = False
        self.hiring_value[pilot] = 0.0
        self.commitment_change[pilot] = 0.0

    def rejoin(self, pilot: Pilot) -> None:
        """Contact sought again (revival) or mediated (intervention): patience restored."""
        self.unresponsive_months[pilot] = 0
        self.gave_up_on_school[pilot] = False

    def learn(self, amount: float) -> None:
        """Firms learn in pilots too (LLO for professionals): knowledge closes 1% x amount of its gap."""
        gain = 0.01 * amount * (1.0 - self.knowledge)
        self.knowledge += gain
        self.knowledge_gained += gain
        self.model.bank_gain("entrepreneurs", self.key, gain)

    def meet_future_staff(self, pilot: Pilot, learners_met: float) -> None:
        """Meeting learners serves the firm's hiring demand (seed: 'toekomstige medewerkers')."""
        demand = self.model.params.hiring_demand_per_year
        self.hiring_value[pilot] = 0.0 if demand <= 0 else min(1.0, learners_met / (4.0 * demand)) * min(1.0, demand)

    # ------------------------------------------------------------------ 6. commitment
    def update_commitment(self, school_response: float | None = None) -> None:
        """Weigh value received against effort, and count the school's silence (process 6).

        Commitment to the pilot (its content) moves ``firm_commitment_adjustment`` of the way each month to
            target = firm_commitment_base + firm_weight_agenda x agenda strength
                   + firm_weight_value x value     (the quality of the runs so far; 0.5 before the first)
                   + firm_weight_hiring x hiring value  (future staff met)
                   - effort_<complexity>
                   + firm_weight_clarity x (clarity - 0.5)  (clear agreements)
                   + firm_weight_school_network x (network within the school - 0.5)  (school-run pilots only;
                     ``network_in_school``),  clipped to 0-1.
        Separately, each month in which the pilot's provider is the school and its responsiveness
        (``school_response``, read once a month for all firms) is
        below ``unresponsive_threshold`` counts against patience (a responsive month resets the count); when the count exceeds
        ``entrepreneur_patience_months`` the firm gives up on the school for this pilot - it will not
        continue with the school, but still values the pilot and may take it elsewhere (Cowcept: 'dat
        hij ook met een ander AOC kon gaan samenwerken'; Smart Farming: continued with Terra Next).
        """
        p = self.model.params
        if school_response is None:
            school_response = self.model.school.responsiveness()
        anchor = p.firm_commitment_base + p.firm_weight_agenda * p.agenda_strength
        network_term = p.firm_weight_school_network * (self.network_in_school() - 0.5)
        for pilot in self.pilots:
            if pilot.phase not in ALIVE:
                continue
            value = pilot.quality if pilot.runs > 0 or pilot.in_run else 0.5
            target = anchor + p.firm_weight_value * value + p.firm_weight_hiring * self.hiring_value[pilot]
            target -= effort(p, pilot.complexity)
            target += p.firm_weight_clarity * (pilot.clarity - 0.5)  # agreements kept or not
            if pilot.provider == SCHOOL:
                target += network_term  # 'Een goed netwerk binnen Terra'
            target = min(1.0, max(0.0, target))
            change = p.firm_commitment_adjustment * (target - self.commitment[pilot])
            self.commitment[pilot] += change
            self.commitment_change[pilot] = change
            if pilot.provider == SCHOOL and school_response < p.unresponsive_threshold:
                self.unresponsive_months[pilot] += 1
                if self.unresponsive_months[pilot] > p.entrepreneur_patience_months:
                    self.gave_up_on_school[pilot] = True
            else:
                self.unresponsive_months[pilot] = 0

    def network_in_school(self) -> float:
        """The firm's network within the school (0-1): its strongest tie to a teacher now at the school.

        Ties grow in the runs and meetings the firm shares with teachers and leave with a departing teacher
        (``TieNetwork.remove_person``).  Smart Farming, the firms' conditions for continuing: 'Een goed
        netwerk binnen Terra'."""
        # only teachers tied to the firm can be the strongest: the others count 0
        return self.model.network.strongest_tie(self.key, self.model.school.teacher_by_key)

    def be_mediated(self, pilot: Pilot, share: float, restore_patience: bool = True) -> None:
        """The cooperative mediates: commitment closes ``share`` of its gap to 1; patience restored."""
        self.commitment[pilot] += share * (1.0 - self.commitment[pilot])
        if restore_patience:
            self.rejoin(pilot)

    def stays_with(self, pilot: Pilot) -> bool:
        """Whether the firm goes on with the pilot's provider: chance = commitment; never with a school
        it has given up on."""
        if pilot.provider == SCHOOL and self.gave_up_on_school[pilot]:
            return False
        return self.model.rng.random() < self.commitment[pilot]

    def contribution_eur(self, pilot: Pilot) -> float:
        """What this firm will pay towards a run: willingness x its commitment to the pilot."""
        return self.model.params.entrepreneur_willingness_to_pay_eur * self.commitment[pilot]
