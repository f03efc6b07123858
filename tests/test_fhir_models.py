"""Tolerant validation: known client mistakes are repaired, anything else is reported, never guessed."""

import pytest

from hooks.fhir_models import UnreadableResource, validate
from tests.conftest import load_fhir

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


@pytest.mark.parametrize("resource", [{"resourceType": "Encounter"}, {}, {"resourceType": 3}])
def test_unsupported_resources_are_refused(resource):
    with pytest.raises(UnreadableResource, match="unsupported"):
        validate(resource)
