"""Scenario discovery against known answers: the planted box of experiments.models.planted_box.

The planted model is 1 inside x1 in [0.5, 0.9], x2 in [0.2, 0.6] and 0 outside, plus noise (sd 0.3,
5 replicates); x3..x6 have no effect.  Cases: replicate mean >= 0.5.  Fixed seeds throughout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import prim
import pytest

from experiments.analysis.discovery import (
    Box,
    DiscoveryInputError,
    Trajectory,
    cart_boxes,
    cases_of_interest,
    check_box_index,
    choose_box,
    discover,
    feature_scores,
    limits_table,
    prim_trajectory,
    quasi_p_values,
    trajectory_table,
    write_discovery,
)
from experiments.models.planted_box import PLANTED_BOX, PLANTED_FACTORS, planted_box_tables

LIMIT_TOLERANCE = 0.1


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return planted_box_tables(n_points=1000, replicates=5, seed=1)


@pytest.fixture(scope="module")
def result(tables):
    design, runs = tables
    return discover(design, runs, "y", above=0.5, n_resamples=20, seed=3)


def _assert_planted(restricted, limits: dict[str, tuple[float, float]]) -> None:
    assert set(restricted) == set(PLANTED_BOX), f"restricted {sorted(restricted)}, planted {sorted(PLANTED_BOX)}"
    for name, (low, high) in PLANTED_BOX.items():
        found_low, found_high = limits[name]
        assert abs(found_low - low) <= LIMIT_TOLERANCE, (name, found_low, low)
        assert abs(found_high - high) <= LIMIT_TOLERANCE, (name, found_high, high)


def test_prim_recovers_the_planted_box(result):
    first = result.searches[0]
    box = first.box
    _assert_planted(box.restricted, {lim.factor: (lim.low, lim.high) for lim in first.limits})
    assert box.coverage >= 0.8 and box.density >= 0.8
    # the default rule: the largest-coverage box with density >= 0.8 x the best density
    densities = [b.density for b in first.trajectory.boxes]
    assert box.density >= 0.8 * max(densities)
    assert all(b.density < 0.8 * max(densities) for b in first.trajectory.boxes if b.coverage > box.coverage)


def test_quasi_p_values_and_resampling(tables, result):
    design, runs = tables
    res = result
    for lim in res.searches[0].limits:
        assert lim.qp_value < 1e-10, lim  # planted factors: the restriction clearly matters
        assert lim.resample_share >= 0.9, lim
    # an irrelevant restriction added to the box found gets a large quasi-p-value
    cases = cases_of_interest(design, runs, "y", above=0.5)
    x, y = cases.table[list(PLANTED_FACTORS)], cases.table["is_case"].to_numpy()
    found = res.searches[0].box
    low, high = list(found.low), list(found.high)
    high[2] = float(np.quantile(x["x3"], 0.7))
    forced = Box(0, tuple(low), tuple(high), 0, 0, 0, 0, 0, (*found.restricted, "x3"))
    qp = quasi_p_values(x.to_numpy(), y.astype(float), np.arange(len(y)), forced, PLANTED_FACTORS)
    assert qp["x3"] > 0.05, qp
    assert qp["x1"] < 1e-10 and qp["x2"] < 1e-10, qp


def test_prim_matches_the_prim_package(tables):
    """Same data, same peel/paste alpha and mass_min: the final peeled box and trajectory agree with prim 1.0."""
    design, runs = tables
    cases = cases_of_interest(design, runs, "y", above=0.5)
    x, y = cases.table[list(PLANTED_FACTORS)], cases.table["is_case"].to_numpy()
    ours = prim_trajectory(x, y, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05)
    theirs = prim.Prim(x, y, threshold=0.5, threshold_type=">", peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05)
    box = theirs.find_box()
    ref = box.peeling_trajectory
    assert abs(len(ours.boxes) - len(ref)) <= 2
    # along the trajectory, at the same mass the densities agree within 0.03
    ours_table = ours.table()
    for _, row in ref.iterrows():
        nearest = ours_table.iloc[(ours_table["mass"] - row["mass"]).abs().argmin()]
        if abs(nearest["mass"] - row["mass"]) < 0.01:
            assert abs(nearest["density"] - row["density"]) < 0.03, (row.to_dict(), nearest.to_dict())
    # the package's final box against ours of the nearest mass (the last peel differs by a step or two,
    # from how each takes the quantile of tied values)
    ref_limits = box.limits
    last = ours.boxes[int((ours_table["mass"] - box.mass).abs().argmin())]
    assert abs(last.mass - box.mass) < 0.01
    assert set(last.restricted) == set(ref_limits.index)
    for name in ref_limits.index:
        j = PLANTED_FACTORS.index(name)
        assert abs(last.low[j] - ref_limits.loc[name, "min"]) < 0.05, name  # about one peel of width
        assert abs(last.high[j] - ref_limits.loc[name, "max"]) < 0.05, name  # about one peel of width
    assert abs(last.coverage - box.coverage) < 0.03 and abs(last.density - box.density) < 0.03


def test_cart_finds_the_planted_box(tables):
    design, runs = tables
    cases = cases_of_interest(design, runs, "y", above=0.5)
    leaves = cart_boxes(cases.table[list(PLANTED_FACTORS)], cases.table["is_case"].to_numpy(), seed=0)
    best = max((b for b in leaves if b.density >= 0.8), key=lambda b: b.coverage)
    _assert_planted(best.restricted, {f: (lo, hi) for f, lo, hi in best.limits})
    assert best.coverage >= 0.8
    assert sum(b.n_points for b in leaves) == len(cases.table)  # leaves partition the points


def test_feature_scores_rank_the_planted_factors_first(tables):
    design, runs = tables
    cases = cases_of_interest(design, runs, "y", above=0.5)
    scores = feature_scores(cases.table[list(PLANTED_FACTORS)], cases.table["is_case"].to_numpy(), seed=0)
    assert set(scores["factor"].iloc[:2]) == set(PLANTED_BOX)
    assert scores["score"].iloc[1] > 2 * scores["score"].iloc[2]
    assert scores["score"].sum() == pytest.approx(1.0)


def test_covering_finds_a_second_planted_box():
    """Two planted boxes (cases = either): the covering search finds the one the first box left out."""
    rng = np.random.default_rng(7)
    n = 1200
    x = rng.random((n, 4))
    in_a = (x[:, 0] > 0.6) & (x[:, 1] > 0.6)
    in_b = (x[:, 0] < 0.3) & (x[:, 2] < 0.4)
    design = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(point=np.arange(n))
    runs = pd.DataFrame({"point": np.repeat(np.arange(n), 2), "replicate": np.tile([0, 1], n),
                         "y": np.repeat((in_a | in_b).astype(float), 2)})
    res = discover(design, runs, "y", above=0.5, n_resamples=0, factors=["a", "b", "c", "d"], min_density=0.9)
    assert len(res.searches) == 2
    planted = [{"a": (0.6, 1.0), "b": (0.6, 1.0)}, {"a": (0.0, 0.3), "c": (0.0, 0.4)}]
    found = [{lim.factor: lim for lim in s.limits} for s in res.searches]
    if "c" in found[0] and found[0]["c"].high < 0.5:  # PRIM took box B first: compare in that order
        planted.reverse()
    for box, limits in zip(planted, found):
        for name, (low, high) in box.items():
            assert abs(limits[name].low - low) <= LIMIT_TOLERANCE and abs(limits[name].high - high) <= LIMIT_TOLERANCE
            assert limits[name].qp_value < 1e-6
        # greedy peeling may add a slight restriction of another factor; its quasi-p-value says it does not matter
        for name in set(limits) - set(box):
            assert limits[name].qp_value > 0.05, limits[name]
    assert sum(s.box.coverage for s in res.searches) >= 0.9


def test_integer_factor_is_peeled_by_value():
    """Cases iff k >= 3 (k integer 0..4) and x1 > 0.5: the k limit falls halfway between 2 and 3."""
    rng = np.random.default_rng(11)
    n = 800
    design = pd.DataFrame({"point": np.arange(n), "k": rng.integers(0, 5, n), "x1": rng.random(n), "x2": rng.random(n)})
    runs = pd.DataFrame({"point": design["point"], "replicate": 0,
                         "y": ((design["k"] >= 3) & (design["x1"] > 0.5)).astype(float)})
    res = discover(design, runs, "y", above=0.5, n_resamples=0, factors=["k", "x1", "x2"], min_density=0.95)
    limits = {lim.factor: lim for lim in res.searches[0].limits}
    assert set(limits) == {"k", "x1"}
    assert limits["k"].low == 2.5 and limits["k"].high == 4
    assert abs(limits["x1"].low - 0.5) < 0.05
    assert res.searches[0].box.coverage >= 0.9 and res.searches[0].box.density >= 0.95


def test_borderline_count_on_a_constructed_case():
    """Four points, threshold 1.0, three replicates each: t(2) half-width = 4.303 * sd / sqrt(3)."""
    design = pd.DataFrame({"point": [0, 1, 2, 3], "f": [0.0, 1.0, 2.0, 3.0]})
    values = {0: [0.0, 0.1, 0.2],   # mean 0.1, half 0.248: clearly below
              1: [0.8, 1.0, 1.2],   # mean 1.0, contains 1.0: borderline (and a case, mean >= 1.0)
              2: [0.5, 1.5, 1.9],   # mean 1.3, sd 0.72, half 1.79: borderline
              3: [2.9, 3.0, 3.1]}   # clearly above
    runs = pd.DataFrame([{"point": p, "replicate": r, "y": v} for p, vs in values.items() for r, v in enumerate(vs)])
    cases = cases_of_interest(design, runs, "y", above=1.0)
    assert cases.table["is_case"].tolist() == [False, True, True, True]
    assert cases.table["borderline"].tolist() == [False, True, True, False]
    assert cases.n_borderline == 2
    # share mode, P = 0.6: shares 0, 2/3, 2/3, 1.  Wilson 95 % interval for n = 3: 0/3 -> [0, z2/3 / (1 + z2/3)]
    # = [0, 0.5615] (excludes 0.6); 3/3 -> [0.4385, 1] and 2/3 -> [0.2077, 0.9385] (contain 0.6)
    share = cases_of_interest(design, runs, "y", above=1.0, share=0.6)
    z2 = 1.959964**2
    assert share.table["high"].iloc[0] == pytest.approx((z2 / 3) / (1 + z2 / 3), abs=1e-6)
    assert share.table["low"].iloc[3] == pytest.approx(1 / (1 + z2 / 3), abs=1e-6)
    assert share.table["share"].tolist() == pytest.approx([0, 2 / 3, 2 / 3, 1])
    assert share.table["is_case"].tolist() == [False, True, True, True]
    assert share.table["borderline"].tolist() == [False, True, True, True]


def test_user_mistakes_raise_a_clear_error(tables):
    design, runs = tables
    with pytest.raises(DiscoveryInputError, match=r"output 'nope' is not in the runs; allowed: .*\by\b"):
        cases_of_interest(design, runs, "nope", above=0.5)
    with pytest.raises(DiscoveryInputError, match=r"no design point meets replicate mean y >= 100"):
        cases_of_interest(design, runs, "y", above=100)
    with pytest.raises(DiscoveryInputError, match=r"every design point meets"):
        cases_of_interest(design, runs, "y", above=-100)
    flat = design.assign(x3=0.25)
    with pytest.raises(DiscoveryInputError, match=r"factor 'x3' has a range of zero width \(0.25 to 0.25\)"):
        cases_of_interest(flat, runs, "y", above=0.5)
    trajectory = Trajectory(("a",), (0.0,), (1.0,), tuple(), 0)
    with pytest.raises(DiscoveryInputError, match=r"box 5 is beyond the peeling trajectory; allowed: 0 to -1"):
        check_box_index(trajectory, 5)


def test_box_index_and_writer(tables, result, tmp_path):
    design, runs = tables
    n_boxes = len(result.searches[0].trajectory.boxes)
    with pytest.raises(DiscoveryInputError, match=rf"box {n_boxes} is beyond .* allowed: 0 to {n_boxes - 1}"):
        choose_box(result.searches[0].trajectory, box=n_boxes)
    explicit = discover(design, runs, "y", above=0.5, box=3, n_resamples=0)
    assert explicit.searches[0].chosen == 3
    folder = tmp_path / "discovery" / "y"
    written = write_discovery(result, folder)
    assert sorted(p.name for p in written) == sorted(p.name for p in folder.iterdir())
    assert "manifest.json" in [p.name for p in written]
    assert pd.read_csv(folder / "cases.csv")["is_case"].sum() == result.cases.n_cases
    trajectory = pd.read_csv(folder / "trajectory.csv")
    assert list(trajectory.columns[:5]) == ["search", "box", "coverage", "density", "n_restricted"]
    pd.testing.assert_frame_equal(trajectory, trajectory_table(result), check_dtype=False)
    limits = pd.read_csv(folder / "limits.csv")
    assert list(limits.columns) == ["search", "box", "factor", "low", "high", "qp_value", "resample_share"]
    assert len(limits) == len(limits_table(result))
    report = (folder / "report.md").read_text()
    assert "x1" in report and "borderline" in report
    # rewriting replaces the folder whole and leaves no temporary folders behind
    write_discovery(explicit, folder)
    assert pd.read_csv(folder / "trajectory.csv").query("chosen")["box"].tolist()[0] == 3
    assert [p.name for p in folder.parent.iterdir()] == ["y"]


def test_plots_draw_the_trajectory_and_the_box_without_pyplot(result, tmp_path):
    import matplotlib
    from matplotlib._pylab_helpers import Gcf
    from matplotlib.patches import Rectangle

    from experiments.plots.discovery import plot_box_limits, plot_pairwise, plot_trajectory, save_figure

    backend = matplotlib.get_backend()
    first = result.searches[0]
    fig = plot_trajectory(first)
    offsets = fig.axes[0].collections[0].get_offsets()
    assert np.allclose(offsets[:, 0], [b.coverage for b in first.trajectory.boxes])
    assert np.allclose(offsets[:, 1], [b.density for b in first.trajectory.boxes])
    assert np.allclose(fig.axes[0].collections[1].get_offsets()[0], [first.box.coverage, first.box.density])
    limits_fig = plot_box_limits(first)
    assert [t.get_text() for t in limits_fig.axes[0].get_yticklabels()] == [lim.factor for lim in first.limits]
    pairs = plot_pairwise(result)
    rect = next(p for p in pairs.axes[0].patches if isinstance(p, Rectangle))
    j1, j2 = PLANTED_FACTORS.index("x1"), PLANTED_FACTORS.index("x2")
    assert rect.get_x() == pytest.approx(first.box.low[j1]) and rect.get_y() == pytest.approx(first.box.low[j2])
    assert rect.get_width() == pytest.approx(first.box.high[j1] - first.box.low[j1])
    path = save_figure(pairs, tmp_path / "pairs.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Gcf.get_num_fig_managers() == 0 and matplotlib.get_backend() == backend


def test_points_without_results_are_left_out_and_counted(tables):
    design, runs = tables
    partial = runs[runs["point"] >= 10]
    cases = cases_of_interest(design, partial, "y", above=0.5)
    assert len(cases.table) == len(design) - 10 and cases.n_without_runs == 10
    assert cases.table["point"].min() == 10


def test_same_seed_same_result(tables, result):
    design, runs = tables
    again = discover(design, runs, "y", above=0.5, n_resamples=20, seed=3)
    pd.testing.assert_frame_equal(limits_table(again), limits_table(result))
    pd.testing.assert_frame_equal(again.features, result.features)


# ---- dimensional stacking --------------------------------------------------------------------------------

def _planted_discovery():
    from experiments.models.planted_box import planted_box_tables

    design, runs = planted_box_tables(n_points=1000, replicates=3, seed=1)
    return discover(design, runs, "y", above=0.5, n_resamples=0)


def test_dimensional_stacking_finds_the_planted_box():
    """Known answer: the stacked factors are chosen by feature score, so x1 and x2 (the planted ones) come
    first; with 3 quantile bins the cell x1 top third x x2 middle third overlaps the box most (0.7 x 0.8 of
    the cell) and has the largest share, in a 2-factor stack and summed over the others in a 4-factor one."""
    from experiments.analysis.stacking import dimensional_stack, stacking_markdown

    result = _planted_discovery()
    x, y = result.cases.table[list(result.factors)], result.cases.table["is_case"].to_numpy()
    two = dimensional_stack(x, y, result.features, n_factors=2)
    assert two.rows == ("x1",) and two.columns == ("x2",)
    best = two.top_cells(1).iloc[0]
    assert (best["x1"], best["x2"]) == (3, 2)
    assert best["share"] == two.table["share"].max() and best["share"] > 0.45
    assert two.table["n_points"].sum() == 1000 and two.table["n_cases"].sum() == y.sum()
    four = dimensional_stack(x, y, result.features, n_factors=4)
    assert four.factors[:2] == ("x1", "x2") and four.rows[0] == "x1" and four.columns[0] == "x2"
    assert four.grid().shape == (9, 9)
    block = four.table.groupby(["x1", "x2"])[["n_cases", "n_points"]].sum()
    assert (block["n_cases"] / block["n_points"]).idxmax() == (3, 2)
    # cells outside the box's x1 range (bottom third, below 0.33) have no cases but noise ones
    assert four.table.loc[four.table["x1"] == 1, "share"].max() <= 0.15
    text = "\n".join(stacking_markdown(four))
    assert "## Dimensional stacking" in text and "9 x 9 = 81 cells" in text


def test_stacking_bins_and_refusals():
    from experiments.analysis.stacking import bin_index, check_stack_factors, dimensional_stack, quantile_edges

    edges = quantile_edges(np.arange(9.0), 3)
    assert edges.tolist() == pytest.approx([0.0, 8 / 3, 16 / 3, 8.0])
    assert bin_index(np.array([0.0, 2.0, 3.0, 8.0]), edges).tolist() == [0, 0, 1, 2]
    assert len(quantile_edges(np.array([0, 0, 0, 1, 1, 1.0]), 3)) == 3  # two distinct values: two bins
    with pytest.raises(DiscoveryInputError, match=r"--stack-factors 5: out of range; allowed: 0 \(no stacking\) "
                                                  r"or 2 to 3"):
        check_stack_factors(5, 3)
    with pytest.raises(DiscoveryInputError, match=r"--stack-factors 2: the run set has 1 factor"):
        check_stack_factors(2, 1)
    x = pd.DataFrame({"a": np.linspace(0, 1, 12), "b": np.tile([0.0, 1.0], 6)})
    stack = dimensional_stack(x, x["a"].to_numpy() > 0.5, pd.DataFrame({"factor": ["b", "a"], "score": [0.2, 0.8]}),
                              n_factors=2)
    assert stack.rows == ("a",) and stack.columns == ("b",) and stack.grid().shape == (3, 2)


def test_stacking_plot_draws_every_cell():
    from matplotlib._pylab_helpers import Gcf

    from experiments.analysis.stacking import dimensional_stack
    from experiments.plots.discovery import plot_stacking

    result = _planted_discovery()
    stack = dimensional_stack(result.cases.table[list(result.factors)], result.cases.table["is_case"].to_numpy(),
                              result.features, n_factors=3)
    fig = plot_stacking(stack)
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == (9, 3)
    assert len(ax.texts) == 27 and all("/" in t.get_text() for t in ax.texts)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    assert ax.get_yticklabels()[0].get_text() == "11"
    assert Gcf.get_num_fig_managers() == 0
    from experiments.plots.figures import new_figure

    own, target = new_figure()
    assert plot_stacking(stack, ax=target) is own
