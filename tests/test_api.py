"""The HTTP API end to end: discovery, both hooks, every prefetch shape, every error code, CORS, feedback."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import responses
from responses import matchers

from cds_service.services import SERVICES_BY_ID
from tests.cds_checks import assert_response_spec_exact, error_reason
from tests.conftest import FHIR_SERVER, full_prefetch, hook_request, load_fhir
from tests.store_reads import feedback_for, served_card

ORDER_SIGN = "/cds-services/low-alp-order-sign"
PATIENT_VIEW = "/cds-services/low-alp-patient-view"
SANDBOX_DRAFT = "draft-orders-sandbox-alendronate.json"


def order_sign(client, prefetch=None, drafts=SANDBOX_DRAFT, **kwargs) -> Any:
    body = hook_request("order-sign", prefetch=prefetch, draft_orders=load_fhir(drafts), **kwargs)
    return client.post(ORDER_SIGN, json=body)


def drafts_for(patient_id: str, name: str = SANDBOX_DRAFT) -> dict:
    """Return the draft orders of a fixture, made out for this patient."""
    drafts = load_fhir(name)
    for entry in drafts["entry"]:
        entry["resource"]["subject"] = {"reference": f"Patient/{patient_id}"}
    return drafts


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
        "low-alp-order-sign": "order-sign",
        "low-alp-order-select": "order-select",
        "low-alp-medication-refill": "medication-refill",
        "low-alp-patient-view": "patient-view",
    }
    assert all(s["title"] and s["description"] and s["prefetch"] for s in services.values())


# --- order-sign -------------------------------------------------------------------------------------------


def test_order_sign_warns_about_alendronate_with_persistently_low_alp(client):
    (card,) = cards_of(order_sign(client, full_prefetch()))
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("warning", "low-alp-antiresorptive")
    assert "3 of 4" in card["summary"] and "28 U/L" in card["summary"]
    deletes = [a for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert deletes == [
        {"type": "delete", "description": deletes[0]["description"], "resourceId": "MedicationRequest/request-123"}
    ]
    work_up = [
        a["resource"]["code"]["coding"][0]["code"]
        for s in card["suggestions"]
        for a in s["actions"]
        if a["type"] == "create"
    ]
    assert {"6768-6", "62236-5", "77084-2"} <= set(work_up)


def test_order_sign_for_another_drug_answers_no_cards_and_fetches_nothing(client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        response = order_sign(client, drafts="draft-orders-atorvastatin.json", fhir_server=FHIR_SERVER)
        assert len(mock.calls) == 0  # any FHIR call would also have raised ConnectionError
    assert response.status_code == 200 and response.get_json() == {"cards": []}


@pytest.mark.parametrize(
    "prefetch, expected",
    [
        (dict(alp="alp-recurrent-low.json"), [("low-alp-antiresorptive", "info")]),  # recurrent alone is info
        (dict(alp="alp-single-low.json"), [("single-low-alp-antiresorptive", "info")]),
        (dict(alp="alp-normal.json"), []),
        (dict(alp="alp-ukat.json"), [("low-alp-antiresorptive", "warning")]),
        (dict(alp="alp-normal.json", conditions="conditions-hpp.json"), [("hpp-antiresorptive", "critical")]),
        (dict(alp="alp-normal.json", medications="medications-asfotase.json"), [("hpp-antiresorptive", "critical")]),
        (dict(workup="hpp-workup-plp.json"), [("low-alp-antiresorptive", "critical")]),
        (dict(workup="hpp-workup-plp-normal.json"), [("low-alp-antiresorptive", "warning")]),
        (dict(patient="patient-child-male.json", alp="alp-child-low.json"), [("low-alp-antiresorptive", "warning")]),
    ],
)
def test_order_sign_findings(client, prefetch, expected):
    data = full_prefetch(**prefetch)
    patient_id = data["patient"]["id"]  # the child fixtures are another patient's: the call must be about them
    body = hook_request("order-sign", patient_id=patient_id, prefetch=data, draft_orders=drafts_for(patient_id))
    assert topics(client.post(ORDER_SIGN, json=body)) == expected


def test_order_sign_gives_one_card_per_antiresorptive_draft(client):
    response = order_sign(client, full_prefetch(), drafts="draft-orders-medication-references.json")
    cards = cards_of(response)
    low_alp = [c for c in cards if c["source"]["topic"]["code"] == "low-alp-antiresorptive"]
    removed = [
        a["resourceId"] for c in low_alp for s in c["suggestions"] for a in s["actions"] if a["type"] == "delete"
    ]
    assert removed == ["MedicationRequest/draft-dmab", "MedicationRequest/draft-zol"]
    assert ["denosumab" in low_alp[0]["summary"], "zoledronic acid" in low_alp[1]["summary"]] == [True, True]
    # Two different antiresorptives drafted together: one duplicate-therapy warning, on the later draft.
    (duplicate,) = [c for c in cards if c["source"]["topic"]["code"] == "duplicate-antiresorptive"]
    assert duplicate["indicator"] == "warning"


def test_unknown_extensions_and_context_fields_change_nothing(client):
    plain = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=load_fhir(SANDBOX_DRAFT))
    extended = json.loads(json.dumps(plain))
    extended["extension"] = {"com.example.timestamp": "2026-11-24T10:00:00Z"}
    extended["context"]["com.example.flag"] = True
    extended["context"]["encounterId"] = "enc-1"
    assert topics(client.post(ORDER_SIGN, json=extended)) == topics(client.post(ORDER_SIGN, json=plain))


# --- patient-view -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefetch, expected",
    [
        ({}, [("low-alp-unevaluated", "info")]),
        (dict(workup="hpp-workup-plp-normal.json"), []),
        (dict(workup="hpp-workup-plp.json"), [("hpp-likely", "warning")]),
        (
            dict(workup="hpp-workup-plp.json", medications="medications-active-alendronate.json"),
            [("low-alp-antiresorptive", "critical")],
        ),
        (dict(conditions="conditions-hpp.json"), []),
        (dict(medications="medications-active-alendronate.json"), [("low-alp-antiresorptive", "warning")]),
        (
            dict(medications="medications-active-alendronate.json", conditions="conditions-hpp.json"),
            [("hpp-antiresorptive", "critical")],
        ),
        (dict(alp="alp-recurrent-low.json"), []),
        (dict(alp="alp-normal.json"), []),
    ],
)
def test_patient_view_findings(client, prefetch, expected):
    body = hook_request("patient-view", prefetch=full_prefetch(**prefetch))
    assert topics(client.post(PATIENT_VIEW, json=body)) == expected


# --- FHIR access when prefetch is missing -----------------------------------------------------------------


def fhir_server(mock: responses.RequestsMock, *, token: str | None = None, alp="alp-persistent-low.json") -> None:
    """Serve the patient's record from a mock FHIR server, requiring the bearer token when given."""
    headers = [matchers.header_matcher({"Authorization": f"Bearer {token}"})] if token else []
    mock.get(f"{FHIR_SERVER}/Patient/pat-hpp-1", json=load_fhir("patient-adult-female.json"), match=headers)
    for resource, name in [
        ("Observation", alp),
        ("Condition", "conditions-none.json"),
        ("MedicationRequest", "medications-none.json"),
        ("MedicationStatement", "medications-none.json"),
        ("MedicationDispense", "medications-none.json"),
        ("MedicationAdministration", "medications-none.json"),
        ("Encounter", "medications-none.json"),
    ]:
        mock.get(
            f"{FHIR_SERVER}/{resource}",
            json=load_fhir(name),
            match=[*headers, matchers.query_param_matcher({"patient": "pat-hpp-1"}, strict_match=False)],
        )


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
    assert "prefetch" in error_reason(response)


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
        mock.get(
            f"{FHIR_SERVER}/Observation",
            json=second,
            match=[matchers.header_matcher({"Authorization": "Bearer t"}), matchers.query_param_matcher({"page": "2"})],
        )
        response = order_sign(client, prefetch, fhir_server=FHIR_SERVER, token="t")
    assert "3 of 4" in cards_of(response)[0]["summary"]


