"""The HTTP API end to end: discovery, both hooks, every prefetch shape, every error code, CORS, feedback."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import responses
from responses import matchers

from tests.cds_checks import assert_response_spec_exact
from tests.conftest import FHIR_SERVER, full_prefetch, hook_request, load_fhir

ORDER_SIGN = "/cds-services/low-alp-order-sign"
PATIENT_VIEW = "/cds-services/low-alp-patient-view"
SANDBOX_DRAFT = "draft-orders-sandbox-alendronate.json"


def order_sign(client, prefetch=None, drafts=SANDBOX_DRAFT, **kwargs) -> Any:
    body = hook_request("order-sign", prefetch=prefetch, draft_orders=load_fhir(drafts), **kwargs)
    return client.post(ORDER_SIGN, json=body)


def cards_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert_response_spec_exact(body)
    return body["cards"]


def topics(response) -> list[tuple[str, str]]:
    return [(c["source"]["topic"]["code"], c["indicator"]) for c in cards_of(response)]


# --- discovery --------------------------------------------------------------------------------------------

def test_discovery_lists_both_services(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.get_json()["services"]}
    assert {i: s["hook"] for i, s in services.items()} == {
        "low-alp-order-sign": "order-sign", "low-alp-order-select": "order-select",
        "low-alp-patient-view": "patient-view"}
    assert all(s["title"] and s["description"] and s["prefetch"] for s in services.values())


# --- order-sign -------------------------------------------------------------------------------------------

def test_order_sign_warns_about_alendronate_with_persistently_low_alp(client):
    (card,) = cards_of(order_sign(client, full_prefetch()))
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("warning", "low-alp-antiresorptive")
    assert "3 of 4" in card["summary"] and "28 U/L" in card["summary"]
    deletes = [a for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert deletes == [{"type": "delete", "description": deletes[0]["description"],
                        "resourceId": "MedicationRequest/request-123"}]
    work_up = [a["resource"]["code"]["coding"][0]["code"] for s in card["suggestions"] for a in s["actions"]
               if a["type"] == "create"]
    assert {"6768-6", "62236-5", "77084-2"} <= set(work_up)


def test_order_sign_for_another_drug_answers_no_cards_and_fetches_nothing(client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        response = order_sign(client, drafts="draft-orders-atorvastatin.json", fhir_server=FHIR_SERVER)
        assert len(mock.calls) == 0  # any FHIR call would also have raised ConnectionError
    assert response.status_code == 200 and response.get_json() == {"cards": []}


@pytest.mark.parametrize("prefetch, expected", [
    (dict(alp="alp-recurrent-low.json"), [("low-alp-antiresorptive", "info")]),  # recurrent alone is info
    (dict(alp="alp-single-low.json"), [("single-low-alp-antiresorptive", "info")]),
    (dict(alp="alp-normal.json"), []),
    (dict(alp="alp-ukat.json"), [("low-alp-antiresorptive", "warning")]),
    (dict(alp="alp-normal.json", conditions="conditions-hpp.json"), [("hpp-antiresorptive", "critical")]),
    (dict(alp="alp-normal.json", medications="medications-asfotase.json"), [("hpp-antiresorptive", "critical")]),
    (dict(workup="hpp-workup-plp.json"), [("low-alp-antiresorptive", "critical")]),
    (dict(workup="hpp-workup-plp-normal.json"), [("low-alp-antiresorptive", "warning")]),
    (dict(patient="patient-child-male.json", alp="alp-child-low.json"), [("low-alp-antiresorptive", "warning")]),
])
def test_order_sign_findings(client, prefetch, expected):
    assert topics(order_sign(client, full_prefetch(**prefetch))) == expected


def test_order_sign_gives_one_card_per_antiresorptive_draft(client):
    response = order_sign(client, full_prefetch(), drafts="draft-orders-medication-references.json")
    cards = cards_of(response)
    removed = [a["resourceId"] for c in cards for s in c["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert removed == ["MedicationRequest/draft-dmab", "MedicationRequest/draft-zol"]
    assert ["denosumab" in cards[0]["summary"], "zoledronic acid" in cards[1]["summary"]] == [True, True]


def test_unknown_extensions_and_context_fields_change_nothing(client):
    plain = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=load_fhir(SANDBOX_DRAFT))
    extended = json.loads(json.dumps(plain))
    extended["extension"] = {"com.example.timestamp": "2026-11-24T10:00:00Z"}
    extended["context"]["com.example.flag"] = True
    extended["context"]["encounterId"] = "enc-1"
    assert topics(client.post(ORDER_SIGN, json=extended)) == topics(client.post(ORDER_SIGN, json=plain))


# --- patient-view -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("prefetch, expected", [
    ({}, [("low-alp-unevaluated", "info")]),
    (dict(workup="hpp-workup-plp-normal.json"), []),
    (dict(workup="hpp-workup-plp.json"), [("hpp-likely", "warning")]),
    (dict(workup="hpp-workup-plp.json", medications="medications-active-alendronate.json"),
     [("low-alp-antiresorptive", "critical")]),
    (dict(conditions="conditions-hpp.json"), []),
    (dict(medications="medications-active-alendronate.json"), [("low-alp-antiresorptive", "warning")]),
    (dict(medications="medications-active-alendronate.json", conditions="conditions-hpp.json"),
     [("hpp-antiresorptive", "critical")]),
    (dict(alp="alp-recurrent-low.json"), []),
    (dict(alp="alp-normal.json"), []),
])
def test_patient_view_findings(client, prefetch, expected):
    body = hook_request("patient-view", prefetch=full_prefetch(**prefetch))
    assert topics(client.post(PATIENT_VIEW, json=body)) == expected


# --- FHIR access when prefetch is missing -----------------------------------------------------------------

def fhir_server(mock: responses.RequestsMock, *, token: str | None = None, alp="alp-persistent-low.json") -> None:
    """Serve the patient's record from a mock FHIR server, requiring the bearer token when given."""
    headers = [matchers.header_matcher({"Authorization": f"Bearer {token}"})] if token else []
    mock.get(f"{FHIR_SERVER}/Patient/pat-hpp-1", json=load_fhir("patient-adult-female.json"), match=headers)
    for resource, name in [("Observation", alp), ("Condition", "conditions-none.json"),
                           ("MedicationRequest", "medications-none.json"),
                           ("MedicationStatement", "medications-none.json"),
                           ("MedicationDispense", "medications-none.json"),
                           ("MedicationAdministration", "medications-none.json"),
                           ("Encounter", "medications-none.json")]:
        mock.get(f"{FHIR_SERVER}/{resource}", json=load_fhir(name),
                 match=[*headers, matchers.query_param_matcher({"patient": "pat-hpp-1"}, strict_match=False)])


