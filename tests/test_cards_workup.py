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
    service_requests,
)
from hooks.findings import Pattern

BIOCHEMISTRY = ["6768-6", "62236-5", "13789-3", "17861-6", "2777-1", "2731-8", "62292-8"]


def codes(pattern: Pattern) -> list[str]:
    """Return the LOINC codes of the work-up for a pattern, in order."""
    return [test.loinc for test in hpp_workup(pattern)]


@pytest.mark.parametrize("pattern", [Pattern.PERSISTENT, Pattern.RECURRENT])
def test_workup_for_low_alp_that_keeps_coming_back_ends_with_alpl_sequencing(pattern: Pattern) -> None:
    assert codes(pattern) == [*BIOCHEMISTRY, "77084-2"]
    assert needs_genetics(pattern)


@pytest.mark.parametrize("pattern", [Pattern.SINGLE_LOW, Pattern.NONE])
def test_workup_after_a_single_low_alp_leaves_out_genetics(pattern: Pattern) -> None:
    assert codes(pattern) == BIOCHEMISTRY
    assert not needs_genetics(pattern)


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


@pytest.mark.parametrize("pattern", [Pattern.PERSISTENT, Pattern.SINGLE_LOW])
def test_every_workup_order_is_a_valid_r4b_service_request_without_id(pattern: Pattern) -> None:
    orders = service_requests(hpp_workup(pattern), "pat-1")
    assert len(orders) == len(hpp_workup(pattern))
    for order in orders:
        assert "id" not in order
        parsed = ServiceRequest.model_validate(order)
        assert parsed.subject.reference == "Patient/pat-1"
        assert parsed.code.coding[0].system == "http://loinc.org"
        assert parsed.code.text


def test_every_test_has_a_distinct_code_display_and_name() -> None:
    tests = hpp_workup(Pattern.PERSISTENT)
    for attribute in ("loinc", "display", "name"):
        values = [getattr(t, attribute) for t in tests]
        assert all(values)
        assert len(set(values)) == len(values)


def test_an_order_needs_a_patient() -> None:
    with pytest.raises(ValueError):
        service_request(REPEAT_ALP, "")
