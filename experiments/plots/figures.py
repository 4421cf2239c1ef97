"""What every figure shares: a pyplot-free Matplotlib figure, the resolution and an all-or-nothing save."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.store.atomic import temp_beside


DPI = 150


def phase_label(phase: str) -> str:
    """A phase name for a legend (``taken_over`` -> ``taken over``)."""
    return phase.replace("_", " ")


def new_figure(**subplot_kw: object) -> tuple[Figure, object]:
    """A figure with one subplot (``figsize`` in inches, default 9 x 4.5) on an Agg canvas."""
    figsize = subplot_kw.pop("figsize", (9, 4.5))
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)  # attach the Agg renderer explicitly: PNG output without pyplot
    return fig, fig.add_subplot(**subplot_kw)


def save_figure(fig: Figure, path: Path) -> Path:
    """Save at :data:`DPI` atomically (temporary name, then rename), so a kill never leaves half a PNG."""
    path = Path(path)
    temp = temp_beside(path).with_suffix(path.suffix)
    try:
        fig.savefig(temp, dpi=DPI, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return path
