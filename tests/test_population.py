"""The audit's entry into the rule: the same findings, wording and numbers as the patient-view card."""

from __future__ import annotations

from decimal import Decimal

from cards import render_card
from hooks.evidence import evidence_from_resources
from hooks.findings import Indicator, Topic
from hooks.patient_view import evaluate_patient_view
from hooks.policy import Policy
from hooks.population import finding_reason, prefetch_data, review_patient
from tests.conftest import TODAY, counting_uuids, load_fhir

PATIENT_ID = "pat-hpp-1"


def resources(*names: str) -> list[dict]:
    """Return the resources of fixtures (Bundles flattened), with the adult patient first."""
    found = [load_fhir("patient-adult-female.json")]
    for name in names:
        document = load_fhir(name)
        found += (
            [e["resource"] for e in document.get("entry", [])] if document["resourceType"] == "Bundle" else [document]
        )
    return found


def test_persistent_low_alp_on_alendronate_is_the_warning_card():
    review = review_patient(
        resources("alp-persistent-low.json", "medications-active-alendronate.json"), PATIENT_ID, TODAY, Policy()
    )
    assert [(f.topic, f.indicator) for f in review.findings] == [(Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING)]
    assert review.lowest_alp_u_per_l == Decimal(28)
    assert review.therapy == ("alendronate",)
    assert review.patient_id == PATIENT_ID


def test_hpp_on_record_with_an_antiresorptive_is_critical():
    review = review_patient(
        resources("alp-persistent-low.json", "medications-active-alendronate.json", "conditions-hpp.json"),
        PATIENT_ID,
        TODAY,
        Policy(),
    )
    assert [f.topic for f in review.findings] == [Topic.HPP_ANTIRESORPTIVE]


def test_persistent_low_alp_without_therapy_is_unevaluated():
    review = review_patient(resources("alp-persistent-low.json"), PATIENT_ID, TODAY, Policy())
    assert [f.topic for f in review.findings] == [Topic.LOW_ALP_UNEVALUATED]
    assert review.therapy == ()


def test_no_alp_results_no_finding_and_no_lowest_value():
    review = review_patient(resources("medications-active-alendronate.json"), PATIENT_ID, TODAY, Policy())
    assert review.findings == ()
    assert review.lowest_alp_u_per_l is None
    assert review.therapy == ("alendronate",)


def test_the_review_agrees_with_the_patient_view_rule_on_the_same_prefetch():
    found = resources("alp-persistent-low.json", "medications-active-alendronate.json", "conditions-hpp.json")
    data = {
        "patient": found[0],
        "alp": [r for r in found if r["resourceType"] == "Observation"],
        "conditions": [r for r in found if r["resourceType"] == "Condition"],
        "medications": [r for r in found if r["resourceType"] == "MedicationRequest"],
        "hppWorkup": [],
        "liverPanel": [],
    }
    evidence = evidence_from_resources(data, {}, patient_id=PATIENT_ID, today=TODAY, policy=Policy())
    assert review_patient(found, PATIENT_ID, TODAY, Policy()).findings == tuple(
        evaluate_patient_view(evidence, TODAY, Policy())
    )


def test_the_reason_is_the_card_summary():
    review = review_patient(
        resources("alp-persistent-low.json", "medications-active-alendronate.json"), PATIENT_ID, TODAY, Policy()
    )
    finding = review.findings[0]
    assert finding_reason(finding) == render_card(finding, counting_uuids())["summary"]
    assert "28" in finding_reason(finding)


def test_a_medication_referenced_by_absolute_url_is_resolved():
    request = {
        "resourceType": "MedicationRequest",
        "id": "mr-ref",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationReference": {"reference": "https://ehr.example.org/fhir/Medication/med-1"},
    }
    medication = {
        "resourceType": "Medication",
        "id": "med-1",
        "code": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "993449", "display": "Prolia"}]
        },
    }
    review = review_patient([*resources("alp-persistent-low.json"), request, medication], PATIENT_ID, TODAY, Policy())
    assert review.therapy == ("denosumab",)
    assert [f.topic for f in review.findings] == [Topic.LOW_ALP_ANTIRESORPTIVE]


def test_every_therapy_source_and_stay_goes_under_its_prefetch_key():
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "active",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    encounter = {
        "resourceType": "Encounter",
        "id": "enc-1",
        "status": "finished",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    data = prefetch_data([*resources("alp-persistent-low.json"), statement, encounter], PATIENT_ID)
    assert data["medicationStatements"] == [statement]
    assert data["encounters"] == [encounter]
    assert data["medicationDispenses"] == data["medicationAdministrations"] == []
    assert len(data["alp"]) == 4 and data["patient"]["id"] == PATIENT_ID


def test_a_medication_statement_referencing_a_medication_is_therapy():
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "active",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": "2025-01-10",
        "medicationReference": {"reference": "https://ehr.example.org/fhir/Medication/med-2"},
    }
    medication = {"resourceType": "Medication", "id": "med-2", "code": {"text": "Prolia 60 mg/mL"}}
    review = review_patient([*resources("alp-persistent-low.json"), statement, medication], PATIENT_ID, TODAY, Policy())
    assert review.therapy == ("denosumab",)


def test_another_patients_resource_is_not_taken_as_the_patient():
    other = {**load_fhir("patient-child-male.json")}
    data = prefetch_data([other], PATIENT_ID)
    assert data["patient"] is None
