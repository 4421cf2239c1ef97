"""The researcher's path (issue 15): config paths resolved from the file that names them, commands that
work from any folder, scenarios that compose (``extends``, ``A+B``, ``--set``), and ``lcsim compare
--reference`` / ``--all-pairs`` with multiplicity-adjusted intervals."""

from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.analysis.compare import ScenarioResult, comparison_table, holm_adjust, pairwise_table
from experiments.cli import app
from experiments.config.reading import ConfigError, resolve_reference
from experiments.config.scenario import load_scenario, parse_settings, scenario_argument
from experiments.config.study import load_study

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def lcsim(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


# ----------------------------------------------------------------------------------------- paths


def test_paths_in_a_file_are_relative_to_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study_dir = tmp_path / "study"
    study_dir.mkdir()
    (study_dir / "my_base.toml").write_text('name = "my_base"\n[parameters]\nmanagement_turnover_rate = 1.25\n')
    (study_dir / "sweep.toml").write_text(
        'name = "s"\nscenario = "my_base.toml"\ndesign = "factorial"\nfactors = ["initial_embedding"]\n'
        'replicates = 1\nseed = 1\n[levels]\ninitial_embedding = 2\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_study(Path("../study/sweep.toml"), "sweep")
    assert config.base["management_turnover_rate"] == 1.25  # read from the file beside the sweep file


def test_configs_names_resolve_against_the_project_from_any_folder(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # a file inside the project naming configs/...: the project's file, not one beside it
    named_in = REPO / "configs/sweeps/turnover_x_cofunding.toml"
    assert resolve_reference("configs/scenarios/baseline.toml", named_in) == REPO / "configs/scenarios/baseline.toml"
    # on the command line, outside the project: the installed project's file
    assert resolve_reference("configs/scenarios/baseline.toml", None).resolve() == \
        (REPO / "configs/scenarios/baseline.toml").resolve()
    # a copy of the sweep file outside the project still finds the shipped baseline
    (tmp_path / "copy.toml").write_text(named_in.read_text())
    config = load_study(tmp_path / "copy.toml", "sweep")
    assert config.base["horizon_months"] == 120
    # the Python snippet of docs/cluster.md, from outside the project
    from experiments.config.cluster import load_cluster_config

    assert load_study("configs/sweeps/turnover_x_cofunding.toml", "sweep").name == "turnover_x_cofunding"
    assert load_cluster_config("configs/cluster/slurm.toml").kind == "slurm"
    # an ordinary relative path stays relative to the naming file
    assert resolve_reference("x/y.toml", tmp_path / "copy.toml") == tmp_path / "x/y.toml"


def _readme_commands() -> list[str]:
    """Every runnable ``lcsim`` command of the README (inline code and shell blocks); optional parts in
    [brackets] dropped, placeholders (<name>, CONFIG) and the long-running viewer skipped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"`(lcsim [^`\n]+)`", text)
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        found += [line.split("#")[0].strip() for line in block.splitlines() if line.startswith("lcsim ")]
    commands = []
    for command in dict.fromkeys(found):
        command = re.sub(r"\s*\[[^\]]*\]", "", command).strip()
        words = command.split()
        if "<" in command or re.search(r"\b[A-Z]{3,}\b", command) or words[1] in {"viz", "resume"} or (
                len(words) == 2 and words[1] not in {"params", "validate"}):  # a command named in prose
            continue
        commands.append(command)
    return list(dict.fromkeys(commands))


#: Options that keep each README command small (the commands themselves are the README's): plain options,
#: and --set values (a study's file gets only those of the tables it has).
SMALL = {
    "run": ["--replicates", "2", "--workers", "1", "--no-progress"],
    "compare": ["--replicates", "2", "--workers", "1", "--no-progress"],
    "validate": ["--replicates", "2", "--workers", "1", "--no-progress"],
    "sweep": ["--backend", "serial", "--no-progress"],
    "sensitivity": ["--backend", "serial", "--no-progress"],
    "params": [],
}
# faded_share: defined at any horizon (a year-5 share needs 60 months, and a study asking for it at 24 is refused)
SETTINGS = {
    "run": ["horizon_months=24"],
    "compare": ["horizon_months=24"],
    "sweep": ["replicates=1", "horizon_months=24", "analysis.bootstrap=100", "levels.management_turnover_rate=2",
              "levels.school_cofunding_willingness=2", 'outputs=["faded_share"]'],
    "sensitivity": ["replicates=1", "horizon_months=24", "analysis.bootstrap=100", "morris.trajectories=2",
                    'outputs=["faded_share"]', "analysis.analyse_variance=false",
                    'convergence.outputs=["faded_share"]'],
}


def test_readme_commands_work_from_a_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = _readme_commands()
    kinds = {shlex.split(c)[1] for c in commands}
    assert {"run", "compare", "sweep", "sensitivity", "validate", "params"} <= kinds, commands
    monkeypatch.chdir(tmp_path)
    for command in commands:
        argv = shlex.split(command)[1:]
        if argv[0] == "sensitivity" and ("sobol" in command or "all_factors" in command):
            # the Morris file covers the command; Sobol' at any size is slower than the rest together, and the
            # emulator needs 10 points per factor and 2 replicates (tests/test_stochastic_pipeline.py runs a small
            # emulator study from the command line)
            continue
        if argv[0] not in SMALL:
            continue  # discover and robust: tests/test_discover_cli.py and test_robust_cli.py run them small
        settings = SETTINGS.get(argv[0], [])
        if argv[0] == "sweep" and "lhs" in command:  # a Latin hypercube has samples, not levels
            settings = [s for s in settings if not s.startswith("levels.")] + ["lhs.samples=12"]
        extra = list(SMALL[argv[0]])
        for setting in settings:
            extra += ["--set", setting]
        started = time.perf_counter()
        result = lcsim(*argv, *extra)
        print(f"{time.perf_counter() - started:6.1f} s  {command}")
        assert result.exit_code in ((0, 1) if argv[0] == "validate" else (0,)), (command, result.output)
    assert any("our_region+" in c and "--all-pairs" in c for c in commands)  # the README's policy question
    written = {p.name for p in (tmp_path / "results").iterdir()}
    assert {"baseline", "compare", "turnover_x_cofunding", "baseline_morris", "validation"} <= written, written
    assert "horizon_months=24" in json.dumps(json.loads((tmp_path / "results/baseline/manifest.json").read_text()))


# ----------------------------------------------------------------------------------------- composition


def _write(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\n{body}', encoding="utf-8")
    return path


def test_extends_layers_scenarios_in_order(tmp_path: Path) -> None:
    _write(tmp_path, "a", "[parameters]\nmanagement_turnover_rate = 0.9\ninitial_embedding = 0.3\n")
    _write(tmp_path, "b", "[parameters]\nmanagement_turnover_rate = 0.2\n")
    child = _write(tmp_path, "child", 'extends = ["baseline", "a", "b"]\n[parameters]\ninitial_embedding = 0.7\n')
    scenario = load_scenario(child)
    assert scenario.params.management_turnover_rate == 0.2  # b after a
    assert scenario.params.initial_embedding == 0.7  # the file's own value last
    assert scenario.params.horizon_months == 120  # from the shipped baseline (a bare name)
    assert [Path(p).stem for p in scenario.extends] == ["baseline", "a", "b"]


def test_extends_circle_and_bad_parent_are_one_error_each(tmp_path: Path) -> None:
    _write(tmp_path, "x", 'extends = "y"\n')
    _write(tmp_path, "y", 'extends = "x"\n')
    with pytest.raises(ConfigError, match="circle"):
        load_scenario(tmp_path / "x.toml")
    _write(tmp_path, "bad", "[parameters]\nmanagement_turnover_rate = -1\n")
    with pytest.raises(ConfigError) as info:
        load_scenario(_write(tmp_path, "c", 'extends = "bad"\n'))
    assert len(info.value.problems) == 1 and "bad.toml" in str(info.value) and "management_turnover_rate" in str(
        info.value)


def test_plus_composes_and_names_the_scenario() -> None:
    scenario = scenario_argument("our_region+stable_management")
    assert scenario.name == "our_region+stable_management"
    assert scenario.params.management_turnover_rate == 0.1  # the accelerator over the region's 0.5
    assert scenario.params.school_cofunding_willingness == 0.2  # the region's, untouched by the accelerator


def test_set_is_validated_like_a_file_value(tmp_path: Path) -> None:
    assert parse_settings(["a=0.5", "b=24", 'c="x"']) == {"a": 0.5, "b": 24, "c": "x"}
    out = tmp_path / "out"
    result = lcsim("run", "baseline", "--set", "management_turnover_rate=-3", "--out", out)
    assert result.exit_code == 2
    assert "management_turnover_rate" in result.output and "-3" in result.output and "allowed" in result.output
    assert "Traceback" not in result.output and not out.exists()
    result = lcsim("run", "baseline", "--set", "turnover", "--out", out)
    assert result.exit_code == 2 and "name=value" in result.output and not out.exists()


def test_set_is_recorded_in_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = lcsim("run", "our_region", "--replicates", "2", "--workers", "1", "--set", "horizon_months=12",
                   "--out", out, "--no-progress")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"] == {"horizon_months": 12}
    assert manifest["parameters"]["horizon_months"] == 12
    assert manifest["parameters"]["management_turnover_rate"] == 0.5
    assert [Path(p).stem for p in manifest["extends"]] == ["baseline"]
    assert "--set=horizon_months=12" in manifest["reproduce"]


def test_wrong_kind_of_file_is_named_with_the_right_command() -> None:
    result = lcsim("sensitivity", REPO / "configs/sweeps/turnover_x_cofunding.toml")
    assert result.exit_code == 2
    assert "this is a sweep file" in result.output and "lcsim sweep" in result.output
    assert result.output.count("error:") == 1
    result = lcsim("run", REPO / "configs/sensitivity/baseline_morris.toml")
    assert result.exit_code == 2 and "this is a sensitivity file" in result.output
    assert result.output.count("error:") == 1


# ----------------------------------------------------------------------------------------- compare


def test_holm_matches_a_worked_example() -> None:
    # p sorted: 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04, raised to 0.06 by monotonicity)
    np.testing.assert_allclose(holm_adjust(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])
    adjusted = holm_adjust(np.array([0.5, np.nan, 0.2]))
    assert np.isnan(adjusted[1]) and np.allclose(adjusted[[0, 2]], [0.5, 0.4])


def _result(name: str, values: np.ndarray) -> ScenarioResult:
    from experiments.analysis.compare import METRICS

    metrics = pd.DataFrame({metric: values for metric in METRICS})
    return ScenarioResult(name=name, metrics=metrics, curves=np.zeros((len(values), 1)), fates=pd.DataFrame())


def test_reference_and_pairs_use_paired_adjusted_intervals() -> None:
    rng = np.random.default_rng(3)
    shared = rng.normal(0, 1, 40)  # common random numbers: the same noise in every scenario
    results = [_result("a", shared), _result("b", shared + 0.5 + rng.normal(0, 0.1, 40)),
               _result("c", shared + 0.1 + rng.normal(0, 0.1, 40))]
    table = comparison_table(results, reference="c")
    row = table[(table.metric == "faded_share") & (table.scenario == "b")].iloc[0]
    assert row["reference"] == "c" and row["diff"] == pytest.approx(0.4, abs=0.06)
    pairs = pairwise_table(results)
    pair = pairs[(pairs.metric == "faded_share") & (pairs.a == "b") & (pairs.b == "c")].iloc[0]
    assert pair["pairs"] == 3
    # Bonferroni: the pair interval is the paired t-interval at 1 - 0.05/3, wider than the 95% one
    from scipy import stats

    diff = results[2].metrics["faded_share"] - results[1].metrics["faded_share"]
    half = stats.t.ppf(1 - 0.05 / 6, 39) * diff.std(ddof=1) / np.sqrt(40)
    assert pair["diff_high"] - pair["diff_low"] == pytest.approx(2 * half)
    assert pair["p_holm"] >= pair["p"]


def test_compare_reference_must_be_a_compared_scenario(tmp_path: Path) -> None:
    result = lcsim("compare", "baseline", "our_region", "--reference", "our_regoin", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "our_region" in result.output and not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------------------- help and messages


def test_help_lists_and_explains_every_command_and_version_prints() -> None:
    result = lcsim("--help")
    assert result.exit_code == 0
    names = {"run", "params", "compare", "validate", "sweep", "sensitivity", "resume", "viz"}
    for name in names:  # each in the overview paragraph with its explanation
        assert re.search(rf"^\s+{name}\s+\S", result.output, flags=re.M), name
    from importlib.metadata import version

    result = lcsim("--version")
    assert result.exit_code == 0 and result.output.strip() == f"lcsim {version('lcsim')}"


def test_one_misspelt_factor_gives_one_error(tmp_path: Path) -> None:
    path = tmp_path / "bf.toml"
    path.write_text('name = "bf"\nmethod = "morris"\nfactors = ["managment_turnover_rate", "initial_embedding"]\n'
                    "replicates = 1\nseed = 1\n[ranges]\nmanagment_turnover_rate = [0.1, 0.5]\n")
    result = lcsim("sensitivity", path, "--out", tmp_path / "o")
    assert result.exit_code == 2 and result.output.count("error:") == 1, result.output
    assert "did you mean 'management_turnover_rate'" in result.output


def test_repeated_warnings_are_said_once_with_a_count() -> None:
    from experiments.analysis.studies import collapse_warnings

    warnings = [f"noise, out{i}: only R = 2 replicates" for i in range(8)] + ["3 runs failed"]
    assert collapse_warnings(warnings) == ["noise: only R = 2 replicates (8 times: " +
                                           ", ".join(f"out{i}" for i in range(8)) + ")", "3 runs failed"]


def test_run_summary_fits_in_100_columns(tmp_path: Path) -> None:
    result = lcsim("run", "baseline", "--replicates", "2", "--workers", "1", "--set", "horizon_months=12",
                   "--out", tmp_path / "o", "--no-progress")
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


# ----------------------------------------------------------------------------------------- docs/api.md


def test_the_api_page_script_runs_from_any_folder(tmp_path: Path) -> None:
    """The complete script of docs/api.md, as printed, run as a plain script (worker processes, so the
    main guard matters) from a temporary folder with 2 replicates."""
    import subprocess
    import sys

    text = (REPO / "docs/api.md").read_text(encoding="utf-8")
    script = next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "__main__" in b)
    (tmp_path / "which_accelerators.py").write_text(script, encoding="utf-8")
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "which_accelerators.py", "--replicates", "2", "--out", str(tmp_path / "o")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "our_region+stable_management" in done.stdout and "p_holm" in done.stdout
    assert (tmp_path / "o" / "continuation.png").is_file()


# ----------------------------------------------------------------------------------------- claims


SHIPPED_STUDIES = sorted(str(p.relative_to(REPO)) for folder in ("sweeps", "sensitivity")
                         for p in (REPO / "configs" / folder).glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED_STUDIES)
def test_run_counts_in_config_comments_are_what_the_file_runs(path: str) -> None:
    """Every shipped study: the count its comment claims is what it runs, and the count the command prints
    (and checks against --max-runs) before building the design agrees (the emulator design once crashed it)."""
    from experiments.execution.engine import first_stage, planned_points

    text = (REPO / path).read_text(encoding="utf-8")
    config = load_study(REPO / path, "sweep" if "sweeps" in path else "sensitivity")
    frame, _ = first_stage(config)
    assert planned_points(config) == len(frame)
    claims = re.findall(r"([\d,]+) model\s*(?:#\s*)?runs", text)
    assert claims, f"{path}: the comment states no run count"
    assert int(claims[0].replace(",", "")) == len(frame) * config.replicates
    assert not re.search(r"about [\d.–-]+ (seconds|minutes)", text)  # times only as measured, with a date


def test_readme_ranking_table_names_the_command_the_run_count_and_the_date() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("| rank | success factor |")
    after = readme[start:start + 4000]
    assert "lcsim sensitivity configs/sensitivity/all_factors.toml --until-converged --max-runs 4608" in after
    assert "4,608 runs" in after and "Measured 2026-12-03" in after
    config = load_study(REPO / "configs/sensitivity/all_factors.toml", "sensitivity")
    assert 2 * config.design["points"] * config.replicates == 4608  # two batches of the file's points
