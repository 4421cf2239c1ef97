"""The tie network between people in the region, with four kinds of proximity.

Nodes are hashable keys of people (teachers, entrepreneurs, the cooperative's facilitator).  Each
edge carries the four proximities named in the seed document's accelerators ('werk aan nabijheid':
fysiek, cognitief, organisatorisch, sociaal; after Boschma 2005) as values in 0-1.  Tie strength is
their mean.  Meetings close part of the distance (SKIN: partnering strengthens ties) between the
people who talk together at them (tables of at most ``table_size``), unused social and cognitive
proximity decays (Carley 1992) until a tie weaker than ``drop_strength`` is forgotten (Burt 2000),
and a departing person takes all their ties along.  Meetings therefore cost in proportion to the
people present, not to their pairs, and the number of ties stays in proportion to the people.

Decay is applied lazily, so that a month costs in proportion to what happens in it rather than to the
number of ties: each tie remembers the month it was last brought up to date and is caught up
(``keep ** months``) when it is next read or changed; the sums behind the community measures (size,
density, mean strength) are kept current (the social and cognitive sum decays as a whole each month),
and the month at which an untouched tie will stop being active or will be forgotten is computed in
advance and kept in a heap of events that ``decay`` works through.  Reading ``graph`` first brings
every tie up to date.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from heapq import heappop, heappush
from itertools import combinations
from math import floor, log

import networkx as nx

PROXIMITIES = ("physical", "cognitive", "organisational", "social")

#: Default strength at or above which a tie counts as active (``Params.active_tie_threshold``).
ACTIVE_TIE = 0.25


def _total(tie: dict[str, float]) -> float:
    """The sum of a tie's four proximities (4 x its strength)."""
    return tie["physical"] + tie["cognitive"] + tie["organisational"] + tie["social"]


