"""Tests for the FHIR client: search, read, pagination, limits and errors, against `responses` mocks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence

import pytest
import requests
import responses
from responses import matchers

from cds_service.fhir_client import FhirClient, FhirError

BASE = "https://fhir.example.org/r4"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-access-token"
PATIENT_ID = "pat-8472"
ALP_QUERY = f"Observation?patient={PATIENT_ID}&code=http://loinc.org|6768-6&_sort=-date&_count=50"
ALP_PARAMS = {"patient": PATIENT_ID, "code": "http://loinc.org|6768-6", "_sort": "-date", "_count": "50"}
OBSERVATION_URL = f"{BASE}/Observation"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def alp_observation(obs_id: str, value: float, day: str) -> dict:
    """Build a final ALP Observation in U/L for the test patient."""
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "6768-6",
                    "display": "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
                }
            ]
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{day}T08:30:00Z",
        "valueQuantity": {"value": value, "unit": "U/L", "system": "http://unitsofmeasure.org", "code": "U/L"},
        "referenceRange": [{"low": {"value": 40, "unit": "U/L"}, "high": {"value": 129, "unit": "U/L"}}],
    }


def operation_outcome(severity: str) -> dict:
    """Build an OperationOutcome with one issue of the given severity."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": "processing", "diagnostics": "search partially failed"}],
    }


def searchset(resources: list[dict], next_link: str | None = None, outcomes: Sequence[dict] = ()) -> dict:
    """Build a searchset Bundle page, with OperationOutcome entries in search mode `outcome`."""
    bundle: dict = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": f"{BASE}/Observation?patient={PATIENT_ID}"}],
        "entry": [
            {"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ]
        + [{"resource": o, "search": {"mode": "outcome"}} for o in outcomes],
    }
    if next_link:
        bundle["link"].append({"relation": "next", "url": next_link})
    return bundle


PATIENT = {
    "resourceType": "Patient",
    "id": PATIENT_ID,
    "gender": "female",
    "birthDate": "1961-04-17",
    "name": [{"family": "Lindqvist", "given": ["Maja"]}],
}
OBS = [alp_observation(f"alp-{i}", 28 + i, f"2024-0{i + 1}-15") for i in range(6)]


def later(seconds: float = 30.0) -> float:
    """Return a monotonic deadline that many seconds from now."""
    return time.monotonic() + seconds


def page_url(n: int) -> str:
    """Return the URL of result page n, as a HAPI-style paging link."""
    return f"{BASE}?_getpages=a1b2c3&_getpagesoffset={2 * n}&_count=2"


def page_matcher(n: int) -> list:
    """Match the request for result page n."""
    return [matchers.query_param_matcher({"_getpages": "a1b2c3", "_getpagesoffset": str(2 * n), "_count": "2"})]


def assert_phi_free(exc: BaseException) -> None:
    """Check that an error names neither the token, the patient id nor the server."""
    text = str(exc)
    assert TOKEN not in text and PATIENT_ID not in text and "fhir.example.org" not in text


@responses.activate(assert_all_requests_are_fired=True)
def test_search_returns_the_entries_of_a_single_page_and_sends_fhir_headers():
    responses.get(
        OBSERVATION_URL,
        json=searchset(OBS[:2]),
        headers=FHIR_JSON,
        match=[
            matchers.query_param_matcher(ALP_PARAMS),
            matchers.header_matcher({"Accept": "application/fhir+json", "Authorization": f"Bearer {TOKEN}"}),
        ],
    )

    found = FhirClient().search(BASE + "/", ALP_QUERY, token=TOKEN, deadline=later())

    assert found.matches == OBS[:2] and found.included == []


@responses.activate(assert_all_requests_are_fired=True)
def test_search_sends_no_authorization_header_without_a_token():
    responses.get(OBSERVATION_URL, json=searchset(OBS[:1]), match=[matchers.query_param_matcher(ALP_PARAMS)])

    FhirClient().search(BASE, ALP_QUERY, token=None, deadline=later())

    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate(assert_all_requests_are_fired=True)
def test_netrc_credentials_are_never_sent(tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine fhir.example.org login admin password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    responses.get(OBSERVATION_URL, json=searchset([]))

    FhirClient().search(BASE, ALP_QUERY, token=None, deadline=later())

    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate(assert_all_requests_are_fired=True)
def test_search_follows_next_links_across_three_pages_with_the_token():
    auth = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
    responses.get(
        OBSERVATION_URL,
        json=searchset(OBS[0:2], page_url(1)),
        match=[matchers.query_param_matcher(ALP_PARAMS), auth],
    )
    responses.get(BASE, json=searchset(OBS[2:4], page_url(2)), match=[*page_matcher(1), auth])
    responses.get(BASE, json=searchset(OBS[4:6]), match=[*page_matcher(2), auth])

    found = FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())

    assert found.matches == OBS
    assert len(responses.calls) == 3


@responses.activate(assert_all_requests_are_fired=True)
def test_relative_next_link_is_resolved_against_the_page_url():
    responses.get(
        OBSERVATION_URL, json=searchset(OBS[:1], "Observation?page=2"), match=[matchers.query_param_matcher(ALP_PARAMS)]
    )
    responses.get(OBSERVATION_URL, json=searchset(OBS[1:2]), match=[matchers.query_param_matcher({"page": "2"})])

    assert FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later()).matches == OBS[:2]