def test_missing_prefetch_is_fetched_with_the_bearer_token(client):
    with responses.RequestsMock() as mock:
        fhir_server(mock, token="secret-token")
        response = order_sign(client, fhir_server=FHIR_SERVER, token="secret-token")
        # Patient, Condition, the four medication resources, Encounter, and Observation for ALP, the HPP work-up
        # and the safety labs.
        assert len(mock.calls) == 10
        assert sum(c.request.url.startswith(f"{FHIR_SERVER}/Observation?") for c in mock.calls) == 3
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


def test_an_open_fhir_server_is_called_without_authorization(client):
    with responses.RequestsMock() as mock:
        fhir_server(mock)
        response = order_sign(client, fhir_server=FHIR_SERVER)
        assert all("Authorization" not in call.request.headers for call in mock.calls)
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


def test_only_the_missing_keys_are_fetched(client):
    prefetch = full_prefetch()
    del prefetch["alp"]
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Observation", json=load_fhir("alp-persistent-low.json"))
        response = order_sign(client, prefetch, fhir_server=FHIR_SERVER)
        assert [c.request.url.split("?")[0] for c in mock.calls] == [f"{FHIR_SERVER}/Observation"]
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


def test_missing_prefetch_without_a_fhir_server_is_412(client):
    response = order_sign(client)
    assert response.status_code == 412
    assert "prefetch" in response.get_json()["error"]


@pytest.mark.parametrize("status", [401, 403, 500, 503])
def test_a_failing_fhir_server_is_412(client, status):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{FHIR_SERVER}/Observation", status=status, json={"resourceType": "OperationOutcome"})
        mock.get(f"{FHIR_SERVER}/Patient/pat-hpp-1", status=status)
        mock.get(f"{FHIR_SERVER}/Condition", status=status)
        mock.get(f"{FHIR_SERVER}/MedicationRequest", status=status)
        response = order_sign(client, fhir_server=FHIR_SERVER, token="t")
    assert response.status_code == 412


