"""Tests for prefetch resolution: absent, null, Bundle, paginated Bundle and OperationOutcome values."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from responses import matchers

from cds_service.fhir_client import FhirClient
from cds_service.fhir_reader import Deadline, FhirReader, MemoryFhirReader, Unreachable
from cds_service.prefetch import DataUnavailable, Gathered, gather, is_read, render_template
from cds_service.prefetch import read_references as read_through

BASE = "https://ehr.example.org/fhir/R4"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.prefetch-secret-token"
PATIENT_ID = "smart-1288992"
CONTEXT = {"userId": "Practitioner/prac-77", "patientId": PATIENT_ID, "encounterId": "enc-55"}
TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "alp": "Observation?patient={{context.patientId}}&code=http://loinc.org|6768-6&_sort=-date&_count=50",
    "meds": "MedicationRequest?patient={{context.patientId}}&status=active",
}
ALP_PARAMS = {"patient": PATIENT_ID, "code": "http://loinc.org|6768-6", "_sort": "-date", "_count": "50"}
MEDS_PARAMS = {"patient": PATIENT_ID, "status": "active"}
PATIENT_URL = f"{BASE}/Patient/{PATIENT_ID}"
OBSERVATION_URL = f"{BASE}/Observation"
MEDREQ_URL = f"{BASE}/MedicationRequest"
WITH_TOKEN = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})

PATIENT = {
    "resourceType": "Patient",
    "id": PATIENT_ID,
    "gender": "female",
    "birthDate": "1958-11-02",
    "name": [{"family": "Okafor", "given": ["Adaeze"]}],
}


def alp(obs_id: str, value: float, day: str) -> dict:
    """Build a final serum ALP Observation in U/L for the test patient."""
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "6768-6", "display": "Alkaline phosphatase"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, "unit": "U/L", "system": "http://unitsofmeasure.org", "code": "U/L"},
    }


def alendronate_order(order_id: str) -> dict:
    """Build an active MedicationRequest for weekly alendronate 70 mg."""
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "904421",
                    "display": "alendronate 70 MG Oral Tablet",
                }
            ]
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "authoredOn": "2024-05-02",
    }


def outcome(severity: str = "error") -> dict:
    """Build an OperationOutcome like the one a CDS client sends for a failed prefetch."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": "exception", "diagnostics": "prefetch query failed"}],
    }


def bundle(resources: list[dict], next_link: str | None = None, outcomes: Sequence[dict] = ()) -> dict:
    """Build a searchset Bundle, with OperationOutcome entries in search mode `outcome`."""
    result: dict = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]
        + [{"resource": o, "search": {"mode": "outcome"}} for o in outcomes],
    }
    if next_link:
        result["link"] = [{"relation": "next", "url": next_link}]
    return result


ALPS = [alp("alp-1", 31, "2024-01-10"), alp("alp-2", 29, "2024-03-12"), alp("alp-3", 33, "2024-05-01")]
ORDERS = [alendronate_order("mr-1")]


@pytest.fixture
def executor():
    """Give each test a small thread pool."""
    pool = ThreadPoolExecutor(max_workers=4)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class Access:
    """A call's reader of the test server and its deadline."""

    reader: FhirReader
    deadline: Deadline


def access(server: str | None = BASE, token: str | None = TOKEN, seconds: float = 30.0) -> Access:
    """Return the HTTP reader of the test server (or none) with a deadline that many seconds away."""
    deadline = Deadline(time.monotonic, time.monotonic() + seconds)
    if server is None:
        return Access(Unreachable("no FHIR server"), deadline)
    return Access(FhirClient().reader(server, token=token, deadline=deadline.at), deadline)


def resolve_available(templates, prefetch, context, through: Access, executor, core) -> tuple[dict, frozenset]:
    """Gather the templates' data through the reader; return the data and the unavailable keys."""
    gathered = gather(templates, prefetch, context, through.reader, through.deadline, executor, core=core)
    return gathered.data, gathered.unavailable


def resolve(templates, prefetch, context, through: Access, executor) -> dict:
    """Gather the templates' data, every key required."""
    return resolve_available(templates, prefetch, context, through, executor, core=templates.keys())[0]


def read_references(references, through: Access, executor) -> dict:
    """Read references through the reader before the deadline."""
    return read_through(references, through.reader, through.deadline, executor)


