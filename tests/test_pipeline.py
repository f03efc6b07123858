"""run_hook without Flask or HTTP: one hook call through an in-memory FHIR server, counting what it reads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cds_service.fhir_reader import Deadline, FhirError, MemoryFhirReader, Unreachable
from cds_service.hook_request import parse_hook_request
from cds_service.pipeline import HookCall, Shell, run_hook
from cds_service.prefetch import DataUnavailable, render_template
from cds_service.services import SERVICES_BY_ID
from cds_service.site import DEFAULT_SITE
from cds_service.store import Store
from hooks.policy import Policy
from tests.conftest import NOW, counting_uuids, full_prefetch, hook_request, load_fhir

BASE = "https://ehr.example.org/fhir"
PATIENT_ID = "pat-hpp-1"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ALENDRONATE = {
    "resourceType": "Medication",
    "id": "aln",
    "code": {"coding": [{"system": RXNORM, "code": "904431", "display": "alendronic acid 70 MG Oral Tablet"}]},
}
ORDER = {
    "resourceType": "MedicationRequest",
    "id": "mr-aln",
    "status": "active",
    "intent": "order",
    "medicationReference": {"reference": "Medication/aln"},
    "subject": {"reference": f"Patient/{PATIENT_ID}"},
    "authoredOn": "2026-02-01",
}


def medications_bundle(*, included: bool = True, reference: str = "Medication/aln") -> dict:
    """Return the MedicationRequest search's Bundle: one order of a referenced drug, the drug included or not."""
    entries: list[dict] = [
        {
            "fullUrl": f"{BASE}/MedicationRequest/mr-aln",
            "resource": {**ORDER, "medicationReference": {"reference": reference}},
            "search": {"mode": "match"},
        }
    ]
    if included:
        entries.append({"fullUrl": f"{BASE}/Medication/aln", "resource": ALENDRONATE, "search": {"mode": "include"}})
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def server(service_id: str, prefetch: dict[str, Any], **documents: Any) -> MemoryFhirReader:
    """Return an in-memory FHIR server answering each of the service's templates with the prefetch's value."""
    context = {"patientId": PATIENT_ID}
    stored: dict[str, Any] = {}
    for key, template in SERVICES_BY_ID[service_id].prefetch.items():
        stored[render_template(template, context)] = prefetch[key]
    stored.update(documents)
    return MemoryFhirReader(stored, BASE)


@pytest.fixture
def shell(database_url: str) -> Iterator[Shell]:
    """Return the shell of a call: a fresh store, a thread pool, the default policy and site."""
    executor = ThreadPoolExecutor(max_workers=8)
    yield Shell(
        Store(database_url),
        executor,
        Policy(),
        DEFAULT_SITE,
        counting_uuids(),
        lambda topic: f"https://cds.example.org/cards/{topic.value}",
    )
    executor.shutdown(wait=True)


def call(service_id: str, reader: Any, prefetch: dict | None = None, drafts: str | dict | None = None) -> HookCall:
    """Return a hook call of the service for the test patient, reading through `reader`, deadline 30 s away."""
    service = SERVICES_BY_ID[service_id]
    body = hook_request(
        service.hook,
        patient_id=PATIENT_ID,
        prefetch=prefetch,
        draft_orders=load_fhir(drafts) if isinstance(drafts, str) else drafts,
        fhir_server=BASE,
    )
    request = parse_hook_request(body, service.hook, service.required_context)
    deadline = Deadline(time.monotonic, time.monotonic() + 30)
    return HookCall(service, request, None, reader, deadline, NOW, f"scope\x1f{PATIENT_ID}")


def topics(answer: dict) -> list[tuple[str, str]]:
    return [(c["source"]["topic"]["code"], c["indicator"]) for c in answer["cards"]]


def test_an_order_sign_without_prefetch_reads_each_template_once_and_nothing_else(shell):
    record = full_prefetch(medications="medications-active-alendronate.json")
    reader = server("low-alp-order-sign", record)

    answer = run_hook(call("low-alp-order-sign", reader, drafts="draft-orders-sandbox-alendronate.json"), shell)

    assert sorted(reader.requests) == sorted(
        render_template(t, {"patientId": PATIENT_ID}) for t in SERVICES_BY_ID["low-alp-order-sign"].prefetch.values()
    )
    assert ("low-alp-antiresorptive", "warning") in topics(answer)


