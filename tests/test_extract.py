"""Reading FHIR resources into records: the fields the rules need, resolved medications, rejects kept."""

from datetime import date
from decimal import Decimal

from hooks.extract import (
    index_medications,
    normalise_text,
    read_conditions,
    read_lab_results,
    read_medication_requests,
    read_patient,
    unresolved_medication_references,
)
from hooks.records import AgeBound, Code, Quantity, ReferenceRange
from tests.conftest import load_fhir

ALP_CODES = frozenset({"6768-6", "1783-0", "77141-0"})


def resources(name):
    return [entry["resource"] for entry in load_fhir(name)["entry"]]


def test_patient_birth_date_and_sex():
    facts = read_patient(load_fhir("patient-adult-female.json"), "pat-hpp-1")
    assert (facts.id, facts.birth_date, facts.sex) == ("pat-hpp-1", date(1961, 4, 12), "female")


def test_a_missing_or_unreadable_patient_has_unknown_age():
    assert read_patient(None, "p").birth_date is None
    assert read_patient({"resourceType": "Patient", "birthDate": "12/04/1961"}, "p").birth_date is None


def test_a_patient_with_an_invalid_field_keeps_birth_date_and_sex():
    patient = dict(load_fhir("patient-child-male.json"), telecom=[{"value": ""}])
    facts = read_patient(patient, "pat-child-1")
    assert (facts.birth_date, facts.sex) == (date(2020, 5, 3), "male")


def test_a_birth_year_alone_counts_as_its_first_day():
    assert read_patient({"resourceType": "Patient", "birthDate": "1961"}, "p").birth_date == date(1961, 1, 1)


def test_alp_results_carry_value_unit_date_and_range():
    results, unreadable = read_lab_results(resources("alp-persistent-low.json"), ALP_CODES)
    first = results[0]
    assert unreadable == []
    assert (first.id, first.loinc, first.status, first.effective) == ("alp-1", "6768-6", "final", date(2026, 1, 12))
    assert first.quantity == Quantity(Decimal(28), "U/L")
    assert first.reference_ranges == (ReferenceRange(Quantity(Decimal(40), "U/L"), Quantity(Decimal(129), "U/L")),)


def test_specimen_date_falls_back_to_period_start_then_issued():
    observation = resources("alp-single-low.json")[0]
    del observation["effectiveDateTime"]
    observation["effectivePeriod"] = {"start": "2025-09-30T22:00:00-04:00"}
    assert read_lab_results([observation], ALP_CODES)[0][0].effective == date(2025, 9, 30)
    del observation["effectivePeriod"]
    assert read_lab_results([observation], ALP_CODES)[0][0].effective == date(2025, 10, 1)


def test_a_year_month_date_counts_as_the_first_of_the_month_and_a_year_alone_is_undated():
    observation = resources("alp-single-low.json")[0]
    del observation["issued"]
    observation["effectiveDateTime"] = "2025-09"
    assert read_lab_results([observation], ALP_CODES)[0][0].effective == date(2025, 9, 1)
    observation["effectiveDateTime"] = "2025"
    assert read_lab_results([observation], ALP_CODES)[0][0].effective is None


def test_other_codes_are_not_read_at_all():
    bone_alp = resources("alp-single-low.json")[0]
    bone_alp["code"]["coding"][0]["code"] = "1777-2"
    bone_alp["valueQuantity"]["value"] = "not even valid"
    assert read_lab_results([bone_alp], ALP_CODES) == ([], [])


def test_an_alp_result_that_cannot_be_read_is_reported_with_its_date():
    broken = resources("alp-single-low.json")[1]
    broken["valueQuantity"]["value"] = "thirty"
    results, unreadable = read_lab_results([broken], ALP_CODES)
    assert results == []
    assert (unreadable[0].id, unreadable[0].effective, unreadable[0].codes[0].code) == (
        "alp-s2",
        date(2026, 10, 2),
        "6768-6",
    )


def test_age_specific_ranges_are_read_in_years():
    observation = resources("alp-single-low.json")[0]
    observation["referenceRange"] = [
        {
            "low": {"value": 142, "unit": "U/L", "code": "U/L"},
            "age": {"low": {"value": 12, "unit": "mo", "code": "mo"}, "high": {"value": 9, "code": "a"}},
            "appliesTo": [{"coding": [{"system": "http://hl7.org/fhir/administrative-gender", "code": "male"}]}],
        }
    ]
    (result,), _ = read_lab_results([observation], ALP_CODES)
    assert result.reference_ranges[0].age_low == AgeBound(Decimal(12), "mo")
    assert result.reference_ranges[0].age_high == AgeBound(Decimal(9), "a")
    assert result.reference_ranges[0].applies_to == ("male",)


def test_medication_codeable_concept_gives_codes_and_names():
    orders, _ = read_medication_requests(resources("medications-active-alendronate.json"), {})
    assert orders[0].codes == (
        Code("http://www.nlm.nih.gov/research/umls/rxnorm", "904431", "alendronic acid 70 MG Oral Tablet"),
    )
    assert orders[0].names[0] == "alendronic acid 70 MG Oral Tablet"
    assert (orders[0].status, orders[0].authored, orders[0].reference) == (
        "active",
        date(2026, 2, 1),
        "MedicationRequest/mr-aln",
    )


def test_contained_and_same_bundle_medications_are_resolved():
    bundle = load_fhir("draft-orders-medication-references.json")
    requests = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    index = index_medications(bundle["entry"])
    assert unresolved_medication_references(requests, index) == set()
    orders, _ = read_medication_requests(requests, index)
    assert [o.codes[0].code for o in orders] == ["993452", "705824"]


