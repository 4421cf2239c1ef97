"""Scenario files: valid ones load; every kind of bad input raises ConfigError naming file, field, value, allowed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from experiments.config.scenario import load_scenario
from experiments.config.reading import ConfigError, format_number
from sim import Params, parameter_table

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "scenarios" / "baseline.toml"

ROWS = {row.name: row for row in parameter_table()}


def allowed(name: str) -> str:
    """The valid range as the message must state it, read from the parameter table (not hard-coded)."""
    row = ROWS[name]
    return f"{format_number(row.valid_min)} to {format_number(row.valid_max)}"


#: (case id, file text, substrings the message must contain: file is added by the test)
BAD_INPUTS = [
    (
        "unknown-field",
        'name = "x"\n[parameters]\nmanagement_turnover = 0.3\n',
        ["'management_turnover'", "= 0.3", "unknown", "did you mean 'management_turnover_rate'"],
    ),
    (
        "out-of-range",
        'name = "x"\n[parameters]\nmanagement_turnover_rate = 99.0\n',
        ["'management_turnover_rate'", "= 99.0", "out of range", f"allowed: {allowed('management_turnover_rate')}"],
    ),
    (
        "below-range",
        'name = "x"\n[parameters]\nteacher_count = 0\n',
        ["'teacher_count'", "= 0", f"allowed: {allowed('teacher_count')}"],
    ),
    (
        "float-for-int",
        'name = "x"\n[parameters]\nhorizon_months = 24.5\n',
        ["'horizon_months'", "= 24.5", "wrong type", "an integer", allowed("horizon_months")],
    ),
    (
        "string-for-float",
        'name = "x"\n[parameters]\nexternal_stress = "high"\n',
        ["'external_stress'", '= "high"', "wrong type (string)", "a number", allowed("external_stress")],
    ),
    (
        "bool-for-int",
        'name = "x"\n[parameters]\nteacher_count = true\n',
        ["'teacher_count'", "= true", "wrong type (boolean)", "an integer"],
    ),
    (
        "malformed-toml",
        'name = "x"\n[parameters]\nexternal_stress = 0.3x\n',
        ["malformed TOML", "line 3, column", "external_stress = 0.3x", "allowed: TOML syntax"],
    ),
    (
        "cross-field",
        'name = "x"\n[parameters]\nsimple_question_share = 0.7\ncomplex_question_share = 0.6\n',
        ["simple_question_share + complex_question_share = 1.3", "allowed: at most 1"],
    ),
    (
        "parameter-at-top-level",
        'name = "x"\nmanagement_turnover_rate = 0.3\n',
        ["unknown top-level key 'management_turnover_rate'", "= 0.3", "[parameters]"],
    ),
    (
        "missing-name",
        'description = "no name"\n',
        ["'name' is missing", "allowed: a string"],
    ),
    (
        "bad-name",
        'name = "../escape"\n',
        ["'name' = \"../escape\"", "letters, digits"],
    ),
    (
        "parameters-not-a-table",
        'name = "x"\nparameters = 3\n',
        ["'parameters' = 3", "allowed: a table"],
    ),
]


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_message_names_file_field_value_and_allowed(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message
    for part in expected:
        assert part in message, f"{part!r} missing from: {message}"
    # pydantic's raw wording never reaches the user.
    for raw in ("Input should", "validation error", "errors.pydantic.dev", "Extra inputs"):
        assert raw not in message


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "missing.toml"
    with pytest.raises(ConfigError, match="not found") as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a file"):
        load_scenario(tmp_path)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_scenario(path)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'name = "x"\n[parameters]\nmanagement_turnover_rate = -1.0\nhorizon_months = 1.5\nnonsense = 1\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert len(problems) == 3
    for name in ("management_turnover_rate", "horizon_months", "nonsense"):
        assert sum(f"'{name}'" in problem for problem in problems) == 1, problems


def test_overrides_apply_and_everything_else_is_default(tmp_path: Path) -> None:
    text = 'name = "small"\ndescription = "d"\n[parameters]\nhorizon_months = 24\nexternal_stress = 0.5\n'
    path = write(tmp_path, text)
    scenario = load_scenario(path)
    assert scenario.name == "small"
    assert scenario.description == "d"
    assert scenario.params.horizon_months == 24
    assert scenario.params.external_stress == 0.5
    expected = Params(horizon_months=24, external_stress=0.5)
    assert scenario.params == expected
    assert scenario.params.management_turnover_rate == Params().management_turnover_rate
    assert scenario.overrides == {"horizon_months": 24, "external_stress": 0.5}
    assert scenario.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_integer_is_accepted_for_a_float_parameter(tmp_path: Path) -> None:
    # TOML users write `subsidy_duration_months = 24`; refusing that would be pedantic.
    scenario = load_scenario(write(tmp_path, 'name = "x"\n[parameters]\nsubsidy_duration_months = 24\n'))
    assert scenario.params.subsidy_duration_months == 24.0


def test_baseline_scenario_loads() -> None:
    scenario = load_scenario(BASELINE)
    assert scenario.name == "baseline"
    assert scenario.params.horizon_months == 120
    assert scenario.description