def test_a_draft_medication_on_the_server_is_read(client):
    drafts = {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": "d1",
                    "status": "draft",
                    "intent": "order",
                    "subject": {"reference": "Patient/pat-hpp-1"},
                    "medicationReference": {"reference": "Medication/zol"},
                }
            }
        ],
    }
    body = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=drafts, fhir_server=FHIR_SERVER)
    with responses.RequestsMock() as mock:
        mock.get(
            f"{FHIR_SERVER}/Medication/zol",
            json={
                "resourceType": "Medication",
                "id": "zol",
                "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "M05BA08"}]},
            },
        )
        response = client.post(ORDER_SIGN, json=body)
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


# --- bad requests -----------------------------------------------------------------------------------------


def valid_body() -> dict:
    return hook_request("order-sign", prefetch=full_prefetch(), draft_orders=load_fhir(SANDBOX_DRAFT))


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda b: b.pop("hook"), "hook is required"),
        (lambda b: b.pop("hookInstance"), "hookInstance is required"),
        (lambda b: b.pop("context"), "context is required"),
        (lambda b: b["context"].pop("patientId"), "context.patientId is required"),
        (lambda b: b["context"].pop("draftOrders"), "context.draftOrders is required"),
        (lambda b: b.update(hook="patient-view"), "answers the order-sign hook"),
        (lambda b: b.update(fhirAuthorization={"access_token": "t", "token_type": "Bearer"}), "requires fhirServer"),
        (lambda b: b.update(prefetch=[1, 2]), "prefetch must be an object"),
    ],
)
def test_incomplete_requests_are_400_with_a_reason(client, mutate, reason):
    body = valid_body()
    mutate(body)
    response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 400
    assert reason in error_reason(response)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"[1, 2",
        '{"hook": "\u00e9"'.encode("latin-1"),
        b'{"hook": NaN}',
        b'{"x": Infinity}',
        b'{"x": -Infinity}',
        b'{"x": 1e400}',
    ],
)
def test_malformed_json_is_400(client, raw):
    response = client.post(ORDER_SIGN, data=raw, content_type="application/json")
    assert (response.status_code, error_reason(response)) == (400, "the request body is not valid JSON")


