"""Summary intervals against hand-computed values, and the plots on normal and empty input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analysis.fates import fade_offsets
from experiments.plots.figures import save_figure
from experiments.plots.scenario import plot_all, plot_fade_timing, plot_fates
from experiments.execution.replicates import run_replicates
from experiments.designs.seeds import replicate_seeds
from experiments.store.runfolder import tables
from experiments.analysis.summary import mean_ci, summary_table, to_markdown, write_summary
from sim import PILOT_FIELDS, SUMMARY_FIELDS, Params

PNG = b"\x89PNG\r\n\x1a\n"


def test_t_interval_matches_hand_computation() -> None:
    # values 1..5: mean 3, sd sqrt(2.5) = 1.5811388, t(0.975, df=4) = 2.7764451
    # half width = 2.7764451 * 1.5811388 / sqrt(5) = 1.9632432
    ci = mean_ci([1, 2, 3, 4, 5])
    assert ci.n == 5
    assert ci.mean == pytest.approx(3.0)
    assert ci.sd == pytest.approx(1.5811388, abs=1e-7)
    assert ci.low == pytest.approx(3 - 1.9632432, abs=1e-6)
    assert ci.high == pytest.approx(3 + 1.9632432, abs=1e-6)


def test_interval_ignores_nan_and_reports_n() -> None:
    ci = mean_ci([1, np.nan, 2, 3, 4, 5, np.nan])
    assert ci.n == 5
    assert ci.low == pytest.approx(1.0367568, abs=1e-6)


def test_interval_degenerate_cases() -> None:
    one = mean_ci([4.0, np.nan])
    assert one.n == 1 and one.mean == 4.0 and math.isnan(one.low) and math.isnan(one.high)
    none = mean_ci([np.nan, np.nan])
    assert none.n == 0 and math.isnan(none.mean)
    constant = mean_ci([2.0, 2.0, 2.0])
    assert constant.low == constant.high == 2.0


def test_summary_table_per_field(tmp_path: Path) -> None:
    runs = pd.DataFrame({name: [1.0, 2.0, 3.0, 4.0, 5.0] for name in SUMMARY_FIELDS})
    runs["revived_share"] = [np.nan, np.nan, 0.5, 0.5, np.nan]
    table = summary_table(runs)
    assert list(table["field"]) == list(SUMMARY_FIELDS)
    row = table.set_index("field").loc["pilots_proposed"]
    assert row["n"] == 5 and row["ci_low"] == pytest.approx(1.0367568, abs=1e-6)
    revived = table.set_index("field").loc["revived_share"]
    assert revived["n"] == 2 and revived["mean"] == 0.5

    write_summary(tmp_path, table, replicates=5)
    assert pd.read_csv(tmp_path / "summary.csv")["n"].tolist() == table["n"].tolist()
    markdown = (tmp_path / "summary.md").read_text()
    assert "| pilots_proposed | 5 | 3 | 1.037 – 4.963 |" in markdown
    assert markdown == to_markdown(table, 5)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    params = Params(horizon_months=36)
    outcomes = run_replicates(params, 3, 3)
    return tables(outcomes, 3, replicate_seeds(3, 3))


def test_plots_are_written(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    paths = plot_all(tmp_path, frames["runs"], frames["pilots"], frames["series"], "test")
    assert sorted(p.name for p in paths) == ["community_radar.png", "fade_timing.png", "fates.png", "phases.png"]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000, path.name


def test_plots_survive_runs_without_pilots(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    no_pilots = pd.DataFrame(columns=["replicate", *PILOT_FIELDS])
    for name, fig in (("f.png", plot_fates(no_pilots)), ("t.png", plot_fade_timing(no_pilots))):
        assert save_figure(fig, tmp_path / name).read_bytes().startswith(PNG)


def test_fade_offsets_only_for_faded_subsidised_pilots() -> None:
    pilots = pd.DataFrame({
        "replicate": [0, 0, 1, 1, 1],
        "fade_month": [10, 5, -1, 30, 0],
        "subsidy_end_month": [6, 8, 12, -1, 0],
    })
    offsets = fade_offsets(pilots)
    assert offsets["offset"].tolist() == [4, -3, 0]
    assert offsets["after"].tolist() == [True, False, True]
