"""docs/ODD.md describes the model as built: its parameter table matches sim/params.py."""

from experiments.cli.odd_table import ODD, with_current_table
from sim import SERIES_FIELDS, parameter_table


def test_odd_parameter_table_is_current():
    text = ODD.read_text(encoding="utf-8")
    assert text == with_current_table(text), "docs/ODD.md is stale: run `python -m experiments.cli.odd_table`"


def test_odd_names_every_parameter_and_process():
    text = ODD.read_text(encoding="utf-8")
    for row in parameter_table():
        assert f"`{row.name}`" in text
    for process in ("Turnover", "Strategy transfer", "Agenda and questions", "Matching", "Running pilots",
                    "Commitment update", "Monitoring and intervention", "Funding", "Continuation decisions",
                    "Embedding", "Intake", "Data collection"):
        assert f"**{process}**" in text, process
    assert "composition" in text and all(name.split("_")[0] in text for name in SERIES_FIELDS)
