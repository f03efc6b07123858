"""Tests for cards.workup: the HPP work-up as draft LOINC-coded ServiceRequests."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cards.workup import (
    ALPL_SEQUENCING,
    PYRIDOXAL_PHOSPHATE,
    REPEAT_ALP,
    hpp_workup,
    needs_genetics,
    service_request,
)
from hooks.findings import Pattern

BIOCHEMISTRY = ["6768-6", "62236-5", "13789-3", "17861-6", "2777-1", "2731-8", "62292-8", "19123-9", "5763-8"]


def codes(done: frozenset[str] = frozenset()) -> list[str]:
    """Return the LOINC codes of the work-up with these tests already on file, in order."""
    return [test.loinc for test in hpp_workup(done)]


def test_the_biochemical_workup_includes_magnesium_and_zinc_and_never_genetics() -> None:
    assert codes() == BIOCHEMISTRY


@pytest.mark.parametrize(
    "done, missing",
    [(frozenset({"plp"}), "62236-5"), (frozenset({"pea"}), "13789-3"), (frozenset({"plp", "pea"}), None)],
)
def test_the_workup_orders_only_the_substrates_not_yet_on_file(done: frozenset[str], missing: str | None) -> None:
    ordered = codes(done)
    assert ordered[0] == "6768-6" and {"19123-9", "5763-8"} <= set(ordered)
    assert ("62236-5" in ordered) is ("plp" not in done) and ("13789-3" in ordered) is ("pea" not in done)


@pytest.mark.parametrize(
    "pattern, offered",
    [(Pattern.PERSISTENT, True), (Pattern.RECURRENT, True), (Pattern.SINGLE_LOW, False), (Pattern.NONE, False)],
)
def test_alpl_sequencing_may_follow_only_a_low_alp_that_keeps_coming_back(pattern: Pattern, offered: bool) -> None:
    assert needs_genetics(pattern) is offered


def test_repeat_alp_order_is_a_draft_loinc_coded_service_request_for_the_patient() -> None:
    assert service_request(REPEAT_ALP, "pat-1") == {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "6768-6",
                    "display": "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
                }
            ],
            "text": "Alkaline phosphatase (ALP)",
        },
        "subject": {"reference": "Patient/pat-1"},
    }


def test_alpl_order_uses_the_full_mutation_analysis_code() -> None:
    coding = service_request(ALPL_SEQUENCING, "pat-1")["code"]["coding"][0]
    assert coding["code"] == "77084-2"
    assert coding["display"].startswith("ALPL gene full mutation analysis")


def test_plp_order_tells_the_patient_to_stop_vitamin_b6() -> None:
    assert "vitamin B6" in service_request(PYRIDOXAL_PHOSPHATE, "pat-1")["patientInstruction"]


def test_orders_without_instructions_have_no_instruction_member() -> None:
    assert "patientInstruction" not in service_request(REPEAT_ALP, "pat-1")


@pytest.mark.parametrize("done", [frozenset(), frozenset({"plp"})])
def test_every_workup_order_is_a_valid_r4b_service_request_without_id(done: frozenset[str]) -> None:
    orders = [service_request(test, "pat-1") for test in [*hpp_workup(done), ALPL_SEQUENCING]]
    assert len(orders) == len(hpp_workup(done)) + 1
    for order in orders:
        assert "id" not in order
        parsed = ServiceRequest.model_validate(order)
        assert parsed.subject.reference == "Patient/pat-1"
        assert parsed.code.coding[0].system == "http://loinc.org"
        assert parsed.code.text


def test_every_test_has_a_distinct_code_display_and_name() -> None:
    tests = [*hpp_workup(), ALPL_SEQUENCING]
    for attribute in ("loinc", "display", "name"):
        values = [getattr(t, attribute) for t in tests]
        assert all(values)
        assert len(set(values)) == len(values)


def test_an_order_needs_a_patient() -> None:
    with pytest.raises(ValueError):
        service_request(REPEAT_ALP, "")