class TieNetwork:
    """Weighted, undirected ties with four proximities per edge (a thin layer over networkx).

    Each edge's attribute dict holds the four proximities and three bookkeeping entries: ``_at`` (the
    month its decay was last applied), ``_v`` (a serial that marks its scheduled event as current) and
    ``_active``.
    """

    def __init__(
        self,
        initial: dict[str, float],
        meeting_gain: float,
        decay_per_month: float,
        active_threshold: float = ACTIVE_TIE,
        table_size: int | None = None,
        drop_strength: float = 0.0,
    ):
        """``initial`` maps each proximity kind to the value of a new tie (0-1); ``table_size`` None means
        everyone at a meeting talks with everyone; ``drop_strength`` 0 means ties are never forgotten."""
        self._graph = nx.Graph()
        # networkx's own adjacency (node -> neighbour -> the edge's attribute dict), read directly:
        # its views cost several times more, and pilots read tie strengths every month.
        self._adj = self._graph._adj
        self._ties: dict[frozenset, dict[str, float]] = {}
        self.initial = {kind: float(initial[kind]) for kind in PROXIMITIES}
        self.meeting_gain = meeting_gain
        self.decay_per_month = decay_per_month
        self.active_threshold = active_threshold
        self.table_size = table_size
        self.drop_strength = drop_strength
        self.month = 0  # decays applied so far: the network's clock
        self._keep = 1.0 - decay_per_month
        self._active_total = 4.0 * active_threshold  # a tie is active when its four proximities sum to this
        self._drop_total = 4.0 * drop_strength
        # sums behind the community measures, kept current
        self._po_total = 0.0  # physical + organisational, over all ties (these never decay)
        self._sc_total = 0.0  # social + cognitive, over all ties, decayed to this month
        self._active_ties = 0
        self._active_degree: dict[Hashable, int] = {}  # active ties per person, people with >= 1 only
        self._events: list[tuple[int, int, Hashable, Hashable]] = []  # (month, serial, a, b)
        self._serial = 0

    @property
    def graph(self) -> nx.Graph:
        """The networkx graph, every tie brought up to date first (for readers outside the model)."""
        for tie in self._ties.values():
            self._catch_up(tie)
        return self._graph

    # ------------------------------------------------------------------ membership
    def add_person(self, person: Hashable) -> None:
        self._graph.add_node(person)

    def remove_person(self, person: Hashable) -> None:
        """A departing person takes every tie along (model-spec section 2)."""
        if person in self._adj:
            for other, tie in list(self._adj[person].items()):
                self._forget(person, other, tie)
            self._graph.remove_node(person)

    # ------------------------------------------------------------------ ties
    def connect(self, a: Hashable, b: Hashable) -> dict[str, float] | None:
        """Create a tie at the initial proximities, or leave an existing tie as it is; return the tie,
        up to date (None for a person and themself)."""
        if a == b:
            return None
        tie = self._adj.get(a, {}).get(b)
        if tie is None:
            self._graph.add_edge(a, b, **self.initial, _at=self.month, _v=0, _active=False)
            tie = self._adj[a][b]
            self._ties[frozenset((a, b))] = tie
            self._changed(a, b, tie, 0.0, 0.0)
        else:
            self._catch_up(tie)
        return tie

    def strength(self, a: Hashable, b: Hashable) -> float:
        """Tie strength (mean of the four proximities, 0-1); 0 when there is no tie."""
        neighbours = self._adj.get(a)
        tie = neighbours.get(b) if neighbours is not None else None
        if tie is None:
            return 0.0
        self._catch_up(tie)
        return _total(tie) / 4.0

    def mean_strength_between(self, group_a: Iterable[Hashable], group_b: Iterable[Hashable]) -> float:
        """Mean tie strength over all pairs (a, b), counting missing ties as 0."""
        group_b = list(group_b)
        total, pairs = 0.0, 0
        for a in group_a:
            for b in group_b:
                total += self.strength(a, b)
                pairs += 1
        return total / pairs if pairs else 0.0

    def strength_to_each(self, group: list[Hashable]) -> dict[Hashable, float]:
        """For everyone tied to someone in ``group``: the mean tie strength to the group's members (missing
        ties count as 0; ``mean_strength_between([person], group)``).  People without such ties are left out."""
        totals: dict[Hashable, float] = {}
        for b in group:
            for person, tie in self._adj.get(b, {}).items():
                self._catch_up(tie)
                totals[person] = totals.get(person, 0.0) + _total(tie) / 4.0
        return {person: total / len(group) for person, total in totals.items()}

    def strongest_tie(self, person: Hashable, among) -> float:
        """The strength of ``person``'s strongest tie to anyone in ``among`` (a set or dict); 0 with none."""
        best = 0.0
        for other, tie in self._adj.get(person, {}).items():
            if other in among:
                self._catch_up(tie)
                best = max(best, _total(tie) / 4.0)
        return best

    def meet(self, people: Iterable[Hashable], fixed_place: bool) -> None:
        """A meeting: the people present, in their seating order, sit at tables of at most ``table_size``
        (as few tables as that allows, of near-equal size, filled in order), and everyone at a table
        gets a tie with everyone else there and closes part of each distance (``strengthen``).

        Each person thus meets at most ``table_size`` - 1 others, so a meeting costs in proportion to the
        people present.  Social and cognitive proximity grow at every meeting; organisational proximity
        grows at half that pace (cultures converge slowly); physical proximity grows only when meetings
        happen at a fixed central place ('met een vast centraal punt').
        """
        people = list(people)
        n = len(people)
        tables = 1 if self.table_size is None or n <= self.table_size else -(-n // self.table_size)
        for t in range(tables):
            table = people[t * n // tables:(t + 1) * n // tables]
            for a, b in combinations(table, 2):
                self.strengthen(a, b, fixed_place)

    def strengthen(self, a: Hashable, b: Hashable, fixed_place: bool) -> None:
        """One encounter at a meeting: the tie a-b (made if new) closes ``meeting_gain`` of its distance."""
        gain = self.meeting_gain
        tie = self.connect(a, b)
        if tie is None:
            return
        po, sc = tie["physical"] + tie["organisational"], tie["social"] + tie["cognitive"]
        tie["social"] += gain * (1.0 - tie["social"])
        tie["cognitive"] += gain * (1.0 - tie["cognitive"])
        tie["organisational"] += 0.5 * gain * (1.0 - tie["organisational"])
        if fixed_place:
            tie["physical"] += gain * (1.0 - tie["physical"])
        self._changed(a, b, tie, po, sc)

    def work_together(self, group_a: Iterable[Hashable], group_b: Iterable[Hashable], gain: float) -> None:
        """Joint work in a pilot run raises cognitive proximity (shared knowledge) a little each month."""
        group_b = list(group_b)
        for a in group_a:
            for b in group_b:
                tie = self.connect(a, b)
                if tie is None:
                    continue
                po, sc = tie["physical"] + tie["organisational"], tie["social"] + tie["cognitive"]
                tie["cognitive"] += gain * (1.0 - tie["cognitive"])
                self._changed(a, b, tie, po, sc)

    def decay(self) -> None:
        """Monthly decay of social and cognitive proximity (relations need upkeep); a tie whose strength
        falls below ``drop_strength`` is forgotten.  Physical and organisational proximity do not decay,
        so a tie with (physical + organisational) / 4 >= ``drop_strength`` is never forgotten.

        Applied lazily (module docstring): the clock advances, the social and cognitive sum decays as a
        whole, and only the ties that stop being active or are forgotten this month are visited.
        """
        self.month += 1
        self._sc_total *= self._keep
        events = self._events
        while events and events[0][0] <= self.month:
            _, serial, a, b = heappop(events)
            tie = self._adj.get(a, {}).get(b)
            if tie is None or tie["_v"] != serial:
                continue  # forgotten, or changed since this event was planned
            self._catch_up(tie)
            po, sc = tie["physical"] + tie["organisational"], tie["social"] + tie["cognitive"]
            if _total(tie) < self._drop_total:
                self._forget(a, b, tie)
                self._graph.remove_edge(a, b)
            else:
                self._changed(a, b, tie, po, sc)  # re-evaluates whether it is active, plans the next event

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
        return (self._po_total + self._sc_total) / (4.0 * len(self._ties))

    # ------------------------------------------------------------------ keeping the measures current
    def _catch_up(self, tie: dict) -> None:
        """Apply the decay of the months since the tie was last brought up to date."""
        months = self.month - tie["_at"]
        if months:
            factor = self._keep ** months
            tie["social"] *= factor
            tie["cognitive"] *= factor
            tie["_at"] = self.month

    def _changed(self, a: Hashable, b: Hashable, tie: dict, po_before: float, sc_before: float) -> None:
        """The up-to-date tie a-b had sums ``po_before`` and ``sc_before``: adjust the measures, whether it
        is active, and plan the month at which, left alone, it stops being active or is forgotten."""
        po, sc = tie["physical"] + tie["organisational"], tie["social"] + tie["cognitive"]
        self._po_total += po - po_before
        self._sc_total += sc - sc_before
        active = _total(tie) >= self._active_total
        if active != tie["_active"]:
            tie["_active"] = active
            self._shift_active(a, b, 1 if active else -1)
        level = max(self._active_total, self._drop_total) if active else self._drop_total
        months = self._months_until_below(po, sc, level)
        self._serial += 1
        tie["_v"] = self._serial
        if months is not None:
            heappush(self._events, (self.month + months, self._serial, a, b))

    def _months_until_below(self, po: float, sc: float, level: float) -> int | None:
        """The fewest decays (>= 1) after which po + sc x keep ** months < level; None if never."""
        keep = self._keep
        if po >= level or sc <= 0.0 or keep >= 1.0:
            return None
        if keep <= 0.0 or po + sc * keep < level:
            return 1
        months = max(1, floor(log((level - po) / sc) / log(keep)) + 1)
        while months > 1 and po + sc * keep ** (months - 1) < level:
            months -= 1
        while po + sc * keep ** months >= level:
            months += 1
        return months

    def _forget(self, a: Hashable, b: Hashable, tie: dict) -> None:
        """Take the tie a-b out of the pair index and the measures (the caller removes the graph edge)."""
        self._catch_up(tie)
        self._po_total -= tie["physical"] + tie["organisational"]
        self._sc_total -= tie["social"] + tie["cognitive"]
        if tie["_active"]:
            self._shift_active(a, b, -1)
        del self._ties[frozenset((a, b))]
        if not self._ties:
            self._po_total = self._sc_total = 0.0  # no rounding left behind

    def _shift_active(self, a: Hashable, b: Hashable, change: int) -> None:
        self._active_ties += change
        degree = self._active_degree
        for person in (a, b):
            count = degree.get(person, 0) + change
            if count > 0:
                degree[person] = count
            else:
                degree.pop(person, None)
