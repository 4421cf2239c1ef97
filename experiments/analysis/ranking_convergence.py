"""When is a ranking of factors an answer?  Convergence of a top-k set, ties, and distinguishability.

A ranking estimated from a finite design is an interval per factor, not an order.  Demanding that the
top-k *order* stays fixed as the design grows never succeeds when two factors are equal within noise:
their order flips at random.  This module judges a sequence of analyses of growing designs by:

* **converged** -- at the largest design every top-k half-width is below ``threshold`` AND the top-k
  *set* equals the one at the previous design size, except for factors *tied at the boundary* (their
  interval overlaps that of a factor on the other side of rank k at the largest design: the data do not
  decide which of them is k-th, and more runs would not make the set any more stable until the intervals
  separate) and factors that were tied at the boundary at the previous size and have now separated
  (``settled``: the previous set was undecided there, so its change is the intervals separating, not
  instability).  A change is instability only when the factor was on one side of rank k, disjoint from
  every factor on the other side, at *both* sizes;
* **ties** -- pairs of top-k factors whose order changed between the last two sizes while their intervals
  overlap (reported, not counted as instability); order changes between factors whose intervals are
  disjoint are reported as ``swaps`` (a previous interval was too optimistic);
* **distinguishable** -- at the largest design, factor pairs whose intervals are disjoint, and factors
  whose interval lies above zero (``value - conf > 0``); tie groups are runs of factors (sorted by value)
  whose consecutive intervals overlap.

Intervals are ``value +- conf`` with ``conf`` the half-width the analysis reports (e.g. ``ST_conf``).
Comparing intervals for overlap is the usual conservative check (two 95% intervals that just touch
correspond to a difference significant at well below 5%).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class RankingVerdict:
    """The judgement of one output's ranking over successive design sizes."""

    converged: bool
    size: float
    top: list[str]
    reasons: list[str] = field(default_factory=list)
    boundary_ties: list[str] = field(default_factory=list)  # factors tied with one across rank k
    settled: list[str] = field(default_factory=list)  # changed side while tied across rank k at the previous size
    ties: list[tuple[str, str]] = field(default_factory=list)  # order changed, intervals overlap
    swaps: list[tuple[str, str]] = field(default_factory=list)  # order changed, intervals disjoint
    nonzero: list[str] = field(default_factory=list)  # interval above zero
    tie_groups: dict[str, int] = field(default_factory=dict)  # factor -> group number (1 = largest)
    distinguishable: pd.DataFrame = field(default_factory=pd.DataFrame)  # factor x factor, True if disjoint


def _overlap(lo_a: float, hi_a: float, lo_b: float, hi_b: float) -> bool:
    return bool(lo_a <= hi_b and lo_b <= hi_a)


def tie_groups(values: pd.Series, conf: pd.Series) -> dict[str, int]:
    """Group factors sorted by value (descending) where consecutive intervals overlap; 1 = the top group."""
    order = values.sort_values(ascending=False).index
    groups: dict[str, int] = {}
    group, low = 0, np.inf
    for factor in order:
        hi = values[factor] + conf[factor]
        if hi < low:  # disjoint from every factor above it in the current chain: a new group
            group += 1
            low = values[factor] - conf[factor]
        else:
            low = min(low, values[factor] - conf[factor])
        groups[str(factor)] = group
    return groups


def _boundary_ties(value: pd.Series, conf: pd.Series, k: int) -> list[str]:
    """Factors whose interval overlaps that of a factor on the other side of rank ``k`` (sorted names)."""
    ranked = value.sort_values(ascending=False, kind="stable").index.tolist()
    lo, hi = value - conf, value + conf
    leaders, outside = ranked[:k], ranked[k:]
    return sorted(str(f) for f in ranked
                  if any(_overlap(lo[f], hi[f], lo[g], hi[g]) for g in (outside if f in leaders else leaders)))


def assess_ranking(table: pd.DataFrame, top: int, threshold: float, size: str = "size") -> RankingVerdict:
    """Judge the ranking of one output from its indices at successive design sizes.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (design size, factor) with columns ``size`` (any increasing measure, e.g. runs),
        ``factor``, ``value`` (the index ranked on, e.g. corrected ST) and ``conf`` (its half-width).
    top : int
        Size k of the top set.
    threshold : float
        Largest allowed half-width of a top-k factor (index units).
    size : str
        Name of the size column.

    Returns
    -------
    RankingVerdict
    """
    if table.empty:
        return RankingVerdict(False, float("nan"), [], ["nothing analysed"])
    sizes = sorted(table[size].unique())
    now = table[table[size] == sizes[-1]].set_index("factor")
    value, conf = now["value"].astype(float), now["conf"].astype(float)
    lo, hi = value - conf, value + conf
    ranked = value.sort_values(ascending=False, kind="stable").index.tolist()
    k = min(top, len(ranked))
    leaders = ranked[:k]
    verdict = RankingVerdict(True, float(sizes[-1]), [str(f) for f in leaders])
    verdict.nonzero = [str(f) for f in ranked if lo[f] > 0]
    verdict.tie_groups = tie_groups(value, conf)
    names = value.index.tolist()
    verdict.distinguishable = pd.DataFrame(
        [[not _overlap(lo[a], hi[a], lo[b], hi[b]) if a != b else False for b in names] for a in names],
        index=pd.Index(names, name="factor"), columns=names)
    if not np.isfinite(value).all() or not np.isfinite(conf).all():
        verdict.converged = False
        verdict.reasons.append("indices or half-widths undefined")
        return verdict
    wide = [f for f in leaders if not conf[f] < threshold]
    if wide:
        verdict.converged = False
        worst = max(wide, key=lambda f: conf[f])
        verdict.reasons.append(f"{len(wide)} of the top {k} half-widths >= {threshold:g} "
                               f"(widest {worst}: {conf[worst]:.3f})")
    verdict.boundary_ties = _boundary_ties(value, conf, k)
    if len(sizes) < 2:
        verdict.converged = False
        verdict.reasons.append("no smaller design to compare the top set with")
        return verdict
    earlier = table[table[size] == sizes[-2]].set_index("factor")
    before = earlier["value"].astype(float)
    previous = before.sort_values(ascending=False, kind="stable").index.tolist()[:k]
    changed = set(leaders) ^ set(previous)
    tied_before = _boundary_ties(before, earlier["conf"].astype(float), k)
    verdict.settled = sorted(str(f) for f in changed if str(f) not in verdict.boundary_ties and str(f) in tied_before)
    unexplained = sorted(str(f) for f in changed
                         if str(f) not in verdict.boundary_ties and str(f) not in verdict.settled)
    if unexplained:
        verdict.converged = False
        verdict.reasons.append(f"top-{k} set changed since size {sizes[-2]:g}: {sorted(map(str, previous))} -> "
                               f"{sorted(map(str, leaders))}, and {unexplained} are not tied at the boundary")
    for i, a in enumerate(leaders):
        for b in leaders[i + 1:]:
            if a in before.index and b in before.index and before[a] < before[b]:  # order flipped
                pair = (str(a), str(b))
                if _overlap(lo[a], hi[a], lo[b], hi[b]):
                    verdict.ties.append(pair)
                else:
                    verdict.swaps.append(pair)
    return verdict


def assess_outputs(table: pd.DataFrame, top: int, threshold: float, size: str = "size") -> dict[str, RankingVerdict]:
    """:func:`assess_ranking` for every value of the ``output`` column of ``table``."""
    return {str(name): assess_ranking(group, top, threshold, size) for name, group in table.groupby("output")}


__all__ = ["RankingVerdict", "assess_outputs", "assess_ranking", "tie_groups"]
