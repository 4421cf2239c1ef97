"""Figures of a scenario comparison: continuation curves with bands, and fates per scenario (PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from experiments.analysis.compare import ScenarioResult
from experiments.plots.figures import new_figure, phase_label, save_figure
from sim import FATES

CURVES_PNG = "continuation_curves.png"
FATES_PNG = "fates_by_scenario.png"


def _mean_band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly mean and 95% t-interval over replicates, ignoring months where a replicate is NaN."""
    n = np.sum(~np.isnan(curves), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(np.where(n > 0, curves, 0.0), axis=0)
        sd = np.nanstd(curves, axis=0, ddof=1)
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    mean[n == 0] = np.nan
    return mean, mean - half, mean + half


def plot_continuation_curves(results: list[ScenarioResult], path: Path) -> Path:
    """Share of started pilots alive with the school, by month, per scenario: mean and 95% band."""
    fig, ax = new_figure(figsize=(9, 4.8))
    for result in results:
        mean, low, high = _mean_band(result.curves)
        years = np.arange(mean.size) / 12.0
        (line,) = ax.plot(years, mean, label=result.name, linewidth=1.8)
        ax.fill_between(years, np.clip(low, 0, 1), np.clip(high, 0, 1), color=line.get_color(), alpha=0.2)
    ax.set_xlabel("years since start (month 0 = September)")
    ax.set_ylabel("share of started pilots\nalive with the school")
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.set_title(f"Continuation by the school over time (mean and 95% interval, {results[0].curves.shape[0]} replicates)")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    return save_figure(fig, path)


def plot_fates_by_scenario(results: list[ScenarioResult], path: Path) -> Path:
    """Stacked bars: mean share of started pilots in each fate at the horizon, per scenario."""
    fig, ax = new_figure(figsize=(9, 0.6 * len(results) + 2))
    phases = [fate for fate in FATES if any(fate in r.fates.columns for r in results)]
    names = [r.name for r in results]
    left = np.zeros(len(results))
    for phase in phases:
        shares = np.array([r.fates[phase].mean() if phase in r.fates.columns else 0.0 for r in results])
        ax.barh(names, shares, left=left, label=phase_label(phase))
        left += shares
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of started pilots at the horizon (mean over replicates)")
    ax.set_title("Fates of the pilots per scenario")
    ax.legend(frameon=False, fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    return save_figure(fig, path)
