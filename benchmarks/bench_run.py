"""Cost of one baseline run against a carefully written Mesa 3 toy, and how the cost grows with the region.

Three parts, all in one process:

1. **Per-run cost.** Median milliseconds per 120-month baseline run against two toys of 150 agents and
   120 steps, interleaved run by run so that drift in machine load hits every model alike:

   * the *careful toy* -- the yardstick: each step every agent reads one random other agent from a list
     built once per step, updates two attributes, activation by ``shuffle_do``, a DataCollector with five
     model reporters and no agent reporters (what a careful Mesa user writes);
   * the *naive toy* -- the same model as most Mesa tutorials write it: ``self.random.choice(model.agents)``
     copies the whole agent list on every call (quadratic per step) and two agent reporters per agent per
     step.  Shown only as a second line; the target is against the careful toy.

   The ratio is reported as the median of per-pair ratios with its minimum and maximum.

2. **Agents stepped.** For each model, the mean number of distinct agents that executed a method of their
   own during a step (counted in a separate, untimed run with a profile hook), so that milliseconds per
   agent-step compare like with like: students that are never stepped are not counted.

3. **Scaling.** The baseline at 1/2/4/8/16 times the region (entrepreneurs, BOL and BBL intake, teachers,
   initial pilots and the cooperative's active-pilot capacity together) and over 60/120/240/480 months,
   with the log-log slope fitted by least squares over the points (1.0 = linear).

Targets (issue 13): baseline run <= 0.4 x the careful toy; slope <= 1.1 over region size and <= 1.05 over
the horizon.

Run: ``.venv/bin/python benchmarks/bench_run.py [--repeats 15] [--scaling-repeats 5]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import mesa
import numpy as np

from sim import LearningCommunityModel, Params

TOY_AGENTS = 150
TOY_STEPS = 120
REGION_FIELDS = (
    "entrepreneur_count", "bol_intake_per_year", "bbl_intake_per_year", "teacher_count",
    "initial_pilots", "max_active_pilots",
)
REGION_SCALES = (1, 2, 4, 8, 16)
HORIZONS = (60, 120, 240, 480)


# --------------------------------------------------------------------------------------- the two toys
class CarefulAgent(mesa.Agent):
    def __init__(self, model):
        super().__init__(model)
        self.wealth = 1.0
        self.contacts = 0

    def step(self):
        other = self.random.choice(self.model.agent_list)
        self.wealth = 0.9 * self.wealth + 0.1 * other.wealth
        self.contacts += 1


class NaiveAgent(CarefulAgent):
    def step(self):
        other = self.random.choice(self.model.agents)  # builds a list of every agent, on every call
        self.wealth = 0.9 * self.wealth + 0.1 * other.wealth
        self.contacts += 1


def total_wealth(model):
    return sum(a.wealth for a in model.agent_list)


def max_wealth(model):
    return max(a.wealth for a in model.agent_list)


def min_wealth(model):
    return min(a.wealth for a in model.agent_list)


def total_contacts(model):
    return sum(a.contacts for a in model.agent_list)


def agent_count(model):
    return len(model.agent_list)


MODEL_REPORTERS = {"total": total_wealth, "max": max_wealth, "min": min_wealth,
                   "contacts": total_contacts, "n": agent_count}


class CarefulToy(mesa.Model):
    agent_class = CarefulAgent
    agent_reporters: dict | None = None

    def __init__(self, n=TOY_AGENTS, rng=None):
        super().__init__(rng=rng)
        self.agent_class.create_agents(self, n)
        self.agent_list = list(self.agents)
        self.datacollector = mesa.DataCollector(model_reporters=MODEL_REPORTERS,
                                                agent_reporters=self.agent_reporters)

    def step(self):
        self.agent_list = list(self.agents)  # once per step: agents may come and go between steps
        self.agents.shuffle_do("step")
        self.datacollector.collect(self)


class NaiveToy(CarefulToy):
    agent_class = NaiveAgent
    agent_reporters = {"wealth": "wealth", "contacts": "contacts"}


# --------------------------------------------------------------------------------------- timing
def release(model) -> None:
    """Drop the model from Mesa 3.3's class-level id counter (mesa#3179), as ``sim.run_model`` does."""
    mesa.Agent._ids.pop(model, None)


def time_toy(cls, seed: int) -> float:
    start = time.perf_counter()
    model = cls(rng=seed)
    for _ in range(TOY_STEPS):
        model.step()
    seconds = time.perf_counter() - start
    release(model)
    return seconds


def time_lcsim(params: Params, seed: int) -> float:
    start = time.perf_counter()
    model = LearningCommunityModel(params=params, rng=np.random.SeedSequence(seed))
    for _ in range(params.horizon_months):
        model.step()
    model.outcome()
    seconds = time.perf_counter() - start
    release(model)
    return seconds


