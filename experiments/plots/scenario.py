"""Figures of one scenario's replicate ensemble, written as PNG (matplotlib's Agg renderer, no display).

Each function takes the tidy tables of :mod:`experiments.store.runfolder` and a target path and returns the path.
Figures are built as bare ``matplotlib.figure.Figure`` objects, never through pyplot, so this module
neither needs a display nor changes the global backend of a notebook that imports it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.analysis.summary import mean_ci
from experiments.plots.figures import new_figure, phase_label, save_figure
from sim import SERIES_FIELDS

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


def phase_names() -> list[str]:
    """Pilot phases in the model's declaration order, read from the ``phase_*`` series names."""
    return [name.removeprefix("phase_") for name in SERIES_FIELDS if name.startswith("phase_")]


def plot_phases(series: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Top: stacked area of the mean number of pilots per phase by month.  Bottom: pilots alive with the
    school, mean and 10-90% band over replicates (the spread the stacked means hide)."""
    phases = phase_names()
    columns = [f"phase_{p}" for p in phases]
    by_month = series.groupby("month")
    mean = by_month[columns].mean()
    years = mean.index.to_numpy() / 12.0
    alive = by_month["alive_with_school"]
    fig = Figure(figsize=(10, 7))
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    palette = matplotlib.colormaps["tab10" if len(phases) <= 10 else "tab20"]
    colours = [palette(i % palette.N) for i in range(len(phases))]
    top.stackplot(years, mean.to_numpy().T, labels=[phase_label(p) for p in phases], colors=colours, alpha=0.9)
    top.set_ylabel("pilots (count, mean\nover replicates)")
    replicates = series["replicate"].nunique()
    top.set_title(title or f"Pilot phases over time ({replicates} replicates)")
    top.legend(title="phase", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    top.grid(alpha=0.3)

    bottom.fill_between(years, alive.quantile(0.1).to_numpy(), alive.quantile(0.9).to_numpy(),
                        color="tab:blue", alpha=0.25, label="10–90% of replicates")
    bottom.plot(years, alive.mean().to_numpy(), color="tab:blue", lw=1.8, label="mean")
    bottom.set_ylabel("pilots alive with\nthe school (count)")
    bottom.set_xlabel("years since start (month 0 = September)")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    bottom.grid(alpha=0.3)
    bottom.set_xlim(years[0], years[-1] if len(years) > 1 else years[0] + 1)
    return save_figure(fig, path)


def plot_fates(pilots: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Bar chart: how many pilots (all replicates together) ended in each phase at the horizon."""
    order = phase_names()
    counts = pilots["fate"].astype(str).value_counts()
    labels = order + sorted(set(counts.index) - set(order))
    values = np.array([int(counts.get(f, 0)) for f in labels])
    total = int(values.sum())
    fig, ax = new_figure(figsize=(9, 4.5))
    bars = ax.bar([phase_label(f) for f in labels], values, color="tab:blue")
    for bar, value in zip(bars, values, strict=True):
        if total:
            ax.annotate(f"{value / total:.0%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=9)
    replicates = pilots["replicate"].nunique() if len(pilots) else 0
    ax.set_title(title or f"Fate of pilots at the horizon ({total} pilots in {replicates} replicates)")
    ax.set_xlabel("phase at the horizon")
    ax.set_ylabel("pilots (count)")
    ax.tick_params(axis="x", rotation=20)
    ax.grid(axis="y", alpha=0.3)
    if total == 0:
        ax.text(0.5, 0.5, "no pilots proposed", transform=ax.transAxes, ha="center", va="center", fontsize=14)
    return save_figure(fig, path)


def plot_community_radar(runs: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Radar of the four community elements at the horizon (0-1): mean and 95% interval over replicates."""
    cis = [mean_ci(runs[name].to_numpy(dtype=float)) for name in COMMUNITY_ELEMENTS]
    angles = np.linspace(0, 2 * np.pi, len(COMMUNITY_ELEMENTS), endpoint=False)
    closed = np.append(angles, angles[0])

    def ring(values: list[float]) -> np.ndarray:
        return np.append(values, values[0])

    fig, ax = new_figure(figsize=(6, 6), projection="polar")
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
    return save_figure(fig, path)


def fade_offsets(pilots: pd.DataFrame) -> np.ndarray:
    """Months from subsidy end to fade for pilots with both months known (>= 0); negative = faded earlier."""
    if pilots.empty:
        return np.array([], dtype=int)
    fade = pilots["fade_month"].to_numpy(dtype=float)
    end = pilots["subsidy_end_month"].to_numpy(dtype=float)
    both = (fade >= 0) & (end >= 0)
    return (fade[both] - end[both]).astype(int)


def plot_fade_timing(pilots: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Histogram of fade month minus subsidy end month (months) over all faded subsidised pilots."""
    offsets = fade_offsets(pilots)
    fig, ax = new_figure(figsize=(9, 4.5))
    if offsets.size == 0:
        ax.text(0.5, 0.5, "no faded subsidised pilots", transform=ax.transAxes, ha="center", va="center",
                fontsize=14)
        ax.set_xlim(-12, 36)
    else:
        low, high = int(offsets.min()), int(offsets.max())
        width = max(1, int(np.ceil((high - low + 1) / 60)))  # at most ~60 bars, whole months per bar
        bins = np.arange(low, high + width + 1, width) - 0.5
        ax.hist(offsets, bins=bins, color="tab:red", alpha=0.8, edgecolor="white",
                label=f"{offsets.size} pilots, median {np.median(offsets):+.0f} months")
    ax.axvline(0, color="black", ls="--", lw=1.2, label="subsidy ends")
    ax.set_xlabel("fade month − subsidy end month (months; negative = faded while still subsidised)")
    ax.set_ylabel("pilots (count)")
    ax.set_title(title or "When do subsidised pilots fade, relative to the end of their subsidy?")
    ax.legend(loc="upper right", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)


def plot_all(folder: Path, runs: pd.DataFrame, pilots: pd.DataFrame, series: pd.DataFrame,
             scenario: str = "") -> list[Path]:
    """Write the four standard figures into ``folder``; returns their paths."""
    folder = Path(folder)
    prefix = f"{scenario}: " if scenario else ""
    replicates = runs["replicate"].nunique()
    return [
        plot_phases(series, folder / PHASES_PNG, f"{prefix}pilot phases over time ({replicates} replicates)"),
        plot_fates(pilots, folder / FATES_PNG,
                   f"{prefix}fate of pilots at the horizon ({len(pilots)} pilots, {replicates} replicates)"),
        plot_community_radar(runs, folder / RADAR_PNG,
                             f"{prefix}community elements at the horizon (0–1)"),
        plot_fade_timing(pilots, folder / FADE_TIMING_PNG,
                         f"{prefix}fade timing relative to subsidy end"),
    ]
