"""Summary over replicates: mean and 95% t-interval of every summary scalar, NaN-aware.

A replicate may report NaN for a scalar that is undefined in that run (e.g. a share of started pilots
when none started).  Such replicates are left out of that scalar only; ``n`` reports how many were used.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim import SUMMARY_FIELDS

SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"


@dataclass(frozen=True)
class Interval:
    """Mean of the finite values with a two-sided t-interval (NaN bounds when ``n < 2``)."""

    n: int
    mean: float
    sd: float
    low: float
    high: float


def mean_ci(values: np.ndarray | list[float], level: float = 0.95) -> Interval:
    """Mean and Student-t confidence interval of the non-NaN ``values`` (same unit as the values)."""
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    n = int(data.size)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(data.mean())
    if n == 1:
        return Interval(1, mean, math.nan, math.nan, math.nan)
    sd = float(data.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, df=n - 1)) * sd / math.sqrt(n)
    return Interval(n, mean, sd, mean - half, mean + half)


def summary_table(runs: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per summary scalar (SUMMARY_FIELDS order): n, mean, sd, ci_low, ci_high, meaning (with unit)."""
    rows = []
    for name, meaning in SUMMARY_FIELDS.items():
        ci = mean_ci(runs[name].to_numpy(dtype=float), level)
        rows.append(
            {"field": name, "n": ci.n, "mean": ci.mean, "sd": ci.sd, "ci_low": ci.low, "ci_high": ci.high,
             "meaning": meaning}
        )
    return pd.DataFrame(rows, columns=["field", "n", "mean", "sd", "ci_low", "ci_high", "meaning"])


def fmt(value: float) -> str:
    """Four significant digits; NaN as an en dash so tables stay readable."""
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def to_markdown(table: pd.DataFrame, replicates: int) -> str:
    """The summary table as a Markdown document (no extra dependency such as tabulate)."""
    lines = [
        f"Summary over {replicates} replicates: mean and 95% t-interval; n = replicates with a defined value.",
        "",
        "| field | n | mean | 95% interval | meaning (unit) |",
        "|---|---:|---:|---|---|",
    ]
    for row in table.itertuples(index=False):
        interval = f"{fmt(row.ci_low)} – {fmt(row.ci_high)}" if not math.isnan(row.ci_low) else "–"
        lines.append(f"| {row.field} | {row.n} | {fmt(row.mean)} | {interval} | {row.meaning} |")
    return "\n".join(lines) + "\n"


def write_summary(folder: Path, table: pd.DataFrame, replicates: int) -> None:
    """Write ``summary.csv`` (full precision) and ``summary.md`` into ``folder``."""
    table.to_csv(Path(folder) / SUMMARY_CSV, index=False)
    (Path(folder) / SUMMARY_MD).write_text(to_markdown(table, replicates), encoding="utf-8")


def print_summary(table: pd.DataFrame, replicates: int, title: str) -> None:
    """Print the table with rich (markup off: field text is data, not markup)."""
    from rich.console import Console
    from rich.table import Table

    view = Table(title=f"{title}: {replicates} replicates, mean and 95% interval", title_justify="left")
    view.add_column("field", no_wrap=True)
    view.add_column("n", justify="right")
    view.add_column("mean", justify="right")
    view.add_column("95% interval", justify="right", no_wrap=True)
    view.add_column("meaning (unit)", overflow="fold")
    for row in table.itertuples(index=False):
        interval = f"{fmt(row.ci_low)} – {fmt(row.ci_high)}" if not math.isnan(row.ci_low) else "–"
        view.add_row(row.field, str(row.n), fmt(row.mean), interval, row.meaning)
    # At most 100 columns (the meanings wrap; summary.md and summary.csv hold them on one line each);
    # piped output (make run > log) would otherwise be squeezed to 80.
    width = min(Console().width, 100) if sys.stdout.isatty() else 100
    Console(markup=False, width=width).print(view)