def agents_stepped(model, steps: int) -> float:
    """Mean number of distinct agents per step that ran a method of their own class (untimed run)."""
    counts = []
    active: set[int] = set()

    own: dict[tuple[type, str], bool] = {}

    def hook(frame, event, arg):
        if event != "call":
            return
        owner = frame.f_locals.get("self")
        if not isinstance(owner, mesa.Agent):
            return
        key = (type(owner), frame.f_code.co_name)
        if key not in own:  # a method written in the model's own agent classes, not Mesa's
            own[key] = any(key[1] in klass.__dict__ for klass in key[0].__mro__
                           if issubclass(klass, mesa.Agent) and klass is not mesa.Agent)
        if own[key]:
            active.add(id(owner))

    for _ in range(steps):
        active.clear()
        sys.setprofile(hook)
        try:
            model.step()
        finally:
            sys.setprofile(None)
        counts.append(len(active))
    release(model)
    return statistics.mean(counts)


def scaled(scale: int, horizon: int = 120) -> Params:
    base = Params()
    update = {name: getattr(base, name) * scale for name in REGION_FIELDS}
    return Params(**{**base.model_dump(), **update, "horizon_months": horizon})


def slope(xs, ys) -> float:
    """Least-squares slope of log(y) on log(x): the exponent of the cost's growth."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="interleaved runs of each model (part 1)")
    parser.add_argument("--scaling-repeats", type=int, default=5, help="runs per scaling point (part 3)")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--no-naive", action="store_true",
                        help="leave out the naive toy (it costs ~15 careful toys a run on a loaded machine)")
    args = parser.parse_args()

    baseline = Params()
    for warm in (lambda: time_toy(CarefulToy, 0), lambda: time_toy(NaiveToy, 0),
                 lambda: time_lcsim(baseline, 0)):
        warm()  # imports, caches
    keys = ("careful", "lcsim") if args.no_naive else ("careful", "naive", "lcsim")
    times: dict[str, list[float]] = {key: [] for key in keys}
    for seed in range(args.repeats):
        times["careful"].append(time_toy(CarefulToy, seed))
        if not args.no_naive:
            times["naive"].append(time_toy(NaiveToy, seed))
        times["lcsim"].append(time_lcsim(baseline, seed))
    stepped = {
        "careful": agents_stepped(CarefulToy(rng=0), TOY_STEPS),
        "naive": agents_stepped(NaiveToy(rng=0), TOY_STEPS),  # untimed, cheap enough
        "lcsim": agents_stepped(LearningCommunityModel(params=baseline, rng=np.random.SeedSequence(0)),
                                baseline.horizon_months),
    }
    steps = {"careful": TOY_STEPS, "naive": TOY_STEPS, "lcsim": baseline.horizon_months}
    labels = {"careful": "careful Mesa toy (yardstick)", "naive": "naive Mesa toy (list per call)",
              "lcsim": "lcsim baseline"}
    print(f"part 1-2: median of {args.repeats} interleaved runs each, one process")
    print(f"{'model':<32}{'ms/run':>9}{'agents stepped':>16}{'us/agent-step':>15}")
    for key in keys:
        ms = statistics.median(times[key]) * 1e3
        print(f"{labels[key]:<32}{ms:>9.2f}{stepped[key]:>16.1f}{ms * 1e3 / (stepped[key] * steps[key]):>15.2f}")
    for toy, target in (("careful", 0.4), ("naive", None))[: 1 if args.no_naive else 2]:
        ratios = [b / t for b, t in zip(times["lcsim"], times[toy])]
        line = (f"lcsim baseline / {toy} toy = {statistics.median(ratios):.3f} "
                f"(min {min(ratios):.3f}, max {max(ratios):.3f} over {len(ratios)} pairs)")
        if target is not None:
            verdict = "meets" if statistics.median(ratios) <= target else "misses"
            line += f"   {verdict} the target <= {target}"
        print(line)

    if args.skip_scaling:
        return
    print(f"\npart 3: scaling, median of {args.scaling_repeats} runs per point (seeds 0..)")
    for name, xs, make, target in (
        ("region size", REGION_SCALES, scaled, 1.1),
        ("horizon (months)", HORIZONS, lambda h: scaled(1, h), 1.05),
    ):
        medians = []
        for x in xs:
            params = make(x)
            medians.append(statistics.median(time_lcsim(params, seed) for seed in range(args.scaling_repeats)))
        rel = [m / medians[0] for m in medians]
        print(f"  {name:<18}" + "".join(f"{x:>8}" for x in xs))
        print(f"  {'ms/run':<18}" + "".join(f"{1e3 * m:>8.1f}" for m in medians))
        print(f"  {'cost ratio':<18}" + "".join(f"{r:>8.2f}" for r in rel))
        exponent = slope(xs, medians)
        verdict = "meets" if exponent <= target else "misses"
        print(f"  log-log slope = {exponent:.3f}   {verdict} the target <= {target}")


if __name__ == "__main__":
    main()
