"""The viewer's figures, drawn with matplotlib's object API (no pyplot state, nothing to close).

Each ``*_figure`` takes plain data (the viewer model's collected frame, a graph, a table) and returns a
:class:`matplotlib.figure.Figure`; :func:`png` turns one into PNG bytes for the browser.  The tie-network
drawing keeps node positions in a cache between steps, so people stay where they were and only move a
little as ties form and fade.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Hashable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from experiments.plots.colours import PHASE_COLOURS, phase_label  # noqa: E402  (one colour per phase everywhere)
from experiments.viz.model import ELEMENTS, PHASE_ORDER  # noqa: E402
from sim.network import ACTIVE_TIE, PROXIMITIES  # noqa: E402

SIZE = (6.4, 3.4)
DPI = 90

ELEMENT_COLOURS = {"composition": "#1f77b4", "working": "#ff7f0e", "facilitation": "#2ca02c",
                   "resilience": "#9467bd"}
#: Node colours of the tie network, by the first part of a person's key.
NODE_COLOURS = {"teacher": "#1f77b4", "firm": "#ff7f0e", "cooperative": "#9467bd", "trainer": "#7f7f7f"}
NODE_LABELS = {"teacher": "teachers", "firm": "firms", "cooperative": "cooperative", "trainer": "outside trainers"}


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _axes(title: str) -> tuple[Figure, Any]:
    # Fixed margins: a constrained layout would double the drawing time, which the live page pays every step.
    figure = Figure(figsize=SIZE, dpi=DPI)
    figure.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.15)
    ax = figure.subplots()
    ax.set_title(title, fontsize=11, loc="left")
    return figure, ax


def _months(ax, horizon: int) -> None:
    ax.set_xlim(0, max(horizon, 1))
    ax.set_xlabel("month")
    ticks = np.arange(0, horizon + 1, 12 if horizon <= 180 else 24)
    ax.set_xticks(ticks)
    ax.grid(alpha=0.3)


def _empty(ax, text: str = "press Step or ▶ to run the model") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777777")


def phases_figure(frame: pd.DataFrame, horizon: int) -> Figure:
    """Pilots in each phase per month, stacked."""
    figure, ax = _axes("Pilots by phase")
    _months(ax, horizon)
    ax.set_ylabel("pilots")
    if frame.empty:
        _empty(ax)
        ax.set_ylim(0, 1)
        return figure
    months = frame["month"].to_numpy(dtype=float)
    layers = [frame[f"phase_{phase.value}"].to_numpy(dtype=float) for phase in PHASE_ORDER]
    labels = [phase_label(phase.value) for phase in PHASE_ORDER]
    colours = [PHASE_COLOURS[phase.value] for phase in PHASE_ORDER]
    ax.stackplot(months, layers, labels=labels, colors=colours, step="post", alpha=0.9)
    ax.set_ylim(0, max(1.0, float(np.sum(layers, axis=0).max()) * 1.35))  # room for the legend
    ax.legend(loc="upper left", fontsize=7, ncols=4, frameon=False)
    return figure


def _share_axes(title: str, horizon: int) -> tuple[Figure, Any]:
    """Axes for quantities on a 0-1 scale over the months of the horizon."""
    figure, ax = _axes(title)
    _months(ax, horizon)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("0-1")
    return figure, ax


def elements_figure(frame: pd.DataFrame, horizon: int) -> Figure:
    """The four elements of the learning community (0-1) per month."""
    figure, ax = _share_axes("Community elements", horizon)
    if frame.empty:
        _empty(ax)
        return figure
    months = frame["month"].to_numpy(dtype=float)
    for name in ELEMENTS:
        ax.plot(months, frame[name].to_numpy(dtype=float), label=name, color=ELEMENT_COLOURS[name], lw=1.6)
    ax.legend(loc="upper left", fontsize=7, ncols=4, frameon=False)
    return figure


def school_figure(frame: pd.DataFrame, horizon: int) -> Figure:
    """The school's effective commitment and its embedding per month; interim months shaded."""
    figure, ax = _share_axes("The school", horizon)
    if frame.empty:
        _empty(ax)
        return figure
    months = frame["month"].to_numpy(dtype=float)
    interim = frame["interim"].to_numpy(dtype=float) > 0
    if interim.any():
        ax.fill_between(months, 0, 1.02, where=interim, step="pre", color="#d62728", alpha=0.12,
                        label="interim director", linewidth=0)
    ax.plot(months, frame["school_commitment"].to_numpy(dtype=float), label="commitment", color="#1f77b4", lw=1.6)
    ax.plot(months, frame["embedding"].to_numpy(dtype=float), label="embedding", color="#2ca02c", lw=1.6)
    ax.legend(loc="upper left", fontsize=7, ncols=3, frameon=False)
    return figure


# ------------------------------------------------------------------------------------------- tie network


def snapshot(graph: nx.Graph, attempts: int = 5) -> nx.Graph:
    """A copy of the graph that the running model cannot change under us (retry if it changed mid-copy)."""
    for _ in range(attempts):
        try:
            return nx.Graph(graph)
        except RuntimeError:  # "dictionary changed size during iteration" while the model steps
            continue
    return nx.Graph()


def tie_strength(data: dict[str, float]) -> float:
    return sum(data[kind] for kind in PROXIMITIES) / len(PROXIMITIES)


def _ring_position(node: Hashable, radius: float = 1.35) -> np.ndarray:
    """A fixed place on the outer ring for a person without ties (stable: from a checksum of the key)."""
    angle = 2.0 * np.pi * (zlib.crc32(repr(node).encode()) % 3600) / 3600.0
    return np.array([radius * np.cos(angle), radius * np.sin(angle)])


