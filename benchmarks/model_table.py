"""Fates, intake, turnover and money per scenario: the before/after table of a model change.

For the baseline and every scenario in ``configs/scenarios/`` this runs R replicates (replicate i
seeded with ``SeedSequence(seed).spawn(R)[i]``, as ``lcsim run`` does) and prints, as means over the
replicates, the shares of started pilots at year 5 that are

* ``school``  - continued with initial education (run by the school, alive),
* ``arm``     - continued by the school group's own adult arm without initial education,
* ``taken``   - taken over by others (rival school, firm-led provider),
* ``faded``   - faded,
* ``struct``  - structural,

and the intake trend (%/year, from the first and last August intake), director changes over the
horizon and public + private money per pilot learner.  A second table gives the effect of
management turnover alone (0 and high, all else baseline) on continuation with the school at years
3, 5 and 10.  Pilots are classified by ``Pilot.record()`` so the script reads both the old model
(where every hand-over is 'taken_over' and the adult arm does not exist) and the new one.

Run: ``PYTHONPATH=$PWD .venv/bin/python benchmarks/model_table.py [--replicates 50] [--seed 7]``
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from numpy.random import SeedSequence

from experiments.config import load_scenario
from sim import LearningCommunityModel, Params

YEAR5 = 60
SCENARIOS = Path(__file__).resolve().parents[1] / "configs" / "scenarios"
FATES = ("school", "arm", "taken", "faded", "struct")


def classify(record: dict) -> str | None:
    """The fate class of one pilot record, or None for a pilot that never ran."""
    if record["first_run_month"] < 0:
        return None
    if "fate_class" in record:  # model v2
        return {
            "continued_with_initial_education": "school",
            "continued_by_adult_arm": "arm",
            "taken_over": "taken",
            "faded": "faded",
            "structural": "struct",
        }[record["fate_class"]]
    fate = record["fate"]  # model v1: every hand-over is 'taken_over'
    if fate == "structural":
        return "struct"
    if fate == "faded":
        return "faded"
    if fate == "taken_over":
        return "taken"
    return "school" if record["provider"] == "school" else "arm"


def run_once(params: Params, seed: SeedSequence) -> dict[str, float]:
    model = LearningCommunityModel(params=params, rng=seed)
    row: dict[str, float] = {}
    for month in range(params.horizon_months):
        model.step()
        if month + 1 == min(YEAR5, params.horizon_months):  # a case shorter than 5 years: its end
            classes = [classify(pilot.record()) for pilot in model.pilots]
            started = [c for c in classes if c is not None]
            for fate in FATES:
                row[fate] = sum(c == fate for c in started) / len(started) if started else math.nan
    out = model.outcome()
    intake = out.series["intake"]
    augusts = intake[11::12]
    row["intake_trend"] = 100.0 * ((augusts[-1] / augusts[0]) ** (1.0 / max(len(augusts) - 1, 1)) - 1.0)
    row["directors"] = out.summary["director_changes"]
    row["eur"] = out.summary["public_eur_per_learner"] + out.summary["private_eur_per_learner"]
    for year in (3, 5, 10):
        row[f"y{year}"] = out.summary[f"continued_by_school_y{year}"]
    return row


def ensemble(params: Params, replicates: int, seed: int) -> dict[str, float]:
    rows = [run_once(params, s) for s in SeedSequence(seed).spawn(replicates)]
    return {key: float(np.nanmean([r[key] for r in rows])) for key in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    files = sorted(SCENARIOS.glob("*.toml"), key=lambda p: (p.stem != "baseline", p.stem))
    print(f"Year-5 fate shares of started pilots; {args.replicates} replicates, seed {args.seed}.\n")
    print("| scenario | school | arm | taken | faded | struct | intake %/yr | director changes | EUR/learner |")
    print("|---|---|---|---|---|---|---|---|---|")
    baseline = None
    for path in files:
        scenario = load_scenario(path)
        if baseline is None:
            baseline = scenario.params
        m = ensemble(scenario.params, args.replicates, args.seed)
        print(
            f"| {path.stem} | " + " | ".join(f"{m[f]:.3f}" for f in FATES)
            + f" | {m['intake_trend']:+.2f} | {m['directors']:.2f} | {m['eur']:.0f} |"
        )
    high = float(Params.model_json_schema()["properties"]["management_turnover_rate"]["plausible"][1])
    print(f"\nTurnover alone (all else baseline): continued with the school at years 3, 5, 10.\n")
    print("| management turnover | y3 | y5 | y10 | director changes |")
    print("|---|---|---|---|---|")
    for label, overrides in (
        ("0", {"management_turnover_rate": 0.0}),
        ("baseline", {}),
        (f"high ({high:g}/yr)", {"management_turnover_rate": high}),
    ):
        overrides = {**overrides, **turnover_overrides(label)}
        params = Params(**{**baseline.model_dump(), **overrides})
        m = ensemble(params, args.replicates, args.seed)
        print(f"| {label} | {m['y3']:.3f} | {m['y5']:.3f} | {m['y10']:.3f} | {m['directors']:.2f} |")


def turnover_overrides(label: str) -> dict[str, float]:
    """Extra fields that switch turnover off or to high in model v2 (regime rates), if they exist."""
    fields = Params.model_fields
    if "turbulent_turnover_rate" not in fields:
        return {}
    if label == "0":
        return {"turbulent_turnover_rate": 0.0}
    if label.startswith("high"):
        high = float(Params.model_json_schema()["properties"]["turbulent_turnover_rate"]["plausible"][1])
        return {"turbulent_turnover_rate": high}
    return {}


if __name__ == "__main__":
    main()
