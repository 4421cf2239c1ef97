"""The model as the viewer runs it, the viewer's parameter sliders and its one-line readout.

:class:`ViewedModel` is :class:`sim.model.LearningCommunityModel` plus what Mesa's ``SolaraViz`` and
the charts need, and nothing that changes a run:

* a Mesa ``DataCollector`` whose model reporters read the model's own monthly series
  (``sim.outcomes.SERIES_FIELDS``) after every step, so the charts show exactly the numbers
  ``lcsim run`` stores;
* ``running`` turns false at the horizon (the model's series are preallocated for that many months);
* the seed: ``seed`` (an integer, as ``lcsim run --seed``) and ``replicate`` give
  ``SeedSequence(seed, spawn_key=(replicate,))`` -- replicate ``i`` of ``lcsim run --seed SEED`` --
  passed as ``rng=``.  Nothing here draws from global random state or from the model's generator.

The sliders are built from the metadata in :mod:`sim.params` (plausible range, unit, default), so
they cannot drift from the parameter table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from mesa import DataCollector

from sim.model import LearningCommunityModel
from sim.outcomes import SERIES_FIELDS
from sim.params import ParamInfo, Params, parameter_table
from sim.pilot import Phase

#: The success factors the viewer offers as sliders: the leaders of the baseline Morris screening
#: (results/baseline_morris, continuation at year 5) and the levers the seed names (embedding, money,
#: agenda, monitoring and intervention).  Each must be flagged ``success_factor`` in sim.params.
SLIDER_FACTORS: tuple[str, ...] = (
    "management_turnover_rate",
    "interim_length_months",
    "external_stress",
    "initial_embedding",
    "school_cofunding_willingness",
    "clarity_of_financial_agreements",
    "subsidy_duration_months",
    "agenda_strength",
    "monitoring_level",
    "intervention_readiness",
)

#: Allowed seeds: the same as ``lcsim run --seed`` (experiments.cli.options.OPTION_RANGES["seed"]).
SEED_RANGE = (0, 2**63 - 1)
#: Highest replicate index the replicate slider offers.
MAX_REPLICATE = 199
DEFAULT_SEED = 7

#: Pilot phases in display order (the life cycle), with their chart colours.
PHASE_ORDER: tuple[Phase, ...] = (
    Phase.PROPOSED, Phase.RUNNING, Phase.EVALUATING, Phase.CONTINUED, Phase.REVIVED,
    Phase.STRUCTURAL, Phase.TAKEN_OVER, Phase.FADED,
)
#: The four elements of a learning community (seed ch. 4), as the model reports them.
ELEMENTS: tuple[str, ...] = ("composition", "working", "facilitation", "resilience")


def parse_seed(value: Any) -> int:
    """An integer seed from a slider or text input; ValueError names the value and what is allowed."""
    low, high = SEED_RANGE
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, (int, np.integer)):
        seed = int(value)
    else:
        text = str(value).strip().replace("_", "")
        try:
            seed = int(text)
        except ValueError:
            raise ValueError(f"seed {value!r}: not an integer; allowed: an integer from {low} to {high}") from None
    if not low <= seed <= high:
        raise ValueError(f"seed {seed}: out of range; allowed: an integer from {low} to {high}")
    return seed


def viewer_seed(seed: Any, replicate: Any = 0) -> np.random.SeedSequence:
    """The run's seed: replicate ``replicate`` of ``lcsim run --seed seed`` (child i of SeedSequence(seed))."""
    replicate = int(replicate)
    if not 0 <= replicate <= MAX_REPLICATE:
        raise ValueError(f"replicate {replicate}: out of range; allowed: an integer from 0 to {MAX_REPLICATE}")
    return np.random.SeedSequence(parse_seed(seed), spawn_key=(replicate,))


def coerce_parameters(values: dict[str, Any]) -> dict[str, Any]:
    """Slider values as Params wants them (strict types): ints for int fields, floats for float fields.

    A browser slider may send ``1`` for a float or ``12.0`` for an integer; Params is strict.
    """
    out = {}
    for name, value in values.items():
        field = Params.model_fields.get(name)
        if field is None:
            out[name] = value  # Params refuses unknown names with its own message
        elif field.annotation is int and isinstance(value, float) and value.is_integer():
            out[name] = int(value)
        elif field.annotation is float and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            out[name] = float(value)
        else:
            out[name] = value
    return out


def _series_reporter(name: str):
    def report(model: ViewedModel) -> float:
        return float(model.series[name][model.month - 1])

    report.__name__ = f"series_{name}"
    return report


class ViewedModel(LearningCommunityModel):
    """The model with a DataCollector over its monthly series, stopping at its horizon.

    ``seed`` and ``replicate`` choose the random stream (see :func:`viewer_seed`); every other keyword
    is a parameter override as for :class:`LearningCommunityModel`.  Mesa's SolaraViz re-creates the
    model with these keywords when Reset is pressed.
    """

    def __init__(self, *, seed: Any = DEFAULT_SEED, replicate: Any = 0, **kwargs: Any):
        #: What was wrong with the seed typed in the page ('' if nothing): the page shows it.  A page must
        #: not die of a typo, so the run then uses the default seed -- said in the message, never silently.
        self.input_error = ""
        try:
            sequence = viewer_seed(seed, replicate)
        except (TypeError, ValueError) as exc:
            self.input_error = f"{exc}; this run uses seed {DEFAULT_SEED}, replicate 0: correct it and press Reset"
            seed, replicate = DEFAULT_SEED, 0
            sequence = viewer_seed(seed, replicate)
        super().__init__(rng=sequence, **coerce_parameters(kwargs))
        self.seed = parse_seed(seed)
        self.replicate = int(replicate)
        self.datacollector = DataCollector(
            model_reporters={"month": lambda m: m.month, **{name: _series_reporter(name) for name in SERIES_FIELDS}}
        )
        #: Node positions of the tie-network drawing, kept between steps (viewer state, not model state).
        self.layout: dict[Any, np.ndarray] = {}
        self.running = self.params.horizon_months > 0

    def step(self) -> None:
        """One month; afterwards the series of that month are collected.  Past the horizon: nothing."""
        if self.month >= self.params.horizon_months:
            self.running = False
            return
        super().step()
        self.datacollector.collect(self)
        if self.month >= self.params.horizon_months:
            self.running = False

    def frame(self):
        """The collected series, one row per simulated month (a pandas DataFrame; empty before step 1)."""
        frame = self.datacollector.get_model_vars_dataframe()
        if frame.empty:
            import pandas as pd

            return pd.DataFrame(columns=["month", *SERIES_FIELDS])
        return frame


