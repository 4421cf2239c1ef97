"""Figures agree with the tables (issue 15): the fates and fade-timing figures show the quantities of the run
summary, computed by the same functions (experiments.analysis.fates), and every figure and the viewer use
one colour per phase."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from experiments.analysis.compare import ScenarioResult, fate_shares
from experiments.analysis.fates import mean_fade_after_subsidy_end, never_started_share, started_fate_shares
from experiments.designs.seeds import replicate_seeds
from experiments.execution.replicates import run_replicates
from experiments.plots.colours import FATE_COLOURS, PHASE_COLOURS
from experiments.plots.compare import plot_fates_by_scenario
from experiments.plots.scenario import plot_fade_timing, plot_fates
from experiments.store.runfolder import tables
from sim import Params


#: Fate (pilot table, ``fate_class``) -> the run summary's share of started pilots with that fate.
SUMMARY_OF = {"structural": "structural_share", "taken_over": "taken_over_share",
              "continued_by_adult_arm": "adult_arm_share", "faded": "faded_share"}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    # five-year runs with more pilots than the baseline: every fate occurs, some pilots never start
    outcomes = run_replicates(Params(horizon_months=60, initial_pilots=4), 11, 12)
    return {**tables(outcomes, 11, replicate_seeds(11, 12)), "outcomes": outcomes}


def test_fate_shares_are_the_summary_shares(frames) -> None:
    shares = started_fate_shares(frames["pilots"])
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    runs = frames["runs"].set_index("replicate")
    for fate, field in SUMMARY_OF.items():
        assert shares[fate].mean() == pytest.approx(runs[field].mean()), fate
    assert mean_fade_after_subsidy_end(frames["pilots"]).mean() == pytest.approx(
        runs["mean_fade_after_subsidy_end"].mean())
    assert (never_started_share(frames["pilots"]) > 0).any()  # the figure's "never started" bar is not empty


def test_fates_figure_shows_the_summary_shares_in_phase_colours(frames) -> None:
    fig = plot_fates(frames["pilots"])
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    bars = dict(zip(labels, ax.patches, strict=True))
    runs = frames["runs"]
    for fate, field in SUMMARY_OF.items():
        label = fate.replace("_", " ").replace("continued ", "continued\n")
        assert bars[label].get_height() == pytest.approx(runs[field].mean())
        assert bars[label].get_facecolor() == pytest.approx(to_rgba(FATE_COLOURS[fate]))
    assert "never started\n(of proposed)" in labels
    assert bars["never started\n(of proposed)"].get_height() == pytest.approx(
        never_started_share(frames["pilots"]).mean())
    assert "started pilots" in ax.get_ylabel()


def test_fade_timing_figure_states_the_summary_mean(frames) -> None:
    legend = " ".join(t.get_text() for t in plot_fade_timing(frames["pilots"]).axes[0].get_legend().get_texts())
    assert f"{frames['runs']['mean_fade_after_subsidy_end'].mean():.1f} months" in legend
    assert "faded while subsidised" in legend


def test_comparison_fates_sum_to_one_per_scenario(frames) -> None:
    outcomes = frames["outcomes"]
    shares = [f for f in map(fate_shares, outcomes) if f is not None]
    result = ScenarioResult("x", pd.DataFrame(), np.zeros((len(outcomes), 1)), pd.DataFrame(shares))
    fig = plot_fates_by_scenario([result])
    assert sum(bar.get_width() for bar in fig.axes[0].patches) == pytest.approx(1.0)
    assert pd.DataFrame(shares)["taken_over"].mean() == pytest.approx(frames["runs"]["taken_over_share"].mean())
    assert fig.axes[0].patches[0].get_facecolor() == pytest.approx(to_rgba(FATE_COLOURS[list(shares[0])[0]]))


def test_viewer_uses_the_same_phase_colours() -> None:
    from experiments.viz import charts

    assert charts.PHASE_COLOURS is PHASE_COLOURS


def test_tick_labels_are_tidy() -> None:
    from experiments.plots.figures import tidy_number

    assert [tidy_number(v) for v in (2 / 3, 2.0, 0.05, 25000.0, 1 / 3 * 1e-3)] == ["0.667", "2", "0.05", "25000",
                                                                                 "0.000333"]


def test_morris_labels_of_nearby_points_do_not_overlap() -> None:
    from experiments.plots.analysis import label_offsets

    x = np.array([0.50, 0.51, 0.52, 0.9])
    y = np.array([0.30, 0.30, 0.31, 0.30])
    offsets = label_offsets(x, y)
    heights = y[:3] + np.array(offsets[:3]) / 400
    assert min(np.diff(np.sort(heights))) >= 0.035 - 1e-9  # the three crowded labels are a line apart
    assert offsets[3] == 0.0  # a label far away stays where it is


def test_sobol_chart_explains_estimates_outside_zero_one(tmp_path) -> None:
    from PIL import Image

    from experiments.plots.analysis import SOBOL_NOTE, plot_sobol

    ranking = pd.DataFrame({"factor": ["a", "b"], "ST": [1.08, -0.04], "ST_conf": [0.1, 0.05],
                            "S1": [0.9, -0.02], "S1_conf": [0.1, 0.05]})
    path = plot_sobol(ranking, tmp_path / "s.png", "t")
    assert "below 0 or above 1 by sampling error" in SOBOL_NOTE and "absolute" in SOBOL_NOTE
    assert Image.open(path).size[1] > 300


def test_missing_months_are_nulls_in_parquet(frames, tmp_path) -> None:
    from experiments import api
    from experiments.store.runfolder import MONTH_FIELDS, read_tables, write_tables

    write_tables(tmp_path, {k: v for k, v in frames.items() if k != "outcomes"})
    pilots = read_tables(tmp_path)["pilots"]
    for name in MONTH_FIELDS:
        assert str(pilots[name].dtype) == "Int64" and not (pilots[name] < 0).any(), name
    assert pilots["fade_month"].isna().any() and pilots["first_run_month"].isna().any()
    # a pilot's "never" is still the model's -1 once rebuilt into RunOutcomes (validation uses those)
    back = api.outcomes_from_tables(frames["runs"], pilots, frames["series"])
    assert [p["fade_month"] for p in back[0].pilots] == [p["fade_month"] for p in frames["outcomes"][0].pilots]
