"""Noise-corrected indices, the emulator and the ranking verdict through the real pipeline.

Every study here runs a registered stochastic known-answer model (``noisy_g``, ``noisy_ishigami`` and
``linear_noise`` in experiments/models/testfunctions.py) through ``run_study``: design -> runs on disk ->
analysis/ranking_<output>.csv, emulator.csv and report.md.  The exact indices of the *expected* outcome are
known, so the tests show that the correction is needed (raw ST misses) and that it works (corrected ST
covers the exact value), with fixed seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.analysis.emulator_study import constant_variance_p
from experiments.analysis.sensitivity import judge_convergence
from experiments.cli.app import app
from experiments.config.study import study_from_dict
from experiments.designs.samplers import space_filling
from experiments.execution.study import run_study
from experiments.models.testfunctions import noisy_indices

FACTORS8 = [f"x{i}" for i in range(1, 9)]


def study(body: dict[str, Any]) -> Any:
    return study_from_dict({"name": "t", "seed": 11, **body}, "sensitivity", source="test.toml")


def ranking(out: Path, label: str = "y") -> pd.DataFrame:
    return pd.read_csv(out / "analysis" / f"ranking_{label}.csv").set_index("factor")


# ------------------------------------------------------------------------------------------ Sobol', corrected


@pytest.fixture(scope="module")
def noisy_sobol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """G-function, additive noise sd 0.5, N = 128, R = 4: replicate noise is ~12% of the variance of the means."""
    out = tmp_path_factory.mktemp("noisy_sobol") / "run"
    config = study({"model": "noisy_g", "method": "sobol", "replicates": 4, "sobol": {"base_samples": 128},
                    "analysis": {"bootstrap": 200, "analyse_variance": False}})
    run_study(config, out)
    return out


def test_corrected_st_covers_the_exact_index_where_raw_st_does_not(noisy_sobol: Path) -> None:
    frame = ranking(noisy_sobol).reindex(FACTORS8)
    exact = noisy_indices("noisy_g")
    corrected_in = np.abs(frame["ST_corrected"] - exact["ST"]) <= frame["ST_corrected_conf"]
    s1_in = np.abs(frame["S1_corrected"] - exact["S1"]) <= frame["S1_corrected_conf"]
    raw_in = np.abs(frame["ST"] - exact["ST"]) <= frame["ST_conf"]
    assert corrected_in.all(), frame[["ST_corrected", "ST_corrected_conf"]].assign(exact=exact["ST"])
    assert s1_in.all()
    # the four a = 99 factors (exact ST < 0.001) get raw ST ~ the noise floor: outside their intervals
    assert not raw_in[["x5", "x6", "x7", "x8"]].any(), frame[["ST", "ST_conf"]]
    assert (frame["ST"] > frame["ST_corrected"]).all()


def test_ranking_is_by_corrected_st_with_raw_beside_and_ties_marked(noisy_sobol: Path) -> None:
    table = pd.read_csv(noisy_sobol / "analysis" / "ranking_y.csv")
    for column in ("S1_corrected", "S1_corrected_conf", "ST_corrected", "ST_corrected_conf", "ST", "S1",
                   "tie_group", "above_zero"):
        assert column in table
    assert table["ST_corrected"].is_monotonic_decreasing and table["rank"].tolist()[:2] == [1, 2]
    assert table["factor"].tolist()[:2] == ["x1", "x2"]
    # x1 and x2 are distinguishable from zero and from everything else; the a = 99 factors are not from zero
    above = dict(zip(table["factor"], table["above_zero"], strict=True))
    assert above["x1"] and above["x2"] and not any(above[f] for f in ("x5", "x6", "x7", "x8"))
    groups = dict(zip(table["factor"], table["tie_group"], strict=True))
    assert groups["x1"] == 1 and groups["x2"] == 2 and len({groups[f] for f in ("x5", "x6", "x7", "x8")}) == 1
    report = (noisy_sobol / "analysis" / "report.md").read_text(encoding="utf-8")
    assert "Ranked by the noise-corrected total index ST_corrected" in report
    assert "Distinguishable from zero" in report and "Tie groups" in report


# ------------------------------------------------------------------------------------------ Morris, corrected


def test_morris_ranks_by_mu_rms_corrected_which_removes_the_noise_floor(tmp_path: Path) -> None:
    """y = x1 + 2 x2 + 0 x3 + noise sd 0.4 (R = 4): every elementary effect is exactly c, so mu_rms = |c|."""
    out = tmp_path / "run"
    config = study({"model": "linear_noise", "method": "morris", "replicates": 4, "factors": ["x1", "x2", "x3"],
                    "parameters": {"noise_sd": 0.4}, "morris": {"trajectories": 60, "levels": 4},
                    "analysis": {"bootstrap": 200, "analyse_variance": False}})
    run_study(config, out)
    frame = ranking(out)
    assert frame.index.tolist() == ["x2", "x1", "x3"]
    exact = pd.Series({"x1": 1.0, "x2": 2.0, "x3": 0.0}).reindex(frame.index)
    rms, conf = frame["mu_rms_corrected"], frame["mu_rms_corrected_conf"]
    assert (np.abs(rms - exact) <= conf + 0.02).all(), frame[["mu_rms_corrected", "mu_rms_corrected_conf"]]
    # raw mu* of the factor without effect sits at its noise floor; the corrected measure is far below it
    floor = frame.at["x3", "mu_star_noise_floor"]
    assert frame.at["x3", "mu_star"] > 0.7 * floor > 0.1
    assert rms["x3"] < 0.5 * floor, frame[["mu_star", "mu_star_noise_floor", "mu_rms_corrected"]]
    report = (out / "analysis" / "report.md").read_text(encoding="utf-8")
    assert "Ranked by mu_rms_corrected" in report


# ------------------------------------------------------------------------------------------ emulator


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ishigami of x1..x3 with an inert x4 that drives the noise (heteroscedastic, mean sd 1), 256 points x R = 4."""
    out = tmp_path_factory.mktemp("emulator") / "run"
    config = study({"model": "noisy_ishigami", "method": "emulator", "replicates": 4,
                    "factors": ["x1", "x2", "x3", "x4"], "parameters": {"heteroscedastic": 1},
                    "emulator": {"points": 256, "refits": 20, "mc_samples": 1024, "restarts": 0},
                    "analysis": {"bootstrap": 200}})
    run_study(config, out)
    return out


