"""The tie network between people in the region, with four kinds of proximity.

Nodes are hashable keys of people (teachers, entrepreneurs, the cooperative's facilitator).  Each
edge carries the four proximities named in the seed document's accelerators ('werk aan nabijheid':
fysiek, cognitief, organisatorisch, sociaal; after Boschma 2005) as values in 0-1.  Tie strength is
their mean.  Meetings close part of the distance (SKIN: partnering strengthens ties), unused social
and cognitive proximity decays (Carley 1992), and a departing person takes all their ties along.

The community measures (size, density, mean strength) are kept up to date as ties change, instead of
being recomputed from every tie when asked: the monthly decay, which touches every tie anyway,
recounts them in the same pass, and every other change of a tie adjusts them by its difference.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import combinations

import networkx as nx

PROXIMITIES = ("physical", "cognitive", "organisational", "social")

#: Default strength at or above which a tie counts as active (``Params.active_tie_threshold``).
ACTIVE_TIE = 0.25


def _total(tie: dict[str, float]) -> float:
    """The sum of a tie's four proximities (4 x its strength)."""
    return tie["physical"] + tie["cognitive"] + tie["organisational"] + tie["social"]


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
        # networkx's own adjacency (node -> neighbour -> the edge's attribute dict), read directly:
        # its views cost several times more, and pilots read tie strengths every month.
        self._adj = self.graph._adj
        # The same attribute dicts keyed by pair, for the monthly pass over all ties.
        self._ties: dict[frozenset, dict[str, float]] = {}
        self.initial = {kind: float(initial[kind]) for kind in PROXIMITIES}
        self.meeting_gain = meeting_gain
        self.decay_per_month = decay_per_month
        self.active_threshold = active_threshold
        self._active_total = 4.0 * active_threshold  # a tie is active when its four proximities sum to this
        # community aggregates, kept current (see the module docstring)
        self._strength_total = 0.0  # sum over ties of the four proximities
        self._active_ties = 0
        self._active_degree: dict[Hashable, int] = {}  # active ties per person, people with >= 1 only

    # ------------------------------------------------------------------ membership
    def add_person(self, person: Hashable) -> None:
        self.graph.add_node(person)

    def remove_person(self, person: Hashable) -> None:
        """A departing person takes every tie along (model-spec section 2)."""
        if person in self._adj:
            for other, tie in list(self._adj[person].items()):
                self._forget(person, other, tie)
            self.graph.remove_node(person)

    # ------------------------------------------------------------------ ties
    def connect(self, a: Hashable, b: Hashable) -> dict[str, float] | None:
        """Create a tie at the initial proximities, or leave an existing tie as it is; return the tie
        (None for a person and themself)."""
        if a == b:
            return None
        tie = self._adj.get(a, {}).get(b)
        if tie is None:
            self.graph.add_edge(a, b, **self.initial)
            tie = self._adj[a][b]
            self._ties[frozenset((a, b))] = tie
            self._count(a, b, 0.0, _total(tie), new=True)
        return tie

    def strength(self, a: Hashable, b: Hashable) -> float:
        """Tie strength (mean of the four proximities, 0-1); 0 when there is no tie."""
        neighbours = self._adj.get(a)
        tie = neighbours.get(b) if neighbours is not None else None
        return 0.0 if tie is None else _total(tie) / 4.0

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
        for a, b in combinations(list(people), 2):
            self.strengthen(a, b, fixed_place)

    def strengthen(self, a: Hashable, b: Hashable, fixed_place: bool) -> None:
        """One encounter at a meeting: the tie a-b (made if new) closes ``meeting_gain`` of its distance."""
        gain = self.meeting_gain
        tie = self.connect(a, b)
        if tie is None:
            return
        before = _total(tie)
        tie["social"] += gain * (1.0 - tie["social"])
        tie["cognitive"] += gain * (1.0 - tie["cognitive"])
        tie["organisational"] += 0.5 * gain * (1.0 - tie["organisational"])
        if fixed_place:
            tie["physical"] += gain * (1.0 - tie["physical"])
        self._count(a, b, before, _total(tie))

    def work_together(self, group_a: Iterable[Hashable], group_b: Iterable[Hashable], gain: float) -> None:
        """Joint work in a pilot run raises cognitive proximity (shared knowledge) a little each month."""
        group_b = list(group_b)
        for a in group_a:
            for b in group_b:
                tie = self.connect(a, b)
                if tie is None:
                    continue
                before = _total(tie)
                tie["cognitive"] += gain * (1.0 - tie["cognitive"])
                self._count(a, b, before, _total(tie))

    def decay(self) -> None:
        """Monthly decay of social and cognitive proximity (relations need upkeep).

        The same pass over all ties recounts the community aggregates from scratch, so that the
        small updates between two decays never accumulate rounding.
        """
        keep = 1.0 - self.decay_per_month
        limit = self._active_total
        strength_total = 0.0
        active_ties = 0
        degree: dict[Hashable, int] = {}
        for pair, tie in self._ties.items():
            tie["social"] *= keep
            tie["cognitive"] *= keep
            total = tie["physical"] + tie["cognitive"] + tie["organisational"] + tie["social"]
            strength_total += total
            if total >= limit:
                active_ties += 1
                for person in pair:
                    degree[person] = degree.get(person, 0) + 1
        self._strength_total = strength_total
        self._active_ties = active_ties
        self._active_degree = degree

    # ------------------------------------------------------------------ community measures
    def active_members(self) -> list[Hashable]:
        """People with at least one tie of strength >= ``active_threshold``."""
        return list(self._active_degree)

    def community_size(self) -> int:
        return len(self._active_degree)

    def density(self) -> float:
        """Density of active ties among active members (0-1)."""
        n = len(self._active_degree)
        if n < 2:
            return 0.0
        return self._active_ties / (n * (n - 1) / 2)

    def mean_strength(self) -> float:
        """Mean strength over all ties (0 with no ties)."""
        if not self._ties:
            return 0.0
        return self._strength_total / (4.0 * len(self._ties))

    # ------------------------------------------------------------------ keeping the aggregates current
    def _count(self, a: Hashable, b: Hashable, before: float, after: float, new: bool = False) -> None:
        """A tie a-b went from proximity sum ``before`` to ``after``: adjust the aggregates."""
        self._strength_total += after - before
        limit = self._active_total
        was_active = before >= limit and not new
        if (after >= limit) != was_active:
            self._shift_active(a, b, 1 if after >= limit else -1)

    def _forget(self, a: Hashable, b: Hashable, tie: dict[str, float]) -> None:
        """Take the tie a-b out of the pair index and the aggregates (the graph edge is removed by the caller)."""
        total = _total(tie)
        self._strength_total -= total
        if total >= self._active_total:
            self._shift_active(a, b, -1)
        del self._ties[frozenset((a, b))]

    def _shift_active(self, a: Hashable, b: Hashable, change: int) -> None:
        self._active_ties += change
        degree = self._active_degree
        for person in (a, b):
            count = degree.get(person, 0) + change
            if count > 0:
                degree[person] = count
            else:
                degree.pop(person, None)
