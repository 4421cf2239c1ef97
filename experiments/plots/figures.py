"""What every figure shares: a pyplot-free Matplotlib figure, the resolution and an all-or-nothing save."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from experiments.store.atomic import temp_beside


DPI = 150


def figure_for(ax: Axes | None, figsize: tuple[float, float], **subplot_kw: object) -> tuple[Figure, Axes]:
    """The figure and axes to draw on: ``ax`` and its figure when given (a caller's layout), else a new
    pyplot-free figure of ``figsize`` inches with one subplot."""
    if ax is not None:
        return ax.figure, ax
    return new_figure(figsize=figsize, **subplot_kw)


def tidy_number(value: float) -> str:
    """A tick or level label without float noise: 0.666667 -> 0.667, 2.0 -> 2, 25000.0 -> 25000."""
    if value is None or value != value:
        return "–"
    value = float(value)
    if value.is_integer() and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def new_figure(**subplot_kw: object) -> tuple[Figure, object]:
    """A figure with one subplot (``figsize`` in inches, default 9 x 4.5) on an Agg canvas."""
    figsize = subplot_kw.pop("figsize", (9, 4.5))
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)  # attach the Agg renderer explicitly: PNG output without pyplot
    return fig, fig.add_subplot(**subplot_kw)


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save at :data:`DPI` atomically (temporary name, then rename), so a kill never leaves half a PNG."""
    path = Path(path)
    temp = temp_beside(path).with_suffix(path.suffix)
    try:
        fig.savefig(temp, dpi=DPI, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return path
