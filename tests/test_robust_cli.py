"""`lcsim robust` end to end: the synthetic policy x future model's known answer (steady is robust, gamble
has the best mean) comes out of the engine; replicate r has the same seed under every policy in a future
(common random numbers: the paired noise is the policy-specific part only); a rerun continues an
interrupted run set to the same numbers; bad files exit 2 with file, field, value and what is allowed."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.config.reading import ConfigError
from experiments.config.robust import load_robust
from experiments.models.planted_box import BEST_MEAN_POLICY, POLICIES, ROBUST_POLICY, policy_future_signal
from experiments.store.runset import RunSet

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

POLICY_FUTURE = """
name = "pf"
model = "policy_future"
uncertain = ["u1", "u2"]
futures = 40
replicates = 3
seed = 2
[policies]
steady = { policy = 0 }
bold = { policy = 1 }
gamble = { policy = 2 }
[outputs.y]
goal = "max"
threshold = 1.5
[analysis]
bootstrap = 100
"""


def lcsim(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def write(tmp: Path, body: str, name: str = "robust.toml") -> Path:
    path = tmp / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def robust_run(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("robust")
    config = write(tmp, POLICY_FUTURE)
    result = lcsim("robust", config, "--out", tmp / "pf", "--backend", "serial")
    assert result.exit_code == 0, result.output
    return config, tmp / "pf"


def test_the_known_robust_policy_comes_out_of_the_engine(robust_run) -> None:
    _, out = robust_run
    table = pd.read_csv(out / "robustness" / "robustness.csv")
    first = table[table["rank"] == 1].set_index("metric")["policy"]
    for metric in ("p10", "satisficing", "regret_p90", "regret_max"):
        assert first[metric] == ROBUST_POLICY, metric
    assert first["mean"] == BEST_MEAN_POLICY
    steady = table[(table["policy"] == "steady")].set_index("metric")["value"]
    assert steady["satisficing"] >= 0.9 and steady["regret_max"] < 1.0  # signal: never below 1.5, regret <= 0.8
    for name in ("report.md", "cdf_y.png", "regret_y.png", "manifest.json"):
        assert (out / "robustness" / name).stat().st_size > 0


def test_common_random_numbers_pair_the_policies_in_each_future(robust_run) -> None:
    _, out = robust_run
    runset = RunSet.open(out)
    design = runset.design()
    runs = runset.read_runs().merge(design[["point", "u1", "u2"]], on="point", suffixes=("", "_design"))
    assert len(design) == 40 and len(runs) == 120
    # one seed per (future, replicate): SeedSequence(seed, spawn_key=(future, replicate)), none shared by futures
    assert runs["spawn_key"].tolist() == [f"{p}/{r}" for p, r in zip(runs["point"], runs["replicate"], strict=True)]
    # every policy ran on that seed: the noise differences are the policy-specific parts only,
    # 0.1 * 0.6 * sqrt(2) = 0.085 (independent seeds would give 0.1 * sqrt(2) = 0.141)
    noise = {name: runs[f"{name}.y"] - [policy_future_signal(lever, u1, u2) for u1, u2 in zip(runs["u1"], runs["u2"],
                                                                                             strict=True)]
             for name, lever in POLICIES.items()}
    for a, b in (("steady", "gamble"), ("steady", "bold")):
        sd = float(np.std(noise[a] - noise[b], ddof=1))
        assert 0.068 < sd < 0.102, (a, b, sd)
    # ... and the common part is shared: the noise of two policies correlates (0.64 / (0.64 + 0.36) = 0.64)
    assert 0.5 < float(np.corrcoef(noise["steady"], noise["gamble"])[0, 1]) < 0.78


def half_done_copy(out: Path, copy: Path) -> Path:
    """A copy of a finished run set without its analysis and with the later half of its parts gone, as if
    the study had been killed half-way."""
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("robustness"))
    parts = sorted((copy / "parts").iterdir())
    for part in parts[len(parts) // 2:]:
        part.unlink()
    return copy


def test_a_rerun_continues_an_interrupted_run_set_to_the_same_numbers(robust_run, tmp_path: Path) -> None:
    config, out = robust_run
    copy = half_done_copy(out, tmp_path / "pf")
    result = lcsim("robust", config, "--out", copy, "--backend", "processes", "--workers", "2")
    assert result.exit_code == 0, result.output
    before = pd.read_csv(out / "robustness" / "robustness.csv")
    after = pd.read_csv(copy / "robustness" / "robustness.csv")
    pd.testing.assert_frame_equal(before, after)
    assert len(RunSet.open(copy).done_run_ids()) == 120


def test_lcsim_resume_continues_an_interrupted_robustness_run_set(robust_run, tmp_path: Path) -> None:
    config, out = robust_run
    copy = half_done_copy(out, tmp_path / "pf")
    result = lcsim("resume", copy, "--backend", "serial")
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "robustness" / "robustness.csv"),
                                  pd.read_csv(copy / "robustness" / "robustness.csv"))
    # the robustness file changed since: resume refuses rather than mixing two studies
    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    source = Path(RunSet.open(changed).manifest["study"]["source"])
    original = source.read_text(encoding="utf-8")
    try:
        source.write_text(original.replace("seed = 2", "seed = 3"), encoding="utf-8")
        result = lcsim("resume", changed, "--backend", "serial")
    finally:
        source.write_text(original, encoding="utf-8")
    assert result.exit_code == 2 and "has changed since" in result.output, result.output


def test_force_keeps_the_old_robustness_run_set_until_the_new_one_is_complete(robust_run, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    config, out = robust_run
    copy = tmp_path / "pf"
    shutil.copytree(out, copy)
    before = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    import experiments.execution.robust as engine

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "execute", interrupted)
    result = lcsim("robust", config, "--out", copy, "--backend", "serial", "--force")
    assert result.exit_code == 130 and "nothing was replaced" in result.output, result.output
    assert {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before


def test_robust_takes_the_scheduler_and_cluster_options(robust_run, tmp_path: Path) -> None:
    config, _ = robust_run
    result = lcsim("robust", config, "--out", tmp_path / "x", "--scheduler", "not-an-address")
    assert result.exit_code == 2 and "--scheduler not-an-address" in result.output and "allowed" in result.output
    assert not (tmp_path / "x").exists()


def test_another_file_on_an_existing_run_set_is_refused(robust_run, tmp_path: Path) -> None:
    _, out = robust_run
    other = write(tmp_path, POLICY_FUTURE.replace("seed = 2", "seed = 3"))
    result = lcsim("robust", other, "--out", out, "--backend", "serial")
    assert result.exit_code == 2 and "made from another file" in result.output and "--force" in result.output


BAD = [
    ("unknown-key", "futurez = 3\n" + POLICY_FUTURE, ["'futurez'", "unknown field", "futures"]),
    ("bad-goal", POLICY_FUTURE.replace('goal = "max"', 'goal = "maximise"'), ["outputs.y.goal", '"maximise"', "allowed: 'max' or 'min'"]),
    ("unknown-uncertain", POLICY_FUTURE.replace('["u1", "u2"]', '["u1", "u3"]'), ["'u3'", "not an input", "allowed"]),
    ("unknown-output", POLICY_FUTURE.replace("[outputs.y]", "[outputs.z]"), ["'z'", "does not report", "allowed: y"]),
    ("futures-one", POLICY_FUTURE.replace("futures = 40", "futures = 1"), ["'futures' = 1", "allowed"]),
    ("one-policy", POLICY_FUTURE.replace("bold = { policy = 1 }\ngamble = { policy = 2 }\n", ""),
     ["'policies'", "allowed"]),
    ("missing-seed", POLICY_FUTURE.replace("seed = 2\n", ""), ["'seed' is missing", "allowed"]),
    ("scenario-for-synthetic", POLICY_FUTURE.replace("steady = { policy = 0 }", 'steady = "configs/scenarios/baseline.toml"'),
     ["[policies] field 'steady'", "allowed: a table of lever values"]),
]


@pytest.mark.parametrize("case, body, expected", BAD, ids=[b[0] for b in BAD])
def test_bad_robustness_files_exit_2_and_create_nothing(tmp_path: Path, case: str, body: str, expected) -> None:
    config = write(tmp_path, body)
    result = lcsim("robust", config, "--out", tmp_path / "out", "--backend", "serial")
    assert result.exit_code == 2, result.output
    assert str(config) in result.output
    for text in expected:
        assert text in result.output, (text, result.output)
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_the_shipped_accelerators_file_is_valid_and_compares_nine_policies(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    config = load_robust(REPO / "configs" / "robust" / "accelerators.toml")
    assert config.policies[0] == "baseline" and len(config.policies) == 9
    assert {"management_turnover_rate", "demographic_trend", "external_stress", "rival_school_presence",
            "outside_provider_presence", "subsidy_duration_months"} <= set(config.uncertain_ranges)
    assert config.overridden["stable_management"] == ["management_turnover_rate"]
    assert isinstance(config.levers["baseline"]["horizon_months"], int)  # ints stay ints (Params is strict)
    from experiments.execution.engine import check_design, first_stage
    from experiments.execution.robust import study_config

    study, spec = study_config(config)
    frame, _ = first_stage(study)
    check_design(study, spec, frame)  # every policy valid in every future of the shipped design
    assert len(frame) == config.file.futures
    with pytest.raises(ConfigError, match="policies"):
        from experiments.config.robust import robust_from_dict

        robust_from_dict({**config.file.model_dump(), "policies": {"only": {}}})


def test_lcsim_policies_from_scenario_files_run_through_the_engine(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    body = """
name = "two"
model = "lcsim"
scenario = "configs/scenarios/baseline.toml"
uncertain = ["management_turnover_rate", "external_stress"]
futures = 3
replicates = 1
seed = 4
[policies]
baseline = "configs/scenarios/baseline.toml"
all_accelerators = "configs/scenarios/all_accelerators.toml"
[outputs.continued_by_school_y5]
goal = "max"
threshold = 0.25
[analysis]
bootstrap = 0
"""
    config = write(tmp_path, body)
    result = lcsim("robust", config, "--out", tmp_path / "two", "--backend", "serial")
    assert result.exit_code == 0, result.output
    runs = RunSet.open(tmp_path / "two").read_runs()
    assert len(runs) == 3 and {"baseline.continued_by_school_y5", "all_accelerators.continued_by_school_y5"} <= set(runs)
    table = pd.read_csv(tmp_path / "two" / "robustness" / "robustness.csv")
    assert set(table["policy"]) == {"baseline", "all_accelerators"}
    report = (tmp_path / "two" / "robustness" / "report.md").read_text()
    assert "all_accelerators sets management_turnover_rate" in report  # the override is stated