@pytest.mark.parametrize(
    "foreign",
    [
        "https://evil.example.net/r4?page=2",
        "https://fhir.example.org:8443/r4?page=2",
        "http://fhir.example.org/r4?page=2",
    ],
    ids=["other-host", "other-port", "other-scheme"],
)
@responses.activate
def test_next_link_to_another_origin_is_refused_and_gets_no_token(foreign):
    responses.get(OBSERVATION_URL, json=searchset(OBS[:2], foreign))
    elsewhere = responses.get(foreign.split("?")[0], json=searchset(OBS[2:4]))

    with pytest.raises(FhirError) as caught:
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())

    assert caught.value.reason == "FHIR next link leaves the FHIR server"
    assert elsewhere.call_count == 0
    assert [call.request.url.split("?")[0] for call in responses.calls] == [OBSERVATION_URL]


@responses.activate(assert_all_requests_are_fired=True)
def test_default_https_port_counts_as_the_same_origin():
    responses.get(OBSERVATION_URL, json=searchset(OBS[:1], "https://FHIR.example.org:443/r4?page=2"))
    responses.get(
        "https://fhir.example.org:443/r4",
        json=searchset(OBS[1:2]),
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )

    assert FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later()).matches == OBS[:2]


@responses.activate
def test_more_pages_than_the_limit_is_an_error_and_stops_fetching():
    responses.get(OBSERVATION_URL, json=searchset(OBS[0:2], page_url(1)))
    responses.get(BASE, json=searchset(OBS[2:4], page_url(2)), match=page_matcher(1))
    third = responses.get(BASE, json=searchset(OBS[4:6]), match=page_matcher(2))

    with pytest.raises(FhirError, match="^too many result pages$"):
        FhirClient(max_pages=2).search(BASE, ALP_QUERY, token=TOKEN, deadline=later())

    assert third.call_count == 0


@responses.activate(assert_all_requests_are_fired=True)
def test_exactly_max_pages_is_allowed():
    responses.get(OBSERVATION_URL, json=searchset(OBS[0:2], page_url(1)))
    responses.get(BASE, json=searchset(OBS[2:4], page_url(2)), match=page_matcher(1))
    responses.get(BASE, json=searchset(OBS[4:6]), match=page_matcher(2))

    assert FhirClient(max_pages=3).search(BASE, ALP_QUERY, token=TOKEN, deadline=later()).matches == OBS


@responses.activate
def test_a_next_link_pointing_back_at_itself_ends_at_the_page_limit():
    loop = responses.get(BASE, json=searchset(OBS[:1], page_url(1)), match=page_matcher(1))
    responses.get(OBSERVATION_URL, json=searchset(OBS[:1], page_url(1)))

    with pytest.raises(FhirError, match="^too many result pages$"):
        FhirClient(max_pages=4).search(BASE, ALP_QUERY, token=TOKEN, deadline=later())

    assert loop.call_count == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 429, 500, 503])
@responses.activate(assert_all_requests_are_fired=True)
def test_search_error_status_is_a_fhir_error_naming_status_and_type(status):
    responses.get(OBSERVATION_URL, status=status, json=operation_outcome("error"))

    with pytest.raises(FhirError) as caught:
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())

    assert str(caught.value) == caught.value.reason == f"FHIR server answered {status} for Observation"


