"""The FhirReader seam: Bundle entries split into matches and includes, pages, the in-memory reader, the timer."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import responses

from cds_service.fhir_client import FhirClient
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


# --- the in-memory reader answers as the HTTP reader does (same documents, same results) ----------------------

PAGED = {
    "MedicationRequest?patient=p1": searchset(
        {"resource": ORDER, "search": {"mode": "match"}},
        {"fullUrl": f"{BASE}/Medication/m1", "resource": DRUG, "search": {"mode": "include"}},
        next_link=f"{BASE}/page-2",
    ),
    "page-2": searchset({"resource": {**ORDER, "id": "mr-2"}}, next_link=f"{BASE}/page-3"),
    "page-3": searchset({"resource": {**ORDER, "id": "mr-3"}}),
    "Medication/m1": DRUG,
    "Observation?patient=p1": searchset(next_link="https://elsewhere.example/fhir/page-2"),
}


def http_reader(documents: dict, max_pages: int = 10) -> Any:
    """Return the HTTP reader of a `responses` server that answers each document at its URL, 404 otherwise."""

    def answer(request: Any) -> tuple[int, dict, str]:
        relative = request.url.removeprefix(f"{BASE}/")
        document = documents.get(relative)
        return (200, {}, json.dumps(document)) if document is not None else (404, {}, "{}")

    responses.add_callback(responses.GET, re.compile(re.escape(BASE) + r"/.*"), callback=answer)
    return FhirClient(max_pages=max_pages).reader(BASE, token="t", deadline=time.monotonic() + 30)


def both(documents: dict, max_pages: int = 10) -> list[Any]:
    """Return the HTTP reader and the in-memory reader of the same documents."""
    return [http_reader(documents, max_pages), MemoryFhirReader(documents, BASE, max_pages)]


def outcome(call: Callable[[], Any]) -> Any:
    """Return what a reader call gives, or the reason it failed."""
    try:
        return call()
    except FhirError as exc:
        return f"FhirError: {exc.reason}"


@responses.activate
def test_both_readers_give_the_same_pages_matches_and_includes():
    http, memory = both(PAGED)
    assert outcome(lambda: http.search("MedicationRequest?patient=p1")) == outcome(
        lambda: memory.search("MedicationRequest?patient=p1")
    )
    assert memory.search("MedicationRequest?patient=p1").matches == [
        ORDER,
        {**ORDER, "id": "mr-2"},
        {**ORDER, "id": "mr-3"},
    ]


@responses.activate
def test_both_readers_read_a_resource_and_give_none_for_a_missing_one():
    for reader in both(PAGED):
        assert (reader.read("Medication/m1"), reader.read("Medication/m9")) == (DRUG, None)


@pytest.mark.parametrize(
    ("query", "max_pages", "reason"),
    [
        ("Observation?patient=p1", 10, "FhirError: FHIR next link leaves the FHIR server"),
        ("MedicationRequest?patient=p1", 2, "FhirError: too many result pages"),
    ],
)
@responses.activate
def test_both_readers_refuse_the_same_way(query, max_pages, reason):
    assert [outcome(lambda r=r: r.search(query)) for r in both(PAGED, max_pages)] == [reason, reason]


@responses.activate
def test_both_readers_continue_a_bundle_in_hand():
    in_hand = PAGED["MedicationRequest?patient=p1"]
    http, memory = both(PAGED)
    assert http.continue_search(in_hand) == memory.continue_search(in_hand)
    assert len(memory.continue_search(in_hand).matches) == 3
