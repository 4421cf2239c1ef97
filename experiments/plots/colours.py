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

#: Pilots that never ran (share of proposed pilots).
NEVER_STARTED_COLOUR = "#bbbbbb"

#: The colour of "continued by the school" curves of one scenario (the continued phase's colour).
CONTINUATION_COLOUR = PHASE_COLOURS["continued"]


def phase_colour(phase: str) -> str:
    """The colour of a phase or fate (grey for anything unknown)."""
    return PHASE_COLOURS.get(phase, "#777777")


def phase_label(phase: str, at_horizon: bool = False) -> str:
    """A phase name for a legend (``taken_over`` -> ``taken over``); ``proposed`` reads ``proposed (not
    started)`` over time and ``never started`` as a fate at the horizon."""
    if phase == "proposed":
        return "never started" if at_horizon else "proposed (not started)"
    return phase.replace("_", " ")
