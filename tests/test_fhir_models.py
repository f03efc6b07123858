"""Tolerant validation: known client mistakes are repaired, anything else is reported, never guessed."""

import copy
import json
from typing import Any

import pytest

from hooks.fhir_models import MODELS, SharedElements, UnreadableResource, validate
from tests.conftest import FIXTURES as FIXTURE_ROOT
from tests.conftest import load_fhir

FIXTURES = FIXTURE_ROOT / "fhir"

SANDBOX_DRAFT = load_fhir("draft-orders-sandbox-alendronate.json")["entry"][0]["resource"]


def test_a_valid_r4_observation_validates_unchanged():
    observation = load_fhir("alp-persistent-low.json")["entry"][0]["resource"]
    model = validate(observation)
    assert (model.id, str(model.valueQuantity.value), model.code.coding[0].code) == ("alp-1", "28", "6768-6")


def test_the_sandbox_draft_validates_and_its_unread_category_object_costs_nothing():
    model = validate(SANDBOX_DRAFT)
    assert (model.id, model.medicationCodeableConcept.coding[0].code) == ("request-123", "904431")


def test_an_object_where_r4_wants_a_list_is_repaired_in_an_element_the_rules_read():
    observation = load_fhir("alp-persistent-low.json")["entry"][0]["resource"]
    observation["referenceRange"] = observation["referenceRange"][0]  # an object, as sloppy clients send
    assert str(validate(observation).referenceRange[0].low.value) == "40"


def test_only_the_elements_the_rules_read_are_validated():
    observation = load_fhir("alp-persistent-low.json")["entry"][0]["resource"]
    observation["performer"] = [{"reference": 12}]  # invalid, and read by no rule
    assert validate(observation).id == "alp-1"


def test_repairs_never_change_the_callers_resource():
    before = repr(SANDBOX_DRAFT)
    validate(SANDBOX_DRAFT)
    assert repr(SANDBOX_DRAFT) == before


def test_a_missing_intent_on_a_medication_request_is_tolerated():
    draft = {k: v for k, v in SANDBOX_DRAFT.items() if k != "intent"}
    assert validate(draft).medicationCodeableConcept.coding[0].code == "904431"


def test_a_date_time_without_zone_keeps_its_calendar_date():
    observation = load_fhir("alp-persistent-low.json")["entry"][0]["resource"]
    observation["effectiveDateTime"] = "2026-01-12T23:30:00"
    assert validate(observation).effectiveDateTime.date().isoformat() == "2026-01-12"


def test_elements_r4_does_not_define_are_ignored():
    observation = load_fhir("alp-persistent-low.json")["entry"][0]["resource"]
    observation["triggeredBy"] = [{"type": "reflex"}]
    assert validate(observation).id == "alp-1"


def test_a_missing_status_is_not_invented():
    observation = load_fhir("alp-persistent-low.json")["entry"][0]["resource"]
    del observation["status"]
    with pytest.raises(UnreadableResource, match="missing"):
        validate(observation)


def test_a_non_numeric_value_is_unreadable_and_the_message_has_no_patient_data():
    observation = load_fhir("alp-persistent-low.json")["entry"][0]["resource"]
    observation["valueQuantity"]["value"] = "twenty-eight Alice"
    with pytest.raises(UnreadableResource) as raised:
        validate(observation)
    assert "Alice" not in str(raised.value) and "twenty" not in str(raised.value)


@pytest.mark.parametrize("resource", [{"resourceType": "Procedure"}, {}, {"resourceType": 3}])
def test_unsupported_resources_are_refused(resource):
    with pytest.raises(UnreadableResource, match="unsupported"):
        validate(resource)


def every_fixture_resource() -> list[dict]:
    """Every resource of the FHIR fixtures (Bundles unpacked), with sloppy variants of the shared elements."""
    resources = []
    for path in sorted(FIXTURES.glob("*.json")):
        document = json.loads(path.read_text())
        entries = document.get("entry") if document.get("resourceType") == "Bundle" else None
        resources += [e["resource"] for e in entries or () if isinstance(e.get("resource"), dict)] or [document]
    variants = []
    for resource in resources:
        if isinstance(resource.get("referenceRange"), list) and resource["referenceRange"]:
            variants.append({**resource, "referenceRange": resource["referenceRange"][0]})  # object for list
        if isinstance(resource.get("code"), dict):
            variants.append(
                {**resource, "code": {**resource["code"], "coding": (resource["code"].get("coding") or [{}])[0]}}
            )
            variants.append({**resource, "code": {**resource["code"], "text": 7}})  # invalid, not repairable
    return [r for r in resources + variants if r.get("resourceType") in MODELS]


def outcome(resource: dict, shared: SharedElements | None) -> Any:
    """The model's JSON, or the refusal's message."""
    try:
        return validate(copy.deepcopy(resource), shared).model_dump(mode="json")
    except UnreadableResource as exc:
        return f"unreadable: {exc}"


def test_validating_recurring_elements_once_a_request_changes_no_result():
    resources = every_fixture_resource()
    shared: SharedElements = {}
    # Twice over, so that the second pass reads only elements validated in the first.
    for resource in resources + resources:
        assert outcome(resource, shared) == outcome(resource, None)
    assert len(resources) > 60 and any(isinstance(v, dict) for v in shared.values())  # invalid ones stay raw
    assert sum(1 for v in shared.values() if not isinstance(v, dict)) > 20


def test_a_validated_element_stands_in_for_each_of_its_copies():
    observations = [r for r in load_fhir("alp-persistent-low.json")["entry"]]
    shared: SharedElements = {}
    models = [validate(e["resource"], shared) for e in observations]
    assert len(models) > 2 and all(m.code is models[0].code for m in models)


def test_an_element_too_large_to_remember_is_validated_in_place():
    observation = load_fhir("alp-persistent-low.json")["entry"][0]["resource"]
    observation["code"]["text"] = "x" * 5000
    shared: SharedElements = {}
    assert validate(observation, shared).code.text == "x" * 5000
    assert not any(key[0] == "CodeableConcept" for key in shared)
