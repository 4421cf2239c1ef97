"""The tie network between people in the region, with four kinds of proximity.

Nodes are hashable keys of people (teachers, entrepreneurs, the cooperative's facilitator).  Each
edge carries the four proximities named in the seed document's accelerators ('werk aan nabijheid':
fysiek, cognitief, organisatorisch, sociaal; after Boschma 2005) as values in 0-1.  Tie strength is
their mean.  Meetings close part of the distance (SKIN: partnering strengthens ties), unused social
and cognitive proximity decays (Carley 1992), and a departing person takes all their ties along.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import combinations

import networkx as nx

PROXIMITIES = ("physical", "cognitive", "organisational", "social")

#: Default strength at or above which a tie counts as active (``Params.active_tie_threshold``).
ACTIVE_TIE = 0.25


class TieNetwork:
    """Weighted, undirected ties with four proximities per edge (a thin layer over networkx)."""

    def __init__(
        self,
        initial: dict[str, float],
        meeting_gain: float,
        decay_per_month: float,
        active_threshold: float = ACTIVE_TIE,
    ):
        """``initial`` maps each proximity kind to the value of a new tie (0-1)."""
        self.graph = nx.Graph()
        # The same attribute dicts networkx holds, keyed by pair: iterating networkx's edge views
        # costs several times more, and decay and the community measures run every month.
        self._ties: dict[frozenset, dict[str, float]] = {}
        self.initial = {kind: float(initial[kind]) for kind in PROXIMITIES}
        self.meeting_gain = meeting_gain
        self.decay_per_month = decay_per_month
        self.active_threshold = active_threshold
        self._version = 0  # bumped whenever a tie changes; the community measures are cached against it
        self._cache_version = -1
        self._cache: tuple[set, int, float] = (set(), 0, 0.0)

    # ------------------------------------------------------------------ membership
    def add_person(self, person: Hashable) -> None:
        self.graph.add_node(person)

    def remove_person(self, person: Hashable) -> None:
        """A departing person takes every tie along (model-spec section 2)."""
        self._version += 1
        if person in self.graph:
            for other in self.graph[person]:
                del self._ties[frozenset((person, other))]
            self.graph.remove_node(person)

    # ------------------------------------------------------------------ ties
    def connect(self, a: Hashable, b: Hashable) -> None:
        """Create a tie at the initial proximities, or leave an existing tie as it is."""
        self._tie(a, b)

    def _tie(self, a: Hashable, b: Hashable) -> dict[str, float] | None:
        """The tie between a and b (created at the initial proximities if missing); None when a == b."""
        if a == b:
            return None
        self._version += 1
        pair = frozenset((a, b))
        tie = self._ties.get(pair)
        if tie is None:
            self.graph.add_edge(a, b, **self.initial)
            tie = self._ties[pair] = self.graph[a][b]
        return tie

    def strength(self, a: Hashable, b: Hashable) -> float:
        """Tie strength (mean of the four proximities, 0-1); 0 when there is no tie."""
        data = self._ties.get(frozenset((a, b)))
        if data is None:
            return 0.0
        return (data["physical"] + data["cognitive"] + data["organisational"] + data["social"]) / 4.0

    def mean_strength_between(self, group_a: Iterable[Hashable], group_b: Iterable[Hashable]) -> float:
        """Mean tie strength over all pairs (a, b), counting missing ties as 0."""
        group_b = list(group_b)
        total, pairs = 0.0, 0
        for a in group_a:
            for b in group_b:
                total += self.strength(a, b)
                pairs += 1
        return total / pairs if pairs else 0.0

    def meet(self, people: Iterable[Hashable], fixed_place: bool) -> None:
        """A meeting ties everyone present and closes part of each distance.

        Social and cognitive proximity grow at every meeting; organisational proximity grows at half
        that pace (cultures converge slowly); physical proximity grows only when meetings happen at a
        fixed central place ('met een vast centraal punt').
        """
        gain = self.meeting_gain
        for a, b in combinations(list(people), 2):
            tie = self._tie(a, b)
            tie["social"] += gain * (1.0 - tie["social"])
            tie["cognitive"] += gain * (1.0 - tie["cognitive"])
            tie["organisational"] += 0.5 * gain * (1.0 - tie["organisational"])
            if fixed_place:
                tie["physical"] += gain * (1.0 - tie["physical"])

    def work_together(self, group_a: Iterable[Hashable], group_b: Iterable[Hashable], gain: float) -> None:
        """Joint work in a pilot run raises cognitive proximity (shared knowledge) a little each month."""
        group_b = list(group_b)
        for a in group_a:
            for b in group_b:
                tie = self._tie(a, b)
                if tie is None:
                    continue
                tie["cognitive"] += gain * (1.0 - tie["cognitive"])

    def decay(self) -> None:
        """Monthly decay of social and cognitive proximity (relations need upkeep)."""
        keep = 1.0 - self.decay_per_month
        self._version += 1
        for tie in self._ties.values():
            tie["social"] *= keep
            tie["cognitive"] *= keep

    # ------------------------------------------------------------------ community measures
    def _measures(self) -> tuple[set, int, float]:
        """Active members, number of active ties and summed strength, in one scan of the ties.

        Kept until the ties next change (``_version``): the monthly record and the end-of-run summary
        ask for size, density and mean strength of the same network, and one scan serves them all.
        """
        if self._cache_version != self._version:
            members: set = set()
            active = 0
            total = 0.0
            limit = 4.0 * self.active_threshold
            for pair, tie in self._ties.items():
                s = tie["physical"] + tie["cognitive"] + tie["organisational"] + tie["social"]
                total += s
                if s >= limit:
                    active += 1
                    members.update(pair)
            self._cache = (members, active, total)
            self._cache_version = self._version
        return self._cache

    def active_members(self) -> list[Hashable]:
        """People with at least one tie of strength >= ``active_threshold``."""
        return list(self._measures()[0])

    def community_size(self) -> int:
        return len(self._measures()[0])

    def density(self) -> float:
        """Density of active ties among active members (0-1)."""
        members, active, _ = self._measures()
        n = len(members)
        if n < 2:
            return 0.0
        return active / (n * (n - 1) / 2)

    def mean_strength(self) -> float:
        """Mean strength over all ties (0 with no ties)."""
        if not self._ties:
            return 0.0
        return self._measures()[2] / (4.0 * len(self._ties))