@responses.activate(assert_all_requests_are_fired=True)
def test_error_on_a_later_page_is_a_fhir_error():
    responses.get(OBSERVATION_URL, json=searchset(OBS[:2], page_url(1)))
    responses.get(BASE, status=500, body="<html>Internal error for patient pat-8472</html>", match=page_matcher(1))

    with pytest.raises(FhirError) as caught:
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())

    assert caught.value.reason == "FHIR server answered 500 for Observation"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (requests.exceptions.ReadTimeout, "FHIR server timed out"),
        (requests.exceptions.ConnectTimeout, "FHIR server timed out"),
        (requests.exceptions.ConnectionError, "FHIR server unreachable"),
        (requests.exceptions.ChunkedEncodingError, "FHIR server unreachable"),
    ],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_transport_errors_become_phi_free_fhir_errors(error, reason):
    leaky = f"HTTPSConnectionPool(host='fhir.example.org'): /r4/Observation?patient={PATIENT_ID} token={TOKEN}"
    responses.get(OBSERVATION_URL, body=error(leaky))

    with pytest.raises(FhirError) as caught:
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())

    assert caught.value.reason == reason
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert_phi_free(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        b'{"resourceType": "Bundle", "type": "searchset", "entry": [',
        b"<html>oops</html>",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b"",
    ],
    ids=["truncated", "html", "bad-bytes", "array", "empty"],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_body_that_is_not_a_json_object_is_a_fhir_error(body):
    responses.get(OBSERVATION_URL, body=body, headers=FHIR_JSON)

    with pytest.raises(FhirError, match="^FHIR server sent invalid JSON for Observation$"):
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())


@pytest.mark.parametrize(
    "document",
    [
        {"resourceType": "Bundle", "type": "collection", "entry": []},
        {"resourceType": "Bundle", "entry": []},
        operation_outcome("error"),
        alp_observation("alp-x", 30, "2024-05-01"),
    ],
    ids=["collection", "no-type", "operation-outcome", "bare-resource"],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_search_answer_that_is_not_a_searchset_bundle_is_a_fhir_error(document):
    responses.get(OBSERVATION_URL, json=document)

    with pytest.raises(FhirError, match="^FHIR server did not answer with a search Bundle$"):
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())


@responses.activate(assert_all_requests_are_fired=True)
def test_an_entry_list_that_is_not_a_list_is_a_fhir_error():
    responses.get(OBSERVATION_URL, json={"resourceType": "Bundle", "type": "searchset", "entry": {"a": 1}})

    with pytest.raises(FhirError, match="^malformed FHIR Bundle$"):
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())


@responses.activate(assert_all_requests_are_fired=True)
def test_broken_entries_are_passed_on_for_the_readers_to_report_and_empty_ones_dropped():
    entries = [{"search": {"mode": "match"}}, {"resource": {"id": "x"}}, "x", {"resource": OBS[0]}]
    responses.get(OBSERVATION_URL, json={"resourceType": "Bundle", "type": "searchset", "entry": entries})

    assert FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later()).matches == [{"id": "x"}, "x", OBS[0]]


@responses.activate(assert_all_requests_are_fired=True)
def test_informational_operation_outcome_entries_are_skipped():
    responses.get(OBSERVATION_URL, json=searchset(OBS[:2], outcomes=[operation_outcome("warning")]))

    assert FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later()).matches == OBS[:2]


@pytest.mark.parametrize("severity", ["error", "fatal"])
@responses.activate(assert_all_requests_are_fired=True)
def test_failing_operation_outcome_entries_are_a_fhir_error(severity):
    responses.get(OBSERVATION_URL, json=searchset(OBS[:2], outcomes=[operation_outcome(severity)]))

    with pytest.raises(FhirError, match="^FHIR server reported an error in the Bundle$"):
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())


@responses.activate
def test_a_redirect_is_not_followed():
    responses.get(OBSERVATION_URL, status=302, headers={"Location": "https://login.example.net/r4/Observation"})
    target = responses.get("https://login.example.net/r4/Observation", json=searchset(OBS[:1]))

    with pytest.raises(FhirError, match="^FHIR server redirected the Observation request$"):
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())

    assert target.call_count == 0


@responses.activate
def test_a_body_larger_than_the_limit_is_refused_while_streaming():
    bundle = searchset(OBS)
    size = len(json.dumps(bundle).encode())
    responses.get(OBSERVATION_URL, json=bundle)

    with pytest.raises(FhirError, match="^FHIR response too large$"):
        FhirClient(max_response_bytes=size - 1).search(BASE, ALP_QUERY, token=TOKEN, deadline=later())


@responses.activate
def test_a_body_exactly_at_the_limit_is_accepted():
    bundle = searchset(OBS)
    size = len(json.dumps(bundle).encode())
    responses.get(OBSERVATION_URL, json=bundle)

    assert FhirClient(max_response_bytes=size).search(BASE, ALP_QUERY, token=TOKEN, deadline=later()).matches == OBS


