"""Students: BOL and BBL students in cohorts, and adult (LLO) learners in adult pilot runs."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from mesa import Agent

if TYPE_CHECKING:
    from sim.model import LearningCommunityModel

class Track(str, Enum):
    """A learner's track: full-time (BOL) or work-based (BBL) initial education, or adult (LLO)."""

    BOL = "BOL"
    BBL = "BBL"
    LLO = "LLO"


#: Programme length in school years per track.
PROGRAMME_YEARS = {Track.BOL: 3, Track.BBL: 2, Track.LLO: 1}


class Student(Agent):
    """A learner: track, cohort, interest and learning gains on the three LLO angles (seed ch. 4)."""

    def __init__(
        self,
        model: LearningCommunityModel,
        track: Track | str,
        cohort: int,
        drawn_by: int | None = None,
        external: bool = False,
        interest: float | None = None,
    ):
        super().__init__(model)
        self.track = Track(track)
        self.external = external  # a rival school's student in a pilot run there; leaves after the run
        self.cohort = cohort  # school year of enrolment
        # interest in the regional agenda (0-1, uniform); a cohort's are drawn in one batch
        self.interest = float(model.rng.random()) if interest is None else interest
        self.drawn_by = drawn_by  # index of the pilot whose elective drew this student, if any
        self.in_pilot = False
        self.gain_work = 0.0  # learning for one's work
        self.gain_keep_up = 0.0  # keeping up with practice
        self.gain_learn_to_learn = 0.0  # learning that and how one keeps learning

    @property
    def total_gain(self) -> float:
        return self.gain_work + self.gain_keep_up + self.gain_learn_to_learn

    def chooses_agenda_item(self) -> bool:
        """Agenda steering vs autonomy (process 4): a student picks a regional-agenda pilot with chance
        (1 - autonomy) + autonomy x interest.  Seed: Regioleren lets students choose freely, whereas
        'studenten binnen de voorwaarden van de regionale agenda hun opdrachten gaan kiezen'."""
        autonomy = self.model.params.student_autonomy
        return self.model.rng.random() < (1.0 - autonomy) + autonomy * self.interest

    def join_pilot(self) -> None:
        self.in_pilot = True

    def leave_pilot(self) -> None:
        self.in_pilot = False

    def learn(self, work: float, keep_up: float, learn_to_learn: float) -> None:
        self.gain_work += work
        self.gain_keep_up += keep_up
        self.gain_learn_to_learn += learn_to_learn

    def has_graduated(self, school_year: int) -> bool:
        return school_year - self.cohort >= PROGRAMME_YEARS[self.track]