def test_a_slow_fhir_server_is_answered_412_within_the_deadline(app_config, monkeypatch):
    from cds_service import create_app

    app = create_app({**app_config, "request_deadline_seconds": 0.3})
    try:
        def slow(request):
            time.sleep(1.0)
            return 200, {}, json.dumps(load_fhir("alp-persistent-low.json"))

        prefetch = full_prefetch()
        del prefetch["alp"]
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.GET, f"{FHIR_SERVER}/Observation", callback=slow)
            started = time.monotonic()
            response = order_sign(app.test_client(), prefetch, fhir_server=FHIR_SERVER)
            elapsed = time.monotonic() - started
        assert response.status_code == 412
        assert elapsed < 0.9
    finally:
        app.extensions["alp_guard"].executor.shutdown(wait=True)


def test_null_prefetch_keys_mean_no_data_and_are_not_fetched(client):
    prefetch = full_prefetch()
    prefetch.update(conditions=None, medications=None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        response = order_sign(client, prefetch, fhir_server=FHIR_SERVER)
        assert len(mock.calls) == 0
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


def test_a_null_or_empty_alp_key_means_no_alp(client):
    for empty in (None, {"resourceType": "Bundle", "type": "searchset", "total": 0}):
        prefetch = full_prefetch()
        prefetch["alp"] = empty
        assert cards_of(order_sign(client, prefetch)) == []


def test_an_operation_outcome_in_prefetch_is_fetched_again(client):
    prefetch = full_prefetch()
    prefetch["alp"] = load_fhir("operation-outcome-error.json")
    assert order_sign(client, prefetch).status_code == 412
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Observation", json=load_fhir("alp-persistent-low.json"))
        response = order_sign(client, prefetch, fhir_server=FHIR_SERVER)
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


def test_a_paginated_prefetch_is_completed_from_the_server(client):
    full = load_fhir("alp-persistent-low.json")
    first = dict(full, entry=full["entry"][:1], link=[{"relation": "next", "url": f"{FHIR_SERVER}/Observation?page=2"}])
    second = dict(full, entry=full["entry"][1:], link=[])
    prefetch = full_prefetch()
    prefetch["alp"] = first
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Observation", json=second,
                 match=[matchers.header_matcher({"Authorization": "Bearer t"}), matchers.query_param_matcher({"page": "2"})])
        response = order_sign(client, prefetch, fhir_server=FHIR_SERVER, token="t")
    assert "3 of 4" in cards_of(response)[0]["summary"]


def test_a_draft_medication_on_the_server_is_read(client):
    drafts = {"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "d1", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/pat-hpp-1"}, "medicationReference": {"reference": "Medication/zol"}}}]}
    body = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=drafts, fhir_server=FHIR_SERVER)
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Medication/zol", json={"resourceType": "Medication", "id": "zol", "code": {
            "coding": [{"system": "http://www.whocc.no/atc", "code": "M05BA08"}]}})
        response = client.post(ORDER_SIGN, json=body)
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


# --- bad requests -----------------------------------------------------------------------------------------

def valid_body() -> dict:
    return hook_request("order-sign", prefetch=full_prefetch(), draft_orders=load_fhir(SANDBOX_DRAFT))


@pytest.mark.parametrize("mutate, reason", [
    (lambda b: b.pop("hook"), "hook is required"),
    (lambda b: b.pop("hookInstance"), "hookInstance is required"),
    (lambda b: b.pop("context"), "context is required"),
    (lambda b: b["context"].pop("patientId"), "context.patientId is required"),
    (lambda b: b["context"].pop("draftOrders"), "context.draftOrders is required"),
    (lambda b: b.update(hook="patient-view"), "answers the order-sign hook"),
    (lambda b: b.update(fhirAuthorization={"access_token": "t", "token_type": "Bearer"}), "requires fhirServer"),
    (lambda b: b.update(prefetch=[1, 2]), "prefetch must be an object"),
])
def test_incomplete_requests_are_400_with_a_reason(client, mutate, reason):
    body = valid_body()
    mutate(body)
    response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2", "{\"hook\": \"\u00e9\"".encode("latin-1"),
                                 b'{"hook": NaN}', b'{"x": Infinity}', b'{"x": -Infinity}', b'{"x": 1e400}'])
def test_malformed_json_is_400(client, raw):
    response = client.post(ORDER_SIGN, data=raw, content_type="application/json")
    assert (response.status_code, response.get_json()) == (400, {"error": "the request body is not valid JSON"})