@responses.activate
def test_a_declared_length_over_the_limit_is_refused_before_reading():
    responses.get(OBSERVATION_URL, json=searchset([]), headers={"Content-Length": str(50 * 1024 * 1024)})

    with pytest.raises(FhirError, match="^FHIR response too large$"):
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=later())


@responses.activate
def test_a_passed_deadline_makes_no_call():
    mock = responses.get(OBSERVATION_URL, json=searchset(OBS[:1]))

    with pytest.raises(FhirError, match="^FHIR deadline passed$"):
        FhirClient().search(BASE, ALP_QUERY, token=TOKEN, deadline=time.monotonic() - 0.001)

    assert mock.call_count == 0


@responses.activate
def test_a_slow_first_page_stops_the_search_before_the_next_page(monkeypatch):
    clock = [1000.0]

    def first_page(request):
        clock[0] += 5.0  # the server took 5 s to answer
        return 200, {}, json.dumps(searchset(OBS[:2], page_url(1)))

    responses.add_callback(responses.GET, OBSERVATION_URL, callback=first_page)
    second = responses.get(BASE, json=searchset(OBS[2:4]), match=page_matcher(1))

    with pytest.raises(FhirError):
        FhirClient(clock=lambda: clock[0]).search(BASE, ALP_QUERY, token=TOKEN, deadline=1003.0)

    assert second.call_count == 0


@responses.activate(assert_all_requests_are_fired=True)
def test_each_call_gets_connect_and_read_timeouts_capped_by_the_deadline():
    responses.get(OBSERVATION_URL, json=searchset([]))
    responses.get(f"{BASE}/Patient/{PATIENT_ID}", json=PATIENT)
    client = FhirClient(timeout_seconds=1.5)

    client.search(BASE, ALP_QUERY, token=TOKEN, deadline=later(60))
    client.read(BASE, f"Patient/{PATIENT_ID}", token=TOKEN, deadline=later(0.4))

    assert responses.calls[0].request.req_kwargs["timeout"] == (1.5, 1.5)
    connect, read = responses.calls[1].request.req_kwargs["timeout"]
    assert connect == read and 0 < read <= 0.4


@responses.activate(assert_all_requests_are_fired=True)
def test_read_returns_the_resource_with_the_token():
    responses.get(
        f"{BASE}/Patient/{PATIENT_ID}",
        json=PATIENT,
        match=[matchers.header_matcher({"Accept": "application/fhir+json", "Authorization": f"Bearer {TOKEN}"})],
    )

    assert FhirClient().read(BASE, f"Patient/{PATIENT_ID}", token=TOKEN, deadline=later()) == PATIENT


@pytest.mark.parametrize("status", [404, 410])
@responses.activate(assert_all_requests_are_fired=True)
def test_read_of_a_missing_or_deleted_resource_returns_none(status):
    responses.get(f"{BASE}/Patient/{PATIENT_ID}", status=status, json=operation_outcome("error"))

    assert FhirClient().read(BASE, f"Patient/{PATIENT_ID}", token=TOKEN, deadline=later()) is None


@pytest.mark.parametrize("status", [401, 500])
@responses.activate(assert_all_requests_are_fired=True)
def test_read_error_status_is_a_fhir_error(status):
    responses.get(f"{BASE}/Patient/{PATIENT_ID}", status=status)

    with pytest.raises(FhirError) as caught:
        FhirClient().read(BASE, f"Patient/{PATIENT_ID}", token=TOKEN, deadline=later())

    assert caught.value.reason == f"FHIR server answered {status} for Patient"
    assert_phi_free(caught.value)


@pytest.mark.parametrize("document", [operation_outcome("error"), {**PATIENT, "resourceType": "Person"}, {"id": "x"}])
@responses.activate(assert_all_requests_are_fired=True)
def test_read_of_the_wrong_resource_type_is_a_fhir_error(document):
    responses.get(f"{BASE}/Patient/{PATIENT_ID}", json=document)

    with pytest.raises(FhirError, match="^FHIR server sent the wrong resource type for Patient$"):
        FhirClient().read(BASE, f"Patient/{PATIENT_ID}", token=TOKEN, deadline=later())


@pytest.mark.parametrize(
    "reference",
    [
        "Patient/../Observation",
        "Patient/..",
        "https://evil.example.net/Patient/1",
        "#contained",
        "Patient",
        "patient/1",
        "Patient/a/b",
    ],
)
@responses.activate
def test_read_refuses_a_reference_that_is_not_type_slash_id(reference):
    with pytest.raises(FhirError, match="^invalid FHIR reference$"):
        FhirClient().read(BASE, reference, token=TOKEN, deadline=later())

    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    "base", ["ftp://fhir.example.org/r4", "fhir.example.org/r4", "https://fhir.example.org:99999/r4"]
)
@responses.activate
def test_a_server_url_that_is_not_http_is_refused(base):
    with pytest.raises(FhirError, match="^invalid FHIR server URL$"):
        FhirClient().search(base, ALP_QUERY, token=TOKEN, deadline=later())

    assert len(responses.calls) == 0


