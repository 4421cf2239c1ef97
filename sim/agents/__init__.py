"""The Mesa agents of the model (pilots live in ``sim.pilot``)."""

from sim.agents.cooperative import Cooperative
from sim.agents.entrepreneur import Entrepreneur
from sim.agents.government import Government
from sim.agents.school import School, Teacher
from sim.agents.student import Student

__all__ = ["Cooperative", "Entrepreneur", "Government", "School", "Student", "Teacher"]