def full_prefetch() -> dict:
    """Return a complete, valid prefetch for TEMPLATES."""
    return {"patient": PATIENT, "alp": bundle(ALPS), "meds": bundle(ORDERS)}


def assert_phi_free(exc: BaseException) -> None:
    """Check that a reason names neither the token, the patient id nor the server."""
    text = str(exc)
    assert TOKEN not in text and PATIENT_ID not in text and "ehr.example.org" not in text


@responses.activate(assert_all_requests_are_fired=True)
def test_absent_keys_are_fetched_from_the_server_with_the_token(executor):
    responses.get(PATIENT_URL, json=PATIENT, match=[WITH_TOKEN])
    responses.get(OBSERVATION_URL, json=bundle(ALPS), match=[matchers.query_param_matcher(ALP_PARAMS), WITH_TOKEN])
    responses.get(MEDREQ_URL, json=bundle(ORDERS), match=[matchers.query_param_matcher(MEDS_PARAMS), WITH_TOKEN])

    result = resolve(TEMPLATES, {}, CONTEXT, access(), executor)

    assert result == {"patient": PATIENT, "alp": ALPS, "meds": ORDERS}
    assert list(result) == list(TEMPLATES)


@responses.activate(assert_all_requests_are_fired=True)
def test_missing_prefetch_object_fetches_everything(executor):
    responses.get(PATIENT_URL, json=PATIENT)
    responses.get(OBSERVATION_URL, json=bundle([]))
    responses.get(MEDREQ_URL, json=bundle(ORDERS))

    assert resolve(TEMPLATES, None, CONTEXT, access(), executor) == {"patient": PATIENT, "alp": [], "meds": ORDERS}


@responses.activate(assert_all_requests_are_fired=True)
def test_absent_key_on_an_open_server_is_fetched_without_authorization(executor):
    responses.get(OBSERVATION_URL, json=bundle(ALPS), match=[matchers.query_param_matcher(ALP_PARAMS)])
    prefetch = {"patient": PATIENT, "meds": bundle(ORDERS)}

    result = resolve(TEMPLATES, prefetch, CONTEXT, access(token=None), executor)

    assert result["alp"] == ALPS
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_complete_prefetch_makes_no_call(executor):
    result = resolve(TEMPLATES, full_prefetch(), CONTEXT, access(), executor)

    assert result == {"patient": PATIENT, "alp": ALPS, "meds": ORDERS}
    assert len(responses.calls) == 0


@responses.activate
def test_absent_key_without_a_server_is_data_unavailable_naming_the_key(executor):
    prefetch = {"patient": PATIENT, "meds": bundle(ORDERS)}

    with pytest.raises(DataUnavailable) as caught:
        resolve(TEMPLATES, prefetch, CONTEXT, access(server=None), executor)

    assert str(caught.value) == "prefetch 'alp' unavailable: no FHIR server"
    assert len(responses.calls) == 0


@responses.activate
def test_null_means_no_data_and_makes_no_call(executor):
    result = resolve(TEMPLATES, {"patient": None, "alp": None, "meds": None}, CONTEXT, access(), executor)

    assert result == {"patient": None, "alp": [], "meds": []}
    assert len(responses.calls) == 0


@responses.activate
def test_empty_bundle_means_no_data_and_makes_no_call(executor):
    prefetch = {**full_prefetch(), "alp": bundle([])}

    assert resolve(TEMPLATES, prefetch, CONTEXT, access(), executor)["alp"] == []
    assert len(responses.calls) == 0


@pytest.mark.parametrize("bundle_type", [None, "collection"], ids=["type-missing", "collection"])
@responses.activate
def test_a_bundle_without_searchset_type_is_accepted_for_a_search_key(executor, bundle_type):
    alp_bundle = bundle(ALPS)
    if bundle_type is None:
        del alp_bundle["type"]
    else:
        alp_bundle["type"] = bundle_type

    result = resolve(TEMPLATES, {**full_prefetch(), "alp": alp_bundle}, CONTEXT, access(server=None), executor)

    assert result["alp"] == ALPS


@responses.activate
def test_informational_operation_outcome_entries_are_ignored(executor):
    prefetch = {**full_prefetch(), "alp": bundle(ALPS, outcomes=[outcome("information")])}

    assert resolve(TEMPLATES, prefetch, CONTEXT, access(), executor)["alp"] == ALPS
    assert len(responses.calls) == 0


