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

    # ------------------------------------------------------------------ membership
    def add_person(self, person: Hashable) -> None:
        self.graph.add_node(person)

    def remove_person(self, person: Hashable) -> None:
        """A departing person takes every tie along (model-spec section 2)."""
        if person in self.graph:
            for other in self.graph[person]:
                del self._ties[frozenset((person, other))]
            self.graph.remove_node(person)

    # ------------------------------------------------------------------ ties
    def connect(self, a: Hashable, b: Hashable) -> None:
        """Create a tie at the initial proximities, or leave an existing tie as it is."""
        if a != b and not self.graph.has_edge(a, b):
            self.graph.add_edge(a, b, **self.initial)
            self._ties[frozenset((a, b))] = self.graph[a][b]

    def strength(self, a: Hashable, b: Hashable) -> float:
        """Tie strength (mean of the four proximities, 0-1); 0 when there is no tie."""
        data = self.graph.get_edge_data(a, b)
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
            self.connect(a, b)
            tie = self.graph[a][b]
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
                self.connect(a, b)
                tie = self.graph[a][b]
                tie["cognitive"] += gain * (1.0 - tie["cognitive"])

    def decay(self) -> None:
        """Monthly decay of social and cognitive proximity (relations need upkeep)."""
        keep = 1.0 - self.decay_per_month
        for tie in self._ties.values():
            tie["social"] *= keep
            tie["cognitive"] *= keep

    # ------------------------------------------------------------------ community measures
    def active_members(self) -> list[Hashable]:
        """People with at least one tie of strength >= ``active_threshold``."""
        members = set()
        for pair, tie in self._ties.items():
            if self._is_active(tie):
                members.update(pair)
        return list(members)

    def community_size(self) -> int:
        return len(self.active_members())

    def density(self) -> float:
        """Density of active ties among active members (0-1)."""
        n = len(self.active_members())
        if n < 2:
            return 0.0
        active = sum(1 for tie in self._ties.values() if self._is_active(tie))
        return active / (n * (n - 1) / 2)

    def mean_strength(self) -> float:
        """Mean strength over all ties (0 with no ties)."""
        if not self._ties:
            return 0.0
        total = sum(
            tie["physical"] + tie["cognitive"] + tie["organisational"] + tie["social"] for tie in self._ties.values()
        )
        return total / (4.0 * len(self._ties))


    def _is_active(self, tie: dict[str, float]) -> bool:
        return (tie["physical"] + tie["cognitive"] + tie["organisational"] + tie["social"]) >= 4 * self.active_threshold
