"""Figures of scenario discovery and policy robustness (matplotlib, Agg renderer, no pyplot).

Every function draws into a given ``ax`` (and returns its figure) or, without one, builds a bare
``matplotlib.figure.Figure`` with the Agg canvas attached -- never through pyplot, so nothing changes the
global backend or leaves figures open in a notebook.  Saving is a separate step (:func:`experiments.plots.figures.save_figure`, re-exported here).

* :func:`plot_trajectory` -- coverage against density along the peeling trajectory, coloured by the
  number of restricted factors, the chosen box ringed (as EMA Workbench's ``show_tradeoff``);
* :func:`plot_box_limits` -- each restricted factor's limits drawn against its full range (0-1 scaled),
  annotated with the quasi-p-value and resampling share;
* :func:`plot_pairwise` -- scatter of the design points for each pair of restricted factors, cases
  highlighted, with the box drawn;
* :func:`plot_policy_cdf` -- per policy, the empirical CDF of an output over futures;
* :func:`plot_regret` -- per policy, a box plot of regret over futures;
* :func:`plot_stacking` -- the dimensional stack: share of cases per cell of nested factor bins.
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from experiments.analysis.discovery import BoxSearch, DiscoveryResult
from experiments.analysis.robustness import RobustnessResult
from experiments.analysis.stacking import Stack
from experiments.plots.figures import new_figure, save_figure

def _axes(ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.5)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    return new_figure(figsize=figsize)


def plot_trajectory(search: BoxSearch, ax: Axes | None = None) -> Figure:
    """Coverage (x) against density (y) of every box on the trajectory, coloured by restricted factors."""
    fig, ax = _axes(ax)
    boxes = search.trajectory.boxes
    coverage = np.array([b.coverage for b in boxes])
    density = np.array([b.density for b in boxes])
    n_restricted = np.array([b.n_restricted for b in boxes])
    levels = np.arange(n_restricted.max() + 2) - 0.5
    points = ax.scatter(coverage, density, c=n_restricted, cmap="viridis", vmin=levels[0], vmax=levels[-1], s=22)
    chosen = boxes[search.chosen]
    ax.scatter([chosen.coverage], [chosen.density], s=140, facecolors="none", edgecolors="crimson", linewidths=1.6,
               label=f"chosen: box {search.chosen}")
    bar = fig.colorbar(points, ax=ax, ticks=np.arange(n_restricted.max() + 1))
    bar.set_label("restricted factors")
    ax.set_xlabel("coverage (share of all cases in the box)")
    ax.set_ylabel("density (share of the box that are cases)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"peeling trajectory (search {search.search})", fontsize=10)
    return fig


def plot_box_limits(search: BoxSearch, ax: Axes | None = None) -> Figure:
    """Each restricted factor's box limits on its full range scaled to 0-1, labelled with the raw limits,
    quasi-p-value and resampling share."""
    limits = search.limits
    fig, ax = _axes(ax, (7.0, 0.6 + 0.55 * max(1, len(limits))))
    trajectory = search.trajectory
    for row, lim in enumerate(limits):
        j = trajectory.factors.index(lim.factor)
        lo, hi = trajectory.full_low[j], trajectory.full_high[j]
        a, b = (lim.low - lo) / (hi - lo), (lim.high - lo) / (hi - lo)
        ax.plot([0, 1], [row, row], color="0.8", linewidth=6, solid_capstyle="butt")
        ax.plot([a, b], [row, row], color="tab:blue", linewidth=6, solid_capstyle="butt")
        ax.text(1.03, row, f"{lim.low:.3g} to {lim.high:.3g}   qp {lim.qp_value:.1g}   "
                f"resampled {lim.resample_share:.0%}", va="center", fontsize=8)
    ax.set_yticks(range(len(limits)), [lim.factor for lim in limits])
    ax.set_ylim(len(limits) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.set_xlabel("position in the factor's range (0 = lowest, 1 = highest value searched)")
    box = search.box
    ax.set_title(f"box {search.chosen}: coverage {box.coverage:.2f}, density {box.density:.2f}", fontsize=10)
    return fig


def plot_pairwise(result: DiscoveryResult, search: int = 1, figsize_per: float = 2.6, max_factors: int = 4) -> Figure:
    """Scatter of every pair of the box's restricted factors (cases in colour, others grey), box outlined.

    With one restricted factor the pair is that factor against the highest-scoring other factor.  A box
    restricting more than ``max_factors`` factors shows the ``max_factors`` with the smallest quasi-p-value
    (12 restricted factors would give 66 panels).
    """
    chosen = result.searches[search - 1]
    ordered = sorted(chosen.limits, key=lambda lim: lim.qp_value)[:max_factors]
    names = [f for f in chosen.box.restricted if f in {lim.factor for lim in ordered}]
    if len(names) < 2:
        others = [f for f in result.features["factor"] if f not in names]
        names = names + others[: 2 - len(names)]
    pairs = list(itertools.combinations(names, 2))
    cols = min(3, len(pairs))
    rows = int(np.ceil(len(pairs) / cols))
    fig, first = new_figure(figsize=(figsize_per * cols + 0.5, figsize_per * rows + 0.3))
    fig.delaxes(first)  # the grid is added below
    table = result.cases.table
    is_case = table["is_case"].to_numpy()
    factors = list(chosen.trajectory.factors)
    for k, (fx, fy) in enumerate(pairs):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.scatter(table.loc[~is_case, fx], table.loc[~is_case, fy], s=4, color="0.75", label="other points")
        ax.scatter(table.loc[is_case, fx], table.loc[is_case, fy], s=5, color="tab:orange", label="cases")
        jx, jy = factors.index(fx), factors.index(fy)
        low, high = chosen.box.low, chosen.box.high
        ax.add_patch(Rectangle((low[jx], low[jy]), high[jx] - low[jx], high[jy] - low[jy], fill=False,
                               edgecolor="crimson", linewidth=1.5))
        ax.set_xlabel(fx, fontsize=8)
        ax.set_ylabel(fy, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.axes[0].legend(fontsize=6, loc="best", markerscale=2)
    fig.suptitle(f"{result.cases.description}: box {chosen.chosen}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_policy_cdf(result: RobustnessResult, output: str, ax: Axes | None = None) -> Figure:
    """Empirical CDF over futures of each policy's replicate-mean output (a satisficing threshold as a line)."""
    fig, ax = _axes(ax)
    means = result.future_means[output]
    for policy, values in means.iterrows():
        data = np.sort(values.to_numpy(dtype=float))
        ax.step(data, np.arange(1, len(data) + 1) / len(data), where="post", label=str(policy))
    threshold = dict(dict(result.settings).get("thresholds", {})).get(output)
    if threshold is not None:
        ax.axvline(threshold, color="0.4", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_xlabel(f"{output} (replicate mean per future)")
    ax.set_ylabel("share of futures at or below")
    ax.legend(fontsize=8)
    return fig


def plot_regret(result: RobustnessResult, output: str, ax: Axes | None = None) -> Figure:
    """Box plot of each policy's regret over futures (shortfall from the best policy in the same future),
    one row per policy (horizontal, so long policy names stay readable)."""
    regret = result.regret[output]
    fig, ax = _axes(ax, (7.0, 1.2 + 0.42 * len(regret)))
    ax.boxplot([row.to_numpy(dtype=float) for _, row in regret.iterrows()], whis=(0, 100), orientation="horizontal")
    ax.set_yticks(range(1, len(regret) + 1), [str(p).replace("_", " ") for p in regret.index])
    ax.invert_yaxis()
    ax.set_xlabel(f"regret in {output} over futures (whiskers: minimum and maximum)")
    ax.set_title("regret: shortfall from the best policy in the same future", fontsize=10)
    return fig




def plot_stacking(stack: Stack, ax: Axes | None = None, annotate_max_cells: int = 144) -> Figure:
    """The dimensional stack as a heat map: the share of cases per cell (grey: no points), each cell
    annotated with ``cases/points`` when there are at most ``annotate_max_cells`` cells; lines separate
    the bins of the outer factors.  Tick labels give each cell's bin per factor (1 = lowest third)."""
    share = stack.grid("share")
    n_rows, n_cols = share.shape
    fig, ax = _axes(ax, figsize=(max(5.0, 0.42 * n_cols + 2.5), max(4.0, 0.36 * n_rows + 2.0)))
    cmap = colormaps["viridis"].with_extremes(bad="0.85")
    image = ax.imshow(np.ma.masked_invalid(share), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto",
                      interpolation="nearest")
    bar = fig.colorbar(image, ax=ax)
    bar.set_label("share of the cell's points that are cases")
    if n_rows * n_cols <= annotate_max_cells:
        points, cases = stack.grid("n_points"), stack.grid("n_cases")
        for r, c in itertools.product(range(n_rows), range(n_cols)):
            dark = np.isfinite(share[r, c]) and share[r, c] < 0.6
            ax.text(c, r, f"{int(cases[r, c])}/{int(points[r, c])}", ha="center", va="center", fontsize=6,
                    color="white" if dark else "black")

    def labels(axis: tuple[str, ...], key: str) -> list[str]:
        cells = stack.table.drop_duplicates(key).sort_values(key)
        return ["".join(str(int(cell[f])) for f in axis) for _, cell in cells.iterrows()]

    ax.set_yticks(range(n_rows), labels(stack.rows, "row"), fontsize=7)
    ax.set_xticks(range(n_cols), labels(stack.columns, "column"), fontsize=7, rotation=90)
    ax.set_ylabel("bins of " + " / ".join(stack.rows))
    ax.set_xlabel("bins of " + " / ".join(stack.columns))
    for axis, draw, count in ((stack.rows, ax.axhline, n_rows), (stack.columns, ax.axvline, n_cols)):
        if len(axis) > 1:
            inner = count // (len(stack.edges[axis[0]]) - 1)
            for k in range(inner, count, inner):
                draw(k - 0.5, color="white", linewidth=1.5)
    ax.set_title("dimensional stacking: share of cases per cell (cases/points)", fontsize=10)
    return fig


__all__ = ["plot_box_limits", "plot_pairwise", "plot_policy_cdf", "plot_regret", "plot_stacking", "plot_trajectory",
           "save_figure"]
