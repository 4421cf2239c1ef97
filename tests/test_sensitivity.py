"""The sensitivity pipeline on functions with known answers: design -> runs -> run set -> indices.

Each check is one a broken pipeline gets wrong: exact Sobol' indices of Ishigami and the G-function
inside the reported 95% intervals (and the intervals narrow enough to mean something), Morris mu*
equal to the known slopes, PAWN equal to SALib's, a known noise share, and a convergence loop that
doubles the design while reusing every earlier run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import sensitivity
from experiments.execution.study import run_study
from experiments.config.study import study_from_dict
from experiments.models.testfunctions import ishigami_indices, sobol_g_indices


def sensitivity_config(body: dict[str, Any]) -> Any:
    return study_from_dict({"name": "t", "seed": 11, "replicates": 1, **body}, "sensitivity", source="test.toml")


def sweep_config(body: dict[str, Any]) -> Any:
    return study_from_dict({"name": "t", "seed": 11, "replicates": 1, **body}, "sweep", source="test.toml")


def ranking(result: Any, label: str = "y") -> pd.DataFrame:
    return next(o for o in result.analysis.outputs if o.label == label).ranking


def assert_inside(frame: pd.DataFrame, column: str, exact: np.ndarray, names: list[str]) -> None:
    values = frame.loc[names, column].to_numpy()
    conf = frame.loc[names, f"{column}_conf"].to_numpy()
    outside = [(n, e, v, c) for n, e, v, c in zip(names, exact, values, conf, strict=True) if abs(v - e) > c]
    assert not outside, f"{column}: exact value outside the reported interval (name, exact, estimate, ±): {outside}"


# ------------------------------------------------------------------------------------------ Sobol'


@pytest.fixture(scope="module")
def ishigami_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    config = sensitivity_config({"model": "ishigami", "method": "sobol", "sobol": {"base_samples": 4096},
                                 "analysis": {"bootstrap": 500, "analyse_variance": False}})
    return run_study(config, tmp_path_factory.mktemp("ish") / "run", backend="serial")


def test_ishigami_exact_indices_lie_inside_the_reported_intervals(ishigami_result: Any) -> None:
    frame = ranking(ishigami_result)
    exact = ishigami_indices()
    names = ["x1", "x2", "x3"]
    assert exact["S1"] == pytest.approx([0.314, 0.442, 0.0], abs=1e-3)
    assert exact["ST"] == pytest.approx([0.558, 0.442, 0.244], abs=1e-3)
    assert_inside(frame, "S1", exact["S1"], names)
    assert_inside(frame, "ST", exact["ST"], names)
    assert (frame[["S1_conf", "ST_conf"]] < 0.06).all().all(), "intervals too wide to test anything"
    assert frame.index.tolist() == ["x1", "x2", "x3"]  # ranked by ST


def test_ishigami_pawn_has_an_interval_and_ranks_x3_above_the_dummy(ishigami_result: Any) -> None:
    result = next(o for o in ishigami_result.analysis.outputs if o.label == "y")
    frame = result.ranking
    assert frame["pawn_conf"].notna().all() and (frame["pawn_conf"] > 0).all()
    assert frame.loc["x3", "pawn"] - frame.loc["x3", "pawn_conf"] > result.pawn_dummy + result.pawn_dummy_conf
    assert (frame["rank"].tolist()) == [1, 2, 3]


def test_run_set_holds_every_saltelli_run_once(ishigami_result: Any) -> None:
    runset = ishigami_result.runset
    runs = runset.read_runs(["y"])
    assert len(runs) == 4096 * 5 == runset.n_runs
    assert runs["run_id"].is_unique and runs["run_id"].tolist() == list(range(len(runs)))
    design = runset.design()
    assert len(design) == 4096 * 5 and {"u.x1", "x1"} <= set(design.columns)
    assert np.allclose(design["x1"], -np.pi + 2 * np.pi * design["u.x1"])


def test_g_function_exact_indices_lie_inside_the_reported_intervals(tmp_path: Path) -> None:
    # N = 4096 base rows.  With this seed at N = 1024 and 2048, the S1 estimate of one negligible factor
    # (exact 7e-5) is -0.0026, about four bootstrap half-widths away: the bootstrap treats the scrambled
    # Sobol' rows as independent and can understate the error of near-zero indices at small N.
    config = sensitivity_config({"model": "sobol_g", "method": "sobol", "sobol": {"base_samples": 4096},
                                 "analysis": {"bootstrap": 300, "analyse_variance": False}})
    result = run_study(config, tmp_path / "g", backend="serial")
    frame = ranking(result)
    exact = sobol_g_indices()
    names = [f"x{i}" for i in range(1, 9)]
    assert_inside(frame, "S1", exact["S1"], names)
    assert_inside(frame, "ST", exact["ST"], names)
    assert (frame[["S1_conf", "ST_conf"]] < 0.06).all().all()
    assert frame.index[:4].tolist() == ["x1", "x2", "x3", "x4"]


def test_salib_reference_values_agree_with_our_analytic_ones() -> None:
    from SALib.test_functions import Sobol_G

    a = np.array([0, 1, 4.5, 9, 99, 99, 99, 99])
    assert sobol_g_indices()["S1"] == pytest.approx(Sobol_G.sensitivity_index(a), rel=1e-9)
    assert sobol_g_indices()["ST"] == pytest.approx(Sobol_G.total_sensitivity_index(a), rel=1e-9)


# ------------------------------------------------------------------------------------------ Morris


def test_morris_mu_star_equals_the_slopes_of_a_linear_function(tmp_path: Path) -> None:
    config = sensitivity_config({
        "model": "linear_noise", "method": "morris", "factors": ["x1", "x2", "x3", "x4"],
        "parameters": {"c1": 1.0, "c2": -4.0, "c3": 2.0, "c4": 0.5},
        "morris": {"trajectories": 10, "levels": 4}, "analysis": {"bootstrap": 200, "analyse_variance": False},
    })
    result = run_study(config, tmp_path / "lin", backend="serial")
    frame = ranking(result)
    assert frame.index.tolist() == ["x2", "x3", "x1", "x4"]
    assert frame.loc[["x1", "x2", "x3", "x4"], "mu_star"].to_numpy() == pytest.approx([1.0, 4.0, 2.0, 0.5])
    assert frame.loc[["x1", "x2", "x3", "x4"], "mu"].to_numpy() == pytest.approx([1.0, -4.0, 2.0, 0.5])
    assert frame["sigma"].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert frame["mu_star_conf"].notna().all() and frame["sigma_conf"].notna().all()


def test_morris_ranks_the_g_function_factors_by_importance(tmp_path: Path) -> None:
    config = sensitivity_config({"model": "sobol_g", "method": "morris", "morris": {"trajectories": 40, "levels": 4},
                                 "analysis": {"bootstrap": 300, "analyse_variance": False}})
    frame = ranking(run_study(config, tmp_path / "gm", backend="serial"))
    assert frame.index[:4].tolist() == ["x1", "x2", "x3", "x4"]
    assert frame.loc["x1", "mu_star"] > 5 * frame.loc["x4", "mu_star"]
    assert frame.loc[[f"x{i}" for i in range(5, 9)], "mu_star"].max() < frame.loc["x4", "mu_star"]
    # Morris and PAWN agree on the ranking
    agree = next(iter(run_agreement(frame)))
    assert agree > 0.7


def run_agreement(frame: pd.DataFrame):
    table = sensitivity.agreement(frame)
    yield float(table.loc[(table.method_a == "Morris mu*") & (table.method_b == "PAWN"), "spearman"].iloc[0])


def test_elementary_effects_match_salib_morris() -> None:
    from SALib.analyze import morris as salib_morris

    from experiments.designs import samplers as designs

    d, r = 5, 30
    u = designs.morris_trajectories(d, r, 4, root_seed=2)
    y = np.sin(3 * u[:, 0]) + u[:, 1] * u[:, 2] + 0.3 * u[:, 3] ** 2
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0, 1]] * d}
    reference = salib_morris.analyze(problem, u, y, num_levels=4, seed=1)
    ours = sensitivity.morris_indices(u, y, problem["names"], 100, 0.95, np.random.default_rng(0))
    assert ours["mu_star"].to_numpy() == pytest.approx(reference["mu_star"])
    assert ours["sigma"].to_numpy() == pytest.approx(reference["sigma"])
    assert ours["mu"].to_numpy() == pytest.approx(reference["mu"])


def test_pawn_matches_salib() -> None:
    from SALib.analyze import pawn

    rng = np.random.default_rng(4)
    x = rng.random((2000, 3))
    y = np.sin(6 * x[:, 0]) + x[:, 1] ** 2 + 0.1 * rng.standard_normal(2000)
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    reference = pawn.analyze(problem, x, y, S=10, seed=1)["median"]
    # slices here are equal-count by rank; SALib cuts at interpolated quantiles and drops the maximum point
    assert sensitivity.pawn_statistic(sensitivity.slice_ids(x, 10), y) == pytest.approx(reference, abs=2e-3)


# ------------------------------------------------------------------------------------------ noise


def test_noise_share_matches_the_known_additive_noise(tmp_path: Path) -> None:
    # y = x1 + 2 x2 + noise: Var(signal) = 1/12 + 4/12 = 5/12; noise variance 5/12 -> noise share 0.5
    sd = float(np.sqrt(5 / 12))
    config = sweep_config({"model": "linear_noise", "design": "lhs", "lhs": {"samples": 300}, "replicates": 10,
                           "parameters": {"noise_sd": sd}, "analysis": {"bootstrap": 100}})
    result = run_study(config, tmp_path / "noise", backend="serial")
    row = result.analysis.noise.set_index("output").loc["y"]
    assert row["noise_share"] == pytest.approx(0.5, abs=0.05)
    # noise left in the replicate means: (5/12 / 10) / (5/12 + 5/12 / 10) = 1/11
    assert row["noise_in_means"] == pytest.approx(1 / 11, abs=0.03)
    assert row["warning"] == ""


def test_too_few_replicates_for_the_noise_are_warned_about(tmp_path: Path) -> None:
    config = sweep_config({"model": "linear_noise", "design": "lhs", "lhs": {"samples": 100}, "replicates": 2,
                           "parameters": {"noise_sd": 2.0}, "analysis": {"bootstrap": 100}})
    result = run_study(config, tmp_path / "noisy", backend="serial")
    row = result.analysis.noise.set_index("output").loc["y"]
    assert row["noise_share"] > 0.8
    assert "R >=" in row["warning"] and int(row["replicates_needed"]) > 10
    assert any("noise, y" in w for w in result.analysis.warnings)
    one = sweep_config({"model": "linear_noise", "design": "lhs", "lhs": {"samples": 20}, "replicates": 1,
                        "analysis": {"bootstrap": 100}})
    single = run_study(one, tmp_path / "single", backend="serial")
    assert "R = 1" in single.analysis.noise.set_index("output").loc["y", "warning"]


def test_replicate_variance_is_analysed_separately(tmp_path: Path) -> None:
    # noise sd grows with x2 only: x2 drives the replicate variance, x1 the mean
    config = sensitivity_config({"model": "linear_noise", "method": "morris", "factors": ["x1", "x2"],
                                 "parameters": {"c1": 3.0, "c2": 0.0, "noise_sd": 0.0}, "replicates": 3,
                                 "morris": {"trajectories": 8, "levels": 4}, "analysis": {"bootstrap": 100}})
    result = run_study(config, tmp_path / "var", backend="serial")
    labels = [o.label for o in result.analysis.outputs]
    assert labels == ["y", "y__var"]
    assert ranking(result).index[0] == "x1"
    assert (result.runset.path / "analysis" / "ranking_y__var.csv").is_file()


# ------------------------------------------------------------------------------------------ convergence


def test_until_converged_doubles_reusing_runs_and_stops_when_stable(tmp_path: Path) -> None:
    config = sensitivity_config({"model": "ishigami", "method": "sobol", "sobol": {"base_samples": 256},
                                 "analysis": {"bootstrap": 200, "analyse_variance": False},
                                 "convergence": {"threshold": 0.05, "top": 3, "max_runs": 200_000}})
    messages: list[str] = []
    result = run_study(config, tmp_path / "conv", backend="serial", until_converged=True, say=messages.append)
    runset = result.runset
    assert result.converged is True, messages
    assert len(runset.stages) >= 2  # it had to double at least once
    totals = [s["total_base_samples"] for s in runset.stages]
    assert totals == [256 * 2**k for k in range(len(totals))]
    runs = runset.read_runs(["y"])
    assert runs["run_id"].is_unique and len(runs) == runset.n_runs == totals[-1] * 5
    # the first stage's design is the prefix of a fresh design of the final size: nothing was re-run
    from experiments.designs.samplers import saltelli

    u = runset.design()[["u.x1", "u.x2", "u.x3"]].to_numpy()
    assert np.array_equal(u, saltelli(3, totals[-1], False, 11))
    table = result.analysis.convergence
    top = table[table["base"] == table["base"].max()]
    assert (top["scaled_conf"] < 0.05).all()
    assert (runset.path / "analysis" / "convergence_y.png").is_file()


def test_until_converged_stops_at_the_run_limit(tmp_path: Path) -> None:
    config = sensitivity_config({"model": "ishigami", "method": "sobol", "sobol": {"base_samples": 32},
                                 "analysis": {"bootstrap": 100, "analyse_variance": False}})
    messages: list[str] = []
    result = run_study(config, tmp_path / "cap", backend="serial", until_converged=True, max_runs=700,
                       say=messages.append)
    assert result.converged is False
    assert result.runset.n_runs <= 700 and len(result.runset.stages) == 3  # 160, 320, 640 runs
    assert any("run limit 700" in m for m in messages)
    assert "NOT converged" in (result.runset.path / "analysis" / "report.md").read_text()


def test_morris_doubling_adds_trajectories_and_keeps_old_ones(tmp_path: Path) -> None:
    from experiments.execution.engine import add_doubling_stage
    from experiments.models.registry import load_model

    config = sensitivity_config({"model": "sobol_g", "method": "morris", "morris": {"trajectories": 6, "levels": 4},
                                 "analysis": {"bootstrap": 100}})
    result = run_study(config, tmp_path / "md", backend="serial", analyse=False)
    runset = result.runset
    before = runset.design()
    add_doubling_stage(runset, config, load_model("sobol_g"))
    after = runset.design()
    assert len(after) == 2 * len(before)
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)
    assert runset.stages[-1]["total_trajectories"] == 12


def test_resume_can_switch_a_finished_run_set_to_until_converged(tmp_path: Path) -> None:
    from experiments.execution.study import resume_study

    config = sensitivity_config({"model": "ishigami", "method": "sobol", "sobol": {"base_samples": 256},
                                 "analysis": {"bootstrap": 200, "analyse_variance": False},
                                 "convergence": {"top": 3}})
    first = run_study(config, tmp_path / "sw", backend="serial", analyse=False)
    parts_before = {p.name: p.read_bytes() for p in first.runset.part_files()}
    result = resume_study(tmp_path / "sw", backend="serial", until_converged=True, max_runs=100_000)
    assert result.converged is True and len(result.runset.stages) >= 2
    assert {p.name: p.read_bytes() for p in result.runset.part_files() if p.name in parts_before} == parts_before
    assert result.runset.manifest["until_converged"] is True


def test_noise_floor_matches_mu_star_of_a_factor_without_effect(tmp_path: Path) -> None:
    # x2 has no effect; replicate noise sd 0.5 and R = 4 give it mu* = sqrt(2/pi) sqrt(2 * 0.25 / 4) / (2/3)
    config = sensitivity_config({"model": "linear_noise", "method": "morris", "factors": ["x1", "x2"],
                                 "parameters": {"c1": 2.0, "c2": 0.0, "noise_sd": 0.5}, "replicates": 4,
                                 "morris": {"trajectories": 300, "levels": 4},
                                 "analysis": {"bootstrap": 100, "analyse_variance": False}})
    result = run_study(config, tmp_path / "floor", backend="serial")
    output = next(o for o in result.analysis.outputs if o.label == "y")
    expected = np.sqrt(2 / np.pi) * np.sqrt(2 * 0.25 / 4) / (2 / 3)
    assert output.noise_floor["mu_star"] == pytest.approx(expected, rel=0.1)
    assert output.ranking.loc["x2", "mu_star"] == pytest.approx(expected, rel=0.15)
    assert output.ranking.loc["x1", "mu_star"] > 3 * output.noise_floor["mu_star"]
