"""Where a two-factor sweep crosses a level: the threshold at which an outcome becomes likely.

A sweep over factors A and B (e.g. management turnover x school co-funding) gives, at every grid cell,
the replicate mean of an output (e.g. ``continued_by_school_y5``, the share of started pilots still
run by the school at year 5, i.e. the probability that a pilot continues) and its standard error.
:func:`crossing_thresholds` answers, for every level of A: *from which level of B on does the mean
reach ``level``?* -- by default 0.5, "more likely than not".

Rules, per level of A (a column of the grid), with the B levels in increasing order:

* the threshold is the **first** B level at which the mean reaches the level (``>=`` for
  ``direction="up"``, ``<=`` for ``"down"``), linearly interpolated between that grid level and the
  one before it; the two grid levels are reported as the bracket;
* ``status`` is ``crossed`` (interpolated inside the grid), ``at lowest level`` (already reached at the
  smallest B: the threshold is at or below it) or ``not reached`` (not within the grid; the best mean
  and where it occurs are reported);
* ``threshold_low`` / ``threshold_high`` apply the same rule to mean + z se and mean - z se (for
  ``"up"``; the other way round for ``"down"``): the range of B in which the crossing lies when every
  cell may be off by z standard errors.  It is a pointwise band (cells are not adjusted jointly), so
  it is an indication of the threshold's uncertainty, not an exact confidence interval;
* ``falls_back`` flags a column in which the mean drops back across the level at a higher B (a
  non-monotone response or noise).

:func:`plot_threshold_map` draws the mean over the grid with the contour at the level and the
thresholds with their bands.  Both accept the ``analysis/points.parquet`` table of a sweep
(:class:`experiments.analysis.studies.StudyAnalysis` ``.points``): factor columns and ``<output>_mean``,
``<output>_var``, ``<output>_n`` (and ``<output>_se``); points that share a grid cell (other factors
varied too) are pooled as in the sweep heatmaps.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.plots.figures import new_figure, save_figure, tidy_number

DIRECTIONS = ("up", "down")

THRESHOLD_COLUMNS = ("output", "level", "direction", "threshold", "bracket_low", "bracket_high", "value_below",
                     "value_above", "threshold_low", "threshold_high", "status", "best", "best_at", "falls_back")


def cell_grid(points: pd.DataFrame, x: str, y: str, output: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean and standard error of ``output`` per grid cell: two frames, index = ``y`` levels (ascending),
    columns = ``x`` levels (ascending).

    A cell with one design point gets that point's replicate mean and its standard error
    sqrt(var / n); a cell with several points (other factors varied too) gets the mean of the point means
    and their standard error -- the same rule as the sweep heatmaps.
    """
    mean_col, var_col, n_col = f"{output}_mean", f"{output}_var", f"{output}_n"
    missing = [c for c in (x, y, mean_col, var_col, n_col) if c not in points]
    if missing:
        raise KeyError(f"points table lacks {', '.join(missing)}; allowed: a sweep's analysis points table "
                       f"with factor columns and {mean_col}, {var_col}, {n_col}")
    rows = []
    for (yv, xv), group in points.groupby([y, x], sort=True):
        n = group[n_col].to_numpy(dtype=float)
        means = group[mean_col].to_numpy(dtype=float)
        variances = group[var_col].to_numpy(dtype=float)
        ok = (n > 0) & np.isfinite(means)
        if not ok.any():
            mean, se = math.nan, math.nan
        elif ok.sum() == 1:
            k = int(np.flatnonzero(ok)[0])
            mean = float(means[k])
            se = math.sqrt(variances[k] / n[k]) if n[k] > 1 and np.isfinite(variances[k]) else math.nan
        else:
            values = means[ok]
            mean, se = float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))
        rows.append({y: yv, x: xv, "mean": mean, "se": se})
    cells = pd.DataFrame(rows)
    mean = cells.pivot(index=y, columns=x, values="mean").sort_index().sort_index(axis=1)
    se = cells.pivot(index=y, columns=x, values="se").reindex_like(mean)
    return mean, se