def update_layout(graph: nx.Graph, cache: dict[Hashable, np.ndarray],
                  iterations: int = 4) -> dict[Hashable, np.ndarray]:
    """Node positions for ``graph``, starting from ``cache`` (updated in place and returned).

    People with ties are laid out inside the unit disc by a few Fruchterman-Reingold iterations from
    their cached positions (stronger ties pull harder), so the picture follows the ties without
    jumping; newcomers start next to the people they are tied to.  People without ties wait on an
    outer ring, each at a fixed place.  The layout has its own fixed seed and never touches the
    model's random generator.
    """
    nodes = list(graph.nodes)
    tied = [node for node in nodes if graph.degree(node) > 0]
    for gone in set(cache) - set(tied):
        del cache[gone]
    if tied:
        jitter = np.random.default_rng(len(cache) * 7919 + len(tied))  # viewer-only, deterministic
        for node in tied:
            if node not in cache:
                placed = [cache[other] for other in graph[node] if other in cache]
                centre = np.mean(placed, axis=0) if placed else np.zeros(2)
                cache[node] = centre + jitter.normal(0.0, 0.15, 2)
        weighted = nx.Graph()
        weighted.add_nodes_from(tied)
        weighted.add_weighted_edges_from(
            (a, b, 0.2 + tie_strength(d)) for a, b, d in graph.edges(data=True)
        )
        k = 1.8 / np.sqrt(len(tied))
        moved = nx.spring_layout(weighted, pos={node: cache[node] for node in tied}, iterations=iterations,
                                 seed=1, weight="weight", k=k)
        cache.update({node: np.asarray(xy) for node, xy in moved.items()})
    positions = dict(cache)
    positions.update({node: _ring_position(node) for node in nodes if node not in cache})
    return positions


def network_figure(graph: nx.Graph, positions: dict[Hashable, np.ndarray]) -> Figure:
    """The tie network: people coloured by kind, ties drawn by strength (active ties darker)."""
    figure = Figure(figsize=SIZE, dpi=DPI)
    figure.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.08)
    ax = figure.subplots()
    active = sum(1 for _, _, d in graph.edges(data=True) if tie_strength(d) >= ACTIVE_TIE)
    ax.set_title(f"Tie network: {graph.number_of_nodes()} people, {graph.number_of_edges()} ties "
                 f"({active} active)", fontsize=11, loc="left")
    ax.set_axis_off()
    if graph.number_of_nodes() == 0:
        _empty(ax, "no people yet")
        return figure
    segments, widths, colours = [], [], []
    for a, b, data in graph.edges(data=True):
        strength = tie_strength(data)
        segments.append([positions[a], positions[b]])
        widths.append(0.4 + 3.0 * strength)
        colours.append((0.2, 0.2, 0.2, 0.15 + 0.6 * strength) if strength >= ACTIVE_TIE else (0.5, 0.5, 0.5, 0.12))
    if segments:
        ax.add_collection(LineCollection(segments, linewidths=widths, colors=colours, zorder=1))
    kinds: dict[str, list[Hashable]] = {}
    for node in graph.nodes:
        kind = node[0] if isinstance(node, tuple) and node else "other"
        kinds.setdefault(kind, []).append(node)
    for kind, members in sorted(kinds.items()):
        xy = np.array([positions[node] for node in members])
        sizes = [30 + 12 * min(graph.degree(node), 15) for node in members]
        ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=NODE_COLOURS.get(kind, "#333333"), edgecolors="white",
                   linewidths=0.6, zorder=2, label=NODE_LABELS.get(kind, kind))
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=4, bbox_to_anchor=(0, 0))
    return figure


# ------------------------------------------------------------------------------------------- run sets


def replicates_figure(values: pd.Series, means: pd.Series, point: int, output: str) -> Figure:
    """Left: the replicates of one point (strip) with their mean and 95% interval; right: the means of all
    points (histogram) with this point marked."""
    from experiments.viz.runsets import replicate_summary

    figure = Figure(figsize=(8.8, 3.2), dpi=DPI)
    figure.subplots_adjust(left=0.09, right=0.98, top=0.88, bottom=0.16, wspace=0.25)
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.4])
    values = pd.Series(values, dtype=float)
    finite = values.dropna()
    summary = replicate_summary(finite)
    left.set_title(f"point {point}: {summary['n']} replicates", fontsize=10, loc="left")
    if len(finite):
        offsets = np.random.default_rng(0).uniform(-0.15, 0.15, len(finite))  # fixed jitter, viewer-only
        left.scatter(offsets, finite.to_numpy(), s=22, alpha=0.7, color="#1f77b4", zorder=2)
        left.errorbar([0.32], [summary["mean"]], yerr=None if np.isnan(summary["ci95"]) else [summary["ci95"]],
                      fmt="D", color="#d62728", capsize=5, zorder=3, label="mean ± 95% CI")
        left.legend(loc="best", fontsize=7, frameon=False)
    else:
        _empty(left, "no finished replicate\nwith a value")
    left.set_xlim(-0.5, 0.6)
    left.set_xticks([])
    left.set_ylabel(output)
    left.grid(alpha=0.3, axis="y")
    means = pd.Series(means, dtype=float)
    finite_means = means.dropna()
    right.set_title(f"mean {output} of all {len(means)} points", fontsize=10, loc="left")
    if len(finite_means):
        right.hist(finite_means.to_numpy(), bins=min(30, max(5, len(finite_means) // 3)), color="#9ecae1",
                   edgecolor="white")
        if point in means.index and not np.isnan(means[point]):
            right.axvline(means[point], color="#d62728", lw=2, label=f"point {point}")
            right.legend(loc="best", fontsize=7, frameon=False)
    else:
        _empty(right, "no finished runs")
    right.set_xlabel(output)
    right.set_ylabel("points")
    return figure