def test_server_references_are_reported_for_fetching_and_read_once_fetched():
    request = {
        "resourceType": "MedicationRequest",
        "id": "m",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "medicationReference": {"reference": "Medication/ibn", "display": "Ibandronate 150 mg"},
    }
    assert unresolved_medication_references([request], {}) == {"Medication/ibn"}
    unresolved, _ = read_medication_requests([request], {})
    assert (unresolved[0].codes, unresolved[0].names) == ((), ("Ibandronate 150 mg",))
    fetched = {
        "Medication/ibn": {
            "resourceType": "Medication",
            "id": "ibn",
            "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "904932"}]},
        }
    }
    resolved, _ = read_medication_requests([request], fetched)
    assert resolved[0].codes[0].code == "904932"


def test_an_unreadable_medication_request_is_still_read_as_far_as_legible():
    draft = resources("medications-active-alendronate.json")[0]
    draft["authoredOn"] = "yesterday"
    orders, unreadable = read_medication_requests([draft], {})
    assert unreadable[0].id == "mr-aln"
    assert (orders[0].id, orders[0].status, orders[0].codes[0].code) == ("mr-aln", "active", "904431")


def test_conditions_carry_codes_and_verification_status():
    (condition,), unreadable = read_conditions(resources("conditions-hpp.json"))
    assert unreadable == []
    assert (condition.codes[0].code, condition.verification_status, condition.names[0]) == (
        "360792001",
        "confirmed",
        "Hypophosphatasia",
    )


def test_an_unreadable_condition_keeps_its_codes_and_verification_status():
    condition = resources("conditions-hpp.json")[0]
    condition["code"]["coding"][0]["userSelected"] = "perhaps"  # a read element that is not valid FHIR
    conditions, unreadable = read_conditions([condition])
    assert conditions == [] and (unreadable[0].codes[0].code, unreadable[0].status) == ("360792001", "confirmed")


def test_text_normalisation_removes_invisible_characters_and_case():
    assert normalise_text("Alkaline\u200b  PHOSPHATASE\ufeff") == "alkaline phosphatase"
    assert normalise_text("ＡＬＥＮＤＲＯＮＡＴＥ") == "alendronate"


def test_a_defect_in_an_element_no_rule_reads_does_not_make_a_resource_unreadable():
    condition = resources("conditions-hpp.json")[0]
    condition["abatementDateTime"] = "spring 2019"
    (read,), unreadable = read_conditions([condition])
    assert (read.codes[0].code, unreadable) == ("360792001", [])


# Reading tolerates what sloppy clients send and invents nothing (tests/test_extract_differential.py holds the reader
# against fhir.resources).

SANDBOX_DRAFT = load_fhir("draft-orders-sandbox-alendronate.json")["entry"][0]["resource"]


def test_the_sandbox_draft_is_read_and_its_category_object_costs_nothing():
    (order,), unreadable = read_medication_requests([SANDBOX_DRAFT], {})
    assert (order.id, order.codes[0].code, unreadable) == ("request-123", "904431", [])


def test_a_missing_intent_on_a_medication_request_is_tolerated():
    draft = {k: v for k, v in SANDBOX_DRAFT.items() if k != "intent"}
    (order,), unreadable = read_medication_requests([draft], {})
    assert (order.codes[0].code, unreadable) == ("904431", [])


def test_reading_never_changes_the_callers_resource():
    before = repr(SANDBOX_DRAFT)
    read_medication_requests([SANDBOX_DRAFT], {})
    assert repr(SANDBOX_DRAFT) == before


def test_an_object_where_r4_wants_a_list_is_read_in_an_element_the_rules_read():
    observation = resources("alp-persistent-low.json")[0]
    observation["referenceRange"] = observation["referenceRange"][0]  # an object, as sloppy clients send
    (result,), _ = read_lab_results([observation], ALP_CODES)
    assert result.reference_ranges[0].low == Quantity(Decimal(40), "U/L")


def test_a_defect_where_no_rule_reads_and_elements_r4_does_not_define_cost_nothing():
    observation = resources("alp-persistent-low.json")[0]
    observation["performer"] = [{"reference": 12}]  # invalid, and read by no rule
    observation["triggeredBy"] = [{"type": "reflex"}]  # R5
    (result,), unreadable = read_lab_results([observation], ALP_CODES)
    assert (result.id, unreadable) == ("alp-1", [])


def test_a_date_time_without_zone_keeps_its_calendar_date():
    observation = resources("alp-persistent-low.json")[0]
    observation["effectiveDateTime"] = "2026-01-12T23:30:00"
    assert read_lab_results([observation], ALP_CODES)[0][0].effective == date(2026, 1, 12)


def test_a_missing_status_is_not_invented():
    observation = resources("alp-persistent-low.json")[0]
    del observation["status"]
    results, (unreadable,) = read_lab_results([observation], ALP_CODES)
    assert results == [] and "status: missing" in unreadable.reason and unreadable.status is None


def test_a_non_numeric_value_is_unreadable_and_the_reason_has_no_patient_data():
    observation = resources("alp-persistent-low.json")[0]
    observation["valueQuantity"]["value"] = "twenty-eight Alice"
    _, (unreadable,) = read_lab_results([observation], ALP_CODES)
    assert unreadable.reason == "Observation failed validation: valueQuantity.value: not a decimal"


def test_an_entry_that_is_no_resource_is_reported_and_other_kinds_are_not_read():
    results, unreadable = read_lab_results([{}, {"resourceType": 3}, {"resourceType": "Procedure"}], ALP_CODES)
    assert results == [] and [u.reason for u in unreadable] == ["the entry is not a FHIR resource"] * 2