def test_emulator_indices_of_the_mean_cover_the_exact_values_and_q2_is_reported(emulated: Path) -> None:
    frame = ranking(emulated).reindex(["x1", "x2", "x3", "x4"])
    exact = noisy_indices("noisy_ishigami")["ST"][:4]  # 0.558, 0.442, 0.244, 0
    assert set(frame.index[frame["rank"] <= 3]) == {"x1", "x2", "x3"}
    # intervals are bootstrap refits with fixed hyperparameters; allow 0.03 for what they leave out
    assert (np.abs(frame["ST"] - exact) <= frame["ST_conf"] + 0.03).all(), frame[["ST", "ST_conf"]].assign(exact=exact)
    assert frame.at["x4", "ST"] < 0.02
    table = pd.read_csv(emulated / "analysis" / "emulator.csv")
    assert table["output"].tolist() == ["y"] and table.at[0, "points_fitted"] == 256
    assert 0.8 < table.at[0, "q2_noise_corrected"] <= 1.0 and table.at[0, "q2"] <= table.at[0, "q2_noise_corrected"]
    assert 0 < table.at[0, "q2_noise_corrected_se"] < 0.05  # 256 points, noise ~ a tenth of the variance
    # the pooled noise it is told misstates this heteroscedastic noise, but not by enough to hide most errors
    assert 0.8 < table.at[0, "cv_coverage"] <= 1 and 0.3 < table.at[0, "cv_mean_squared_error"] < 2
    report = (emulated / "analysis" / "report.md").read_text(encoding="utf-8")
    assert "## Emulator accuracy" in report and "Q^2" in report and "in 95% band" in report


def test_emulator_variance_table_names_the_input_that_drives_the_noise(emulated: Path) -> None:
    frame = ranking(emulated, "y__var")
    assert frame.index[0] == "x4" and frame.at["x4", "ST"] > 0.8
    assert (frame.drop(index="x4")["ST"] < 0.1).all()