@responses.activate(assert_all_requests_are_fired=True)
def test_paginated_bundle_is_continued_with_the_token(executor):
    page2 = f"{BASE}?_getpages=9f8e&_getpagesoffset=2"
    responses.get(
        BASE,
        json=bundle(ALPS[2:]),
        match=[matchers.query_param_matcher({"_getpages": "9f8e", "_getpagesoffset": "2"}), WITH_TOKEN],
    )
    prefetch = {**full_prefetch(), "alp": bundle(ALPS[:2], page2)}

    assert resolve(TEMPLATES, prefetch, CONTEXT, access(), executor)["alp"] == ALPS
    assert len(responses.calls) == 1


@responses.activate
def test_paginated_bundle_without_a_server_is_data_unavailable(executor):
    prefetch = {**full_prefetch(), "alp": bundle(ALPS[:2], f"{BASE}?_getpages=9f8e&_getpagesoffset=2")}

    with pytest.raises(DataUnavailable, match="^prefetch 'alp' unavailable: no FHIR server$"):
        resolve(TEMPLATES, prefetch, CONTEXT, access(server=None), executor)


@responses.activate
def test_paginated_bundle_pointing_to_another_server_is_data_unavailable(executor):
    elsewhere = responses.get("https://cdn.example.net/fhir", json=bundle(ALPS[2:]))
    prefetch = {**full_prefetch(), "alp": bundle(ALPS[:2], "https://cdn.example.net/fhir?page=2")}

    with pytest.raises(DataUnavailable, match="^prefetch 'alp' unavailable: FHIR next link leaves the FHIR server$"):
        resolve(TEMPLATES, prefetch, CONTEXT, access(), executor)

    assert elsewhere.call_count == 0


