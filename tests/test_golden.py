"""``lcsim run`` stays bit-identical: 6 replicates of baseline and of smart_farming, seed 7.

The stored record (``tests/data/golden_run.json``) holds the run rows, ``summary.csv`` and SHA-256 hashes
of the run, pilot and series tables.  A pipeline change (layout, engine, store, backends) must not move a
single bit of it.  A *deliberate* change of the model in ``sim/`` does move it: regenerate the record in
the same commit with ``PYTHONPATH=$PWD .venv/bin/python -m tests.regen_golden`` and say why in the message.
"""

from __future__ import annotations

import json
import pytest

from tests.regen_golden import CASES, GOLDEN_FILE, compute_golden


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return compute_golden(tmp_path_factory.mktemp("golden"), "--workers", "1")


@pytest.fixture(scope="module")
def stored() -> dict:
    return json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES)
def test_run_rows_and_summary_match_the_golden_record(case: str, fresh: dict, stored: dict) -> None:
    assert fresh[case]["runs"] == stored[case]["runs"]
    assert fresh[case]["runs_sha256"] == stored[case]["runs_sha256"]
    assert fresh[case]["summary_csv"] == stored[case]["summary_csv"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("table", ["pilots", "series"])
def test_pilot_and_series_tables_match_the_golden_hashes(case: str, table: str, fresh: dict, stored: dict) -> None:
    assert fresh[case][f"{table}_sha256"] == stored[case][f"{table}_sha256"]


def test_the_two_cases_differ(stored: dict) -> None:
    """Guards the record itself: a case whose overrides were lost would equal the baseline."""
    assert stored["baseline"]["series_sha256"] != stored["smart_farming"]["series_sha256"]



def test_lcsim_run_on_a_local_dask_cluster_gives_the_golden_bits(tmp_path_factory: pytest.TempPathFactory,
                                                                  stored: dict) -> None:
    """``lcsim run --backend dask --workers 2`` goes through the same evaluators as sweeps: same bits."""
    from tests.regen_golden import golden_of_folder, run_case

    folder = run_case("baseline", tmp_path_factory.mktemp("dask") / "baseline", "--backend", "dask", "--workers", "2")
    got = golden_of_folder(folder)
    for key in ("runs_sha256", "pilots_sha256", "series_sha256", "summary_csv"):
        assert got[key] == stored["baseline"][key], key
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == "dask, 2 local workers"


def test_lcsim_compare_gives_the_same_table_on_serial_and_processes(tmp_path_factory: pytest.TempPathFactory) -> None:
    from typer.testing import CliRunner

    from experiments.cli import app
    from tests.regen_golden import ROOT

    configs = [str(ROOT / "configs" / "scenarios" / f"{case}.toml") for case in ("baseline", "smart_farming")]
    tables = []
    for backend in ("serial", "processes"):
        out = tmp_path_factory.mktemp(backend) / "cmp"
        result = CliRunner().invoke(app, ["compare", *configs, "--replicates", "3", "--out", str(out),
                                          "--backend", backend, "--workers", "2", "--no-progress"])
        assert result.exit_code == 0, result.output
        tables.append((out / "comparison.csv").read_text(encoding="utf-8"))
    assert tables[0] == tables[1] and "smart_farming" in tables[0]


@pytest.mark.parametrize("command", ["run", "compare", "validate"])
def test_bad_backend_options_exit_2_before_any_run(command: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from typer.testing import CliRunner

    from experiments.cli import app
    from tests.regen_golden import ROOT

    config = str(ROOT / "configs" / "scenarios" / "baseline.toml")
    args = {"run": ["run", config], "compare": ["compare", config, config], "validate": ["validate"]}[command]
    out = tmp_path_factory.mktemp("bad") / "out"
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--backend", "spark"])
    assert result.exit_code == 2 and "--backend spark: unknown backend; allowed: serial, processes, dask" in result.output
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--scheduler", "tcp://h:1", "--workers", "2"])
    assert result.exit_code == 2 and "leave out --workers" in result.output
    assert not out.exists()
