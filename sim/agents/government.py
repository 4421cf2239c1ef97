"""Government: a subsidy programme with calls and fit-dependent success, and a municipal budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from sim.pilot import Complexity, Phase, TargetGroup

if TYPE_CHECKING:
    from sim.model import LearningCommunityModel
    from sim.pilot import Pilot


class Government(Agent):
    """Province, national funds (RIF MBO, SNN) and the municipality, as one funder."""

    def __init__(self, model: LearningCommunityModel):
        super().__init__(model)
        self.municipal_budget_left_eur = model.params.municipal_participation_budget_eur
        self.applications = 0
        self.grants = 0

    def call_is_open(self) -> bool:
        return self.model.month % self.model.params.call_interval_months == 0

    def open_call(self) -> None:
        """At each call, every proposed pilot without money applies (process 8).

        Success chance = ``application_success_rate``, times ``network_proposal_fit`` for complex,
        network-building proposals (seed, Cowcept: such proposals were 'allemaal afgewezen omdat ze te
        veel afweken van wat de subsidieverstrekkers voor ogen hadden').  A grant pays
        ``subsidy_share`` of run costs for ``subsidy_duration_months``.  Funders pay for new
        initiatives, not for continuing ones, so only proposed pilots apply.
        """
        if not self.call_is_open():
            return
        p = self.model.params
        for pilot in self.model.live_pilots:
            if pilot.phase is not Phase.PROPOSED or pilot.subsidy_months_left > 0 or pilot.ever_subsidised:
                continue
            self.applications += 1
            chance = p.application_success_rate
            if pilot.complexity is Complexity.COMPLEX:
                chance *= p.network_proposal_fit
            if self.model.rng.random() < chance:
                self.grant(pilot)

    def grant(self, pilot: Pilot) -> None:
        """Grant a subsidy for ``subsidy_duration_months`` (the pilot starts its own clock)."""
        self.grants += 1
        pilot.receive_subsidy(int(round(self.model.params.subsidy_duration_months)))

    def spend_municipal(self, amount_eur: float) -> None:
        """Book municipal money committed to a run against this year's participation budget."""
        self.municipal_budget_left_eur -= amount_eur

    def municipal_offer_eur(self, pilot: Pilot) -> float:
        """The municipality pays adult runs from its participation-job budget (Samen in het groen)."""
        return self.municipal_budget_left_eur if pilot.target_group is TargetGroup.ADULT else 0.0

    def start_budget_year(self) -> None:
        self.municipal_budget_left_eur = self.model.params.municipal_participation_budget_eur
