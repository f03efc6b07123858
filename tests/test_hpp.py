"""Hypophosphatasia on record and an HPP work-up on file."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from hooks.hpp import hpp_on_record, workup_on_file
from hooks.policy import Policy
from hooks.records import Code, ConditionRecord, LabResult, MedicationOrder, Quantity, Unreadable
from hooks.valuesets import ATC, ICD10CM, SNOMED

SINCE = date(2021, 11, 24)


def condition(code: Code, names=(), status="confirmed") -> ConditionRecord:
    return ConditionRecord("c1", (code,), tuple(names), status)


@pytest.mark.parametrize("code", ["360792001", "20756002", "30174008", "55236002", "708672004"])
def test_hpp_snomed_codes_are_on_record(code):
    assert hpp_on_record([condition(Code(SNOMED, code))], [], []) == (
        f"Hypophosphatasia diagnosis on record (SNOMED CT {code})",
    )


@pytest.mark.parametrize("status", ["refuted", "entered-in-error"])
def test_refuted_or_erroneous_diagnoses_are_not(status):
    assert hpp_on_record([condition(Code(SNOMED, "360792001"), status=status)], [], []) == ()


@pytest.mark.parametrize("status", ["provisional", "differential", "unconfirmed", None])
def test_unconfirmed_diagnoses_still_count(status):
    assert hpp_on_record([condition(Code(SNOMED, "360792001"), status=status)], [], [])


def test_icd10cm_e83_39_counts_only_when_it_names_hypophosphatasia():
    plain = condition(Code(ICD10CM, "E83.39", "Other disorders of phosphorus metabolism"))
    named = condition(Code(ICD10CM, "E83.39"), names=["Adult HYPOPHOSPHATASIA"])
    assert hpp_on_record([plain], [], []) == ()
    assert hpp_on_record([named], [], []) == ("Hypophosphatasia diagnosis on record (ICD-10-CM E83.39)",)


def test_an_unreadable_hpp_condition_counts_unless_refuted():
    unreadable = Unreadable("Condition", "c2", "failed", (Code(SNOMED, "360792001"),))
    assert "partly unreadable" in hpp_on_record([], [unreadable], [])[0]
    refuted = Unreadable("Condition", "c2", "failed", (Code(SNOMED, "360792001"),), status="refuted")
    assert hpp_on_record([], [refuted], []) == ()


def test_asfotase_alfa_in_any_status_but_error_shows_hpp():
    asfotase = MedicationOrder("m1", "stopped", (Code(ATC, "A16AB13"),), ("asfotase alfa",), date(2024, 6, 1))
    assert hpp_on_record([], [], [asfotase]) == ("Asfotase alfa (Strensiq) prescribed, 2024-06-01",)
    erroneous = MedicationOrder("m1", "entered-in-error", (Code(ATC, "A16AB13"),), ())
    assert hpp_on_record([], [], [erroneous]) == ()


def lab(loinc: str, day: date, status="final") -> LabResult:
    return LabResult("o1", loinc, status, day, Quantity(Decimal(100), "nmol/L"))


@pytest.mark.parametrize("loinc", ["62236-5", "30552-4", "77084-2", "13789-3", "26611-4"])
def test_a_workup_result_in_the_window_is_on_file(loinc):
    assert workup_on_file([lab(loinc, date(2026, 1, 1))], [], SINCE, Policy())


def test_an_old_preliminary_or_unrelated_result_is_not_a_workup():
    results = [
        lab("62236-5", date(2020, 1, 1)),
        lab("62236-5", date(2026, 1, 1), "preliminary"),
        lab("2777-1", date(2026, 1, 1)),
    ]
    assert not workup_on_file(results, [], SINCE, Policy())


def test_an_unreadable_workup_result_still_shows_the_workup_was_done():
    unreadable = Unreadable("Observation", "o2", "failed", (Code("http://loinc.org", "77084-2"),), date(2026, 2, 1))
    assert workup_on_file([], [unreadable], SINCE, Policy())


@pytest.mark.parametrize(
    "names, on_record",
    [
        (["Hypophosphatasia, adult form"], True),
        (["hypophosphatasia?"], True),
        (["Pseudohypophosphatasia"], False),
        (["Hypophosphataemia"], False),
        (["X-linked hypophosphatemia"], False),
    ],
)
def test_a_locally_coded_hypophosphatasia_is_recognised_by_its_text(names, on_record):
    local = ConditionRecord("c9", (Code("http://hospital.example.org/problems", "HPP-01"),), tuple(names), "confirmed")
    assert bool(hpp_on_record([local], [], [])) is on_record


@pytest.mark.parametrize(
    "text",
    [
        "Family history of hypophosphatasia",
        "Hypophosphatasia ruled out",
        "Screening for hypophosphatasia",
        "No hypophosphatasia",
    ],
)
def test_text_that_names_hypophosphatasia_without_recording_it_does_not_count(text):
    local = ConditionRecord("c9", (), (text,), "confirmed")
    assert hpp_on_record([local], [], []) == ()


@pytest.mark.parametrize(
    "source, status, counts",
    [
        ("MedicationRequest", "active", True),
        ("MedicationRequest", "cancelled", False),
        ("MedicationStatement", "not-taken", False),
        ("MedicationDispense", "declined", False),
        ("MedicationAdministration", "completed", True),
    ],
)
def test_asfotase_alfa_counts_only_when_a_record_shows_it_taken(source, status, counts):
    order = MedicationOrder("a1", status, (Code(ATC, "A16AB13"),), ("Strensiq",), source=source)
    assert bool(hpp_on_record([], [], [order])) is counts


def test_a_workup_result_with_a_data_absent_reason_is_not_on_file():
    done = lab("62236-5", date(2026, 1, 1))
    assert workup_on_file([done], [], SINCE, Policy())
    assert not workup_on_file([dataclasses.replace(done, has_data_absent_reason=True)], [], SINCE, Policy())


@pytest.mark.parametrize("status, on_file", [(None, True), ("final", True), ("cancelled", False)])
def test_an_unreadable_workup_result_counts_unless_its_legible_status_is_not_verified(status, on_file):
    unreadable = Unreadable(
        "Observation", "o2", "failed", (Code("http://loinc.org", "62236-5"),), date(2026, 2, 1), status=status
    )
    assert workup_on_file([], [unreadable], SINCE, Policy()) is on_file
