"""The parameter table: complete, consistent, frozen and strict."""

from __future__ import annotations

import pydantic
import pytest

from sim.params import Params, parameter_table, success_factors

#: The success factors of model-spec section 7, as parameter names.
SPEC_SUCCESS_FACTORS = {
    "management_turnover_rate", "interim_length_months", "internal_communication", "initial_embedding",
    "teacher_turnover_rate", "subsidy_share", "subsidy_duration_months", "school_cofunding_willingness",
    "clarity_of_financial_agreements", "agenda_strength", "meeting_interval_months", "monitoring_level",
    "initial_physical_proximity", "initial_cognitive_proximity", "initial_organisational_proximity",
    "initial_social_proximity", "entrepreneur_count", "entrepreneur_engagement", "complex_question_share",
    "student_autonomy", "external_stress", "demographic_trend", "outside_provider_presence",
    "rival_school_presence", "coaching_capacity",
}


def test_every_success_factor_of_the_spec_is_a_flagged_parameter():
    assert SPEC_SUCCESS_FACTORS <= set(success_factors())


@pytest.mark.parametrize("row", parameter_table(), ids=lambda row: row.name)
def test_each_parameter_is_documented_and_consistent(row):
    assert row.unit and row.description and row.source and row.group
    assert row.low <= row.default <= row.high, "default outside the plausible range"
    if row.valid_min is not None:
        assert row.low >= row.valid_min
    if row.valid_max is not None:
        assert row.high <= row.valid_max
    assert row.low < row.high


def test_params_are_frozen_and_refuse_unknown_fields_and_wrong_types():
    params = Params()
    with pytest.raises(pydantic.ValidationError):
        params.management_turnover_rate = 2.0
    with pytest.raises(pydantic.ValidationError):
        Params(management_turnover=0.3)
    with pytest.raises(pydantic.ValidationError):
        Params(management_turnover_rate="high")
    with pytest.raises(pydantic.ValidationError):
        Params(teacher_count=2.5)
    with pytest.raises(pydantic.ValidationError):
        Params(agenda_strength=1.5)


def test_question_shares_cannot_exceed_one():
    with pytest.raises(pydantic.ValidationError, match="at most 1"):
        Params(simple_question_share=0.7, complex_question_share=0.5)
