"""The school: director, interim periods, embedding, internal communication, budget and coaches."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mesa import Agent

if TYPE_CHECKING:
    from sim.model import LearningCommunityModel
    from sim.pilot import Pilot



@dataclass(slots=True)
class Teacher:
    """A teacher who can coach pilots: expertise (0-1), months at the school, current pilot."""

    key: tuple[str, int]
    expertise: float
    tenure_months: int = 0
    pilot: object | None = None
    expertise_gained: float = 0.0


class School(Agent):
    """The vocational school (Terra in the seed document)."""

    def __init__(self, model: LearningCommunityModel):
        super().__init__(model)
        p = model.params
        self.key = ("school", 0)
        self.director_commitment = self._draw_director_commitment()
        # The director in office at the start knows the strategy (the region as of 2015).
        self.director_tenure_months = int(round(p.director_onboarding_months))
        self.interim_months_left = 0
        self.turbulent = bool(model.rng.random() < p.turbulent_at_start)
        self.turbulent_months = 0
        self.rivalry = False  # the director in office at the start works with middle management
        self.director_changes = 0
        self.interim_months_total = 0
        # Commitment below the director; it starts where the director is, as far as embedded.
        self.middle_management_commitment = p.initial_embedding * self.director_commitment
        self.teacher_commitment = p.initial_embedding * self.director_commitment
        self.embedding_policy = p.initial_embedding
        self.embedding_middle_management = p.initial_embedding
        self.embedding_curriculum = p.initial_embedding
        self.budget_left_eur = p.school_innovation_budget_eur
        self.teachers: list[Teacher] = []
        self.teacher_by_key: dict[tuple[str, int], Teacher] = {}  # the same teachers, by network key
        self._teacher_serial = 0
        for _ in range(p.teacher_count):
            self._hire_teacher()

    # ------------------------------------------------------------------ derived state
    @property
    def in_interim(self) -> bool:
        return self.interim_months_left > 0

    @property
    def embedding(self) -> float:
        """Mean embedding in policy, middle management and curriculum (0-1)."""
        return (self.embedding_policy + self.embedding_middle_management + self.embedding_curriculum) / 3.0

    def director_familiarity(self) -> float:
        """How well the director knows the regional strategy (0-1).

        E_policy + (1 - E_policy) x min(1, tenure / onboarding months): what is written into policy a
        newcomer finds at once, the rest is learnt in office.  Seed, Cowcept: 'de reikwijdte van dit
        programma [is] nooit helemaal doorgedrongen bij bestuur en management'.
        """
        onboarding = self.model.params.director_onboarding_months
        learnt = 1.0 if onboarding <= 0 else min(1.0, self.director_tenure_months / onboarding)
        return self.embedding_policy + (1.0 - self.embedding_policy) * learnt

    def director_strategy_commitment(self) -> float:
        """The director's effective commitment: disposition x familiarity; 0 during an interim."""
        if self.in_interim:
            return 0.0
        return self.director_commitment * self.director_familiarity()

    def commitment(self) -> float:
        """Effective commitment to the regional strategy (0-1).

        Policy embedding E anchors the strategy independent of people: E + (1 - E) x the weighted
        commitment of director (disposition x familiarity, 0 during an interim), middle management
        and teachers.  Seed, versnellers: 'veranker dit in visie en beleid'.
        """
        p = self.model.params
        w_d, w_m, w_t = p.commitment_weight_director, p.commitment_weight_middle_management, p.commitment_weight_teachers
        director = self.director_strategy_commitment()
        people = (w_d * director + w_m * self.middle_management_commitment + w_t * self.teacher_commitment) / (
            w_d + w_m + w_t
        )
        return self.embedding_policy + (1.0 - self.embedding_policy) * people

    def responsiveness(self) -> float:
        """How promptly the school answers partners (0-1); zero in an interim (decision vacuum).

        (0.5 x commitment + 0.5 x internal communication) x (1 - 0.5 x external stress).
        """
        if self.in_interim:
            return 0.0
        p = self.model.params
        return (0.5 * self.commitment() + 0.5 * p.internal_communication) * (1.0 - 0.5 * p.external_stress)

    def gives_room(self) -> bool:
        """Whether the school lets its teachers start a new pilot this time (chance = responsiveness)."""
        return self.model.rng.random() < self.responsiveness()

    def joins_adult_run(self) -> bool:
        """Whether initial education joins an adult pilot run (chance = responsiveness x curriculum embedding).

        Seed, Samen in het groen / Smart Farming: 'koppel een initieel keuzedeel ... aan de BBL-opleiding'.
        """
        return self.model.rng.random() < self.responsiveness() * self.embedding_curriculum

    # ------------------------------------------------------------------ 1. turnover
    def switch_regime(self) -> None:
        """Calm and turbulent periods alternate (a two-state Markov chain in months, process 1).

        A calm school turns turbulent with monthly chance ``turbulence_onset_rate / 12``, a turbulent one
        calms down with ``turbulence_end_rate / 12``.  Seed, ch. 3: 'binnen een kort tijdsbestek (te)
        veel wijzigingen in het management' - turnover comes in bursts, not at a constant rate.
        """
        p = self.model.params
        rate = p.turbulence_end_rate if self.turbulent else p.turbulence_onset_rate
        if self.model.rng.random() < min(1.0, rate / 12.0):
            self.turbulent = not self.turbulent
        self.turbulent_months += self.turbulent

    def director_hazard(self) -> float:
        """Monthly chance that a permanent director leaves: the regime's yearly rate / 12."""
        p = self.model.params
        rate = p.turbulent_turnover_rate if self.turbulent else p.management_turnover_rate
        return min(1.0, rate / 12.0)

    def change_management(self) -> None:
        """Director turnover with a regime-switching hazard; an interim with a decision vacuum (process 1).

        The regime switches first (``switch_regime``); then a permanent director leaves with
        probability ``director_hazard`` (``management_turnover_rate / 12`` when calm,
        ``turbulent_turnover_rate / 12`` when turbulent).  An interim follows whose length is geometric
        with mean ``interim_length_months`` (0 = immediate successor).  Seed: '(te) veel wijzigingen in
        het management'; Cowcept 'kortstondige interim-directievoerders'.
        """
        rng = self.model.rng
        self.switch_regime()
        if self.in_interim:
            self.interim_months_total += 1
            self.interim_months_left -= 1
            if self.interim_months_left == 0:
                self.appoint_director()
            return
        self.director_tenure_months += 1
        if rng.random() < self.director_hazard():
            self.director_changes += 1
            self.model.mark_shock()
            self.lose_strategy_line()
            interim = self.draw_interim_length()
            if interim == 0:
                self.appoint_director()
            else:
                self.interim_months_left = interim

    def lose_strategy_line(self) -> None:
        """A departing director breaks the line to middle management and teachers.

        Each level keeps the part of its commitment held by its embedding and loses
        ``strategy_loss_at_director_change`` of the rest: c <- c x (1 - loss x (1 - E_level)).
        Seed, Smart Farming: 'er is geen lijn van het CvB naar regiodirecteuren en naar docenten';
        ch. 3: 'daardoor kon geen continuiteit ontstaan'.
        """
        loss = self.model.params.strategy_loss_at_director_change
        self.middle_management_commitment *= 1.0 - loss * (1.0 - self.embedding_middle_management)
        self.teacher_commitment *= 1.0 - loss * (1.0 - self.embedding_curriculum)

    def draw_interim_length(self) -> int:
        """Geometric on {0, 1, ...} with mean ``interim_length_months``."""
        mean = self.model.params.interim_length_months
        if mean <= 0:
            return 0
        return int(self.model.rng.geometric(1.0 / (mean + 1.0))) - 1

    def appoint_director(self) -> None:
        """A new director's commitment is drawn afresh and blended with the old one by policy embedding.

        c_new = E_policy x c_old + (1 - E_policy) x draw.  Institutional memory: a strategy anchored
        in policy survives the person (March 1991; seed 'zorg als management voor consistentie').
        """
        fresh = self._draw_director_commitment()
        e = self.embedding_policy
        self.director_commitment = e * self.director_commitment + (1.0 - e) * fresh
        self.director_tenure_months = 0
        self.rivalry = bool(self.model.rng.random() < self.model.params.management_rivalry)

    def _draw_director_commitment(self) -> float:
        p = self.model.params
        value = self.model.rng.normal(p.director_commitment_mean, p.director_commitment_spread)
        return min(1.0, max(0.0, float(value)))

    def replace_teachers(self) -> None:
        """Teacher turnover (process 1): each leaves with monthly chance rate/12, taking ties and
        expertise along; a newcomer at the mean expertise and without ties takes the place."""
        p = self.model.params
        rng = self.model.rng
        hazard = min(1.0, p.teacher_turnover_rate / 12.0)
        leavers = [t for t, u in zip(self.teachers, rng.random(len(self.teachers))) if u < hazard]
        for teacher in leavers:
            del self.teacher_by_key[teacher.key]
            self.model.network.remove_person(teacher.key)
            if teacher.pilot is not None:
                teacher.pilot.lose_coach(teacher.key)
            self._hire_teacher()
        if leavers:  # in one pass: those who stay keep their order, newcomers follow
            self.teachers = [t for t in self.teachers if t.key in self.teacher_by_key]
        for teacher in self.teachers:
            teacher.tenure_months += 1

    def _hire_teacher(self) -> None:
        p = self.model.params
        expertise = min(1.0, max(0.0, float(self.model.rng.normal(p.teacher_expertise_mean, 0.1))))
        self._teacher_serial += 1
        teacher = Teacher(key=("teacher", self._teacher_serial), expertise=expertise)
        self.teachers.append(teacher)
        self.teacher_by_key[teacher.key] = teacher
        self.model.network.add_person(teacher.key)

    # ------------------------------------------------------------------ 2. strategy transfer
    def transfer_strategy(self) -> None:
        """Commitment spreads director -> middle management -> teachers (process 2).

        Each month both gaps close by ``strategy_transfer_speed x internal_communication`` (the
        director's side counted as disposition x familiarity); nothing moves during an interim.
        A layer is pulled only towards min(leader, own + ``troops_gap_tolerance``): a leader far ahead
        of the troops does not carry them along (versnellers: 'Zorg ervoor dat je niet te ver voor de
        troepen uitloopt').  A director in rivalry with middle management (``rivalry``) passes nothing
        down to it ('rivaliteit in management, botsing van karakters').  Seed, Cowcept: 'deze strategie werd intern echter niet overgedragen
        op managementniveau. Ook de docenten ... maar gedeeltelijk op de hoogte'.
        """
        if self.in_interim:
            return
        p = self.model.params
        rate = p.strategy_transfer_speed * p.internal_communication
        reach = p.troops_gap_tolerance
        if not self.rivalry:
            director = min(self.director_strategy_commitment(), self.middle_management_commitment + reach)
            self.middle_management_commitment += rate * (director - self.middle_management_commitment)
        managers = min(self.middle_management_commitment, self.teacher_commitment + reach)
        self.teacher_commitment += rate * (managers - self.teacher_commitment)

    # ------------------------------------------------------------------ coaches
    def assign_coaches(self, pilot: Pilot) -> list[tuple[str, int]]:
        """Up to two free teachers, those best tied to the pilot's firms first (then by expertise)."""
        free = [t for t in self.teachers if t.pilot is None]
        if not free:
            return []
        network = self.model.network
        partner_keys = [firm.key for firm in pilot.partners]
        ties = network.strength_to_each(partner_keys)  # teachers tied to the firms: mean strength
        chosen = heapq.nlargest(self.model.params.coaches_per_run, free,
                                key=lambda t: (ties.get(t.key, 0.0), t.expertise))
        for teacher in chosen:
            teacher.pilot = pilot
        return [t.key for t in chosen]

    def release_coaches(self, pilot: Pilot) -> None:
        """Free the pilot's coaches (all of them are in its team: ``Pilot.try_start_run``)."""
        for key in pilot.team:
            teacher = self.teacher_by_key.get(key)
            if teacher is not None and teacher.pilot is pilot:
                teacher.pilot = None

    def coaches(self, team: list) -> list[Teacher]:
        """The school's teachers in a team, in the school's order."""
        found = [self.teacher_by_key[key] for key in team if key in self.teacher_by_key]
        return sorted(found, key=lambda t: t.key[1])  # the school's list is in hiring order

    def team_expertise(self, team: list) -> float:
        """Mean expertise of the team; an outside trainer counts at the teachers' mean."""
        values = [t.expertise for t in self.coaches(team)]
        trainers = sum(1 for key in team if key[0] == "trainer")
        values += [self.model.params.teacher_expertise_mean] * trainers
        return sum(values) / len(values) if values else 0.0

    def coach_learns(self, team: list, quality: float, firm_knowledge: float) -> None:
        """Coaches keep up by working with firms: expertise moves 2% x q a month towards theirs."""
        for teacher in self.coaches(team):
            if firm_knowledge > teacher.expertise:
                gain = 0.02 * quality * (firm_knowledge - teacher.expertise)
                teacher.expertise += gain
                teacher.expertise_gained += gain
                self.model.bank_gain("teachers", teacher.key, gain)

    # ------------------------------------------------------------------ money
    def offer_eur(self) -> float:
        """What the school will put into one run: willingness x the innovation budget left."""
        return self.model.params.school_cofunding_willingness * self.budget_left_eur

    def start_budget_year(self) -> None:
        self.budget_left_eur = self.model.params.school_innovation_budget_eur

    def spend(self, amount_eur: float) -> None:
        """Book the school's contribution to a run against this year's innovation budget."""
        self.budget_left_eur -= amount_eur

    # ------------------------------------------------------------------ 10. embedding
    def embed_run(self, quality: float) -> None:
        """A run with the school raises embedding (process 10).

        Each level closes ``embedding_gain_per_run x quality x commitment-at-that-level`` of its gap:
        curriculum by teachers, middle management by middle managers, policy by the director (not
        during an interim).  Teachers who coached a good run grow more committed.
        """
        gain = self.model.params.embedding_gain_per_run * quality
        self.embedding_curriculum += gain * self.teacher_commitment * (1.0 - self.embedding_curriculum)
        self.embedding_middle_management += (
            gain * self.middle_management_commitment * (1.0 - self.embedding_middle_management)
        )
        if not self.in_interim:
            self.embedding_policy += gain * self.director_strategy_commitment() * (1.0 - self.embedding_policy)
        self.teacher_commitment += 0.5 * gain * (1.0 - self.teacher_commitment)

    def erode_embedding(self) -> None:
        """Neglect: without a pilot of its own the school loses ``embedding_erosion_per_year`` a year."""
        keep = 1.0 - self.model.params.embedding_erosion_per_year / 12.0
        self.embedding_policy *= keep
        self.embedding_middle_management *= keep
        self.embedding_curriculum *= keep
