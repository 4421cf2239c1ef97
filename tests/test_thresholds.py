"""experiments.analysis.thresholds: known answers on synthetic grids (linear in the swept factor, so linear
interpolation is exact), bands from the standard errors, every status, pooling of cells, the plot, and
the shipped embedding x subsidy sweep file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analysis.thresholds import cell_grid, crossing_thresholds, first_crossing, plot_threshold_map

REPO = Path(__file__).resolve().parents[1]
B = [0.0, 0.25, 0.5, 0.75, 1.0]
# a -> (intercept, slope) of the mean over b
LINES = {0.0: (0.1, 0.8), 1.0: (0.0, 0.6), 2.0: (0.6, 0.2), 3.0: (0.0, 0.3)}


def grid_points(lines=LINES, b_levels=B, variance=0.04, n=4, output="y") -> pd.DataFrame:
    rows = []
    for point, (a, b) in enumerate((a, b) for a in lines for b in b_levels):
        c, s = lines[a]
        rows.append({"point": point, "a": a, "b": b, f"{output}_mean": c + s * b, f"{output}_var": variance,
                     f"{output}_n": n})
    return pd.DataFrame(rows)


def test_known_thresholds_brackets_and_statuses() -> None:
    table = crossing_thresholds(grid_points(), by="a", over="b", output="y", level=0.5).set_index("a")
    assert list(table.index) == [0.0, 1.0, 2.0, 3.0]
    assert table.loc[0.0, "threshold"] == pytest.approx(0.5)  # 0.1 + 0.8 b = 0.5
    assert (table.loc[0.0, "bracket_low"], table.loc[0.0, "bracket_high"]) == (0.25, 0.5)
    assert table.loc[0.0, "status"] == "crossed"
    assert table.loc[1.0, "threshold"] == pytest.approx(0.5 / 0.6)  # between 0.75 and 1
    assert (table.loc[1.0, "bracket_low"], table.loc[1.0, "bracket_high"]) == (0.75, 1.0)
    assert table.loc[1.0, "value_below"] == pytest.approx(0.45) and table.loc[1.0, "value_above"] == pytest.approx(0.6)
    assert table.loc[2.0, "status"] == "at lowest level" and table.loc[2.0, "threshold"] == 0.0
    assert table.loc[3.0, "status"] == "not reached" and math.isnan(table.loc[3.0, "threshold"])
    assert table.loc[3.0, "best"] == pytest.approx(0.3) and table.loc[3.0, "best_at"] == 1.0
    assert not table["falls_back"].any()
    assert set(table["output"]) == {"y"} and set(table["level"]) == {0.5}


def test_band_comes_from_the_standard_errors() -> None:
    # se = sqrt(0.04 / 4) = 0.1; the optimistic edge (mean + 1.96 se) reaches 0.5 earlier, the pessimistic later
    table = crossing_thresholds(grid_points(), by="a", over="b", output="y", level=0.5, z=1.96).set_index("a")
    assert table.loc[0.0, "threshold_low"] == pytest.approx((0.5 - 0.1 - 0.196) / 0.8)
    assert table.loc[0.0, "threshold_high"] == pytest.approx((0.5 - 0.1 + 0.196) / 0.8)
    # a = 1: the pessimistic edge (0.6 b - 0.196) never reaches 0.5 within the grid
    assert math.isnan(table.loc[1.0, "threshold_high"])
    assert table.loc[1.0, "threshold_low"] == pytest.approx((0.5 - 0.196) / 0.6)
    # a = 3: not reached, and even mean + 1.96 se stays below 0.5 (at most 0.3 + 0.196)
    assert math.isnan(table.loc[3.0, "threshold_low"])
    # no replicate spread, no band
    single = crossing_thresholds(grid_points(n=1, variance=float("nan")), by="a", over="b", output="y")
    assert single[["threshold_low", "threshold_high"]].isna().all().all()
    assert single["threshold"].iloc[0] == pytest.approx(0.5)


def test_direction_down_and_other_levels() -> None:
    falling = {0.0: (0.9, -0.8), 1.0: (0.4, -0.2)}
    table = crossing_thresholds(grid_points(falling), by="a", over="b", output="y", level=0.5,
                                direction="down").set_index("a")
    assert table.loc[0.0, "threshold"] == pytest.approx(0.5)  # 0.9 - 0.8 b = 0.5
    assert table.loc[0.0, "threshold_low"] < 0.5 < table.loc[0.0, "threshold_high"]
    assert table.loc[1.0, "status"] == "at lowest level"
    assert table.loc[1.0, "best"] == pytest.approx(0.2)  # the smallest mean for "down"
    low = crossing_thresholds(grid_points(), by="a", over="b", output="y", level=0.2).set_index("a")
    assert low.loc[3.0, "threshold"] == pytest.approx(0.2 / 0.3)
    with pytest.raises(ValueError, match="direction"):
        crossing_thresholds(grid_points(), by="a", over="b", output="y", direction="sideways")
    with pytest.raises(ValueError, match="two different"):
        crossing_thresholds(grid_points(), by="a", over="a", output="y")


def test_non_monotone_column_is_flagged_and_nan_cells_skipped() -> None:
    levels = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert first_crossing(levels, np.array([0.2, 0.6, 0.4, 0.7, 0.8]), 0.5)[0] == pytest.approx(0.75)
    # a NaN cell is skipped: interpolate between the neighbours that have values
    t, lo, hi, below, above, status = first_crossing(levels, np.array([0.2, np.nan, 0.4, 0.6, 0.8]), 0.5)
    assert (t, lo, hi, status) == (pytest.approx(2.5), 2.0, 3.0, "crossed")
    assert first_crossing(levels, np.full(5, np.nan), 0.5)[-1] == "no data"
    points = grid_points({0.0: (0.0, 1.0)})
    points.loc[points["b"] == 0.75, "y_mean"] = 0.3  # dips back below 0.5 after crossing at b = 0.5
    row = crossing_thresholds(points, by="a", over="b", output="y").iloc[0]
    assert row["threshold"] == pytest.approx(0.5) and bool(row["falls_back"])


def test_cells_with_several_points_are_pooled_and_missing_columns_named() -> None:
    base = grid_points()
    other = base.copy()
    other["y_mean"] = other["y_mean"] + 0.2  # a third factor at a second level
    base["c"], other["c"] = 0.0, 1.0
    pooled = pd.concat([base, other], ignore_index=True)
    mean, se = cell_grid(pooled, x="a", y="b", output="y")
    assert mean.shape == (5, 4) and list(mean.columns) == [0.0, 1.0, 2.0, 3.0] and list(mean.index) == B
    assert mean.loc[0.5, 0.0] == pytest.approx(0.5 + 0.1)
    assert se.loc[0.5, 0.0] == pytest.approx(np.std([0.5, 0.7], ddof=1) / math.sqrt(2))
    table = crossing_thresholds(pooled, by="a", over="b", output="y").set_index("a")
    assert table.loc[0.0, "threshold"] == pytest.approx((0.5 - 0.2) / 0.8)
    with pytest.raises(KeyError, match="z_mean"):
        cell_grid(base, x="a", y="b", output="z")


def test_plot_threshold_map_writes_a_png(tmp_path: Path) -> None:
    points = grid_points()
    path = plot_threshold_map(points, "a", "b", "y", tmp_path / "t.png", level=0.5, title="synthetic",
                              unit_by="units", unit_over="share")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    # a level nowhere reached (no contour, only triangles) and a table given by the caller
    table = crossing_thresholds(points, "a", "b", "y", level=2.0)
    assert (table["status"] == "not reached").all()
    assert plot_threshold_map(points, "a", "b", "y", tmp_path / "none.png", level=2.0, thresholds=table).is_file()


def test_shipped_embedding_x_subsidy_sweep_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    from experiments.execution.engine import check_design, first_stage
    from experiments.models.registry import load_model
    from experiments.config.study import load_study

    monkeypatch.chdir(REPO)
    config = load_study(REPO / "configs/sweeps/embedding_x_subsidy.toml", "sweep")
    frame, _ = first_stage(config)
    check_design(config, load_model(config.model), frame)
    assert config.heatmap == ("subsidy_duration_months", "initial_embedding")
    assert len(frame) == 30 and config.replicates >= 4 and not config.warnings
