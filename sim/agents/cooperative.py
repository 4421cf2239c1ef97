"""The area cooperative: shared agenda, meetings, monitoring and early intervention."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from sim.pilot import ALIVE, Pilot

if TYPE_CHECKING:
    from sim.agents.entrepreneur import Entrepreneur
    from sim.model import LearningCommunityModel

#: A partner commitment falling below this is trouble worth noticing.
TROUBLE_COMMITMENT = 0.5
#: What a pilot waits for when an agreement is not kept: the school's room, or the money.
BROKEN_AGREEMENTS = frozenset({"no room from the school", "no money for the run"})


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
        # what reflection on faded pilots has taught it (reflect_on_fade)
        self.readiness = model.params.intervention_readiness
        self.insisted_clarity = model.params.clarity_of_financial_agreements
        self.reflections = 0
        self.deals_left_out = 0
        self.live_pilot_months = 0
        self.troubled_pilot_months = 0
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
        alive = model.alive_pilot_count()
        for firm, complexity in self.questions:
            if alive >= p.max_active_pilots or rng.random() >= p.agenda_strength:
                continue
            model.propose_pilot(firm, complexity)
            alive += 1
        self.questions.clear()

    # ------------------------------------------------------------------ meetings
    def convene_meeting(self) -> None:
        """Every ``meeting_interval_months`` the people of live pilots meet at the cooperative (process 3).

        People talk at tables of at most ``meeting_table_size``: they are seated pilot by pilot (its
        firms, then its coaches and trainer), the pilots in a random order, each person once, the
        facilitator with the first pilot; ties grow between the people at one table (see
        ``TieNetwork.meet``).  With meetings at least quarterly the cooperative is the 'vast centraal
        punt' and physical proximity grows too.
        """
        p = self.model.params
        interval = max(1, int(round(p.meeting_interval_months)))
        if self.model.month % interval != 0:
            return
        seats = {self.key: None}  # an ordered set: the seating order
        for pilot in self.model.live_pilots.shuffle():
            if pilot.phase in ALIVE:
                seats.update(dict.fromkeys(firm.key for firm in pilot.partners))
                seats.update(dict.fromkeys(pilot.team))
        if len(seats) > 1:
            self.meetings += 1
            self.model.network.meet(list(seats), fixed_place=interval <= 3)

    # ------------------------------------------------------------------ 7. monitoring
    def monitor_and_intervene(self) -> None:
        """Notice troubled pilots and intervene early (process 7).

        A live pilot is troubled (``troubled``) when a partner's commitment is falling below 0.5, an
        agreement is not kept (the school gives no room, or the money is not found), or a decision
        vacuum opens (a firm counting unresponsive months, a decision waiting in an interim, a firm
        that gave up on the school).  Each month monitoring notices it with chance ``monitoring_level``;
        the cooperative then intervenes with chance ``readiness`` (``intervention_readiness``, raised by
        reflection, ``reflect_on_fade``) if it can pay ``intervention_cost_eur``: it clarifies who pays
        (clarity closes half its gap), mediates (each partner's commitment closes 30% of its gap),
        restores the partners' patience with the school, and holds the school to the agreements at its
        next decision (``Pilot.school_will``).  Seed, Smart Farming: 'Een faciliterende partij die
        vroegtijdig ingrijpt wanneer afspraken niet worden nagekomen'.
        """
        p = self.model.params
        rng = self.model.rng
        for pilot in self.model.live_pilots:
            if pilot.phase not in ALIVE:
                continue
            self.live_pilot_months += 1
            if not self.troubled(pilot):
                continue
            self.troubled_pilot_months += 1
            if rng.random() >= p.monitoring_level or rng.random() >= self.readiness:
                continue
            if not self.pay_intervention():
                continue
            pilot.clarify_agreements(p.mediation_clarity_gain)
            for firm in pilot.partners:
                firm.be_mediated(pilot, p.mediation_commitment_gain)

    def pay_intervention(self) -> bool:
        """Pay one intervention from this year's budget, if it allows (``intervention_cost_eur``)."""
        cost = self.model.params.intervention_cost_eur
        if self.budget_left_eur < cost:
            return False
        self.budget_left_eur -= cost
        self.eur_spent += cost
        self.interventions += 1
        return True

    def broker_provider(self, pilot: Pilot) -> bool:
        """A dropped pilot the cooperative notices (chance ``monitoring_level``) and acts on (chance
        ``readiness``, if it can pay ``intervention_cost_eur``) gets a second search for a provider,
        with the firms' commitment restored by 30% of its gap.  Seed, Smart Farming: 'pak als
        Gebiedscoöperatie de kans om handen en voeten te geven aan ‘Workcept’'; the cooperative 'staat
        nu buiten de gemaakte afspraak'.  Returns whether it stepped in.
        """
        p = self.model.params
        rng = self.model.rng
        if rng.random() >= p.monitoring_level or rng.random() >= self.readiness:
            return False
        if not self.pay_intervention():
            return False
        for firm in pilot.partners:
            firm.be_mediated(pilot, p.mediation_commitment_gain, restore_patience=False)
        return True

    @staticmethod
    def troubled(pilot: Pilot) -> bool:
        """Real trouble: falling commitment, broken agreements or a decision vacuum (see
        ``monitor_and_intervene``).  Unclear agreements alone are not trouble yet."""
        if pilot.waiting_for in BROKEN_AGREEMENTS or pilot.months_waiting_for_decision > 0:
            return True
        return any(
            (firm.commitment[pilot] < TROUBLE_COMMITMENT and firm.commitment_change[pilot] < 0.0)
            or firm.unresponsive_months[pilot] > 0
            or firm.gave_up_on_school[pilot]
            for firm in pilot.partners
        )

    def left_out_of_deal(self) -> None:
        """A pilot it prepared went to another provider in a deal it did not broker: the cooperative
        loses ``left_out_loss`` of its readiness (Smart Farming: 'De coöperatie staat nu buiten de
        gemaakte afspraak terwijl ze in het voortraject veel in de voorbereiding heeft geïnvesteerd')."""
        self.readiness *= 1.0 - self.model.params.left_out_loss
        self.deals_left_out += 1

    # ------------------------------------------------------------------ reflection
    def reflect_on_fade(self, pilot: Pilot) -> None:
        """After a started pilot fades, the community reflects and adjusts (learning rule).

        The cooperative's readiness to intervene and the clarity of agreements it insists on for new
        pilots each close ``reflection_rate`` of their gap to 1.  Seed, versnellers: 'Monitoring en
        onderzoek moeten een vinger aan de pols leggen en reflecteren op het systeem. Deel dit
        regelmatig, dan werkt het ontwikkelend'; 'Pas op dat je niet alleen de successen belicht, maar
        ook de leerpunten'.
        """
        if not pilot.started:
            return
        rate = self.model.params.reflection_rate
        self.readiness += rate * (1.0 - self.readiness)
        self.insisted_clarity += rate * (1.0 - self.insisted_clarity)
        self.reflections += 1

    def start_budget_year(self) -> None:
        self.budget_left_eur = self.model.params.cooperative_budget_eur