@pytest.mark.parametrize(
    "value",
    [outcome("error"), outcome("fatal"), bundle(ALPS[:1], outcomes=[outcome("error")])],
    ids=["outcome", "fatal-outcome", "bundle-with-error-outcome"],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_failed_search_prefetch_is_fetched_again(executor, value):
    responses.get(OBSERVATION_URL, json=bundle(ALPS), match=[matchers.query_param_matcher(ALP_PARAMS), WITH_TOKEN])

    result = resolve(TEMPLATES, {**full_prefetch(), "alp": value}, CONTEXT, access(), executor)

    assert result["alp"] == ALPS


@pytest.mark.parametrize(
    "value",
    [outcome("error"), bundle(ALPS[:1], outcomes=[outcome("fatal")]), [ALPS[0]], "Bundle", ALPS[0]],
    ids=["outcome", "bundle-with-fatal-outcome", "list", "string", "bare-observation"],
)
def test_a_failed_search_prefetch_without_a_server_is_data_unavailable(executor, value):
    with pytest.raises(DataUnavailable, match="^prefetch 'alp' unavailable: no FHIR server$"):
        resolve(TEMPLATES, {**full_prefetch(), "alp": value}, CONTEXT, access(server=None), executor)


@pytest.mark.parametrize(
    "value",
    [outcome("error"), {**PATIENT, "resourceType": "Practitioner"}, bundle([PATIENT]), [PATIENT], "Patient", {}],
    ids=["outcome", "wrong-type", "bundle", "list", "string", "no-type"],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_malformed_read_prefetch_is_fetched_again(executor, value):
    responses.get(PATIENT_URL, json=PATIENT, match=[WITH_TOKEN])

    result = resolve(TEMPLATES, {**full_prefetch(), "patient": value}, CONTEXT, access(), executor)

    assert result["patient"] == PATIENT


@responses.activate
def test_a_read_prefetch_of_the_wrong_type_without_a_server_is_data_unavailable(executor):
    prefetch = {**full_prefetch(), "patient": {**PATIENT, "resourceType": "RelatedPerson"}}

    with pytest.raises(DataUnavailable, match="^prefetch 'patient' unavailable: no FHIR server$"):
        resolve(TEMPLATES, prefetch, CONTEXT, access(server=None), executor)


@responses.activate(assert_all_requests_are_fired=True)
def test_a_read_of_a_missing_resource_gives_none_unless_the_rule_needs_it(executor):
    responses.get(PATIENT_URL, status=404)
    prefetch = {k: v for k, v in full_prefetch().items() if k != "patient"}

    data, unavailable = resolve_available(TEMPLATES, prefetch, CONTEXT, access(), executor, core={"alp"})
    assert data["patient"] is None and unavailable == frozenset()


@responses.activate
def test_an_unknown_patient_is_unavailable_when_the_rule_needs_it(executor):
    responses.get(PATIENT_URL, status=404)
    prefetch = {k: v for k, v in full_prefetch().items() if k != "patient"}

    with pytest.raises(DataUnavailable, match="^prefetch 'patient' unavailable: FHIR server has no such resource$"):
        resolve(TEMPLATES, prefetch, CONTEXT, access(), executor)


@pytest.mark.parametrize(
    ("mock", "reason"),
    [
        ({"status": 401}, "FHIR server answered 401 for Observation"),
        ({"status": 500, "body": f"stack trace for {PATIENT_ID}"}, "FHIR server answered 500 for Observation"),
        ({"body": requests.exceptions.ReadTimeout(f"{OBSERVATION_URL}?patient={PATIENT_ID}")}, "FHIR server timed out"),
        ({"body": "{not json"}, "FHIR server sent invalid JSON for Observation"),
    ],
    ids=["401", "500", "timeout", "invalid-json"],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_failed_fetch_is_data_unavailable_naming_the_key_without_phi(executor, mock, reason):
    responses.get(OBSERVATION_URL, **mock)
    prefetch = {k: v for k, v in full_prefetch().items() if k != "alp"}

    with pytest.raises(DataUnavailable) as caught:
        resolve(TEMPLATES, prefetch, CONTEXT, access(), executor)

    assert str(caught.value) == f"prefetch 'alp' unavailable: {reason}"
    assert_phi_free(caught.value)


@responses.activate
def test_a_template_needing_a_context_field_the_request_lacks_is_data_unavailable(executor):
    templates = {"encounter": "Encounter/{{context.encounterId}}"}

    with pytest.raises(DataUnavailable, match="^prefetch 'encounter' unavailable: the request lacks a context field$"):
        resolve(templates, {}, {"patientId": PATIENT_ID}, access(), executor)

    assert len(responses.calls) == 0


@responses.activate
def test_prefetch_keys_without_a_template_are_ignored(executor):
    prefetch = {**full_prefetch(), "other-service-key": bundle([PATIENT])}

    assert set(resolve(TEMPLATES, prefetch, CONTEXT, access(), executor)) == set(TEMPLATES)


@responses.activate(assert_all_requests_are_fired=True)
def test_missing_keys_are_fetched_in_parallel(executor):
    # Both callbacks must be inside the server at once to pass the barrier; a serial resolver breaks it.
    barrier = threading.Barrier(2, timeout=5)
    threads = set()

    def answer(document: dict):
        def callback(request):
            threads.add(threading.get_ident())
            barrier.wait()
            return 200, {"Content-Type": "application/fhir+json"}, json.dumps(document)

        return callback

    responses.add_callback(responses.GET, OBSERVATION_URL, callback=answer(bundle(ALPS)))
    responses.add_callback(responses.GET, MEDREQ_URL, callback=answer(bundle(ORDERS)))

    result = resolve(TEMPLATES, {"patient": PATIENT}, CONTEXT, access(), executor)

    assert result == {"patient": PATIENT, "alp": ALPS, "meds": ORDERS}
    assert len(threads) == 2


@responses.activate
def test_a_fetch_still_running_at_the_deadline_is_data_unavailable(executor):
    release = threading.Event()

    def hang(request):
        release.wait(10)
        return 200, {}, json.dumps(bundle(ALPS))

    responses.add_callback(responses.GET, OBSERVATION_URL, callback=hang)
    prefetch = {k: v for k, v in full_prefetch().items() if k != "alp"}
    started = time.monotonic()
    try:
        with pytest.raises(DataUnavailable, match="^prefetch 'alp' unavailable: FHIR deadline passed$"):
            resolve(TEMPLATES, prefetch, CONTEXT, access(seconds=0.2), executor)
        waited = time.monotonic() - started
    finally:
        release.set()
        executor.shutdown(wait=True)

    assert waited < 5


@responses.activate
def test_a_passed_deadline_makes_no_call(executor):
    mock = responses.get(OBSERVATION_URL, json=bundle(ALPS))
    prefetch = {k: v for k, v in full_prefetch().items() if k != "alp"}

    with pytest.raises(DataUnavailable):
        resolve(TEMPLATES, prefetch, CONTEXT, access(seconds=-1), executor)

    assert mock.call_count == 0


MEDICATION = {
    "resourceType": "Medication",
    "id": "med-risedronate",
    "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1746021"}]},
}
ZOLEDRONIC = {
    "resourceType": "Medication",
    "id": "med-zoledronic",
    "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "77655"}]},
}


