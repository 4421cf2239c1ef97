"""What one model run reports (model-spec section 6): summary scalars, per-pilot records, monthly series.

The names below are the contract between the model and everything downstream (result store,
tables, plots, sensitivity analysis).  Units are given beside each name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.pilot import Fate, Phase

#: Summary scalars of one run, with their meaning and unit.
SUMMARY_FIELDS: dict[str, str] = {
    "pilots_proposed": "pilots proposed over the horizon (count)",
    "pilots_started": "pilots that ran at least once (count)",
    "continued_by_school_y3": "share of started pilots alive with the school at year 3 (0-1)",
    "continued_by_school_y5": "share of started pilots alive with the school at year 5 (0-1)",
    "continued_by_school_y10": "share of started pilots alive with the school at year 10 (0-1)",
    "structural_share": "share of started pilots that became structural (0-1)",
    "taken_over_share": "share of started pilots run by others (rival school, firm-led provider) at the horizon (0-1)",
    "adult_arm_share": "share of started pilots run by the school group's adult arm, without initial education, at the horizon (0-1)",
    "faded_share": "share of started pilots faded at the horizon (0-1)",
    "revived_share": "share of started pilots revived at least once (0-1)",
    "mean_pilot_lifetime_months": "mean months from first run to fade or horizon (months)",
    "llo_students": "initial-education students who took part in a pilot run (count)",
    "llo_adult_learners": "adult learners who took part in a pilot run (count)",
    "llo_teachers": "teachers who coached a pilot run (count)",
    "llo_entrepreneurs": "entrepreneurs who took part in a pilot run (count)",
    "gain_students": "mean learning gain per participating student (0-1 scale, summed over runs)",
    "gain_adult_learners": "mean learning gain per adult learner (0-1 scale)",
    "gain_teachers": "mean expertise gained per coaching teacher (0-1 scale)",
    "gain_entrepreneurs": "mean knowledge gained per participating entrepreneur (0-1 scale)",
    "community_size": "people with at least one active tie at the horizon (count)",
    "network_density": "density of the tie network among community members at the horizon (0-1)",
    "composition": "community element: the right players aboard, at the horizon (0-1)",
    "working": "community element: formation and working, at the horizon (0-1)",
    "facilitation": "community element: facilitation by region and education, at the horizon (0-1)",
    "resilience": "community element: flexibility and resilience, at the horizon (0-1)",
    "intake_final": "BOL+BBL intake in the last simulated school year (students)",
    "students_drawn_away": "students who enrolled at the rival school for an elective it took over (count)",
    "public_eur_per_learner": "subsidy and municipal money spent per pilot learner (EUR)",
    "private_eur_per_learner": "school, firm and cooperative money spent per pilot learner (EUR)",
    "director_changes": "director departures over the horizon (count)",
    "interim_months": "months with an interim director (months)",
    "interventions": "cooperative interventions (count)",
    "mean_fade_after_subsidy_end": "mean months from subsidy end to fade, faded subsidised pilots (months)",
    "knowledge_retained_share": "share of pilot knowledge held in the curriculum rather than by experts (0-1)",
}

#: The fates of a started pilot, in display order (the ``fate`` values of the pilot records).
FATES: tuple[str, ...] = tuple(fate.value for fate in Fate)

#: Monthly series, one value per simulated month.
SERIES_FIELDS: dict[str, str] = {
    **{f"phase_{phase.value}": f"pilots in phase '{phase.value}' (count)" for phase in Phase},
    "pilots_started": "pilots that have run at least once so far (count)",
    "alive_with_school": "pilots alive with the school (count)",
    "with_adult_arm": "started pilots alive with the school group's adult arm (count)",
    "taken_over_by_others": "started pilots alive with a rival school or firm-led provider (count)",
    "school_commitment": "the school's effective commitment to the regional strategy (0-1)",
    "embedding": "mean embedding of the school in policy, middle management, curriculum (0-1)",
    "interim": "1 while an interim director is in office",
    "composition": "community element composition (0-1)",
    "working": "community element formation and working (0-1)",
    "facilitation": "community element facilitation (0-1)",
    "resilience": "community element flexibility and resilience (0-1)",
    "intake": "students enrolled this school year (BOL+BBL)",
    "community_size": "people with at least one active tie (count)",
}

#: Per-pilot record fields.
PILOT_FIELDS: dict[str, str] = {
    "pilot_id": "index of the pilot within the run",
    "target_group": "'initial' (BOL/BBL elective) or 'adult' (LLO learners)",
    "complexity": "'simple', 'complicated' or 'complex'",
    "provider": "who runs it at the end: 'school', 'adult_arm', 'rival_school' or 'firm_provider'",
    "fate": "phase at the horizon",
    "fate_class": "continued_with_initial_education, continued_by_adult_arm, taken_over, structural, faded ('' if never run)",
    "months_alive": "months from first run to fade or horizon (0 if never run)",
    "runs": "runs completed",
    "proposed_month": "month the pilot was proposed",
    "first_run_month": "month its first run started (-1 if never)",
    "first_provider": "who ran its first run, so whose decision first_decision is ('' if never run)",
    "fade_month": "month it faded (-1 if never)",
    "subsidy_end_month": "month its subsidy ended (-1 if never subsidised or still paying)",
    "funding_end_month": "month the last run its subsidy could pay ended (-1 if never)",
    "revivals": "times revived by student demand",
    "last_setback": "why it was last not continued (empty if never)",
    "initial_education_involved": "whether the school's initial education took part in a run",
    "first_run_quality": "quality of the first run (0-1; NaN if never run)",
    "satisfaction_after_first_run": "partner firms' mean commitment when the first run ended (0-1)",
    "first_decision": "what followed the first run: continued, structural, continued_by_adult_arm, taken_over, "
    "faded ('' if pending)",
    "students_drawn": "students who enrolled at the school because of this pilot's elective (count)",
    "students_drawn_away": "students who enrolled at the rival school because it ran this elective (count)",
    "ties_at_proposal": "tie strength of the school's best-tied teacher to the partner firms when proposed (0-1)",
    "coach_left_month": "first month its best-tied coach left the school during a run (-1 if never)",
    "relationships": "its relationships with one provider each, in order (L1): 'provider:runs:end' joined by ';', "
    "runs = that provider's completed runs, end = handed_over, faded or (the open one) the phase at the horizon",
}


@dataclass(slots=True)
class RunOutcome:
    """Everything one run reports.  Plain Python and numpy, picklable, no Mesa objects."""

    summary: dict[str, float]
    pilots: list[dict[str, object]]
    series: dict[str, np.ndarray] = field(default_factory=dict)


def _share(count: int, total: int) -> float:
    return count / total if total else float("nan")


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def summarise(model) -> dict[str, float]:
    """The summary scalars (SUMMARY_FIELDS) of a model at its current month."""
    pilots = model.pilots
    started = [pilot for pilot in pilots if pilot.started]
    n = len(started)
    gains = model.gains
    learners = len(gains["students"]) + len(gains["adult_learners"])
    faded_after_subsidy = [
        pilot.fade_month - pilot.subsidy_end_month
        for pilot in pilots
        if pilot.fade_month >= 0 and pilot.subsidy_end_month >= 0 and pilot.fade_month >= pilot.subsidy_end_month
    ]
    knowledge_school = sum(pilot.knowledge_in_curriculum for pilot in pilots)
    elements = model.community_elements()
    lifetimes = [pilot.record()["months_alive"] for pilot in started]
    summary = {
        "pilots_proposed": float(len(pilots)),
        "pilots_started": float(n),
        "continued_by_school_y3": model.continued_by_school_at_year.get(3, float("nan")),
        "continued_by_school_y5": model.continued_by_school_at_year.get(5, float("nan")),
        "continued_by_school_y10": model.continued_by_school_at_year.get(10, float("nan")),
        "structural_share": _share(sum(p.phase is Phase.STRUCTURAL for p in started), n),
        "taken_over_share": _share(sum(p.fate_class() is Fate.TAKEN_OVER for p in started), n),
        "adult_arm_share": _share(sum(p.fate_class() is Fate.ADULT_ARM for p in started), n),
        "faded_share": _share(sum(p.phase is Phase.FADED for p in started), n),
        "revived_share": _share(sum(p.revivals > 0 for p in started), n),
        "mean_pilot_lifetime_months": _mean(lifetimes),
        "llo_students": float(len(gains["students"])),
        "llo_adult_learners": float(len(gains["adult_learners"])),
        "llo_teachers": float(len(gains["teachers"])),
        "llo_entrepreneurs": float(len(gains["entrepreneurs"])),
        "gain_students": _mean(gains["students"].values()),
        "gain_adult_learners": _mean(gains["adult_learners"].values()),
        "gain_teachers": _mean(gains["teachers"].values()),
        "gain_entrepreneurs": _mean(gains["entrepreneurs"].values()),
        "community_size": float(model.network.community_size()),
        "network_density": model.network.density(),
        **elements,
        "intake_final": float(model.intake),
        "students_drawn_away": float(sum(p.students_drawn_away for p in pilots)),
        "public_eur_per_learner": model.eur_public / learners if learners else float("nan"),
        "private_eur_per_learner": (model.eur_private + model.cooperative.eur_spent) / learners
        if learners
        else float("nan"),
        "director_changes": float(model.school.director_changes),
        "interim_months": float(model.school.interim_months_total),
        "interventions": float(model.cooperative.interventions),
        "mean_fade_after_subsidy_end": _mean(faded_after_subsidy),
        "knowledge_retained_share": knowledge_school / model.knowledge_created
        if model.knowledge_created > 0
        else float("nan"),
    }
    return {name: float(summary[name]) for name in SUMMARY_FIELDS}
