"""Only the context patient's data: other patients' resources in prefetch or fetched are ignored and counted in the
log, never used for a finding; a draft order for another patient is refused with 400."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from cds_service.patient_scope import is_other_patients, patient_of
from tests.cds_checks import error_reason
from tests.conftest import FHIR_SERVER, full_prefetch, hook_request, load_fhir

ORDER_SIGN = "/cds-services/low-alp-order-sign"
PATIENT = "pat-hpp-1"
OTHER = "pat-other-9"


def drafts() -> dict[str, Any]:
    return load_fhir("draft-orders-sandbox-alendronate.json")


def of_patient(bundle: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """Return a searchset Bundle whose resources are all about this patient."""
    for entry in bundle.get("entry", []):
        entry["resource"]["subject"] = {"reference": f"Patient/{patient_id}"}
    return bundle


def cards(client, prefetch: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    body = hook_request("order-sign", patient_id=PATIENT, prefetch=prefetch, draft_orders=drafts(), **kwargs)
    response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["cards"]


def topics(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["source"]["topic"]["code"], c["indicator"]) for c in found]


@pytest.mark.parametrize(
    "reference, patient",
    [
        ("Patient/p1", "p1"),
        ("https://ehr.example.org/fhir/Patient/p1", "p1"),
        ("Patient/p1/_history/3", "p1"),
        ("urn:uuid:6f1c3a2e-0000-4000-8000-000000000001", None),
        ("Group/g1", None),
    ],
)
def test_the_patient_a_reference_names(reference, patient):
    assert patient_of({"resourceType": "Observation", "subject": {"reference": reference}}) == patient


def test_a_resource_without_a_patient_reference_is_nobody_elses():
    assert not is_other_patients({"resourceType": "Observation", "subject": {"display": "someone"}}, PATIENT)
    assert not is_other_patients({"resourceType": "Medication", "id": "m1"}, PATIENT)
    assert is_other_patients({"resourceType": "Patient", "id": OTHER}, PATIENT)
    assert is_other_patients(
        {"resourceType": "MedicationRequest", "patient": {"reference": f"Patient/{OTHER}"}}, PATIENT
    )


def test_another_patients_patient_resource_does_not_set_the_age_limits(client):
    # ALP of 96-105 U/L is low for a 10-year-old boy and normal for an adult (or an unknown age).
    prefetch = full_prefetch(patient="patient-child-male.json", alp="alp-child-low.json")
    prefetch["alp"] = of_patient(prefetch["alp"], PATIENT)
    assert prefetch["patient"]["id"] != PATIENT
    assert topics(cards(client, prefetch)) == []


def test_another_patients_hpp_diagnosis_gives_no_critical_card(client):
    prefetch = full_prefetch(alp="alp-normal.json", conditions="conditions-hpp.json")
    prefetch["conditions"] = of_patient(prefetch["conditions"], OTHER)
    assert topics(cards(client, prefetch)) == []
    prefetch["conditions"] = of_patient(prefetch["conditions"], PATIENT)  # the patient's own: critical
    assert topics(cards(client, prefetch)) == [("hpp-antiresorptive", "critical")]


def test_another_patients_normal_results_do_not_weaken_the_warning(client):
    alone = cards(client, full_prefetch())
    prefetch = full_prefetch()
    normals = of_patient(load_fhir("alp-normal.json"), OTHER)["entry"]
    for entry, low in zip(
        normals * 3, prefetch["alp"]["entry"][:3], strict=False
    ):  # a normal result beside every low one
        entry = json.loads(json.dumps(entry))
        entry["resource"]["id"] += low["resource"]["id"]
        entry["resource"]["effectiveDateTime"] = low["resource"]["effectiveDateTime"]
        prefetch["alp"]["entry"].append(entry)
    mixed = cards(client, prefetch)
    assert topics(alone) == [("low-alp-antiresorptive", "warning")]
    assert [(c["summary"], c["detail"]) for c in mixed] == [(c["summary"], c["detail"]) for c in alone]


def test_other_patients_resources_are_counted_in_the_log_without_ids(client, caplog):
    caplog.set_level("INFO")
    prefetch = full_prefetch(conditions="conditions-hpp.json")
    prefetch["conditions"] = of_patient(prefetch["conditions"], OTHER)
    prefetch["patient"]["id"] = OTHER
    cards(client, prefetch)
    (record,) = [r for r in caplog.records if r.getMessage() == "other patients' resources ignored"]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields == {"ignored": 1 + len(prefetch["conditions"]["entry"]), "keys": "conditions,patient"}
    assert OTHER not in caplog.text


def test_fetched_resources_of_another_patient_are_ignored(client):
    prefetch = full_prefetch(alp="alp-normal.json")
    del prefetch["conditions"]
    hpp = of_patient(load_fhir("conditions-hpp.json"), OTHER)
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Condition", json=hpp)
        assert topics(cards(client, prefetch, fhir_server=FHIR_SERVER)) == []


def test_a_draft_order_for_another_patient_is_400(client):
    orders = drafts()
    orders["entry"][0]["resource"]["subject"] = {"reference": f"Patient/{OTHER}"}
    body = hook_request("order-sign", patient_id=PATIENT, prefetch=full_prefetch(), draft_orders=orders)
    response = client.post(ORDER_SIGN, json=body)
    assert response.status_code == 400
    assert error_reason(response) == "context.draftOrders holds an order for another patient than context.patientId"


def test_an_included_medication_is_kept_and_an_included_resource_of_another_patient_is_not(caplog):
    from cds_service.patient_scope import only_this_patient

    drug = {"fullUrl": "Medication/m1", "resource": {"resourceType": "Medication", "id": "m1"}}
    stray = {"resource": {"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient/someone-else"}}}
    data, included = only_this_patient({"medications": []}, "p1", [drug, stray])
    assert data == {"medications": []} and included == [drug]