def first_crossing(levels: np.ndarray, values: np.ndarray, level: float,
                   direction: str = "up") -> tuple[float, float, float, float, float, str]:
    """The first crossing of ``level`` along ascending ``levels``.

    Returns (threshold, bracket_low, bracket_high, value_below, value_above, status); cells with a NaN
    value are skipped.  See the module docstring for the rules.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r}; allowed: {', '.join(DIRECTIONS)}")
    levels = np.asarray(levels, dtype=float)
    values = np.asarray(values, dtype=float)
    keep = np.isfinite(values)
    levels, values = levels[keep], values[keep]
    nan = math.nan
    if len(values) == 0:
        return nan, nan, nan, nan, nan, "no data"
    reached = values >= level if direction == "up" else values <= level
    if not reached.any():
        return nan, float(levels[-1]), nan, float(values[-1]), nan, "not reached"
    j = int(np.argmax(reached))
    if j == 0:
        return float(levels[0]), nan, float(levels[0]), nan, float(values[0]), "at lowest level"
    b0, b1, v0, v1 = float(levels[j - 1]), float(levels[j]), float(values[j - 1]), float(values[j])
    fraction = (level - v0) / (v1 - v0) if v1 != v0 else 1.0
    return b0 + fraction * (b1 - b0), b0, b1, v0, v1, "crossed"


def crossing_thresholds(points: pd.DataFrame, by: str, over: str, output: str = "continued_by_school_y5",
                        level: float = 0.5, *, direction: str = "up", z: float = 1.96) -> pd.DataFrame:
    """For every level of factor ``by``, the level of factor ``over`` at which the mean of ``output`` first
    reaches ``level`` (linear interpolation between grid levels), with its bracket and uncertainty band.

    One row per level of ``by`` (ascending), columns: ``<by>`` and :data:`THRESHOLD_COLUMNS`.  ``best``
    is the largest mean in the column (smallest for ``direction="down"``) and ``best_at`` its ``over``
    level.  ``z`` scales the standard errors for ``threshold_low``/``threshold_high`` (1.96: 95%
    pointwise).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r}; allowed: {', '.join(DIRECTIONS)}")
    if by == over:
        raise ValueError(f"by and over are both {by!r}; allowed: two different factors")
    mean, se = cell_grid(points, x=by, y=over, output=output)
    b_levels = mean.index.to_numpy(dtype=float)
    sign = 1.0 if direction == "up" else -1.0
    rows = []
    for a in mean.columns:
        m = mean[a].to_numpy(dtype=float)
        s = se[a].to_numpy(dtype=float)
        threshold, b_low, b_high, v_below, v_above, status = first_crossing(b_levels, m, level, direction)
        early = first_crossing(b_levels, m + sign * z * s, level, direction) if np.isfinite(s).any() else None
        late = first_crossing(b_levels, m - sign * z * s, level, direction) if np.isfinite(s).any() else None
        finite = np.isfinite(m)
        if finite.any():
            k = int(np.nanargmax(sign * m))
            best, best_at = float(m[k]), float(b_levels[k])
        else:
            best, best_at = math.nan, math.nan
        falls_back = False
        if status in ("crossed", "at lowest level"):
            after = b_levels > threshold if status == "crossed" else b_levels > b_levels[0]
            tail = m[after & finite]
            falls_back = bool(np.any(tail < level) if direction == "up" else np.any(tail > level))
        rows.append({
            by: float(a), "output": output, "level": float(level), "direction": direction,
            "threshold": threshold, "bracket_low": b_low, "bracket_high": b_high, "value_below": v_below,
            "value_above": v_above,
            "threshold_low": early[0] if early else math.nan, "threshold_high": late[0] if late else math.nan,
            "status": status, "best": best, "best_at": best_at, "falls_back": falls_back,
        })
    return pd.DataFrame(rows, columns=[by, *THRESHOLD_COLUMNS])


def _index_position(levels: np.ndarray, value: float) -> float:
    """Where ``value`` sits on a categorical axis whose ticks are ``levels`` (linear between ticks)."""
    if not np.isfinite(value):
        return math.nan
    return float(np.interp(value, levels, np.arange(len(levels))))


