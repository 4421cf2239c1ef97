"""The smaller mistakes and leftovers of issue 14 (item 8): each test failed on the code before its fix.

A user mistake gets exit code 2 and one message naming the file, the field, the value and what is allowed,
with nothing written; what the tool leaves behind after SIGKILL is cleaned up by its next run, and nothing
it did not write is touched.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.store.folders import MARKER_FILE, remove_stale_staging, write_marker
from experiments.store.manifest import git_state

runner = CliRunner()


def lcsim(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def study(tmp_path: Path, body: str) -> Path:
    head = 'name = "s"\nscenario = "baseline"\nreplicates = 1\nseed = 1\n'
    return write(tmp_path, "study.toml", head + body)


def test_an_over_long_scenario_name_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    config = write(tmp_path, "long.toml", f'name = "{"x" * 300}"\n[parameters]\nhorizon_months = 12\n')
    out = tmp_path / "results"
    result = lcsim("run", config, "--replicates", 1, "--out", out / "x")
    assert result.exit_code == 2
    assert "field 'name'" in result.output and "300 characters" in result.output and "at most 100" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_an_over_long_study_name_is_refused(tmp_path: Path) -> None:
    config = write(tmp_path, "long.toml", f'name = "{"y" * 300}"\nscenario = "baseline"\ndesign = "lhs"\n'
                   'replicates = 1\nseed = 1\n[lhs]\nsamples = 4\n')
    result = lcsim("sweep", config, "--out", tmp_path / "o", "--no-progress")
    assert result.exit_code == 2 and "at most 100 characters" in result.output
    assert not (tmp_path / "o").exists()


def test_one_explicit_level_is_refused_like_a_level_count_of_one(tmp_path: Path) -> None:
    for levels in ("[0.5]", "1"):
        config = study(tmp_path, f'design = "factorial"\nfactors = ["subsidy_share"]\n[levels]\nsubsidy_share = {levels}\n')
        result = lcsim("sweep", config, "--out", tmp_path / "o", "--no-progress")
        assert result.exit_code == 2, (levels, result.output)
        assert "[levels] field 'subsidy_share'" in result.output
    assert not (tmp_path / "o").exists()


def test_a_bad_range_gives_one_error_not_a_second_about_an_unvaried_factor(tmp_path: Path) -> None:
    config = study(tmp_path, 'design = "factorial"\nfactors = ["subsidy_share"]\n[ranges]\nsubsidy_share = [0.5, 7]\n'
                   '[levels]\nsubsidy_share = 3\n')
    result = lcsim("sweep", config, "--out", tmp_path / "o", "--no-progress")
    assert result.exit_code == 2
    assert "widens the range beyond the valid bounds" in result.output
    assert "not a varied factor" not in result.output


def test_a_factor_fixed_by_the_scenario_is_blamed_on_the_scenario(tmp_path: Path) -> None:
    write(tmp_path, "sc.toml", 'name = "sc"\n[parameters]\nsubsidy_share = 0.5\n')
    config = write(tmp_path, "study.toml", 'name = "s"\nscenario = "sc.toml"\ndesign = "lhs"\nreplicates = 1\n'
                   'seed = 1\nfactors = ["subsidy_share"]\n[lhs]\nsamples = 4\n')
    result = lcsim("sweep", config, "--out", tmp_path / "o", "--no-progress")
    assert result.exit_code == 2
    assert "field 'scenario' = \"sc.toml\" fixes 'subsidy_share' = 0.5" in result.output
    assert "[parameters]" not in result.output


def test_a_year_five_output_with_a_two_year_horizon_is_refused_before_any_run(tmp_path: Path) -> None:
    body = 'design = "lhs"\nfactors = ["subsidy_share"]\n{outputs}[parameters]\nhorizon_months = 24\n[lhs]\nsamples = 4\n'
    config = study(tmp_path, body.format(outputs='outputs = ["continued_by_school_y5"]\n'))
    result = lcsim("sweep", config, "--out", tmp_path / "o", "--no-progress")
    assert result.exit_code == 2
    assert "'continued_by_school_y5', which needs horizon_months >= 60" in result.output
    assert "horizon_months = 24" in result.output and not (tmp_path / "o").exists()
    # among the default outputs it is left out with a warning, and the study runs
    config = study(tmp_path, body.format(outputs=""))
    result = lcsim("sweep", config, "--out", tmp_path / "d", "--no-progress")
    assert result.exit_code == 0, result.output
    # the console wraps long lines at its width (a long temporary path moves the break): compare words
    assert "default output 'continued_by_school_y5' left out" in " ".join(result.output.split())


def test_lcsim_run_warns_about_values_outside_the_plausible_range(tmp_path: Path) -> None:
    config = write(tmp_path, "odd.toml", 'name = "odd"\n[parameters]\nhorizon_months = 12\nsubsidy_share = 0.1\n')
    result = lcsim("run", config, "--replicates", 1, "--out", tmp_path / "o", "--no-progress")
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.output.splitlines() if line.startswith("warning:"))
    assert "outside the plausible range" in warning
    assert "horizon_months = 12 (60 to 180" in warning and "subsidy_share = 0.1 (0.25 to 1" in warning


def test_stale_staging_folders_of_a_killed_process_are_removed_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "result"
    dead = subprocess.Popen(["true"])
    dead.wait()
    ours = tmp_path / f".result.partial-{dead.pid}-0123abcd"
    ours.mkdir()
    write_marker(ours, "run")
    (ours / "runs.parquet").write_bytes(b"half")
    foreign = tmp_path / f".result.partial-{dead.pid}-fedcba98"  # same name shape, but not ours: no marker
    foreign.mkdir()
    (foreign / "precious").write_text("keep", encoding="utf-8")
    live = tmp_path / f".result.partial-{os.getppid()}-00000000"
    live.mkdir()  # its process (the test runner's parent) is alive and older than the folder
    other = tmp_path / f".other.partial-{dead.pid}-11111111"
    other.mkdir()
    removed = remove_stale_staging(out)
    assert removed == [ours]
    assert not ours.exists() and foreign.exists() and live.exists() and other.exists()
    assert (foreign / "precious").read_text(encoding="utf-8") == "keep"


def test_a_run_cleans_up_the_staging_folder_a_killed_run_left(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = tmp_path / f".o.partial-{dead.pid}-0123abcd"
    left.mkdir()
    write_marker(left, "run")
    config = write(tmp_path, "small.toml", 'name = "small"\n[parameters]\nhorizon_months = 12\n')
    result = lcsim("run", config, "--replicates", 1, "--out", tmp_path / "o", "--no-progress")
    assert result.exit_code == 0, result.output
    assert not left.exists() and (tmp_path / "o" / MARKER_FILE).is_file()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    write(repo, "code.py", "x = 1\n")
    for command in (["init", "-q"], ["add", "code.py"], ["commit", "-q", "-m", "code"]):
        subprocess.run(["git", *command], cwd=repo, check=True, env=env, capture_output=True)
    return repo


def test_the_tools_own_folders_in_the_checkout_do_not_make_the_code_dirty(checkout: Path) -> None:
    assert git_state(checkout)["dirty"] is False
    staging = checkout / ".myrun.partial-123-0123abcd"
    staging.mkdir()
    (staging / "x").write_text("1", encoding="utf-8")
    finished = checkout / "myrun"
    finished.mkdir()
    write_marker(finished, "run")
    assert git_state(checkout)["dirty"] is False
    write(checkout, "new_module.py", "y = 2\n")  # code nobody committed still counts
    assert git_state(checkout)["dirty"] is True
    (checkout / "new_module.py").unlink()
    write(checkout, "code.py", "x = 2\n")
    assert git_state(checkout)["dirty"] is True
