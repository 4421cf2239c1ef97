"""Figures of sweeps and sensitivity analyses, written as PNG without pyplot (Agg canvas).

* :func:`plot_sobol` -- total and first-order Sobol' indices per factor, bars with 95% intervals.
* :func:`plot_morris` -- Morris mu* against sigma with intervals on both, and the sigma/mu* = 0.1, 0.5, 1 lines.
* :func:`plot_pawn` -- PAWN index per factor with intervals and the dummy factor's level.
* :func:`plot_convergence` -- each factor's primary index and interval against the number of runs.
* :func:`plot_heatmap` -- an output's replicate mean over two factors, each cell annotated with mean and
  replicate standard error, plus a second panel of the standard errors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.plots.figures import new_figure, save_figure, tidy_number

#: Said under every Sobol' chart: why bars may leave [0, 1], and what the error bars are.
SOBOL_NOTE = ("A Sobol' index is a share of the output variance (0 to 1), but each bar is an estimate from a finite "
              "sample: it can fall below 0 or above 1 by sampling error. Error bars: 95% bootstrap interval; "
              "± half-widths in tables are absolute (index units), not percentages.")

LABELS = {"ST": "total index ST", "S1": "first-order S1", "mu_star": "Morris mu*", "pawn": "PAWN"}


def _height(n: int) -> float:
    return max(3.0, 0.32 * n + 1.2)


def plot_sobol(ranking: pd.DataFrame, path: Path, title: str = "", noise_floor: float = math.nan) -> Path:
    """Horizontal bars of ST and S1 per factor (most influential on top) with interval half-widths; the
    dashed line is the ST that replicate noise alone gives every factor.  When the ranking has noise-corrected
    indices the bars are ST_corrected and S1_corrected and a tick marks the raw ST."""
    corrected = "ST_corrected" in ranking and ranking["ST_corrected"].notna().any()
    st, s1 = ("ST_corrected", "S1_corrected") if corrected else ("ST", "S1")
    frame = ranking.sort_values(st, ascending=True, na_position="first")
    fig, ax = new_figure(figsize=(8, _height(len(frame))))
    y = np.arange(len(frame))
    label = " (noise-corrected)" if corrected else ""
    ax.barh(y + 0.2, frame[st].fillna(0), height=0.38, xerr=frame[f"{st}_conf"].fillna(0), color="#1f77b4",
            label=f"total ST{label}", capsize=2)
    ax.barh(y - 0.2, frame[s1].fillna(0), height=0.38, xerr=frame[f"{s1}_conf"].fillna(0), color="#ff7f0e",
            label=f"first-order S1{label}", capsize=2)
    if corrected:  # the raw ST (with the noise floor in it) as a marker beside the corrected bar
        ax.plot(frame["ST"], y + 0.2, "k|", markersize=9, label="raw ST (replicate means)")
    ax.set_yticks(y, frame.index if frame.index.name == "factor" else frame["factor"])
    ax.axvline(0, color="black", linewidth=0.8)
    if np.isfinite(noise_floor):
        ax.axvline(noise_floor, color="grey", linestyle="--", linewidth=0.8, label="ST from replicate noise alone")
    ax.axvline(1, color="black", linewidth=0.6, linestyle=":")
    ax.set_xlabel("Sobol' index (estimated share of output variance)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.text(0.01, -0.02, SOBOL_NOTE, fontsize=7, wrap=True, ha="left", va="top", color="#444444")
    return save_figure(fig, path)


def plot_morris(ranking: pd.DataFrame, path: Path, title: str = "", unit: str = "",
                noise_floor: float = math.nan) -> Path:
    """mu* (x) against sigma (y) per factor with intervals; labels on the ten largest mu*; the dashed
    vertical line is the mu* that replicate noise alone gives a factor with no effect."""
    frame = ranking.dropna(subset=["mu_star"])
    fig, ax = new_figure(figsize=(8, 6))
    ax.errorbar(frame["mu_star"], frame["sigma"], xerr=frame["mu_star_conf"], yerr=frame["sigma_conf"], fmt="o",
                markersize=4, color="#1f77b4", ecolor="#9ecae1", capsize=2)
    top = frame.sort_values("mu_star", ascending=False).head(10)
    top_names = top.index if top.index.name == "factor" else top["factor"]
    high = float(np.nanmax(np.r_[frame["mu_star"] + frame["mu_star_conf"].fillna(0), 1e-12])) * 1.05
    y_high = float(np.nanmax(np.r_[frame["sigma"] + frame["sigma_conf"].fillna(0), 1e-12])) * 1.05
    offsets = label_offsets(top["mu_star"].to_numpy(dtype=float) / high, top["sigma"].to_numpy(dtype=float) / y_high)
    for name, row, dy in zip(top_names, top.itertuples(), offsets, strict=True):
        ax.annotate(str(name), (row.mu_star, row.sigma), fontsize=7, xytext=(4, 3 + dy), textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.5} if dy else None)
    xs = np.linspace(0, high, 50)
    for ratio, style in ((0.1, ":"), (0.5, "--"), (1.0, "-.")):
        ax.plot(xs, ratio * xs, style, color="grey", linewidth=0.8, label=f"sigma/mu* = {ratio:g}")
    if np.isfinite(noise_floor):
        ax.axvline(noise_floor, color="red", linestyle="--", linewidth=0.8, label="mu* from replicate noise alone")
    ax.set_xlim(0, high)
    ax.set_ylim(0, y_high)
    ax.set_xlabel(f"mu* (mean |elementary effect| over the factor's whole range{', ' + unit if unit else ''})")
    ax.set_ylabel("sigma (spread of elementary effects: interactions / non-linearity)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=7)
    return save_figure(fig, path)


def label_offsets(x: np.ndarray, y: np.ndarray, min_gap: float = 0.035, step_points: float = 9.0) -> list[float]:
    """Vertical offsets (points) that keep labels of nearby markers from overlapping: markers are taken in
    order of height, and a label within ``min_gap`` (axes fraction) in x of an already placed label at
    the same height is pushed up by one line (``step_points``) until it is free."""
    placed: list[tuple[float, float]] = []  # (x, label height in axes fraction)
    offsets = [0.0] * len(x)
    per_point = 1 / 400  # about one point in axes fraction on a 6-inch axes
    for k in np.argsort(y, kind="stable"):
        height = y[k]
        while any(abs(x[k] - px) < 4 * min_gap and abs(height - ph) < min_gap for px, ph in placed):
            height += step_points * per_point
        offsets[k] = (height - y[k]) / per_point
        placed.append((x[k], height))
    return offsets


def plot_pawn(ranking: pd.DataFrame, path: Path, dummy: float = math.nan, title: str = "") -> Path:
    """PAWN index per factor with intervals; the dashed line is a factor that does nothing (dummy)."""
    frame = ranking.sort_values("pawn", ascending=True, na_position="first")
    fig, ax = new_figure(figsize=(8, _height(len(frame))))
    y = np.arange(len(frame))
    ax.barh(y, frame["pawn"].fillna(0), xerr=frame["pawn_conf"].fillna(0), color="#2ca02c", capsize=2)
    ax.set_yticks(y, frame.index if frame.index.name == "factor" else frame["factor"])
    if np.isfinite(dummy):
        ax.axvline(dummy, color="black", linestyle="--", linewidth=0.8, label="dummy factor (no effect)")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("PAWN (median KS distance over slices); bars: 95% bootstrap interval")
    ax.set_title(title)
    return save_figure(fig, path)


def plot_convergence(table: pd.DataFrame, output: str, path: Path, top: int = 8, title: str = "") -> Path:
    """Primary index of the ``top`` factors (ranked at the largest size) against runs, with intervals."""
    data = table[table["output"] == output]
    fig, ax = new_figure(figsize=(8, 5))
    if not data.empty:
        last = data[data["base"] == data["base"].max()].sort_values("rank")
        for factor in last["factor"].head(top):
            series = data[data["factor"] == factor].sort_values("runs")
            ax.errorbar(series["runs"], series["value"], yerr=series["conf"], marker="o", markersize=3,
                        capsize=2, label=factor)
        ax.set_xscale("log", base=2)
        ax.set_ylabel(str(data["index"].iloc[0]) + " (95% bootstrap interval)")
        ax.legend(fontsize=7, loc="best")
    ax.set_xlabel("model runs")
    ax.set_title(title or f"convergence: {output}")
    return save_figure(fig, path)


def plot_heatmap(points: pd.DataFrame, x: str, y: str, output: str, path: Path, title: str = "",
                 unit_x: str = "", unit_y: str = "") -> Path:
    """Replicate mean of ``output`` over factors ``x`` and ``y`` (averaged over any other factors), with
    each cell annotated "mean ± standard error" and a second panel of the standard errors."""
    mean_col, var_col, n_col = f"{output}_mean", f"{output}_var", f"{output}_n"
    cells = points.groupby([y, x]).apply(_cell, mean_col, var_col, n_col, include_groups=False)
    mean = cells["mean"].unstack(x)
    se = cells["se"].unstack(x)
    fig, _ = new_figure(figsize=(13, 5.5))
    fig.clear()
    fig.set_layout_engine("constrained")  # colour bars get their own room: no label runs into the next panel
    axes = fig.subplots(1, 2)
    for ax, grid, label, cmap in ((axes[0], mean, f"{output} (replicate mean)", "viridis"),
                                  (axes[1], se, "replicate standard error", "magma")):
        image = ax.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto", cmap=cmap)
        ax.set_xticks(range(grid.shape[1]), [tidy_number(v) for v in grid.columns], rotation=45, fontsize=7)
        ax.set_yticks(range(grid.shape[0]), [tidy_number(v) for v in grid.index], fontsize=7)
        ax.set_xlabel(f"{x}{f' ({unit_x})' if unit_x else ''}")
        ax.set_ylabel(f"{y}{f' ({unit_y})' if unit_y else ''}")
        fig.colorbar(image, ax=ax, label=label, shrink=0.9, pad=0.02)
    if mean.size <= 144:
        for i in range(mean.shape[0]):
            for j in range(mean.shape[1]):
                m, s = mean.iat[i, j], se.iat[i, j]
                if np.isfinite(m):
                    axes[0].text(j, i, f"{m:.2g}\n±{s:.1g}", ha="center", va="center", fontsize=6, color="white")
    fig.suptitle(title or f"{output} over {x} x {y}")
    return save_figure(fig, path)


def _cell(group: pd.DataFrame, mean_col: str, var_col: str, n_col: str) -> pd.Series:
    """Mean and standard error of a heatmap cell from its points' replicate means and variances."""
    n = group[n_col].to_numpy(dtype=float)
    means = group[mean_col].to_numpy(dtype=float)
    variances = group[var_col].to_numpy(dtype=float)
    ok = (n > 0) & np.isfinite(means)
    if not ok.any():
        return pd.Series({"mean": math.nan, "se": math.nan})
    if ok.sum() == 1:  # one point in the cell: standard error of its replicate mean
        k = np.flatnonzero(ok)[0]
        se = math.sqrt(variances[k] / n[k]) if n[k] > 1 and np.isfinite(variances[k]) else math.nan
        return pd.Series({"mean": means[k], "se": se})
    # several points (other factors vary): standard error of the mean of point means
    values = means[ok]
    return pd.Series({"mean": float(values.mean()), "se": float(values.std(ddof=1) / math.sqrt(len(values)))})


__all__ = ["plot_convergence", "plot_heatmap", "plot_morris", "plot_pawn", "plot_sobol"]
