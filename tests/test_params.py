"""The parameter table: complete, consistent, frozen and strict."""

from __future__ import annotations

import re
from pathlib import Path

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


def _seed_document() -> Path | None:
    """The Dutch source document, next to the repository as ``shared/seed`` (main checkout or worktree)."""
    repo = Path(__file__).resolve().parents[1]
    for root in (repo.parent, repo.parent.parent):
        found = sorted((root / "shared" / "seed").glob("*.txt"))
        if found:
            return found[0]
    return None


@pytest.mark.skipif(_seed_document() is None, reason="the seed document is not next to the repository")
def test_every_quote_in_a_source_note_is_the_documents_own_words():
    """Quoted fragments ('...') in source notes appear verbatim in the seed document, diacritics included
    (line-break hyphenation and whitespace normalised; '...' separates fragments)."""
    text = _seed_document().read_text(encoding="utf-8")
    flat = re.sub(r"\s+", " ", re.sub(r"-\s*\n\s*", "", text)).lower()
    misquoted = []
    for row in parameter_table():
        if not row.source.startswith("seed document"):
            continue
        for quote in re.findall(r"'([^']{6,})'", row.source):
            for fragment in (part.strip().lower() for part in quote.split("...")):
                if fragment and re.sub(r"\s+", " ", fragment) not in flat:
                    misquoted.append((row.name, fragment))
    assert not misquoted
