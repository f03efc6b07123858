"""Tests for parse_hook_request: valid order-sign / patient-view bodies and every 400 case (spec §3, §14.12, §14.14)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cds_service.hook_request import BadHookRequest, HookRequest, parse_hook_request
from tests.conftest import FHIR_SERVER, hook_request

ORDER_SIGN_CONTEXT = {"draftOrders": dict}
HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
TOKEN = "some-opaque-fhir-access-token"
DRAFT_ORDERS = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "mr-1",
                "status": "draft",
                "intent": "order",
                "subject": {"reference": "Patient/pat-1"},
            }
        }
    ],
}


def order_sign_body(**changes: Any) -> dict[str, Any]:
    """Return a complete, valid order-sign body with `changes` applied at the top level."""
    body: dict[str, Any] = {
        "hook": "order-sign",
        "hookInstance": HOOK_INSTANCE,
        "fhirServer": FHIR_SERVER + "/",
        "fhirAuthorization": {
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "alp-guard",
            "patient": "pat-1",
        },
        "context": {"userId": "Practitioner/prac-1", "patientId": "pat-1", "draftOrders": copy.deepcopy(DRAFT_ORDERS)},
        "prefetch": {"patient": {"resourceType": "Patient", "id": "pat-1"}},
    }
    body.update(changes)
    return body


def parse_order_sign(body: Any) -> HookRequest:
    return parse_hook_request(body, "order-sign", ORDER_SIGN_CONTEXT)


def assert_bad(body: Any, message: str, hook: str = "order-sign", required: dict[str, type] | None = None) -> None:
    """Assert that `body` is rejected with exactly `message`."""
    with pytest.raises(BadHookRequest) as info:
        parse_hook_request(body, hook, ORDER_SIGN_CONTEXT if required is None else required)
    assert str(info.value) == message


# --- valid requests ------------------------------------------------------------------------------------------


def test_valid_order_sign_body_is_mapped() -> None:
    body = order_sign_body()
    request = parse_order_sign(body)
    assert request.hook == "order-sign"
    assert request.hook_instance == HOOK_INSTANCE
    assert request.patient_id == "pat-1"
    assert request.fhir_server == FHIR_SERVER  # trailing slash removed
    assert not request.fhir_server.endswith("/")
    assert request.access_token == TOKEN
    assert request.context["draftOrders"] == DRAFT_ORDERS
    assert request.context["userId"] == "Practitioner/prac-1"
    assert request.prefetch == {"patient": {"resourceType": "Patient", "id": "pat-1"}}


def test_valid_patient_view_body_is_mapped() -> None:
    body = hook_request("patient-view", patient_id="smart-1288992", fhir_server=FHIR_SERVER, token=TOKEN)
    request = parse_hook_request(body, "patient-view", {})
    assert request.hook == "patient-view"
    assert request.hook_instance == body["hookInstance"]
    assert request.patient_id == "smart-1288992"
    assert request.fhir_server == FHIR_SERVER
    assert request.access_token == TOKEN
    assert request.prefetch is None
    assert dict(request.context) == {"userId": "Practitioner/prac-1", "patientId": "smart-1288992"}


def test_minimal_patient_view_without_fhir_server_or_prefetch() -> None:
    body = {"hook": "patient-view", "hookInstance": HOOK_INSTANCE, "context": {"patientId": "p"}}
    request = parse_hook_request(body, "patient-view", {})
    assert (request.patient_id, request.fhir_server, request.access_token, request.prefetch) == ("p", None, None, None)


def test_fhir_server_without_fhir_authorization_is_accepted() -> None:
    body = order_sign_body(fhirServer="http://localhost:8081/fhir")
    del body["fhirAuthorization"]
    request = parse_order_sign(body)
    assert request.fhir_server == "http://localhost:8081/fhir"
    assert request.access_token is None


def test_unknown_extension_and_extra_context_fields_are_accepted() -> None:
    body = order_sign_body(extension={"org.example.trace": {"id": 7}})
    body["context"]["encounterId"] = "enc-1"
    body["context"]["com.example.unknown"] = ["anything"]
    request = parse_order_sign(body)
    assert request.patient_id == "pat-1"
    assert request.context["com.example.unknown"] == ["anything"]
    assert request.access_token == TOKEN


@pytest.mark.parametrize("extension", [[], "x", {"org.alp-guard.configuration": {"renal-antiresorptive": 0}}])
def test_a_malformed_extension_or_configuration_is_named(extension: Any) -> None:
    assert_bad(
        order_sign_body(extension=extension),
        "extension must be an object, and its org.alp-guard.configuration values true or false",
    )


def test_a_refill_needs_its_medications_bundle() -> None:
    body = order_sign_body(hook="medication-refill")
    body["context"]["medications"] = body["context"].pop("draftOrders")
    del body["context"]["userId"]  # optional for medication-refill
    assert parse_hook_request(body, "medication-refill", {"medications": dict}).context["medications"]
    del body["context"]["medications"]
    assert_bad(
        body, "context.medications is required for medication-refill", "medication-refill", {"medications": dict}
    )


def test_prefetch_null_is_accepted_as_no_prefetch() -> None:
    request = parse_order_sign(order_sign_body(prefetch=None))
    assert request.prefetch is None


def test_prefetch_values_may_be_null() -> None:
    request = parse_order_sign(order_sign_body(prefetch={"alp": None}))
    assert request.prefetch == {"alp": None}


# --- 400 cases -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, [], ["hook"], "order-sign", 42])
def test_body_not_an_object(body: Any) -> None:
    assert_bad(body, "the request body must be a JSON object")


@pytest.mark.parametrize("value", [None, "", "   ", 7])
def test_missing_or_empty_hook(value: Any) -> None:
    body = order_sign_body(hook=value)
    if value is None:
        del body["hook"]
    assert_bad(body, "hook is required")


def test_hook_mismatch_names_both_hooks() -> None:
    assert_bad(order_sign_body(hook="patient-view"), "this service answers the order-sign hook, not 'patient-view'")


def test_hook_mismatch_message_is_truncated() -> None:
    with pytest.raises(BadHookRequest) as info:
        parse_order_sign(order_sign_body(hook="x" * 500))
    assert "x" * 40 in str(info.value)
    assert "x" * 41 not in str(info.value)


@pytest.mark.parametrize("value", [None, "", " ", 123])
def test_missing_hook_instance(value: Any) -> None:
    body = order_sign_body(hookInstance=value)
    if value is None:
        del body["hookInstance"]
    assert_bad(body, "hookInstance is required")


def test_missing_context() -> None:
    body = order_sign_body()
    del body["context"]
    assert_bad(body, "context is required and must be an object")


@pytest.mark.parametrize("context", [None, [], "pat-1", [{"patientId": "pat-1"}]])
def test_context_not_an_object(context: Any) -> None:
    assert_bad(order_sign_body(context=context), "context is required and must be an object")


@pytest.mark.parametrize("patient_id", [None, "", "   ", 12, {"reference": "Patient/1"}])
def test_missing_or_blank_patient_id(patient_id: Any) -> None:
    body = order_sign_body()
    if patient_id is None:
        del body["context"]["patientId"]
    else:
        body["context"]["patientId"] = patient_id
    assert_bad(body, "context.patientId is required")


@pytest.mark.parametrize("draft_orders", [None, [], "Bundle"])
def test_required_context_field_missing_or_wrong_type(draft_orders: Any) -> None:
    body = order_sign_body()
    if draft_orders is None:
        del body["context"]["draftOrders"]
    else:
        body["context"]["draftOrders"] = draft_orders
    assert_bad(body, "context.draftOrders is required for order-sign")


def test_required_context_applies_to_order_select() -> None:
    body = order_sign_body(hook="order-select")
    assert_bad(
        body,
        "context.selections is required for order-select",
        hook="order-select",
        required={"draftOrders": dict, "selections": list},
    )
    body["context"]["selections"] = ["MedicationRequest/mr-1"]
    request = parse_hook_request(body, "order-select", {"draftOrders": dict, "selections": list})
    assert request.context["selections"] == ["MedicationRequest/mr-1"]


@pytest.mark.parametrize("prefetch", [[], "patient", 0, [{"patient": {}}]])
def test_prefetch_not_an_object(prefetch: Any) -> None:
    assert_bad(order_sign_body(prefetch=prefetch), "prefetch must be an object")


@pytest.mark.parametrize("server", [42, ["https://ehr.example.org/fhir"], {"url": "https://x"}])
def test_fhir_server_not_a_string(server: Any) -> None:
    assert_bad(order_sign_body(fhirServer=server), "fhirServer must be a URL")


@pytest.mark.parametrize(
    "server",
    [
        "ehr.example.org/fhir",
        "/fhir",
        "ftp://ehr.example.org/fhir",
        "file:///etc/passwd",
        "https://",
        "",
        "not a url",
        "javascript:alert(1)",
    ],
)
def test_fhir_server_not_an_absolute_http_url(server: str) -> None:
    assert_bad(order_sign_body(fhirServer=server), "fhirServer must be an absolute http(s) URL")


@pytest.mark.parametrize(
    "authorization",
    [{}, {"token_type": "Bearer"}, {"access_token": ""}, {"access_token": 5}, "Bearer abc", ["abc"]],
)
def test_fhir_authorization_without_access_token(authorization: Any) -> None:
    assert_bad(
        order_sign_body(fhirAuthorization=authorization),
        "fhirAuthorization.access_token is required when fhirAuthorization is sent",
    )


def test_fhir_authorization_without_fhir_server_is_rejected_cds_r_1() -> None:
    body = order_sign_body()
    del body["fhirServer"]
    assert_bad(body, "fhirAuthorization requires fhirServer")


def test_error_messages_do_not_echo_the_access_token() -> None:
    body = order_sign_body()
    del body["fhirServer"]
    with pytest.raises(BadHookRequest) as info:
        parse_order_sign(body)
    assert TOKEN not in str(info.value)


def test_bad_hook_request_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_order_sign([])


def test_an_overlong_hook_instance_is_refused() -> None:
    assert_bad(order_sign_body(hookInstance="x" * 101), "hookInstance is longer than 100 characters")
    assert parse_order_sign(order_sign_body(hookInstance="x" * 100)).hook_instance == "x" * 100
