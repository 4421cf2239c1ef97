"""One colour per pilot phase (and so per fate, the phase at the horizon), used by every figure and the viewer.

Colour-blind-safe choices from the Okabe-Ito palette where the meaning is strongest: red-vermillion
for *faded*, bluish green for *structural*, orange for *taken over*, blue for *running*; pale tints
for the passing phases.  "never started" (a pilot still only proposed) is grey in every figure.
"""

from __future__ import annotations

#: Phase (fate) -> colour.  Keys are the model's phase names (``sim.Phase`` values).
PHASE_COLOURS: dict[str, str] = {
    "proposed": "#bbbbbb",
    "running": "#0072b2",
    "evaluating": "#56b4e9",
    "continued": "#009e73",
    "revived": "#f0e442",
    "structural": "#004d40",
    "taken_over": "#e69f00",
    "faded": "#d55e00",
}

#: Fate of a started pilot at the horizon (``sim.FATES``) -> colour: the colour of the phase it ends in;
#: the adult arm (the school group's own adult provider) reddish purple, its own fate.
FATE_COLOURS: dict[str, str] = {
    "continued_with_initial_education": PHASE_COLOURS["continued"],
    "continued_by_adult_arm": "#cc79a7",
    "taken_over": PHASE_COLOURS["taken_over"],
    "structural": PHASE_COLOURS["structural"],
    "faded": PHASE_COLOURS["faded"],
}

#: Pilots that never ran (share of proposed pilots).
NEVER_STARTED_COLOUR = "#bbbbbb"

#: The colour of "continued by the school" curves of one scenario (the continued phase's colour).
CONTINUATION_COLOUR = PHASE_COLOURS["continued"]


def phase_colour(phase: str) -> str:
    """The colour of a phase or fate (grey for anything unknown)."""
    return PHASE_COLOURS.get(phase, "#777777")


def fate_colour(fate: str) -> str:
    """The colour of a fate (grey for anything unknown)."""
    return FATE_COLOURS.get(fate, PHASE_COLOURS.get(fate, "#777777"))


def fate_label(fate: str) -> str:
    """A fate for a legend: ``continued_by_adult_arm`` -> ``continued by adult arm``; '' -> never started."""
    return fate.replace("_", " ") if fate else "never started"


def phase_label(phase: str, at_horizon: bool = False) -> str:
    """A phase name for a legend (``taken_over`` -> ``taken over``); ``proposed`` reads ``proposed (not
    started)`` over time and ``never started`` as a fate at the horizon."""
    if phase == "proposed":
        return "never started" if at_horizon else "proposed (not started)"
    return phase.replace("_", " ")
