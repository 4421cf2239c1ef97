"""Cost of one baseline run against an idiomatic Mesa 3 toy of the same size, in one process.

Prints the median milliseconds per run and microseconds per agent-step of both, and their ratio.
Target (issue 2): the baseline run costs at most a quarter of the toy's run.

The toy: ~150 agents; each step every agent reads one random other agent through the AgentSet
(``random.choice`` on the AgentSet, which builds a list each call in Mesa 3.3) and updates two
attributes; activation by ``shuffle_do``; a DataCollector with five model and two agent reporters.

Run: ``.venv/bin/python benchmarks/bench_run.py [--repeats 15]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import mesa
import numpy as np

from sim import LearningCommunityModel, Params

MONTHS = 120


class ToyAgent(mesa.Agent):
    def __init__(self, model):
        super().__init__(model)
        self.wealth = 1.0
        self.contacts = 0

    def step(self):
        other = self.random.choice(self.model.agents)
        self.wealth = 0.9 * self.wealth + 0.1 * other.wealth
        self.contacts += 1


def total_wealth(model):
    return sum(a.wealth for a in model.agents)


def max_wealth(model):
    return max(a.wealth for a in model.agents)


def min_wealth(model):
    return min(a.wealth for a in model.agents)


def total_contacts(model):
    return sum(a.contacts for a in model.agents)


def agent_count(model):
    return len(model.agents)


class ToyModel(mesa.Model):
    def __init__(self, n=150, rng=None):
        super().__init__(rng=rng)
        ToyAgent.create_agents(self, n)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "total": total_wealth, "max": max_wealth, "min": min_wealth,
                "contacts": total_contacts, "n": agent_count,
            },
            agent_reporters={"wealth": "wealth", "contacts": "contacts"},
        )

    def step(self):
        self.agents.shuffle_do("step")
        self.datacollector.collect(self)


def time_toy(seed: int) -> tuple[float, int]:
    start = time.perf_counter()
    model = ToyModel(rng=seed)
    for _ in range(MONTHS):
        model.step()
    return time.perf_counter() - start, len(model.agents)


def time_baseline(seed: int) -> tuple[float, int]:
    params = Params()
    start = time.perf_counter()
    model = LearningCommunityModel(params=params, rng=np.random.SeedSequence(seed))
    agents = 0
    for _ in range(params.horizon_months):
        model.step()
        agents += len(model.agents)
    model.outcome()
    return time.perf_counter() - start, agents // params.horizon_months


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    time_toy(0), time_baseline(0)  # warm-up: imports, caches
    toy, base = [], []
    toy_agents = base_agents = 0
    for seed in range(args.repeats):  # interleaved so drift in machine load hits both alike
        seconds, toy_agents = time_toy(seed)
        toy.append(seconds)
        seconds, base_agents = time_baseline(seed)
        base.append(seconds)
    toy_ms, base_ms = statistics.median(toy) * 1e3, statistics.median(base) * 1e3
    print(f"{'model':<24}{'agents':>8}{'ms/run':>10}{'us/agent-step':>16}")
    print(f"{'mesa toy (idiomatic)':<24}{toy_agents:>8}{toy_ms:>10.1f}{toy_ms * 1e3 / (toy_agents * MONTHS):>16.2f}")
    print(f"{'lcsim baseline':<24}{base_agents:>8}{base_ms:>10.1f}{base_ms * 1e3 / (base_agents * MONTHS):>16.2f}")
    ratio = base_ms / toy_ms
    verdict = "meets" if ratio <= 0.25 else "misses"
    print(f"baseline / toy = {ratio:.3f}  ({verdict} the target of <= 0.25; median of {args.repeats} runs each)")


if __name__ == "__main__":
    main()
