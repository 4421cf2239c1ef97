"""The area cooperative: shared agenda, meetings, monitoring and early intervention."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from sim.pilot import ALIVE, Pilot

if TYPE_CHECKING:
    from sim.agents.entrepreneur import Entrepreneur
    from sim.model import LearningCommunityModel

#: A partner commitment below this, or a patience counter running, is trouble worth noticing.
TROUBLE_COMMITMENT = 0.5


class Cooperative(Agent):
    """Gebiedscooperatie Westerkwartier: collects questions, convenes, monitors, intervenes."""

    def __init__(self, model: LearningCommunityModel):
        super().__init__(model)
        self.key = ("cooperative", 0)
        self.budget_left_eur = model.params.cooperative_budget_eur
        self.questions: list[tuple[Entrepreneur, str]] = []
        self.interventions = 0
        self.meetings = 0
        self.eur_spent = 0.0
        model.network.add_person(self.key)

    # ------------------------------------------------------------------ 3. agenda
    def receive_question(self, firm: Entrepreneur, complexity: str) -> None:
        self.questions.append((firm, complexity))

    def set_agenda(self) -> None:
        """Put collected questions on the agenda as proposed pilots (process 3).

        Each question becomes a pilot with chance ``agenda_strength`` while fewer than
        ``max_active_pilots`` are alive; others are dropped.  The pilot itself is made by the
        model's one factory (``LearningCommunityModel.propose_pilot``).
        """
        model = self.model
        p = model.params
        rng = model.rng
        for firm, complexity in self.questions:
            if model.alive_pilot_count() >= p.max_active_pilots or rng.random() >= p.agenda_strength:
                continue
            model.propose_pilot(firm, complexity)
        self.questions.clear()

    # ------------------------------------------------------------------ meetings
    def convene_meeting(self) -> None:
        """Every ``meeting_interval_months`` the people of live pilots meet at the cooperative (process 3).

        A meeting strengthens ties among everyone present (see ``TieNetwork.meet``); with meetings at
        least quarterly the cooperative is the 'vast centraal punt' and physical proximity grows too.
        """
        p = self.model.params
        interval = max(1, int(round(p.meeting_interval_months)))
        if self.model.month % interval != 0:
            return
        people = {self.key}
        for pilot in self.model.pilots:
            if pilot.phase in ALIVE:
                people.update(firm.key for firm in pilot.partners)
                people.update(pilot.team)
        if len(people) > 1:
            self.meetings += 1
            self.model.network.meet(sorted(people), fixed_place=interval <= 3)

    # ------------------------------------------------------------------ 7. monitoring
    def monitor_and_intervene(self) -> None:
        """Notice troubled pilots and intervene early (process 7).

        A live pilot is troubled when a partner's commitment is below 0.5, a partner is counting
        unresponsive months or has given up on the school, or money agreements are unclear (clarity < 0.5).  Each month monitoring
        notices it with chance ``monitoring_level``; the cooperative then intervenes with chance
        ``intervention_readiness`` if it can pay ``intervention_cost_eur``: it clarifies who pays
        (clarity closes half its gap), mediates (each partner's commitment closes 30% of its gap),
        restores the partners' patience with the school, and holds the school to the agreements at its
        next decision (``Pilot.school_will``).  Seed, Smart Farming: 'een faciliterende partij die
        vroegtijdig ingrijpt wanneer afspraken niet worden nagekomen'.
        """
        p = self.model.params
        rng = self.model.rng
        for pilot in self.model.pilots:
            if pilot.phase not in ALIVE or not self._troubled(pilot):
                continue
            if rng.random() >= p.monitoring_level or rng.random() >= p.intervention_readiness:
                continue
            if self.budget_left_eur < p.intervention_cost_eur:
                continue
            self.budget_left_eur -= p.intervention_cost_eur
            self.eur_spent += p.intervention_cost_eur
            self.interventions += 1
            pilot.clarity += 0.5 * (1.0 - pilot.clarity)
            pilot.mediated = True
            for firm in pilot.partners:
                firm.commitment[pilot] += 0.3 * (1.0 - firm.commitment[pilot])
                firm.rejoin(pilot)

    def broker_provider(self, pilot: Pilot) -> bool:
        """A dropped pilot the cooperative notices (chance ``monitoring_level``) and acts on (chance
        ``intervention_readiness``, if it can pay ``intervention_cost_eur``) gets a second search for a
        provider, with the firms' commitment restored by 30% of its gap.  Seed, Smart Farming: 'pak als
        Gebiedscooperatie de kans om handen en voeten te geven aan Workcept'; the cooperative 'staat nu
        buiten de gemaakte afspraak'.  Returns whether it stepped in.
        """
        p = self.model.params
        rng = self.model.rng
        if rng.random() >= p.monitoring_level or rng.random() >= p.intervention_readiness:
            return False
        if self.budget_left_eur < p.intervention_cost_eur:
            return False
        self.budget_left_eur -= p.intervention_cost_eur
        self.eur_spent += p.intervention_cost_eur
        self.interventions += 1
        for firm in pilot.partners:
            firm.commitment[pilot] += 0.3 * (1.0 - firm.commitment[pilot])
        return True

    @staticmethod
    def _troubled(pilot: Pilot) -> bool:
        if pilot.clarity < 0.5:
            return True
        return any(
            firm.commitment[pilot] < TROUBLE_COMMITMENT
            or firm.unresponsive_months[pilot] > 0
            or firm.gave_up_on_school[pilot]
            for firm in pilot.partners
        )

    def start_budget_year(self) -> None:
        self.budget_left_eur = self.model.params.cooperative_budget_eur
