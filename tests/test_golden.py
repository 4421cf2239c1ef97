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

