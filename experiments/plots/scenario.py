"""Figures of one scenario's replicate ensemble (matplotlib's object API, no pyplot, no display).

Each ``plot_*`` function takes the tidy tables of :mod:`experiments.store.runfolder` (as read by
``experiments.api.read_run_tables``), draws on ``ax`` when given (a caller's layout) or on a new figure,
and returns the :class:`matplotlib.figure.Figure`; saving is a separate step
(:func:`experiments.plots.figures.save_figure`).  :func:`plot_all` draws and saves the standard four.
Colours come from :mod:`experiments.plots.colours`, shares from :mod:`experiments.analysis.fates` (the
same functions the summary is checked against).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.analysis.fates import (
    fade_offsets, mean_fade_after_subsidy_end, never_started_share, phase_names, started_fate_shares,
)
from experiments.analysis.summary import mean_ci
from experiments.plots.colours import (
    CONTINUATION_COLOUR, NEVER_STARTED_COLOUR, fate_colour, fate_label, phase_colour, phase_label,
)
from experiments.plots.figures import figure_for, save_figure

PHASES_PNG = "phases.png"
FATES_PNG = "fates.png"
RADAR_PNG = "community_radar.png"
FADE_TIMING_PNG = "fade_timing.png"

#: The four community elements of the seed's chapter 4, in radar order.
COMMUNITY_ELEMENTS = ("composition", "working", "facilitation", "resilience")
ELEMENT_LABELS = {
    "composition": "composition",
    "working": "formation &\nworking",
    "facilitation": "facilitation",
    "resilience": "flexibility &\nresilience",
}


def plot_phases(series: pd.DataFrame, title: str = "", *, axes: tuple[Axes, Axes] | None = None) -> Figure:
    """Top: stacked area of the mean number of pilots per phase by month.  Bottom: pilots alive with the
    school, mean and 10-90% band over replicates (the spread the stacked means hide).  ``axes``: a pair
    of axes to draw on (default: a new figure)."""
    phases = phase_names()
    columns = [f"phase_{p}" for p in phases]
    by_month = series.groupby("month")
    mean = by_month[columns].mean()
    years = mean.index.to_numpy() / 12.0
    alive = by_month["alive_with_school"]
    if axes is None:
        fig = Figure(figsize=(10, 7))
        FigureCanvasAgg(fig)
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    else:
        top, bottom = axes
        fig = top.figure
    top.stackplot(years, mean.to_numpy().T, labels=[phase_label(p) for p in phases],
                  colors=[phase_colour(p) for p in phases], alpha=0.9)
    top.set_ylabel("pilots (count, mean\nover replicates)")
    replicates = series["replicate"].nunique()
    top.set_title(title or f"Pilot phases over time ({replicates} replicates)")
    top.legend(title="phase", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    top.grid(alpha=0.3)

    bottom.fill_between(years, alive.quantile(0.1).to_numpy(), alive.quantile(0.9).to_numpy(),
                        color=CONTINUATION_COLOUR, alpha=0.25, label="10–90% of replicates")
    bottom.plot(years, alive.mean().to_numpy(), color=CONTINUATION_COLOUR, lw=1.8, label="mean")
    bottom.set_ylabel("pilots alive with\nthe school (count)")
    bottom.set_xlabel("years since start (month 0 = September)")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    bottom.grid(alpha=0.3)
    bottom.set_xlim(years[0], years[-1] if len(years) > 1 else years[0] + 1)
    return fig


def plot_fates(pilots: pd.DataFrame, title: str = "", *, ax: Axes | None = None) -> Figure:
    """Bars: the share of *started* pilots in each fate at the horizon (per run, then the mean over
    replicates with a 95% interval -- the summary's ``<fate>_share``), and beside them, hatched, the share
    of *proposed* pilots that never started (its own denominator)."""
    fig, ax = figure_for(ax, (9, 4.5))
    shares = started_fate_shares(pilots)
    fates = [f for f in shares.columns if f]
    cis = [mean_ci(shares[f].to_numpy()) for f in fates]
    never = mean_ci(never_started_share(pilots).to_numpy())
    labels = [fate_label(f).replace("continued ", "continued\n") for f in fates]
    x = np.arange(len(fates))
    means = np.array([c.mean for c in cis], dtype=float)
    errors = np.array([[c.mean - c.low, c.high - c.mean] if np.isfinite(c.low) else [0, 0] for c in cis]).T
    ax.bar(x, np.nan_to_num(means), color=[fate_colour(f) for f in fates],
           yerr=errors if len(fates) else None, capsize=3, label="share of started pilots")
    for xi, value in zip(x, means, strict=True):
        if np.isfinite(value):
            ax.annotate(f"{value:.2f}", (xi, value), xytext=(0, 3), textcoords="offset points", ha="center",
                        va="bottom", fontsize=9)
    gap = len(fates) + 0.6
    if np.isfinite(never.mean):
        ax.bar([gap], [never.mean], color=NEVER_STARTED_COLOUR, hatch="//", edgecolor="white",
               label="never started: share of proposed pilots")
        ax.annotate(f"{never.mean:.2f}", (gap, never.mean), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=9)
    ax.set_xticks([*x, gap], [*labels, "never started\n(of proposed)"])
    replicates = pilots["replicate"].nunique() if len(pilots) else 0
    ax.set_title(title or f"Fate of pilots at the horizon ({replicates} replicates)")
    ax.set_xlabel("fate at the horizon")
    ax.set_ylabel("share of started pilots\n(per run, mean over replicates)")
    ax.set_ylim(0, 1.08)
    ax.tick_params(axis="x", rotation=20)
    ax.grid(axis="y", alpha=0.3)
    if len(fates):
        ax.legend(frameon=False, fontsize=8, loc="upper right")
    if pilots.empty:
        ax.text(0.5, 0.5, "no pilots proposed", transform=ax.transAxes, ha="center", va="center", fontsize=14)
    elif shares.empty:
        ax.text(0.5, 0.5, "no pilot started", transform=ax.transAxes, ha="center", va="center", fontsize=14)
    return fig


def plot_community_radar(runs: pd.DataFrame, title: str = "", *, ax: Axes | None = None) -> Figure:
    """Radar of the four community elements at the horizon (0-1): mean and 95% interval over replicates."""
    cis = [mean_ci(runs[name].to_numpy(dtype=float)) for name in COMMUNITY_ELEMENTS]
    angles = np.linspace(0, 2 * np.pi, len(COMMUNITY_ELEMENTS), endpoint=False)
    closed = np.append(angles, angles[0])

    def ring(values: list[float]) -> np.ndarray:
        return np.append(values, values[0])

    fig, ax = figure_for(ax, (6, 6), projection="polar")
    means = [c.mean for c in cis]
    lows = [c.low if np.isfinite(c.low) else c.mean for c in cis]
    highs = [c.high if np.isfinite(c.high) else c.mean for c in cis]
    ax.fill_between(closed, ring(lows), ring(highs), color="tab:green", alpha=0.3, label="95% interval")
    ax.plot(closed, ring(means), color="tab:green", lw=2, marker="o", label="mean over replicates")
    ax.set_xticks(angles)
    ax.set_xticklabels([f"{ELEMENT_LABELS[n]}\n{c.mean:.2f}" for n, c in zip(COMMUNITY_ELEMENTS, cis, strict=True)])
    ax.set_ylim(0, 1)
    ax.set_yticks([0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels(["0.25", "0.5", "0.75", "1"], fontsize=8)
    ax.set_title(title or "Community elements at the horizon (score 0–1)", pad=24)
    ax.legend(loc="upper right", bbox_to_anchor=(1.25, 1.12), fontsize=9, frameon=False)
    return fig


def plot_fade_timing(pilots: pd.DataFrame, title: str = "", *, ax: Axes | None = None) -> Figure:
    """Histogram of fade month minus subsidy end month (months) over all faded subsidised pilots, split into
    those that faded while still subsidised (left of 0) and after (the summary's
    ``mean_fade_after_subsidy_end`` averages only the latter, per run then over replicates)."""
    offsets = fade_offsets(pilots)
    fig, ax = figure_for(ax, (9, 4.5))
    if offsets.empty:
        ax.text(0.5, 0.5, "no faded subsidised pilots", transform=ax.transAxes, ha="center", va="center",
                fontsize=14)
        ax.set_xlim(-12, 36)
    else:
        values = offsets["offset"].to_numpy()
        low, high = int(values.min()), int(values.max())
        width = max(1, int(np.ceil((high - low + 1) / 60)))  # at most ~60 bars, whole months per bar
        bins = np.arange(low, high + width + 1, width) - 0.5
        before, after = values[~offsets["after"].to_numpy()], values[offsets["after"].to_numpy()]
        summary_mean = mean_fade_after_subsidy_end(pilots).mean()
        ax.hist([before, after], bins=bins, stacked=True, color=[phase_colour("running"), phase_colour("faded")],
                alpha=0.85, edgecolor="white", label=[
                    f"faded while subsidised: {before.size} pilots (not in the summary's mean)",
                    f"faded after subsidy end: {after.size} pilots; per-run mean {summary_mean:.1f} months, "
                    "averaged over replicates (= summary's mean_fade_after_subsidy_end)"])
    ax.axvline(0, color="black", ls="--", lw=1.2, label="subsidy ends")
    ax.set_xlabel("fade month − subsidy end month (months; negative = faded while still subsidised)")
    ax.set_ylabel("pilots (count, all replicates)")
    ax.set_title(title or "When do subsidised pilots fade, relative to the end of their subsidy?")
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_all(folder: Path, runs: pd.DataFrame, pilots: pd.DataFrame, series: pd.DataFrame,
             scenario: str = "") -> list[Path]:
    """Write the four standard figures into ``folder``; returns their paths."""
    folder = Path(folder)
    prefix = f"{scenario}: " if scenario else ""
    replicates = runs["replicate"].nunique()
    figures = {
        PHASES_PNG: plot_phases(series, f"{prefix}pilot phases over time ({replicates} replicates)"),
        FATES_PNG: plot_fates(pilots, f"{prefix}fate of pilots at the horizon ({len(pilots)} pilots proposed, "
                                      f"{replicates} replicates)"),
        RADAR_PNG: plot_community_radar(runs, f"{prefix}community elements at the horizon (0–1)"),
        FADE_TIMING_PNG: plot_fade_timing(pilots, f"{prefix}fade timing relative to subsidy end"),
    }
    return [save_figure(fig, folder / name) for name, fig in figures.items()]
