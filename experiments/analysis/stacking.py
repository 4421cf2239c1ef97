"""Dimensional stacking: the share of cases of interest in a 2-D grid of nested factor bins.

The method of LeBlanc, Ward and Wittels (1990), used for scenario discovery by Suzuki, Stern and Manzocchi
(2015) and in EMA Workbench's ``analysis.dimensional_stacking`` (written here from the method, not from
its code): take the few factors that matter most -- here the extra-trees feature scores of
:func:`experiments.analysis.discovery.feature_scores`, the same scores ``lcsim discover`` reports -- cut
each into a few quantile bins (default 3: low, middle, high third of the design points), and nest them on
the two axes of one grid, the most important factor outermost: factors ranked 1, 3, 5 go down the rows,
2, 4, 6 across the columns.  Each cell is one combination of bins; it shows the share of its design points
that are cases of interest (as PRIM's density), with the number of points, so that a box of high share in
two or three factors shows as a block of dark cells and an empty or thin cell is visible as such.

With k factors of b bins there are b**k cells, so a design of n points has about n / b**k points per cell:
four factors of three bins is 81 cells, 12 points per cell at 1000 points -- the shares are then coarse,
which is why the counts are written beside them.  Quantile bins give every bin of a factor about the same
number of points whatever its distribution; a factor with fewer distinct values than bins gets fewer bins.

References
----------
LeBlanc, J., Ward, M. O. and Wittels, N. (1990). Exploring n-dimensional databases. Proceedings of the
1st IEEE Conference on Visualization, 230-237.

Suzuki, Y., Stern, R. and Manzocchi, T. (2015). Using association rule mining and high-dimensional
visualization to explore the impact of geological features on dynamic flow behavior. SPE-174774-MS.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.analysis.discovery import DiscoveryInputError

STACKING_CSV = "stacking.csv"
STACKING_PNG = "stacking.png"
#: Allowed numbers of stacked factors (0 switches stacking off).
MIN_FACTORS, MAX_FACTORS = 2, 6


@dataclass(frozen=True)
class Stack:
    """A dimensional stack.

    ``rows`` and ``columns`` are the factors on each axis, outermost first; ``edges`` maps factor -> its
    bin edges (in the factor's unit, ``len = bins + 1``); ``table`` has one row per cell in grid order:
    ``row``, ``column`` (0-based grid position), per factor its bin (1 = lowest) and ``<factor>_low``,
    ``<factor>_high``, then ``n_points``, ``n_cases`` and ``share`` (cases / points, NaN in an empty cell).
    ``scores`` are the feature scores the factors were picked by.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    edges: dict[str, tuple[float, ...]]
    table: pd.DataFrame
    scores: dict[str, float]

    @property
    def factors(self) -> tuple[str, ...]:
        """The stacked factors in rank order (1st row, 1st column, 2nd row, ...)."""
        order = []
        for i in range(max(len(self.rows), len(self.columns))):
            order += [axis[i] for axis in (self.rows, self.columns) if i < len(axis)]
        return tuple(order)

    def grid(self, value: str = "share") -> np.ndarray:
        """(rows, columns) array of one cell column (``share``, ``n_points`` or ``n_cases``)."""
        n_rows, n_cols = int(self.table["row"].max()) + 1, int(self.table["column"].max()) + 1
        out = np.full((n_rows, n_cols), np.nan)
        out[self.table["row"].to_numpy(), self.table["column"].to_numpy()] = self.table[value].to_numpy(dtype=float)
        return out

    def top_cells(self, n: int = 3, min_points: int = 1) -> pd.DataFrame:
        """The ``n`` cells of largest share among those with at least ``min_points`` points."""
        cells = self.table[self.table["n_points"] >= min_points]
        return cells.sort_values(["share", "n_points"], ascending=[False, False], kind="stable").head(n)


def check_stack_factors(k: int, n_factors: int) -> None:
    """Refuse a number of stacked factors outside 0 or 2..min(6, number of factors)."""
    top = min(MAX_FACTORS, n_factors)
    if k == 0:
        return
    if top < MIN_FACTORS:
        raise DiscoveryInputError(f"--stack-factors {k}: the run set has {n_factors} factor(s); allowed: 0 (no "
                                  "stacking), since stacking needs at least 2 factors")
    if not MIN_FACTORS <= k <= top:
        raise DiscoveryInputError(f"--stack-factors {k}: out of range; allowed: 0 (no stacking) or {MIN_FACTORS} to "
                                  f"{top} (at most {MAX_FACTORS}, and at most the run set's {n_factors} factors)")


def quantile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin edges at the 0, 1/b, ..., 1 quantiles of ``values``, repeated edges dropped; the outer edges are the
    smallest and largest value.  A factor with at most ``n_bins`` distinct values (a switch, a few levels)
    gets one bin per value, cut half-way between neighbouring values."""
    values = np.asarray(values, dtype=float)
    distinct = np.unique(values)
    if len(distinct) == 1:
        return np.array([distinct[0], distinct[0]])
    if len(distinct) <= n_bins:
        return np.concatenate([[distinct[0]], (distinct[:-1] + distinct[1:]) / 2, [distinct[-1]]])
    return np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1)))


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0-based bin of each value: bins are ``[e0, e1], (e1, e2], ...`` (the lowest closed on both sides)."""
    inner = edges[1:-1]
    return np.searchsorted(inner, np.asarray(values, dtype=float), side="left")


def dimensional_stack(x: pd.DataFrame, is_case: np.ndarray, scores: pd.DataFrame, *, n_factors: int = 4,
                      n_bins: int = 3) -> Stack:
    """Stack the ``n_factors`` factors of highest score, each in ``n_bins`` quantile bins.

    Parameters
    ----------
    x : DataFrame
        One row per design point, one column per factor (in the factor's unit).
    is_case : array of bool
        Whether each design point is a case of interest.
    scores : DataFrame
        ``factor`` and ``score`` (e.g. :func:`experiments.analysis.discovery.feature_scores`); ties keep the
        table's order.
    n_factors : int
        How many factors to stack, 2 to 6 and at most the number of columns of ``x``.
    n_bins : int
        Quantile bins per factor (at least 2).

    Returns
    -------
    Stack
    """
    check_stack_factors(n_factors, x.shape[1])
    if n_factors == 0:
        raise DiscoveryInputError("n_factors 0: nothing to stack; allowed: 2 to 6")
    if n_bins < 2:
        raise DiscoveryInputError(f"n_bins {n_bins}: allowed: at least 2 bins per factor")
    y = np.asarray(is_case, dtype=bool)
    if len(y) != len(x):
        raise DiscoveryInputError(f"{len(y)} case labels for {len(x)} design points; allowed: one label per point")
    ranked = scores.sort_values("score", ascending=False, kind="stable")
    ranked = ranked[ranked["factor"].isin(x.columns)]
    chosen = list(ranked["factor"].head(n_factors))
    rows, columns = tuple(chosen[0::2]), tuple(chosen[1::2])
    edges = {f: quantile_edges(x[f].to_numpy(dtype=float), n_bins) for f in chosen}
    bins = {f: bin_index(x[f].to_numpy(dtype=float), edges[f]) for f in chosen}
    sizes = {f: len(edges[f]) - 1 for f in chosen}

    def positions(axis: tuple[str, ...]) -> tuple[np.ndarray, list[tuple[int, ...]]]:
        combos = list(itertools.product(*[range(sizes[f]) for f in axis]))
        flat = np.zeros(len(x), dtype=int)
        for f in axis:  # mixed radix, outermost factor most significant
            flat = flat * sizes[f] + bins[f]
        return flat, combos

    row_of, row_combos = positions(rows)
    col_of, col_combos = positions(columns)
    n_cols = len(col_combos)
    cell = row_of * n_cols + col_of
    n_cells = len(row_combos) * n_cols
    n_points = np.bincount(cell, minlength=n_cells)
    n_cases = np.bincount(cell, weights=y.astype(float), minlength=n_cells).astype(int)
    records = []
    for r, row_bins in enumerate(row_combos):
        for c, col_bins in enumerate(col_combos):
            record: dict[str, object] = {"row": r, "column": c}
            for f, b in zip(rows + columns, row_bins + col_bins):
                record[f] = b + 1
                record[f"{f}_low"] = float(edges[f][b])
                record[f"{f}_high"] = float(edges[f][b + 1])
            i = r * n_cols + c
            record.update(n_points=int(n_points[i]), n_cases=int(n_cases[i]),
                          share=float(n_cases[i] / n_points[i]) if n_points[i] else np.nan)
            records.append(record)
    table = pd.DataFrame.from_records(records)
    score_of = dict(zip(ranked["factor"], ranked["score"].astype(float)))
    return Stack(rows, columns, {f: tuple(map(float, edges[f])) for f in chosen}, table,
                 {f: score_of[f] for f in chosen})


def _range(stack: Stack, cell: pd.Series, factor: str) -> str:
    return f"{cell[f'{factor}_low']:.3g} to {cell[f'{factor}_high']:.3g}"


def stacking_markdown(stack: Stack, n_top: int = 3) -> list[str]:
    """The report's section on the stack: factors, grid size, points per cell and the cells of largest share."""
    n_cells = len(stack.table)
    filled = stack.table[stack.table["n_points"] > 0]
    lines = ["## Dimensional stacking", "",
             f"The {len(stack.factors)} factors of highest feature score, each in quantile bins, nested into a grid "
             f"of {int(stack.table['row'].max()) + 1} x {int(stack.table['column'].max()) + 1} = {n_cells} cells "
             f"(rows: {', '.join(stack.rows)}; columns: {', '.join(stack.columns)}; outermost first). Points per "
             f"cell: median {float(np.median(stack.table['n_points'])):g}, {n_cells - len(filled)} cell(s) empty. "
             f"Table: `stacking.csv`; figure: `stacking.png`.", "",
             "| cell share | cases / points | " + " | ".join(stack.factors) + " |",
             "|---|---|" + "---|" * len(stack.factors)]
    min_points = max(1, int(np.ceil(0.5 * float(np.median(filled["n_points"])))) if len(filled) else 1)
    for _, cell in stack.top_cells(n_top, min_points=min_points).iterrows():
        lines.append(f"| {cell['share']:.2f} | {int(cell['n_cases'])} / {int(cell['n_points'])} | "
                     + " | ".join(_range(stack, cell, f) for f in stack.factors) + " |")
    lines += ["", f"The cells of largest share among those with at least {min_points} points (half the median); "
              "a share from a handful of points is coarse.", ""]
    return lines


__all__ = ["MAX_FACTORS", "MIN_FACTORS", "STACKING_CSV", "STACKING_PNG", "Stack", "bin_index", "check_stack_factors",
           "dimensional_stack", "quantile_edges", "stacking_markdown"]