def test_unknown_services_are_404(client):
    for path in ("/cds-services/no-such-service", "/cds-services/no-such-service/feedback"):
        response = client.post(path, json=valid_body())
        assert (response.status_code, error_reason(response)) == (404, "no such CDS service")


def test_a_body_over_the_limit_is_413(app_config):
    from cds_service import create_app

    app = create_app({**app_config, "max_request_bytes": 2048})
    response = app.test_client().post(ORDER_SIGN, json=valid_body())
    assert response.status_code == 413 and error_reason(response)


def test_wrong_methods_are_405_in_json(client):
    response = client.get(ORDER_SIGN)
    assert response.status_code == 405 and error_reason(response)


# --- CORS -------------------------------------------------------------------------------------------------


def test_preflight_is_answered_without_credentials(client):
    response = client.options(
        ORDER_SIGN,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }


@pytest.mark.parametrize(
    "method, path, status", [("post", ORDER_SIGN, 400), ("post", "/cds-services/x", 404), ("get", "/cds-services", 200)]
)
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
    served = served_card(app.extensions["alp_guard"].store, card["uuid"])
    assert (served.service_id, served.hook_instance, served.topic, served.indicator) == (
        "low-alp-order-sign",
        body["hookInstance"],
        "low-alp-antiresorptive",
        "warning",
    )


def test_feedback_round_trip(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    suggestion = card["suggestions"][-1]["uuid"]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": suggestion}],
                "outcomeTimestamp": "2026-11-24T12:01:00Z",
            }
        ]
    }
    first = client.post(f"{ORDER_SIGN}/feedback", json=feedback)
    again = client.post(f"{ORDER_SIGN}/feedback", json=feedback)
    assert (first.status_code, first.get_json()) == (200, {"received": 1, "stored": 1})
    assert (again.status_code, again.get_json()) == (200, {"received": 1, "stored": 0})
    (stored,) = feedback_for(app.extensions["alp_guard"].store, card["uuid"])
    assert (stored["outcome"], json.loads(stored["accepted_suggestions"])) == ("accepted", [suggestion])


def test_sandbox_override_feedback_without_display_is_stored(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-24T20:16:41.449Z",
                "overrideReason": {"reason": {"code": "hpp-excluded", "system": "http://example.org/override"}},
            }
        ]
    }
    assert client.post(f"{ORDER_SIGN}/feedback", json=feedback).get_json() == {"received": 1, "stored": 1}
    assert feedback_for(app.extensions["alp_guard"].store, card["uuid"])[0]["override_code"] == "hpp-excluded"


def test_invalid_feedback_is_400_and_nothing_is_stored(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    good = {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-24T12:01:00Z"}
    bad = {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-24T12:02:00Z"}
    response = client.post(f"{ORDER_SIGN}/feedback", json={"feedback": [good, bad]})
    assert response.status_code == 400 and "acceptedSuggestions" in error_reason(response)
    assert feedback_for(app.extensions["alp_guard"].store, card["uuid"]) == []


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
        body = hook_request(
            "order-sign",
            prefetch=prefetch,
            draft_orders=drafts_for(marker_patient),
            patient_id=marker_patient,
            fhir_server=FHIR_SERVER,
            token=marker_token,
        )
        response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 412
    logged = caplog.text + json.dumps(response.get_json())
    assert "hook call" in caplog.text
    assert marker_token not in logged and marker_patient not in logged


# --- one bad resource never sinks the request -------------------------------------------------------------


def test_a_medication_the_server_cannot_supply_does_not_sink_patient_view(client):
    prefetch = full_prefetch()
    prefetch["medications"]["entry"] = [
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "old",
                "status": "stopped",
                "intent": "order",
                "subject": {"reference": "Patient/pat-hpp-1"},
                "medicationReference": {"reference": "Medication/gone"},
            }
        }
    ]
    body = hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR_SERVER)
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Medication/gone", status=404)
        response = client.post(PATIENT_VIEW, json=body)
    assert topics(response) == [("low-alp-unevaluated", "info")]


@pytest.mark.parametrize("reference", [f"{FHIR_SERVER}/Medication/zol", "Medication/zol/_history/2"])
def test_absolute_and_versioned_draft_medication_references_are_read(client, reference):
    drafts = {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": "d1",
                    "status": "draft",
                    "intent": "order",
                    "subject": {"reference": "Patient/pat-hpp-1"},
                    "medicationReference": {"reference": reference},
                }
            }
        ],
    }
    body = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=drafts, fhir_server=FHIR_SERVER)
    with responses.RequestsMock() as mock:
        mock.get(
            f"{FHIR_SERVER}/Medication/zol",
            json={
                "resourceType": "Medication",
                "id": "zol",
                "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "M05BA08"}]},
            },
        )
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
    assert response.status_code == 400 and "context.selections is required" in error_reason(response)


