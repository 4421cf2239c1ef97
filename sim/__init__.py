"""The learning-community model: agents, pilots, ties and one run's outcomes.  No I/O, no parallelism."""

from sim.model import LearningCommunityModel, run_model
from sim.outcomes import FATES, PILOT_FIELDS, SERIES_FIELDS, SUMMARY_FIELDS, RunOutcome
from sim.params import Params, parameter_table, success_factors

__all__ = [
    "FATES",
    "LearningCommunityModel",
    "PILOT_FIELDS",
    "Params",
    "RunOutcome",
    "SERIES_FIELDS",
    "SUMMARY_FIELDS",
    "parameter_table",
    "run_model",
    "success_factors",
]