@responses.activate(assert_all_requests_are_fired=True)
def test_continue_bundle_fetches_the_next_pages_of_a_bundle_in_hand():
    auth = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
    responses.get(BASE, json=searchset(OBS[2:4], page_url(2)), match=[*page_matcher(1), auth])
    responses.get(BASE, json=searchset(OBS[4:6]), match=[*page_matcher(2), auth])
    in_hand = searchset(OBS[0:2], page_url(1))
    del in_hand["type"]

    assert FhirClient().continue_bundle(in_hand, BASE, token=TOKEN, deadline=later()).matches == OBS


@responses.activate
def test_continue_bundle_counts_the_page_in_hand_toward_the_limit():
    second = responses.get(BASE, json=searchset(OBS[2:4], page_url(2)), match=page_matcher(1))

    with pytest.raises(FhirError, match="^too many result pages$"):
        FhirClient(max_pages=1).continue_bundle(searchset(OBS[:2], page_url(1)), BASE, token=TOKEN, deadline=later())

    assert second.call_count == 0


@responses.activate
def test_continue_bundle_refuses_a_next_link_to_another_origin():
    elsewhere = responses.get("https://evil.example.net/r4", json=searchset(OBS[2:4]))

    with pytest.raises(FhirError, match="^FHIR next link leaves the FHIR server$"):
        FhirClient().continue_bundle(
            searchset(OBS[:2], "https://evil.example.net/r4?page=2"), BASE, token=TOKEN, deadline=later()
        )

    assert elsewhere.call_count == 0


@responses.activate
def test_continue_bundle_names_the_held_type_in_errors():
    responses.get(BASE, status=500, match=page_matcher(1))

    with pytest.raises(FhirError, match="^FHIR server answered 500 for Observation$"):
        FhirClient().continue_bundle(searchset(OBS[:2], page_url(1)), BASE, token=TOKEN, deadline=later())


def test_continue_bundle_without_next_link_makes_no_call_and_rejects_non_bundles():
    with responses.RequestsMock() as mock:
        assert FhirClient().continue_bundle(searchset(OBS[:2]), BASE, token=TOKEN, deadline=later()).matches == OBS[:2]
        with pytest.raises(FhirError, match="^not a FHIR Bundle$"):
            FhirClient().continue_bundle(operation_outcome("error"), BASE, token=TOKEN, deadline=later())
        assert len(mock.calls) == 0


def test_each_thread_gets_its_own_session():
    client = FhirClient()
    sessions = []
    worker = threading.Thread(target=lambda: sessions.append(client._session()))
    worker.start()
    worker.join()

    assert client._session() is client._session()
    assert sessions[0] is not client._session()
    assert "Authorization" not in client._session().headers


@responses.activate(assert_all_requests_are_fired=True)
def test_a_body_still_arriving_at_the_deadline_is_a_timeout():
    clock = [0.0]
    reads = []

    def headers_then_slow_body(request):
        clock[0] = 50.0  # the headers came in time; the body is read once the deadline (10 s) has passed
        return 200, FHIR_JSON, json.dumps(searchset(OBS))

    def now() -> float:
        reads.append(clock[0])
        return clock[0]

    responses.add_callback(responses.GET, OBSERVATION_URL, callback=headers_then_slow_body)

    with pytest.raises(FhirError, match="^FHIR server timed out$"):
        FhirClient(clock=now).search(BASE, ALP_QUERY, token=TOKEN, deadline=10.0)
    assert 50.0 in reads and max(r for r in reads if r < 50.0) == 0.0  # the deadline was checked before the call


@pytest.mark.parametrize("junk", ["junk", 7, {"foo": 1}, {"resourceType": 5}])
@responses.activate(assert_all_requests_are_fired=False)
def test_junk_entries_in_a_paginated_bundle_are_passed_on_not_a_crash(junk):
    first = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": junk}],
        "link": [{"relation": "next", "url": f"{OBSERVATION_URL}?page=2"}],
    }
    responses.get(
        OBSERVATION_URL, json={"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": OBS[0]}]}
    )
    assert FhirClient().continue_bundle(first, BASE, token=TOKEN, deadline=later()).matches == [junk, OBS[0]]