def test_non_string_selections_are_400(client):
    body = hook_request("order-select", prefetch=full_prefetch(), draft_orders=load_fhir(SANDBOX_DRAFT))
    for selections in ([{"a": 1}], [["MedicationRequest/request-123"]]):
        body["context"]["selections"] = selections
        response = client.post(ORDER_SELECT, json=body)
        assert response.status_code == 400 and "context.selections" in error_reason(response)


def test_draft_orders_without_a_resource_type_still_count_against_the_limit(app_config):
    from cds_service import create_app

    app = create_app({**app_config, "max_draft_orders": 3})
    drafts = load_fhir(SANDBOX_DRAFT)
    drafts["entry"] = drafts["entry"] * 4
    del drafts["resourceType"]
    body = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=drafts)
    assert app.test_client().post(ORDER_SIGN, json=body).status_code == 413


# --- hardening: content type, chunked bodies, unstorable text, feedback abuse, storage failures (issue 14) ------


def override(card_uuid: str, code: str | None = None, comment: str | None = None, when: str = "2026-11-24T12:01:00Z"):
    reason: dict[str, Any] = {}
    if code:
        reason["reason"] = {"code": code, "system": "http://alp-guard.org/fhir/CodeSystem/override-reason"}
    if comment:
        reason["userComment"] = comment
    return {
        "card": card_uuid,
        "outcome": "overridden",
        "outcomeTimestamp": when,
        **({"overrideReason": reason} if reason else {}),
    }