def plot_threshold_map(points: pd.DataFrame, by: str, over: str, output: str, path: Path, *, level: float = 0.5,
                       thresholds: pd.DataFrame | None = None, direction: str = "up", z: float = 1.96,
                       title: str = "", unit_by: str = "", unit_over: str = "") -> Path:
    """Heatmap of the replicate mean of ``output`` (``by`` across, ``over`` up), each cell annotated with
    mean ± standard error, the contour where the mean equals ``level`` (dashed white), and per column the
    threshold (white dots) with its ± z se band; a column where the level is not reached gets a red
    triangle at the top edge.  Written as PNG to ``path``; returns ``path``."""
    mean, se = cell_grid(points, x=by, y=over, output=output)
    if thresholds is None:
        thresholds = crossing_thresholds(points, by, over, output, level, direction=direction, z=z)
    grid = mean.to_numpy(dtype=float)
    b_levels = mean.index.to_numpy(dtype=float)
    fig, ax = new_figure(figsize=(8.5, 6))
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    fig.colorbar(image, ax=ax, label=f"{output} (replicate mean)")
    ax.set_xticks(range(grid.shape[1]), [tidy_number(v) for v in mean.columns], rotation=45, fontsize=8)
    ax.set_yticks(range(grid.shape[0]), [tidy_number(v) for v in mean.index], fontsize=8)
    ax.set_xlabel(f"{by}{f' ({unit_by})' if unit_by else ''}")
    ax.set_ylabel(f"{over}{f' ({unit_over})' if unit_over else ''}")
    if grid.size <= 144:
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    bright = image.norm(grid[i, j]) > 0.6  # dark text on the light end of viridis
                    ax.text(j, i, f"{grid[i, j]:.2g}\n±{se.iat[i, j]:.1g}", ha="center", va="center", fontsize=6,
                            color="black" if bright else "white")
    finite = grid[np.isfinite(grid)]
    if min(grid.shape) >= 2 and finite.size and finite.min() < level < finite.max():
        ax.contour(np.arange(grid.shape[1]), np.arange(grid.shape[0]), np.ma.masked_invalid(grid), levels=[level],
                   colors="white", linestyles="--", linewidths=1.2)
        ax.plot([], [], "--", color="grey", label=f"contour: mean = {level:g}")
    xs, ys, lows, highs, missing = [], [], [], [], []
    for j, row in enumerate(thresholds.itertuples(index=False)):
        if row.status in ("crossed", "at lowest level"):
            y = _index_position(b_levels, row.threshold)
            band = np.isfinite(row.threshold_low)  # no band without standard errors
            low = _index_position(b_levels, row.threshold_low) if band else y
            # the pessimistic edge may never reach the level: the band then runs to the top of the grid
            high = _index_position(b_levels, row.threshold_high) if np.isfinite(row.threshold_high) else (
                len(b_levels) - 0.5 if band else y)
            xs.append(j)
            ys.append(y)
            lows.append(max(0.0, y - low))
            highs.append(max(0.0, high - y))
        elif row.status == "not reached":
            missing.append(j)
    if xs:
        ax.errorbar(xs, ys, yerr=[lows, highs], fmt="o-", color="white", ecolor="white", markersize=5,
                    markeredgecolor="black", capsize=3, linewidth=1.5,
                    label=f"threshold: first {over} where the mean {'reaches' if direction == 'up' else 'falls to'} "
                          f"{level:g} (bars: ±{z:g} se)")
    if missing:
        ax.plot(missing, [grid.shape[0] - 0.55] * len(missing), "^", color="red", markersize=8,
                label=f"{level:g} not reached within the grid")
    ax.set_xlim(-0.5, grid.shape[1] - 0.5)
    ax.set_ylim(-0.5, grid.shape[0] - 0.5)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=7, frameon=False)
    ax.set_title(title or f"{output}: where it reaches {level:g}")
    return save_figure(fig, path)


__all__ = ["THRESHOLD_COLUMNS", "cell_grid", "crossing_thresholds", "first_crossing", "plot_threshold_map"]
