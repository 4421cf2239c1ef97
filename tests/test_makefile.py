"""The Makefile's install stamps (issue 15): `make run` installs only what running needs, `make test` the
test extras, and a dev install satisfies a later `make run`.  Checked with `make -n` (nothing runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(folder: Path, target: str) -> str:
    return subprocess.run(["make", "-n", target], cwd=folder, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    python = tmp_path / ".venv/bin/python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    old = time.time() - 100
    os.utime(tmp_path / "pyproject.toml", (old, old))
    return tmp_path


def test_run_installs_without_test_extras(project: Path) -> None:
    commands = dry_run(project, "run")
    assert "pip install -e ." in commands and "[dev]" not in commands
    assert "lcsim run" in commands


def test_test_installs_the_test_extras(project: Path) -> None:
    assert "pip install -e '.[dev]'" in dry_run(project, "test")


def test_a_dev_install_satisfies_run_but_a_run_install_not_test(project: Path) -> None:
    for stamp in (".installed-run-stamp", ".installed-dev-stamp"):
        (project / ".venv" / stamp).touch()
    assert "pip install" not in dry_run(project, "run")
    assert "pip install" not in dry_run(project, "test")
    (project / ".venv/.installed-dev-stamp").unlink()
    assert "pip install" not in dry_run(project, "run")
    assert "[dev]" in dry_run(project, "test")


def test_the_slower_checks_have_their_own_target_that_ci_runs(project: Path) -> None:
    assert "pytest -m slow" in dry_run(project, "test-slow")
    assert "make test-slow" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
