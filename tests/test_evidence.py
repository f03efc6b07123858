"""Evidence from resolved FHIR data: every key read, HPP from drafts too."""

from hooks.evidence import evidence_from_resources
from hooks.extract import read_medication_requests
from hooks.findings import Pattern
from hooks.policy import Policy
from tests.conftest import TODAY, load_fhir


def entries(name):
    return [e["resource"] for e in load_fhir(name)["entry"]]


def data(**names):
    keys = {
        "patient": "patient-adult-female.json",
        "alp": "alp-persistent-low.json",
        "conditions": "conditions-none.json",
        "medications": "medications-none.json",
    } | names
    out = {key: (load_fhir(name) if key == "patient" else entries(name)) for key, name in keys.items() if name}
    return out


def evidence(**names):
    return evidence_from_resources(data(**names), {}, patient_id="pat-hpp-1", today=TODAY, policy=Policy())


def test_a_complete_record_gives_the_pattern_hpp_status_and_medications():
    result = evidence(medications="medications-active-alendronate.json")
    assert result.alp.pattern is Pattern.PERSISTENT
    assert (result.hpp, result.workup_on_file) == ((), False)
    # Only orders a rule reads are carried: the alendronate, not the cholecalciferol.
    assert [m.id for m in result.medications] == ["mr-aln"]
    assert result.patient.sex == "female"


def test_hpp_conditions_and_workup_results_are_read():
    result = evidence(conditions="conditions-hpp.json", hppWorkup="hpp-workup-plp.json")
    assert result.hpp == ("Hypophosphatasia diagnosis on record (SNOMED CT 360792001)",)
    assert result.workup_on_file


def test_null_keys_are_no_data():
    result = evidence_from_resources(
        {"patient": None, "alp": [], "conditions": [], "medications": []},
        {},
        patient_id="p",
        today=TODAY,
        policy=Policy(),
    )
    assert (result.alp.pattern, result.patient.birth_date, result.hpp) == (Pattern.NONE, None, ())


def test_an_asfotase_draft_order_shows_hpp():
    drafts, _ = read_medication_requests(entries("medications-asfotase.json"), {})
    result = evidence_from_resources(
        data(), {}, patient_id="pat-hpp-1", today=TODAY, policy=Policy(), draft_orders=drafts
    )
    assert result.hpp == ("Asfotase alfa (Strensiq) prescribed, 2024-06-01",)


def test_fetched_medications_resolve_references():
    request = {
        "resourceType": "MedicationRequest",
        "id": "m",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/pat-hpp-1"},
        "medicationReference": {"reference": "Medication/x"},
    }
    fetched = {
        "Medication/x": {
            "resourceType": "Medication",
            "id": "x",
            "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "993452"}]},
        }
    }
    result = evidence_from_resources(
        data(medications=None) | {"medications": [request]},
        fetched,
        patient_id="pat-hpp-1",
        today=TODAY,
        policy=Policy(),
    )
    assert result.medications[0].codes[0].code == "993452"


def test_orders_no_rule_reads_are_not_kept():
    from hooks.evidence import may_matter

    statin = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "atorvastatin 20 mg"},
        "subject": {"reference": "Patient/p"},
    }
    asfotase = dict(statin, medicationCodeableConcept={"text": "Strensiq 40 mg/mL"})
    unknown = dict(statin, medicationReference={"reference": "Medication/elsewhere"})
    del unknown["medicationCodeableConcept"]
    orders, _ = read_medication_requests([statin, asfotase, unknown], {})
    assert [may_matter(order) for order in orders] == [False, True, True]
    result = evidence_from_resources(
        data(medications=None) | {"medications": [statin, asfotase, unknown]},
        {},
        patient_id="pat-hpp-1",
        today=TODAY,
        policy=Policy(),
    )
    assert [order.names for order in result.medications] == [("Strensiq 40 mg/mL",), ()]


def test_bone_specific_alp_with_a_data_absent_reason_is_not_shown():
    import dataclasses
    from datetime import date
    from decimal import Decimal

    from hooks.evidence import bone_specific_alp
    from hooks.records import LabResult, Quantity

    result = LabResult("b1", "17838-4", "final", date(2026, 5, 1), Quantity(Decimal(12), "ug/L"))
    assert len(bone_specific_alp([result], date(2026, 1, 1), Policy())) == 1
    absent = dataclasses.replace(result, has_data_absent_reason=True)
    assert bone_specific_alp([absent], date(2026, 1, 1), Policy()) == ()