def test_unknown_services_are_404(client):
    for path in ("/cds-services/no-such-service", "/cds-services/no-such-service/feedback"):
        response = client.post(path, json=valid_body())
        assert (response.status_code, response.get_json()) == (404, {"error": "no such CDS service"})


def test_a_body_over_the_limit_is_413(app_config):
    from cds_service import create_app

    app = create_app({**app_config, "max_request_bytes": 2048})
    response = app.test_client().post(ORDER_SIGN, json=valid_body())
    assert response.status_code == 413 and "error" in response.get_json()


def test_wrong_methods_are_405_in_json(client):
    response = client.get(ORDER_SIGN)
    assert response.status_code == 405 and "error" in response.get_json()


# --- CORS -------------------------------------------------------------------------------------------------

def test_preflight_is_answered_without_credentials(client):
    response = client.options(ORDER_SIGN, headers={"Origin": "https://sandbox.cds-hooks.org",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}


@pytest.mark.parametrize("method, path, status", [("post", ORDER_SIGN, 400), ("post", "/cds-services/x", 404),
                                                  ("get", "/cds-services", 200)])
def test_every_answer_carries_cors_headers(client, method, path, status):
    response = getattr(client, method)(path, json={}, headers={"Origin": "https://ehr.example.org"})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_configured_origin_list_echoes_only_listed_origins(app_config):
    from cds_service import create_app

    client = create_app({**app_config, "cors_origins": "https://a.example, https://b.example"}).test_client()
    listed = client.get("/cds-services", headers={"Origin": "https://b.example"})
    other = client.get("/cds-services", headers={"Origin": "https://evil.example"})
    assert listed.headers["Access-Control-Allow-Origin"] == "https://b.example" and "Origin" in listed.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in other.headers


# --- audit and feedback -----------------------------------------------------------------------------------

def test_every_card_served_is_recorded(app, client):
    body = valid_body()
    (card,) = cards_of(client.post(ORDER_SIGN, json=body))
    served = app.extensions["alp_guard"].store.served_card(card["uuid"])
    assert (served.service_id, served.hook_instance, served.topic, served.indicator) == (
        "low-alp-order-sign", body["hookInstance"], "low-alp-antiresorptive", "warning")


def test_feedback_round_trip(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    suggestion = card["suggestions"][-1]["uuid"]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion}],
                              "outcomeTimestamp": "2026-11-24T12:01:00Z"}]}
    first = client.post(f"{ORDER_SIGN}/feedback", json=feedback)
    again = client.post(f"{ORDER_SIGN}/feedback", json=feedback)
    assert (first.status_code, first.get_json()) == (200, {"received": 1, "stored": 1})
    assert (again.status_code, again.get_json()) == (200, {"received": 1, "stored": 0})
    (stored,) = app.extensions["alp_guard"].store.feedback_for(card["uuid"])
    assert (stored["outcome"], json.loads(stored["accepted_suggestions"])) == ("accepted", [suggestion])


def test_sandbox_override_feedback_without_display_is_stored(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-24T20:16:41.449Z",
                              "overrideReason": {"reason": {"code": "hpp-excluded", "system": "http://example.org/override"}}}]}
    assert client.post(f"{ORDER_SIGN}/feedback", json=feedback).get_json() == {"received": 1, "stored": 1}
    assert app.extensions["alp_guard"].store.feedback_for(card["uuid"])[0]["override_code"] == "hpp-excluded"