def test_constant_noise_is_not_given_variance_indices() -> None:
    rng = np.random.default_rng(3)
    homoscedastic = rng.normal(size=(128, 4))
    heteroscedastic = homoscedastic * np.linspace(0.25, 1.75, 128)[:, None]
    assert constant_variance_p(homoscedastic) > 0.05 > constant_variance_p(heteroscedastic)


def test_emulator_design_doubling_keeps_every_earlier_point() -> None:
    first = space_filling("sobol", 5, 64, 7)
    doubled = np.vstack([first, space_filling("sobol", 5, 64, 7, start=64)])
    assert np.array_equal(doubled, space_filling("sobol", 5, 128, 7))
    lhs = space_filling("lhs", 5, 64, 7)
    assert not np.array_equal(lhs, space_filling("lhs", 5, 64, 7, start=64))  # a new batch, not a repeat


# ------------------------------------------------------------------------------------------ convergence verdict


def convergence_rows(sizes: dict[int, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    return pd.DataFrame([{"base": base, "runs": base * 10, "output": "y", "factor": f, "index": "ST", "value": v,
                          "conf": c, "scaled_conf": c, "rank": 0} for base, row in sizes.items()
                         for f, (v, c) in row.items()])


def test_order_changes_within_overlapping_intervals_are_ties_not_instability() -> None:
    before = {"a": (0.50, 0.03), "b": (0.30, 0.03), "c": (0.31, 0.03), "d": (0.02, 0.01)}
    after = {"a": (0.50, 0.02), "b": (0.31, 0.02), "c": (0.30, 0.02), "d": (0.02, 0.01)}
    verdict = judge_convergence(convergence_rows({64: before, 128: after}), ["y"], top=3, threshold=0.05)
    assert verdict.converged and verdict.rankings["y"].ties == [("b", "c")]
    assert any("ties" in reason for reason in verdict.reasons)
    # the same flip with disjoint intervals is a swap: the top-3 set is unchanged, so it still converges,
    # but a factor entering the top set from far below is not
    entering = {"a": (0.50, 0.02), "b": (0.31, 0.02), "d": (0.20, 0.02), "c": (0.05, 0.02)}
    moved = judge_convergence(convergence_rows({64: before, 128: entering}), ["y"], top=3, threshold=0.05)
    assert not moved.converged and "top-3 set changed" in " ".join(moved.reasons)
    wide = {k: (v, 0.08) for k, (v, _) in after.items()}
    assert not judge_convergence(convergence_rows({64: before, 128: wide}), ["y"], 3, 0.05).converged


# ------------------------------------------------------------------------------------------ bad input

runner = CliRunner()
EMULATOR = """name = "e"
model = "noisy_g"
method = "emulator"
seed = 1
replicates = {replicates}
[emulator]
{table}
"""


@pytest.mark.parametrize(("replicates", "table", "expected"), [
    (4, "points = 128\npointz = 3", ["[emulator] unknown field 'pointz' = 3", "allowed: design, points",
                                     "did you mean 'points'"]),
    (1, "points = 128", ["field 'replicates' = 1 with method = \"emulator\"", "allowed: at least 2"]),
    (4, "points = 64", ["field 'emulator.points' = 64 is too small for 8 factors", "at least 10 points per factor",
                        "128"]),
    (4, "points = 100", ["field 'emulator.points' = 100 is not a power of two", "design = \"lhs\""]),
    (4, 'surrogate = "kriging"', ["field 'emulator.surrogate' = \"kriging\"", '"gp" or "pce"']),
    (4, 'noise = "smoothed"', ["field 'emulator.noise' = \"smoothed\"", '"pooled" or "per_point"']),
    (4, 'warping = "beta"', ["field 'emulator.warping' = \"beta\"", '"none" or "kumaraswamy"']),
    (4, 'cross_validation = "loo"', ["field 'emulator.cross_validation' = \"loo\"", '"fixed" or "nested"']),
], ids=["unknown-key", "one-replicate", "too-small", "not-power-of-two", "surrogate", "noise", "warping",
        "cross-validation"])
def test_bad_emulator_tables_exit_2_with_file_field_value_allowed(tmp_path: Path, replicates: int, table: str,
                                                                   expected: list[str]) -> None:
    config = tmp_path / "e.toml"
    config.write_text(EMULATOR.format(replicates=replicates, table=table), encoding="utf-8")
    result = runner.invoke(app, ["sensitivity", str(config), "--out", str(tmp_path / "out"), "--backend", "serial",
                                 "--no-progress"])
    assert result.exit_code == 2, result.output
    assert str(config) in result.stderr and "Traceback" not in result.output
    for part in expected:
        assert part in result.stderr, f"{part!r} missing from: {result.stderr}"
    assert not (tmp_path / "out").exists()


def test_an_emulator_study_runs_from_the_command_line(tmp_path: Path) -> None:
    """`lcsim sensitivity` on an emulator file: the run count printed before the runs, the runs, the ranking
    (the count once crashed with 'unknown design' for method = "emulator", so only run_study was tested)."""
    config = tmp_path / "e.toml"
    config.write_text(EMULATOR.format(replicates=2, table='design = "lhs"\npoints = 80\nrefits = 10\nmc_samples = 256'),
                      encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["sensitivity", str(config), "--out", str(out), "--backend", "serial", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "80 design points x 2 replicates = 160 runs" in result.output
    ranking = pd.read_csv(out / "analysis" / "ranking_y.csv")
    assert len(ranking) == 8 and {"ST", "ST_conf", "tie_group"} <= set(ranking.columns)  # indices of the mean


def test_pooling_puts_the_replicates_of_equal_points_side_by_side_in_first_appearance_order() -> None:
    from experiments.analysis.emulator_study import pool_repeated_points

    u = np.array([[0.5, 0.1], [0.2, 0.9], [0.5, 0.1], [0.2, 0.9]])
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, np.nan]])
    points, pooled = pool_repeated_points(u, values)
    np.testing.assert_array_equal(points, u[:2])
    np.testing.assert_array_equal(pooled, [[1, 2, 5, 6], [3, 4, 7, np.nan]])
    same_u, same_values = pool_repeated_points(u[:2], values[:2])
    np.testing.assert_array_equal(same_u, u[:2])
    np.testing.assert_array_equal(same_values, values[:2])


def test_growing_replicates_repeats_the_points_with_new_seeds_and_the_emulator_pools_them(tmp_path: Path) -> None:
    """``grow = "replicates"``: the doubling stage is the same coordinates again (new run ids, new seeds);
    the emulator sees 64 points with 4 replicates each, not 128 points with 2."""
    config = study({"model": "noisy_ishigami", "method": "emulator", "replicates": 2,
                    "factors": ["x1", "x2", "x3", "x4"],
                    "emulator": {"design": "lhs", "points": 64, "grow": "replicates", "refits": 10,
                                 "mc_samples": 256, "restarts": 0},
                    "convergence": {"threshold": 1e-6}})
    out = tmp_path / "run"
    result = run_study(config, out, until_converged=True, max_runs=256)
    assert result.converged is False
    from experiments.store.runset import RunSet

    runset = RunSet.open(out)
    design = runset.design()
    coordinates = design[[f"u.x{i}" for i in range(1, 5)]].to_numpy()
    assert len(design) == 128 and np.array_equal(coordinates[:64], coordinates[64:])
    runs = runset.read_runs(columns=["y"]).sort_values("run_id")
    # the repeated point's runs are new draws, not copies of the first stage's
    first, again = runs[runs["point"] == 0]["y"].to_numpy(), runs[runs["point"] == 64]["y"].to_numpy()
    assert not np.allclose(first, again)
    emulator = pd.read_csv(out / "analysis" / "emulator.csv").iloc[0]
    assert (emulator["points"], emulator["replicates"], emulator["runs"]) == (64, 4, 256)
    sizes = pd.read_csv(out / "analysis" / "convergence.csv")["runs"].unique()
    assert sorted(sizes) == [128, 256]


def _two_output_emulator_study(points: int, **emulator: Any) -> tuple[Any, np.ndarray, dict[str, np.ndarray]]:
    config = study({"model": "noisy_ishigami", "method": "emulator", "replicates": 3,
                    "factors": ["x1", "x2", "x3", "x4"],
                    "emulator": {"design": "lhs", "points": points, "refits": 10, "mc_samples": 256, "restarts": 0,
                                 **emulator}})
    rng = np.random.default_rng(5)
    u = rng.random((2 * points, 4))
    mean = np.sin(np.pi * (2 * u[:, 0] - 1)) + 7 * np.sin(np.pi * (2 * u[:, 1] - 1)) ** 2
    values = {"y": mean[:, None] + rng.normal(0, 0.5, (2 * points, 3)),
              "z": u[:, 2:3] * 3 + rng.normal(0, 0.2, (2 * points, 3))}
    return config, u, values


def test_outputs_fitted_in_parallel_processes_equal_those_fitted_one_after_the_other(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two outputs, two stages: the worker processes (which do not see this process's patched fit) fill its
    memo with exactly the fits the analysis asks for, equal to the ones fitted here one after the other."""
    from experiments.analysis import emulator_study as es

    config, u, values = _two_output_emulator_study(40)
    names, ends = ["x1", "x2", "x3", "x4"], [40, 80]
    es._MEMO.clear()
    serial = {(name, n): es.emulate_mean(u[:n], values[name][:n], name, names, config)["frame"]
              for name in values for n in ends}
    es._MEMO.clear()
    monkeypatch.setattr(es, "PARALLEL_POINTS", 0)
    monkeypatch.setattr(es.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)

    def no_fit(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fitted in this process instead of in a worker, or fitted again")

    monkeypatch.setattr(es, "fit_emulator", no_fit)
    es.fit_outputs(u, values, list(values), names, config, ends)
    assert len(es._MEMO) == 4  # both outputs at both sizes, fitted in the workers
    for (name, n), frame in serial.items():
        pd.testing.assert_frame_equal(es.emulate_mean(u[:n], values[name][:n], name, names, config)["frame"], frame)


def test_warping_in_the_emulator_table_reaches_the_fit_and_emulator_csv() -> None:
    """``warping = "kumaraswamy"``: the row says so and the fit differs from the unwarped one (the option is
    not dropped between the file and the GP); its Q^2 on Ishigami (sine-shaped, already stationary) stays
    within 0.03 of the unwarped one."""
    from experiments.analysis import emulator_study as es

    config, u, values = _two_output_emulator_study(80)
    warped_config, _, _ = _two_output_emulator_study(80, warping="kumaraswamy")
    names = ["x1", "x2", "x3", "x4"]
    es._MEMO.clear()
    plain = es.emulate_mean(u, values["y"], "y", names, config)
    warped = es.emulate_mean(u, values["y"], "y", names, warped_config)
    assert (plain["row"]["warping"], warped["row"]["warping"]) == ("none", "kumaraswamy")
    assert not np.allclose(plain["frame"]["ST"], warped["frame"]["ST"])
    assert abs(warped["row"]["q2_noise_corrected"] - plain["row"]["q2_noise_corrected"]) < 0.03


def test_nested_cross_validation_fits_every_fold_from_scratch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``cross_validation = "nested"``: the full fit and each of the 5 folds estimate the hyperparameters
    (6 searches); ``"fixed"``: only the full fit does (the folds reuse its kernel)."""
    from experiments.analysis import emulator_study as es
    from experiments.analysis.emulator import GaussianProcessEmulator

    searches: list[int] = []
    original = GaussianProcessEmulator.fit.__func__

    def counted(cls: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("kernel") is None:
            searches.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(GaussianProcessEmulator, "fit", classmethod(counted))
    counts = {}
    for mode in ("fixed", "nested"):
        config, u, values = _two_output_emulator_study(40, cross_validation=mode)
        es._MEMO.clear()
        searches.clear()
        row = es.emulate_mean(u[:40], values["y"][:40], "y", ["x1", "x2", "x3", "x4"], config)["row"]
        assert row["cross_validation"] == mode
        counts[mode] = len(searches)
    assert counts == {"fixed": 1, "nested": 1 + 5}