@pytest.mark.parametrize("path", [ORDER_SIGN, f"{ORDER_SIGN}/feedback"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_post_that_is_not_application_json_is_415(client, path, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(path, data=json.dumps(valid_body()), headers=headers)
    assert response.status_code == 415
    assert error_reason(response) == "the request body must be sent as Content-Type: application/json"


def test_json_with_a_charset_is_accepted(client):
    response = client.post(
        ORDER_SIGN, data=json.dumps(valid_body()), headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 200


def test_an_oversized_chunked_body_is_413_not_cut_short(app_config):
    from cds_service import create_app

    app = create_app({**app_config, "max_request_bytes": 4096})
    raw = json.dumps({"feedback": [override("c", comment="x" * 5000)]}).encode()
    environ = {"wsgi.input_terminated": True}  # as gunicorn sets it for a chunked body (no Content-Length)
    response = app.test_client().post(
        f"{ORDER_SIGN}/feedback",
        input_stream=__import__("io").BytesIO(raw),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides=environ,
    )
    assert (response.status_code, error_reason(response)) == (413, "the request body is too large")
    small = json.dumps({"feedback": [override("c")]}).encode()
    response = app.test_client().post(
        f"{ORDER_SIGN}/feedback",
        input_stream=__import__("io").BytesIO(small),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides=environ,
    )
    assert response.status_code == 200


@pytest.mark.parametrize("text", ["\\ud800", "a\\udc00b", "\\u0000", "x\\u0000"])
def test_text_the_database_cannot_store_is_400_and_the_card_audit_keeps_working(app, client, text):
    body = valid_body()
    raw = json.dumps(body).replace(body["hookInstance"], body["hookInstance"][:8] + text)
    response = client.post(ORDER_SIGN, data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "cannot be stored" in error_reason(response)
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    assert served_card(app.extensions["alp_guard"].store, card["uuid"]) is not None  # the audit row is written
    item = json.dumps({"feedback": [override(card["uuid"], comment="placeholder")]}).replace("placeholder", text)
    response = client.post(f"{ORDER_SIGN}/feedback", data=item, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert feedback_for(app.extensions["alp_guard"].store, card["uuid"]) == []


def test_a_surrogate_pair_is_ordinary_text(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    item = json.dumps({"feedback": [override(card["uuid"], comment="placeholder")]}).replace(
        "placeholder", "\\ud83d\\ude00"
    )
    response = client.post(f"{ORDER_SIGN}/feedback", data=item, headers={"Content-Type": "application/json"})
    assert response.get_json() == {"received": 1, "stored": 1}
    assert feedback_for(app.extensions["alp_guard"].store, card["uuid"])[0]["user_comment"] == "\U0001f600"


def test_more_than_100_feedback_items_is_413_and_nothing_is_stored(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    items = [
        {
            "card": card["uuid"],
            "outcome": "accepted",
            "outcomeTimestamp": "2026-11-24T12:01:00Z",
            "acceptedSuggestions": [{"id": f"s{i}"}],
        }
        for i in range(101)
    ]
    response = client.post(f"{ORDER_SIGN}/feedback", json={"feedback": items})
    assert (response.status_code, error_reason(response)) == (413, "more than 100 feedback items in one request")
    assert feedback_for(app.extensions["alp_guard"].store, card["uuid"]) == []
    assert client.post(f"{ORDER_SIGN}/feedback", json={"feedback": items[:100]}).get_json() == {
        "received": 100,
        "stored": 100,
    }


def test_feedback_only_counts_for_cards_this_service_issued(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    body = {"feedback": [override(card["uuid"]), override("never-issued")]}
    assert client.post(f"{ORDER_SIGN}/feedback", json=body).get_json() == {"received": 2, "stored": 1, "ignored": 1}
    assert feedback_for(app.extensions["alp_guard"].store, "never-issued") == []
    # The card was issued by order-sign: the patient-view endpoint takes no feedback on it.
    other = client.post(f"{PATIENT_VIEW}/feedback", json={"feedback": [override(card["uuid"], comment="x")]})
    assert other.get_json() == {"received": 1, "stored": 0, "ignored": 1}


def test_an_override_code_the_card_did_not_offer_is_stored_as_other_with_the_text(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    offered = [r["code"] for r in card["overrideReasons"]]
    body = {
        "feedback": [
            override(card["uuid"], "hpp-excluded"),
            override(card["uuid"], '=HYPERLINK("x")', comment="not on the card"),
        ]
    }
    assert "hpp-excluded" in offered
    assert client.post(f"{ORDER_SIGN}/feedback", json=body).get_json() == {"received": 2, "stored": 2}
    rows = feedback_for(app.extensions["alp_guard"].store, card["uuid"])
    assert [(r["override_code"], r["user_comment"]) for r in rows] == [
        ("hpp-excluded", None),
        ("other", '=HYPERLINK("x"): not on the card'),
    ]
    served = served_card(app.extensions["alp_guard"].store, card["uuid"])
    standard = [
        r["extension"]["org.alp-guard.standard-reason"]["code"] for r in card["overrideReasons"] if "extension" in r
    ]
    assert served.override_codes == ",".join(offered + standard)


def test_the_same_card_and_outcome_sent_again_later_is_a_duplicate(app, client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    first = client.post(
        f"{ORDER_SIGN}/feedback", json={"feedback": [override(card["uuid"], when="2026-11-24T12:01:00Z")]}
    )
    later = client.post(
        f"{ORDER_SIGN}/feedback", json={"feedback": [override(card["uuid"], when="2026-11-24T12:09:00Z")]}
    )
    reworded = [override(card["uuid"], comment=f"comment {i}") for i in range(50)]  # other words, same decision
    again = client.post(f"{ORDER_SIGN}/feedback", json={"feedback": reworded})
    assert (first.get_json()["stored"], later.get_json()["stored"], again.get_json()["stored"]) == (1, 0, 0)
    assert len(feedback_for(app.extensions["alp_guard"].store, card["uuid"])) == 1
    reason = client.post(f"{ORDER_SIGN}/feedback", json={"feedback": [override(card["uuid"], "hpp-excluded")]})
    assert reason.get_json()["stored"] == 1  # a reason sent later is another decision, kept


def test_a_comment_longer_than_2000_characters_is_400(client):
    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))
    response = client.post(f"{ORDER_SIGN}/feedback", json={"feedback": [override(card["uuid"], comment="x" * 2001)]})
    assert (response.status_code, error_reason(response)) == (
        400,
        "feedback[0].overrideReason.userComment is longer than 2000 characters",
    )


def test_a_feedback_body_over_512_kb_is_413(client):
    body = json.dumps({"feedback": [override("c", comment="x" * 1000)], "padding": "y" * 512_000})
    response = client.post(f"{ORDER_SIGN}/feedback", data=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, error_reason(response)) == (413, "the request body is too large")


def test_a_storage_failure_on_feedback_is_503_with_a_reason(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    (card,) = cards_of(client.post(ORDER_SIGN, json=valid_body()))

    def fail(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(app.extensions["alp_guard"].store, "record_feedback", fail)
    response = client.post(f"{ORDER_SIGN}/feedback", json={"feedback": [override(card["uuid"])]})
    assert response.status_code == 503
    assert error_reason(response) == ("feedback could not be stored: the database is unavailable; send it again later")


def test_health_is_503_when_the_database_cannot_be_written(app, client, tmp_path):
    from sqlalchemy import create_engine

    store = app.extensions["alp_guard"].store
    path = store.engine.url.database
    store.engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")  # the same file, read-only
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (503, {"status": "database unavailable"})


def test_an_unknown_patient_is_412(client):
    prefetch = full_prefetch()
    del prefetch["patient"]
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Patient/pat-hpp-1", status=404, json={"resourceType": "OperationOutcome"})
        response = order_sign(client, prefetch, fhir_server=FHIR_SERVER)
    assert response.status_code == 412
    assert error_reason(response) == "prefetch 'patient' unavailable: FHIR server has no such resource"


# --- medication-refill ------------------------------------------------------------------------------------

MEDICATION_REFILL = "/cds-services/low-alp-medication-refill"


def refill_request(
    medications: str = "refill-medications-alendronate.json", *, user: bool = True, **kwargs
) -> dict[str, Any]:
    """Return a medication-refill 0.1.0 request: the prescriptions being refilled in context.medications."""
    body = hook_request("medication-refill", **kwargs)
    body["context"]["medications"] = load_fhir(medications)
    if not user:  # a refill requested through a pharmacy or a portal: no user in the loop
        del body["context"]["userId"]
    return body


@pytest.mark.parametrize("user", [True, False], ids=["with-user", "no-user"])
def test_a_refill_is_checked_like_an_order(client, user):
    refill = cards_of(client.post(MEDICATION_REFILL, json=refill_request(user=user, prefetch=full_prefetch())))
    sign = cards_of(order_sign(client, full_prefetch()))
    assert [(c["source"]["topic"]["code"], c["indicator"], c["summary"]) for c in refill] == [
        (c["source"]["topic"]["code"], c["indicator"], c["summary"]) for c in sign
    ]
    deletes = [a["resourceId"] for s in refill[0]["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert deletes == ["MedicationRequest/mr-aln-refill"]  # the active prescription being refilled


def test_a_refill_with_hpp_on_record_and_low_renal_function_gives_both_cards(client):
    prefetch = full_prefetch(
        alp="alp-normal.json", conditions="conditions-hpp.json", safety="safety-labs-ckd-low-vitamin-d.json"
    )
    got = topics(client.post(MEDICATION_REFILL, json=refill_request(user=False, prefetch=prefetch)))
    assert got[0] == ("hpp-antiresorptive", "critical")
    assert ("vitamin-d-calcium-antiresorptive", "info") in got or ("vitamin-d-calcium-antiresorptive", "warning") in got


def test_a_refill_of_another_drug_answers_at_once(client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        body = refill_request("draft-orders-atorvastatin.json", user=False, fhir_server=FHIR_SERVER)
        response = client.post(MEDICATION_REFILL, json=body)
        assert len(mock.calls) == 0
    assert response.status_code == 200 and response.get_json() == {"cards": []}


def test_a_refill_fetches_what_is_not_prefetched(client):
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Patient/pat-hpp-1", json=load_fhir("patient-adult-female.json"))
        for key, fixture in (
            ("alp", "alp-persistent-low.json"),
            ("conditions", "conditions-none.json"),
            ("medications", "medications-none.json"),
        ):
            mock.get(
                f"{FHIR_SERVER}/{SERVICES_BY_ID['low-alp-medication-refill'].prefetch[key].split('?')[0]}",
                json=load_fhir(fixture),
                match=[
                    matchers.query_string_matcher(
                        SERVICES_BY_ID["low-alp-medication-refill"]
                        .prefetch[key]
                        .split("?")[1]
                        .replace("{{context.patientId}}", "pat-hpp-1")
                    )
                ],
            )
        for key in ("hppWorkup", "safetyLabs"):
            mock.get(
                f"{FHIR_SERVER}/Observation",
                json={"resourceType": "Bundle", "type": "searchset"},
                match=[
                    matchers.query_string_matcher(
                        SERVICES_BY_ID["low-alp-medication-refill"]
                        .prefetch[key]
                        .split("?")[1]
                        .replace("{{context.patientId}}", "pat-hpp-1")
                    )
                ],
            )
        response = client.post(MEDICATION_REFILL, json=refill_request(user=False, fhir_server=FHIR_SERVER))
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda body: body["context"].pop("medications"), "context.medications is required for medication-refill"),
        (lambda body: body["context"].update(medications=[]), "context.medications"),
        (lambda body: body.update(hook="order-sign"), "this service answers the medication-refill hook"),
    ],
)
def test_a_malformed_refill_is_400(client, change, reason):
    body = refill_request(prefetch=full_prefetch())
    change(body)
    response = client.post(MEDICATION_REFILL, json=body)
    assert response.status_code == 400 and reason in error_reason(response)


# --- error bodies and discovery caching --------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, status, code",
    [
        (lambda c: c.post(ORDER_SIGN, data=b"{", content_type="application/json"), 400, "invalid"),
        (lambda c: c.post("/cds-services/nope", json={}), 404, "not-found"),
        (lambda c: c.put(ORDER_SIGN, json={}), 405, "not-supported"),
        (
            lambda c: c.post(
                ORDER_SIGN,
                json=hook_request(
                    "order-sign", draft_orders=load_fhir(SANDBOX_DRAFT), fhir_server="http://127.0.0.1:9/fhir"
                ),
            ),
            412,
            "incomplete",
        ),
    ],
)
def test_every_error_is_an_operation_outcome_with_the_same_status(client, call, status, code):
    response = call(client)
    assert response.status_code == status
    assert error_reason(response)  # a valid R4 OperationOutcome with the short reason in diagnostics
    assert response.get_json()["issue"][0]["code"] == code


def test_an_error_outcome_carries_no_patient_data(client):
    drafts = load_fhir(SANDBOX_DRAFT)
    for entry in drafts["entry"]:
        entry["resource"]["subject"] = {"reference": "Patient/MARKER-PATIENT-ID"}
    body = hook_request(
        "order-sign", patient_id="MARKER-PATIENT-ID", draft_orders=drafts, fhir_server="http://127.0.0.1:9/fhir"
    )
    response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 412 and "MARKER" not in response.get_data(as_text=True)


def test_discovery_has_an_etag_and_answers_304_when_it_still_matches(client):
    first = client.get("/cds-services")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and "no-cache" in first.headers["Cache-Control"]
    again = client.get("/cds-services", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "no-cache"
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/cds-services", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/cds-services").headers["ETag"] == etag  # the same document, the same tag


# --- the site file and per-call configuration -------------------------------------------------------------

SITE = {
    "source": {
        "label": "Bone safety (St Elsewhere)",
        "url": "https://intranet.example.org/alp-guard",
        "icon": "https://intranet.example.org/alp-guard.png",
    },
    "cards": {"vitamin-d-calcium-antiresorptive": False},
    "prefetch_parameters": {"Observation": {"category": "laboratory", "_sort": None}},
}


@pytest.fixture
def site_client(app_config, tmp_path, monkeypatch):
    """Return a factory of test clients of apps configured by a site file."""
    for name in list(__import__("os").environ):
        if name.startswith("CDS_"):
            monkeypatch.delenv(name)
    apps = []

    def make(site: dict[str, Any]) -> Any:
        path = tmp_path / f"site-{len(apps)}.json"
        path.write_text(json.dumps(site))
        from cds_service import create_app

        apps.append(create_app({**app_config, "site_file": str(path)}))
        return apps[-1].test_client()

    yield make
    for app in apps:
        app.extensions["alp_guard"].executor.shutdown(wait=True)


def test_discovery_follows_the_site_file_and_its_etag_changes_with_it(client, site_client):
    default_tag = client.get("/cds-services").headers["ETag"]
    configured = site_client(SITE)
    response = configured.get("/cds-services")
    assert response.headers["ETag"] != default_tag
    sign = next(s for s in response.get_json()["services"] if s["id"] == "low-alp-order-sign")
    assert "category=laboratory" in sign["prefetch"]["alp"] and "_sort" not in sign["prefetch"]["alp"]
    codes = [o["code"] for o in sign["extension"]["org.alp-guard.configuration-options"]]
    assert codes == [
        "hpp-antiresorptive",
        "low-alp-antiresorptive",
        "single-low-alp-antiresorptive",
        "low-alp-on-therapy",
        "low-alp-acute-illness",
        "renal-antiresorptive",
        "zoledronic-acid-dose-adjustment",
        "romosozumab-cardiovascular",
        "duplicate-antiresorptive",
    ]
    assert configured.get("/cds-services", headers={"If-None-Match": default_tag}).status_code == 200


def test_the_site_searches_with_its_own_templates_when_fetching(site_client):
    client = site_client(SITE)
    prefetch = full_prefetch()
    del prefetch["alp"]  # the EHR did not prefetch it: the service searches, with the site's template
    with responses.RequestsMock() as mock:
        mock.get(
            f"{FHIR_SERVER}/Observation",
            json=load_fhir("alp-persistent-low.json"),
            match=[matchers.query_param_matcher({"category": "laboratory"}, strict_match=False)],
        )
        response = order_sign(client, prefetch, fhir_server=FHIR_SERVER)
        (call,) = mock.calls
    assert "_sort" not in call.request.url and "category=laboratory" in call.request.url
    assert topics(response) == [("low-alp-antiresorptive", "warning")]


def test_site_cards_carry_its_source_and_switched_off_types_are_not_served(site_client):
    client = site_client(SITE)
    prefetch = full_prefetch(
        alp="alp-normal.json", conditions="conditions-hpp.json", safety="safety-labs-ckd-low-vitamin-d.json"
    )
    cards = cards_of(order_sign(client, prefetch))
    assert "vitamin-d-calcium-antiresorptive" not in [c["source"]["topic"]["code"] for c in cards]
    assert cards and all(c["source"]["label"] == "Bone safety (St Elsewhere)" for c in cards)
    assert all(c["source"]["icon"] == "https://intranet.example.org/alp-guard.png" for c in cards)


def test_a_request_extension_switches_card_types_off_for_that_call(client):
    prefetch = full_prefetch(
        alp="alp-normal.json", conditions="conditions-hpp.json", safety="safety-labs-ckd-low-vitamin-d.json"
    )
    everything = topics(order_sign(client, prefetch))
    assert "renal-antiresorptive" in {t for t, _ in everything}
    body = hook_request("order-sign", prefetch=prefetch, draft_orders=load_fhir(SANDBOX_DRAFT))
    body["extension"] = {
        "org.alp-guard.configuration": {"renal-antiresorptive": False, "made-up": False},
        "com.example.other": {"anything": [1, 2]},
    }
    fewer = topics(client.post(ORDER_SIGN, json=body))
    assert fewer == [t for t in everything if t[0] != "renal-antiresorptive"]
    assert topics(order_sign(client, prefetch)) == everything  # the next call is unchanged


@pytest.mark.parametrize(
    "extension",
    [[], {"org.alp-guard.configuration": {"renal-antiresorptive": "no"}}, {"org.alp-guard.configuration": []}],
)
def test_a_malformed_configuration_extension_is_400(client, extension):
    body = hook_request("order-sign", prefetch=full_prefetch(), draft_orders=load_fhir(SANDBOX_DRAFT))
    body["extension"] = extension
    response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 400 and "extension" in error_reason(response)


def test_a_card_about_a_draft_names_it_and_its_reasons_carry_hl7_codes(client):
    (card,) = cards_of(order_sign(client, full_prefetch()))
    assert card["extension"]["davinci-crd.associated-resource"] == [{"reference": "MedicationRequest/request-123"}]
    standard = {r["code"]: r["extension"]["org.alp-guard.standard-reason"]["code"] for r in card["overrideReasons"]}
    assert standard["specialist-advised"] == "expert-contradicts"
    assert standard["incorrect-data"] == "cds-not-applicable"
    view = cards_of(client.post(PATIENT_VIEW, json=hook_request("patient-view", prefetch=full_prefetch())))
    assert view and all("extension" not in c for c in view)  # patient-view cards are about no order


def test_feedback_may_name_the_hl7_reason_instead_of_ours(app, client):
    (card,) = cards_of(order_sign(client, full_prefetch()))
    standard = card["overrideReasons"][0]["extension"]["org.alp-guard.standard-reason"]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-24T12:01:00Z",
                "overrideReason": {"reason": {"system": standard["system"], "code": standard["code"]}},
            }
        ]
    }
    response = client.post(f"{ORDER_SIGN}/feedback", json=feedback)
    assert response.get_json() == {"received": 1, "stored": 1}
    (stored,) = feedback_for(app.extensions["alp_guard"].store, card["uuid"])
    assert (stored["override_system"], stored["override_code"]) == (standard["system"], standard["code"])


# --- the medication searches bring the drugs along (_include) ----------------------------------------------

ALENDRONATE_MEDICATION = {
    "resourceType": "Medication",
    "id": "aln",
    "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "904431"}]},
}


def referencing_orders(*, included: bool) -> dict:
    """Return a MedicationRequest search Bundle whose active order names its drug by reference, included or not."""
    order = {
        "resourceType": "MedicationRequest",
        "id": "mr-aln",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/pat-hpp-1"},
        "authoredOn": "2026-02-01",
        "medicationReference": {"reference": "Medication/aln"},
    }
    entries = [{"fullUrl": f"{FHIR_SERVER}/MedicationRequest/mr-aln", "resource": order, "search": {"mode": "match"}}]
    if included:
        entries.append(
            {
                "fullUrl": f"{FHIR_SERVER}/Medication/aln",
                "resource": ALENDRONATE_MEDICATION,
                "search": {"mode": "include"},
            }
        )
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def test_the_medication_search_includes_the_drugs_so_none_is_read_on_its_own(client):
    prefetch = full_prefetch()
    del prefetch["medications"]
    with responses.RequestsMock() as mock:
        mock.get(
            f"{FHIR_SERVER}/MedicationRequest",
            json=referencing_orders(included=True),
            match=[matchers.query_param_matcher({"_include": "MedicationRequest:medication"}, strict_match=False)],
        )
        response = client.post(
            PATIENT_VIEW, json=hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR_SERVER)
        )
        assert [call.request.url.split("?")[0] for call in mock.calls] == [f"{FHIR_SERVER}/MedicationRequest"]
    assert topics(response) == [("low-alp-antiresorptive", "warning")]  # the included drug is an antiresorptive


def test_a_site_that_drops_include_gets_the_drug_by_a_read(site_client):
    client = site_client({"prefetch_parameters": {"MedicationRequest": {"_include": None}}})
    discovered = next(s for s in client.get("/cds-services").get_json()["services"] if s["hook"] == "patient-view")
    assert "_include" not in discovered["prefetch"]["medications"]
    prefetch = full_prefetch()
    del prefetch["medications"]
    with responses.RequestsMock() as mock:
        search = mock.get(f"{FHIR_SERVER}/MedicationRequest", json=referencing_orders(included=False))
        read = mock.get(f"{FHIR_SERVER}/Medication/aln", json=ALENDRONATE_MEDICATION)
        response = client.post(
            PATIENT_VIEW, json=hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR_SERVER)
        )
        assert "_include" not in search.calls[0].request.url and read.call_count == 1
    assert topics(response) == [("low-alp-antiresorptive", "warning")]