def test_a_drug_the_search_included_needs_no_read_of_its_own(shell):
    reader = server("low-alp-patient-view", {**full_prefetch(), "medications": medications_bundle()})

    answer = run_hook(call("low-alp-patient-view", reader), shell)

    assert "Medication/aln" not in reader.requests
    assert len(reader.requests) == len(SERVICES_BY_ID["low-alp-patient-view"].prefetch)  # one round, every key once
    # The included Medication names the drug: on an antiresorptive despite low ALP, not "low ALP not evaluated".
    assert topics(answer) == [("low-alp-antiresorptive", "warning")]


def test_a_drug_the_server_did_not_include_is_read_once_after_the_searches(shell):
    prefetch = {**full_prefetch(), "medications": medications_bundle(included=False)}
    reader = server("low-alp-patient-view", prefetch, **{"Medication/aln": ALENDRONATE})

    answer = run_hook(call("low-alp-patient-view", reader), shell)

    assert reader.requests.count("Medication/aln") == 1 and reader.requests[-1] == "Medication/aln"
    assert topics(answer) == [("low-alp-antiresorptive", "warning")]


def test_an_absolute_reference_is_resolved_by_the_included_entrys_full_url(shell):
    bundle = medications_bundle(reference=f"{BASE}/Medication/aln")
    bundle["entry"][1]["resource"] = {**ALENDRONATE, "id": "other-id"}  # only the fullUrl matches the reference
    reader = server("low-alp-patient-view", {**full_prefetch(), "medications": bundle})

    answer = run_hook(call("low-alp-patient-view", reader), shell)

    assert not any(r.startswith("Medication/") for r in reader.requests)
    assert topics(answer) == [("low-alp-antiresorptive", "warning")]


def test_a_prefetch_answered_with_included_medications_needs_no_fhir_server(shell):
    prefetch = {**full_prefetch(), "medications": medications_bundle()}

    answer = run_hook(call("low-alp-patient-view", Unreachable("no FHIR server"), prefetch=prefetch), shell)

    assert topics(answer) == [("low-alp-antiresorptive", "warning")]


def test_an_included_drug_is_not_taken_for_a_match(shell):
    # Were the included Medication a result of the MedicationRequest search, it would be one more record, read as an
    # unreadable order; as an include it only names the drug. The card is the same as with the drug inline.
    inline = {**full_prefetch(), "medications": medications_bundle(included=False)}
    inline["medications"]["entry"][0]["resource"] = {
        **ORDER,
        "medicationReference": None,
        "medicationCodeableConcept": ALENDRONATE["code"],
    }
    del inline["medications"]["entry"][0]["resource"]["medicationReference"]
    expected = run_hook(call("low-alp-patient-view", Unreachable("no FHIR server"), prefetch=inline), shell)
    answer = run_hook(
        call(
            "low-alp-patient-view",
            Unreachable("no FHIR server"),
            prefetch={**full_prefetch(), "medications": medications_bundle()},
        ),
        shell,
    )
    assert [c["detail"] for c in answer["cards"]] == [c["detail"] for c in expected["cards"]]


def test_a_drug_that_cannot_be_read_leaves_the_record_card_on_what_is_known(shell):
    prefetch = {**full_prefetch(), "medications": medications_bundle(included=False)}
    reader = server("low-alp-patient-view", prefetch, **{"Medication/aln": FhirError("FHIR server answered 503")})

    answer = run_hook(call("low-alp-patient-view", reader), shell)

    assert reader.requests.count("Medication/aln") == 1
    # Answered, not 412: only the drug of an order being signed is required (as through HTTP, tests/test_api.py).
    assert topics(answer) == [("low-alp-unevaluated", "info")]


def test_a_draft_orders_drug_that_cannot_be_read_is_412(shell):
    reader = server("low-alp-order-sign", full_prefetch())

    with pytest.raises(DataUnavailable, match="^Medication reference unavailable: FHIR server has no such resource$"):
        drafts = {"resourceType": "Bundle", "entry": [{"resource": {**ORDER, "id": "draft", "status": "draft"}}]}
        run_hook(call("low-alp-order-sign", reader, drafts=drafts), shell)

    assert reader.requests == ["Medication/aln"]  # the gate needs the drug: the record is not searched without it


def test_without_a_server_a_missing_core_key_is_412_naming_it(shell):
    prefetch = full_prefetch()
    del prefetch["alp"]

    with pytest.raises(DataUnavailable, match="^prefetch 'alp' unavailable: no FHIR server$"):
        run_hook(call("low-alp-patient-view", Unreachable("no FHIR server"), prefetch=prefetch), shell)


def test_an_order_for_a_drug_that_is_not_an_antiresorptive_reads_nothing(shell):
    reader = server("low-alp-order-sign", full_prefetch())

    answer = run_hook(call("low-alp-order-sign", reader, drafts="draft-orders-atorvastatin.json"), shell)

    assert answer == {"cards": []} and reader.requests == []
