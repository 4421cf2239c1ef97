"""Convergence of a ranking: a stable top-k set with narrow intervals; ties are not instability."""

from __future__ import annotations

import pandas as pd

from experiments.analysis.ranking_convergence import assess_outputs, assess_ranking


def table(*sizes: tuple[int, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    return pd.DataFrame([{"size": n, "factor": f, "value": v, "conf": c}
                         for n, rows in sizes for f, (v, c) in rows.items()])


def test_swap_of_overlapping_factors_is_a_tie_not_instability():
    t = table((1000, {"a": (0.50, 0.03), "b": (0.30, 0.03), "c": (0.29, 0.03), "d": (0.02, 0.02)}),
              (2000, {"a": (0.50, 0.02), "b": (0.29, 0.02), "c": (0.30, 0.02), "d": (0.01, 0.01)}))
    verdict = assess_ranking(t, top=3, threshold=0.05)
    assert verdict.converged, verdict.reasons
    assert verdict.ties == [("c", "b")] and verdict.swaps == []
    assert verdict.tie_groups == {"a": 1, "c": 2, "b": 2, "d": 3}
    assert verdict.nonzero == ["a", "c", "b"]  # d's interval reaches zero
    assert verdict.distinguishable.loc["a", "b"] and not verdict.distinguishable.loc["b", "c"]


def test_a_new_factor_entering_the_top_set_is_instability():
    t = table((1000, {"a": (0.50, 0.03), "b": (0.30, 0.03), "c": (0.20, 0.03), "d": (0.05, 0.02)}),
              (2000, {"a": (0.50, 0.02), "b": (0.30, 0.02), "c": (0.05, 0.02), "d": (0.20, 0.02)}))
    verdict = assess_ranking(t, top=3, threshold=0.05)
    assert not verdict.converged
    assert any("set changed" in reason for reason in verdict.reasons)


def test_a_swap_across_rank_k_within_overlapping_intervals_is_a_boundary_tie():
    t = table((1000, {"a": (0.50, 0.03), "b": (0.30, 0.03), "c": (0.11, 0.03), "d": (0.10, 0.03)}),
              (2000, {"a": (0.50, 0.02), "b": (0.30, 0.02), "c": (0.10, 0.02), "d": (0.11, 0.02)}))
    verdict = assess_ranking(t, top=3, threshold=0.05)
    assert verdict.converged, verdict.reasons
    assert verdict.boundary_ties == ["c", "d"]


def test_a_set_change_where_the_previous_size_was_undecided_is_settling_not_instability():
    """c and d overlapped across rank 3 at 1,000 (the set was undecided there); at 2,000 they separate with
    d inside.  That is the boundary settling; had c been clearly inside at 1,000 it would be instability."""
    undecided = {"a": (0.50, 0.03), "b": (0.30, 0.03), "c": (0.06, 0.03), "d": (0.04, 0.03)}
    now = {"a": (0.50, 0.01), "b": (0.30, 0.01), "c": (0.03, 0.005), "d": (0.10, 0.01)}
    verdict = assess_ranking(table((1000, undecided), (2000, now)), top=3, threshold=0.05)
    assert verdict.converged, verdict.reasons
    assert verdict.boundary_ties == [] and verdict.settled == ["c", "d"]
    decided = {**undecided, "c": (0.20, 0.01), "d": (0.04, 0.01)}
    verdict = assess_ranking(table((1000, decided), (2000, now)), top=3, threshold=0.05)
    assert not verdict.converged and verdict.settled == []
    assert any("set changed" in reason for reason in verdict.reasons)


def test_wide_intervals_or_a_single_size_do_not_converge():
    wide = table((1000, {"a": (0.5, 0.1), "b": (0.2, 0.1)}), (2000, {"a": (0.5, 0.08), "b": (0.2, 0.04)}))
    verdict = assess_ranking(wide, top=2, threshold=0.05)
    assert not verdict.converged and "half-widths" in verdict.reasons[0]
    single = assess_ranking(table((1000, {"a": (0.5, 0.01), "b": (0.2, 0.01)})), top=2, threshold=0.05)
    assert not single.converged


def test_order_change_between_disjoint_intervals_is_reported_as_a_swap():
    t = table((1000, {"a": (0.30, 0.01), "b": (0.50, 0.01), "c": (0.0, 0.01)}),
              (2000, {"a": (0.50, 0.01), "b": (0.30, 0.01), "c": (0.0, 0.01)}))
    verdict = assess_ranking(t, top=2, threshold=0.05)
    assert verdict.swaps == [("a", "b")] and verdict.ties == []


def test_every_output_is_judged():
    t = table((1, {"a": (0.5, 0.01), "b": (0.1, 0.01)}), (2, {"a": (0.5, 0.01), "b": (0.1, 0.01)}))
    both = pd.concat([t.assign(output="y"), t.assign(output="z", conf=0.2)])
    verdicts = assess_outputs(both, top=1, threshold=0.05)
    assert verdicts["y"].converged and not verdicts["z"].converged
