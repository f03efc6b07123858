"""The FhirReader seam: Bundle entries split into matches and includes, pages, the in-memory reader, the timer."""

from __future__ import annotations

import pytest

from cds_service.fhir_reader import Deadline, FhirError, Found, MemoryFhirReader, Unreachable, split_entries

BASE = "https://fhir.example.org/r4"
ORDER = {"resourceType": "MedicationRequest", "id": "mr-1", "subject": {"reference": "Patient/p1"}}
DRUG = {"resourceType": "Medication", "id": "m1"}


def searchset(*entries: dict, next_link: str | None = None) -> dict:
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "entry": list(entries)}
    if next_link:
        bundle["link"] = [{"relation": "next", "url": next_link}]
    return bundle


def test_entries_in_search_mode_include_are_not_matches():
    included = {"fullUrl": f"{BASE}/Medication/m1", "resource": DRUG, "search": {"mode": "include"}}
    found = split_entries(searchset({"resource": ORDER, "search": {"mode": "match"}}, included))
    assert found == Found([ORDER], [included])


def test_entries_without_a_search_mode_are_matches():
    assert split_entries(searchset({"resource": ORDER}, {"resource": DRUG})) == Found([ORDER, DRUG], [])


def test_a_failing_operation_outcome_is_an_error_whatever_its_mode():
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}
    with pytest.raises(FhirError, match="reported an error"):
        split_entries(searchset({"resource": outcome, "search": {"mode": "include"}}))


def test_the_memory_reader_follows_pages_and_records_every_url():
    reader = MemoryFhirReader(
        {
            "MedicationRequest?patient=p1": searchset({"resource": ORDER}, next_link=f"{BASE}/page?2"),
            "page?2": searchset({"resource": DRUG, "search": {"mode": "include"}}),
        },
        BASE,
    )
    found = reader.search("MedicationRequest?patient=p1")
    assert found.matches == [ORDER] and [e["resource"] for e in found.included] == [DRUG]
    assert reader.requests == ["MedicationRequest?patient=p1", "page?2"]


def test_the_memory_reader_refuses_a_next_link_to_another_server_as_the_http_one_does():
    reader = MemoryFhirReader({"Observation?patient=p1": searchset(next_link="https://elsewhere.example/x")}, BASE)
    with pytest.raises(FhirError, match="^FHIR next link leaves the FHIR server$"):
        reader.search("Observation?patient=p1")


def test_the_memory_reader_answers_reads_none_when_missing_and_raises_stored_errors():
    reader = MemoryFhirReader({"Medication/m1": DRUG, "Medication/m2": FhirError("FHIR server answered 503")}, BASE)
    assert reader.read("Medication/m1") == DRUG
    assert reader.read("Medication/m9") is None
    with pytest.raises(FhirError, match="503"):
        reader.read("Medication/m2")
    with pytest.raises(FhirError, match="wrong resource type"):
        MemoryFhirReader({"Patient/p1": DRUG}, BASE).read("Patient/p1")


def test_an_unreachable_reader_fails_every_call_with_its_reason():
    reader = Unreachable("FHIR server not allowed")
    for attempt in (
        lambda: reader.read("Patient/p1"),
        lambda: reader.search("Observation"),
        lambda: reader.continue_search({}),
    ):
        with pytest.raises(FhirError, match="^FHIR server not allowed$"):
            attempt()
    assert reader.base is None


def test_the_deadline_counts_down_on_the_injected_clock():
    now = [100.0]
    deadline = Deadline(lambda: now[0], 102.0)
    assert deadline.remaining() == 2.0
    now[0] = 103.5
    assert deadline.remaining() == -1.5