@responses.activate(assert_all_requests_are_fired=True)
def test_read_references_fetches_each_reference_once_and_in_parallel(executor):
    barrier = threading.Barrier(2, timeout=5)

    def answer(document: dict):
        def callback(request):
            barrier.wait()
            return 200, {}, json.dumps(document)

        return callback

    first = responses.add_callback(responses.GET, f"{BASE}/Medication/med-risedronate", callback=answer(MEDICATION))
    second = responses.add_callback(responses.GET, f"{BASE}/Medication/med-zoledronic", callback=answer(ZOLEDRONIC))
    references = ["Medication/med-risedronate", "Medication/med-zoledronic", "Medication/med-risedronate"]

    found = read_references(references, access(), executor)

    assert found == {"Medication/med-risedronate": MEDICATION, "Medication/med-zoledronic": ZOLEDRONIC}
    assert first.call_count == 1 and second.call_count == 1
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in responses.calls)


@responses.activate(assert_all_requests_are_fired=True)
def test_read_references_treats_a_missing_resource_as_unavailable(executor):
    responses.get(f"{BASE}/Patient/{PATIENT_ID}", status=404)

    with pytest.raises(DataUnavailable) as caught:
        read_references([f"Patient/{PATIENT_ID}"], access(), executor)

    assert str(caught.value) == "Patient reference unavailable: FHIR server has no such resource"
    assert_phi_free(caught.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_read_references_reports_a_server_error_without_the_id(executor):
    responses.get(f"{BASE}/Medication/med-risedronate", status=503)

    with pytest.raises(DataUnavailable) as caught:
        read_references(["Medication/med-risedronate"], access(), executor)

    assert str(caught.value) == "Medication reference unavailable: FHIR server answered 503 for Medication"


@pytest.mark.parametrize(
    ("references", "server", "reason"),
    [
        (["Medication/m1"], None, "Medication reference unavailable: no FHIR server"),
        (["#med1"], BASE, "reference unavailable: not a relative Type/id reference"),
        ([f"{BASE}/Medication/m1"], BASE, "reference unavailable: not a relative Type/id reference"),
    ],
)
@responses.activate
def test_read_references_refuses_what_it_cannot_fetch(executor, references, server, reason):
    with pytest.raises(DataUnavailable) as caught:
        read_references(references, access(server=server), executor)

    assert str(caught.value) == reason
    assert len(responses.calls) == 0


def test_read_references_of_nothing_needs_no_server(executor):
    assert read_references([], access(server=None), executor) == {}


def test_render_template_quotes_context_values():
    context = {"patientId": "a b/c?d&e#f", "count": 3, "flag": True}

    template = "Observation?patient={{context.patientId}}&_count={{ context.count }}&x={{context.flag}}"

    rendered = render_template(template, context)

    assert rendered == "Observation?patient=a%20b%2Fc%3Fd%26e%23f&_count=3&x=true"


@pytest.mark.parametrize(
    "template",
    [
        "Patient/{{context.missing}}",
        "Patient/{{patientId}}",
        "Patient/{{context.medication.id}}",
        "Patient/{{context.draftOrders}}",
        "Patient/{{context.nothing}}",
        "Patient/{{userPractitionerId}}",
    ],
)
def test_render_template_refuses_unknown_or_non_primitive_tokens(template):
    context = {"patientId": PATIENT_ID, "draftOrders": {"resourceType": "Bundle"}, "nothing": None}

    with pytest.raises(ValueError):
        render_template(template, context)


@given(st.text(min_size=1, max_size=40))
def test_rendered_values_cannot_change_the_query_structure(value):
    rendered = render_template("Observation?patient={{context.patientId}}&code=6768-6", {"patientId": value})

    assert rendered.startswith("Observation?patient=") and rendered.endswith("&code=6768-6")
    inserted = rendered[len("Observation?patient=") : -len("&code=6768-6")]
    assert not set(inserted) & set("/?&#= {}")


@pytest.mark.parametrize(
    ("template", "read"),
    [
        ("Patient/{{context.patientId}}", True),
        ("Encounter/{{context.encounterId}}", True),
        ("Observation?patient={{context.patientId}}", False),
        ("Patient?_id={{context.patientId}}", False),
        ("Observation", False),
    ],
)
def test_is_read(template, read):
    assert is_read(template) is read


def test_the_reader_repr_hides_the_token():
    assert TOKEN not in repr(access().reader)


# --- core and optional keys ------------------------------------------------------------------------------


@responses.activate
def test_an_optional_key_that_fails_is_reported_unavailable_and_the_rest_returned(executor):
    prefetch = {"patient": {"resourceType": "Patient", "id": PATIENT_ID}}
    responses.get(f"{BASE}/Observation", status=503)
    data, unavailable = resolve_available(
        {"patient": TEMPLATES["patient"], "alp": TEMPLATES["alp"]},
        prefetch,
        CONTEXT,
        access(),
        executor,
        core={"patient"},
    )
    assert (data, unavailable) == ({"patient": {"resourceType": "Patient", "id": PATIENT_ID}}, frozenset({"alp"}))


@responses.activate
def test_a_core_key_that_fails_is_data_unavailable(executor):
    responses.get(f"{BASE}/Observation", status=503)
    with pytest.raises(DataUnavailable, match="prefetch 'alp' unavailable: FHIR server answered 503"):
        resolve_available({"alp": TEMPLATES["alp"]}, {}, CONTEXT, access(), executor, core={"alp"})


def test_an_optional_key_without_a_server_is_unavailable_not_fatal(executor):
    data, unavailable = resolve_available(
        {"alp": TEMPLATES["alp"]}, {}, CONTEXT, access(server=None), executor, core=()
    )
    assert (data, unavailable) == ({}, frozenset({"alp"}))


# --- resources a search includes (_include) -----------------------------------------------------------------

INCLUDED = {"fullUrl": f"{BASE}/Medication/med-risedronate", "resource": MEDICATION, "search": {"mode": "include"}}


def with_included(result: dict) -> dict:
    """Return a searchset Bundle with the risedronate Medication added as an included entry."""
    return {**result, "entry": [*result["entry"], INCLUDED]}


@responses.activate(assert_all_requests_are_fired=True)
def test_an_included_resource_of_a_fetched_search_is_kept_apart_from_the_matches(executor):
    responses.get(MEDREQ_URL, json=with_included(bundle(ORDERS)), match=[matchers.query_param_matcher(MEDS_PARAMS)])
    prefetch = {k: v for k, v in full_prefetch().items() if k != "meds"}
    through = access()

    gathered = gather(TEMPLATES, prefetch, CONTEXT, through.reader, through.deadline, executor, core=())

    assert gathered == Gathered({"patient": PATIENT, "alp": ALPS, "meds": ORDERS}, [INCLUDED], frozenset())


def test_an_included_resource_of_a_prefetched_bundle_is_kept_apart_from_the_matches(executor):
    prefetch = {**full_prefetch(), "meds": with_included(bundle(ORDERS))}
    through = access(server=None)

    gathered = gather(TEMPLATES, prefetch, CONTEXT, through.reader, through.deadline, executor, core=())

    assert gathered.data["meds"] == ORDERS and gathered.included == [INCLUDED]


def test_included_resources_of_every_page_are_collected(executor):
    page2 = with_included(bundle(ORDERS[:0]))
    reader = MemoryFhirReader({"page-2": page2}, BASE)
    prefetch = {**full_prefetch(), "meds": with_included(bundle(ORDERS, f"{BASE}/page-2"))}

    gathered = gather(TEMPLATES, prefetch, CONTEXT, reader, access().deadline, executor, core=())

    assert gathered.data["meds"] == ORDERS and gathered.included == [INCLUDED, INCLUDED]
    assert reader.requests == ["page-2"]


def test_the_queries_run_in_one_round_through_the_reader(executor):
    reader = MemoryFhirReader({}, BASE)

    gathered = gather(TEMPLATES, {}, CONTEXT, reader, access().deadline, executor, core=("alp",))

    assert sorted(reader.requests) == sorted(render_template(t, CONTEXT) for t in TEMPLATES.values())
    assert gathered.data == {"patient": None, "alp": [], "meds": []}