# ------------------------------------------------------------------------------------------- sliders


@dataclass(frozen=True)
class Slider:
    """One parameter slider: the parameter, its label, range, step and starting value."""

    name: str
    label: str
    kind: str  # "SliderFloat" or "SliderInt"
    low: float
    high: float
    step: float
    value: float

    def as_mesa(self) -> dict[str, Any]:
        """The entry of SolaraViz's ``model_params``."""
        return {"type": self.kind, "label": self.label, "value": self.value, "min": self.low, "max": self.high,
                "step": self.step}


def nice_step(low: float, high: float, kind: str) -> float:
    """A round slider step giving about 50-500 positions over the range (1 for integer parameters)."""
    if kind == "int":
        return 1
    span = high - low
    if span <= 0:
        return 0.01
    return 10.0 ** math.floor(math.log10(span / 50.0))


def label_for(info: ParamInfo) -> str:
    """'Management turnover rate (director changes/year)': the name in words with its unit."""
    words = info.name.replace("_", " ")
    return f"{words[0].upper()}{words[1:]} ({info.unit})"


def slider_for(info: ParamInfo) -> Slider:
    """The slider of a parameter: its plausible range, its default, a round step."""
    step = nice_step(info.low, info.high, info.kind)
    if info.kind == "int":
        return Slider(info.name, label_for(info), "SliderInt", int(info.low), int(info.high), 1, int(info.default))
    return Slider(info.name, label_for(info), "SliderFloat", float(info.low), float(info.high), step,
                  float(info.default))


def sliders(names: tuple[str, ...] = SLIDER_FACTORS) -> list[Slider]:
    """The viewer's parameter sliders, from the parameter table (refuses names that are not success factors)."""
    table = {row.name: row for row in parameter_table()}
    out = []
    for name in names:
        info = table.get(name)
        if info is None or not info.success_factor:
            raise ValueError(f"{name}: not a success factor in sim.params")
        out.append(slider_for(info))
    return out


def model_params(names: tuple[str, ...] = SLIDER_FACTORS, current: ViewedModel | None = None) -> dict[str, Any]:
    """SolaraViz's ``model_params``: seed, replicate, horizon, then one slider per success factor.

    The inputs start at the defaults, or at the values ``current`` (a running model) was built with.
    """
    table = {row.name: row for row in parameter_table()}
    horizon = table["horizon_months"]
    params: dict[str, Any] = {
        "seed": {"type": "InputText", "value": str(current.seed if current else DEFAULT_SEED),
                 "label": "Seed (as lcsim run --seed)"},
        "replicate": {"type": "SliderInt", "value": current.replicate if current else 0,
                      "label": "Replicate (child of the seed)", "min": 0, "max": MAX_REPLICATE, "step": 1},
        "horizon_months": {"type": "SliderInt", "label": label_for(horizon), "min": int(horizon.low),
                           "max": int(horizon.high), "step": 12,
                           "value": current.params.horizon_months if current else int(horizon.default)},
    }
    for slider in sliders(names):
        params[slider.name] = slider.as_mesa()
        if current is not None:
            params[slider.name]["value"] = getattr(current.params, slider.name)
    return params


# ------------------------------------------------------------------------------------------- readout


def _fmt(value: float) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"


def readout(model: ViewedModel) -> str:
    """One line of the run's state: month, pilots by phase, the school and the community.

    The browser test reads this text to see that the run moves.
    """
    frame = model.frame()
    if frame.empty:
        return f"month 0 of {model.params.horizon_months} · pilots {len(model.pilots)} (press Step or ▶)"
    row = frame.iloc[-1]
    phases = ", ".join(
        f"{phase.value.replace('_', ' ')} {int(row[f'phase_{phase.value}'])}"
        for phase in PHASE_ORDER if row[f"phase_{phase.value}"] > 0
    ) or "none"
    return (
        f"month {int(row['month'])} of {model.params.horizon_months} · pilots {len(model.pilots)}: {phases} · "
        f"alive with the school {int(row['alive_with_school'])} · "
        f"school commitment {_fmt(row['school_commitment'])} · embedding {_fmt(row['embedding'])}"
        f"{' · interim director' if row['interim'] else ''} · community {int(row['community_size'])} people"
    )


def settings_line(model: ViewedModel) -> str:
    """The seed and the slider parameters the running model was built with (shows that Reset took them)."""
    settings = ", ".join(f"{name} = {getattr(model.params, name):g}" for name in SLIDER_FACTORS)
    return f"seed {model.seed}, replicate {model.replicate}, horizon {model.params.horizon_months} months; {settings}"