def test_invalid_feedback_is_400_and_nothing_is_stored(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    good = {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-24T12:01:00Z"}
    bad = {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-24T12:02:00Z"}
    response = client.post(f"{ORDER_SIGN}/feedback", json={"feedback": [good, bad]})
    assert response.status_code == 400 and "acceptedSuggestions" in response.get_json()["error"]
    assert app.extensions["alp_guard"].store.feedback_for(card["uuid"]) == []


# --- health and logs --------------------------------------------------------------------------------------

def test_health_is_200_with_a_usable_database(client):
    assert (client.get("/healthz").status_code, client.get("/healthz").get_json()) == (200, {"status": "ok"})


def test_health_is_503_when_the_database_is_not_usable(app, client, monkeypatch):
    monkeypatch.setattr(app.extensions["alp_guard"].store, "is_usable", lambda: False)
    assert client.get("/healthz").status_code == 503


def test_logs_carry_no_token_and_no_patient_data(client, caplog):
    caplog.set_level("DEBUG")
    marker_token, marker_patient = "TOKEN-7f3a9c", "PATIENT-b81e22"
    prefetch = full_prefetch()
    prefetch["patient"]["name"][0]["family"] = marker_patient
    del prefetch["alp"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{FHIR_SERVER}/Observation", status=500, body=f"error for {marker_patient}")
        body = hook_request("order-sign", prefetch=prefetch, draft_orders=load_fhir(SANDBOX_DRAFT),
                            patient_id=marker_patient, fhir_server=FHIR_SERVER, token=marker_token)
        response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 412
    logged = caplog.text + json.dumps(response.get_json())
    assert "hook call" in caplog.text
    assert marker_token not in logged and marker_patient not in logged


# --- one bad resource never sinks the request -------------------------------------------------------------

def test_a_medication_the_server_cannot_supply_does_not_sink_patient_view(client):
    prefetch = full_prefetch()
    prefetch["medications"]["entry"] = [{"resource": {
        "resourceType": "MedicationRequest", "id": "old", "status": "stopped", "intent": "order",
        "subject": {"reference": "Patient/pat-hpp-1"}, "medicationReference": {"reference": "Medication/gone"}}}]
    body = hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR_SERVER)
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Medication/gone", status=404)
        response = client.post(PATIENT_VIEW, json=body)
    assert topics(response) == [("low-alp-unevaluated", "info")]


@pytest.mark.parametrize("reference", [f"{FHIR_SERVER}/Medication/zol", "Medication/zol/_history/2"])
def test_absolute_and_versioned_draft_medication_references_are_read(client, reference):
    drafts = {"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "d1", "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/pat-hpp-1"}, "medicationReference": {"reference": reference}}}]}
    body = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=drafts, fhir_server=FHIR_SERVER)
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Medication/zol", json={"resourceType": "Medication", "id": "zol", "code": {
            "coding": [{"system": "http://www.whocc.no/atc", "code": "M05BA08"}]}})
        response = client.post(ORDER_SIGN, json=body)
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


def test_a_broken_prefetch_entry_is_named_on_the_card_not_fatal(client):
    prefetch = full_prefetch()
    prefetch["alp"]["entry"].append({"resource": 5})
    (card,) = cards_of(order_sign(client, prefetch))
    assert "could not be read" in card["detail"]


# --- order-select ------------------------------------------------------------------------------------------

ORDER_SELECT = "/cds-services/low-alp-order-select"


def order_select(client, selections, drafts="draft-orders-medication-references.json", prefetch=None):
    body = hook_request("order-select", prefetch=prefetch or full_prefetch(), draft_orders=load_fhir(drafts))
    body["context"]["selections"] = selections
    return client.post(ORDER_SELECT, json=body)


def test_order_select_checks_only_the_selected_orders(client):
    (card,) = cards_of(order_select(client, ["MedicationRequest/draft-zol"]))
    assert "zoledronic acid" in card["summary"]
    deletes = [a["resourceId"] for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert deletes == ["MedicationRequest/draft-zol"]


def test_order_select_ignores_antiresorptives_that_are_not_selected(client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        response = order_select(client, ["MedicationRequest/not-a-draft"], prefetch={})
        assert len(mock.calls) == 0
    assert response.get_json() == {"cards": []}


def test_order_select_needs_selections(client):
    body = hook_request("order-select", prefetch=full_prefetch(), draft_orders=load_fhir(SANDBOX_DRAFT))
    response = client.post(ORDER_SELECT, json=body)
    assert response.status_code == 400 and "context.selections is required" in response.get_json()["error"]



def test_non_string_selections_are_400(client):
    body = hook_request("order-select", prefetch=full_prefetch(), draft_orders=load_fhir(SANDBOX_DRAFT))
    for selections in ([{"a": 1}], [["MedicationRequest/request-123"]]):
        body["context"]["selections"] = selections
        response = client.post(ORDER_SELECT, json=body)
        assert response.status_code == 400 and "context.selections" in response.get_json()["error"]


def test_draft_orders_without_a_resource_type_still_count_against_the_limit(app_config):
    from cds_service import create_app

    app = create_app({**app_config, "max_draft_orders": 3})
    drafts = load_fhir(SANDBOX_DRAFT)
    drafts["entry"] = drafts["entry"] * 4
    del drafts["resourceType"]
    body = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=drafts)
    assert app.test_client().post(ORDER_SIGN, json=body).status_code == 413
