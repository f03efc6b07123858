"""The renal check: each labelled limit on both sides, units, the window, the newest-value rule and comparators."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hooks.findings import Indicator, Measurement, Topic
from hooks.policy import Policy
from hooks.records import Code, LabResult, MedicationOrder, Quantity
from hooks.renal import EGFR_NOTE, check_renal_function
from hooks.valuesets import ATC, RXNORM

TODAY = date(2026, 11, 24)
POLICY = Policy()
CRCL = "2164-2"
CRCL_CG = "35591-7"
EGFR = "98979-8"
EGFR_UNIT = "mL/min/{1.73_m2}"


def lab(day: str | None, value: str | int | float | None, unit: str | None = "mL/min", *, loinc: str = CRCL,
        status: str = "final", comparator: str | None = None, absent: bool = False,
        at: str | None = None) -> LabResult:
    """Return a renal function result; `at` is a time of day in UTC, e.g. "08:30"."""
    when = date.fromisoformat(day) if day else None
    quantity = None if value is None else Quantity(Decimal(str(value)), unit, comparator)
    instant = datetime.fromisoformat(f"{day}T{at}+00:00") if day and at else None
    return LabResult(f"obs-{loinc}-{day}-{at}", loinc, status, when, quantity, (), absent, instant)


def order(*names: str, codes: tuple[Code, ...] = (), id: str | None = "mr-1") -> MedicationOrder:
    """Return a draft MedicationRequest for the named medications."""
    return MedicationOrder(id, "draft", codes, names)


ALENDRONATE = order("Alendronate sodium 70 mg tablet")
ZOLEDRONIC = order("Zoledronic acid 5 mg/100 mL injection")
RISEDRONATE = order("Risedronate sodium 35 mg tablet")
IBANDRONATE = order("Ibandronate 150 mg tablet")
DENOSUMAB = order("Prolia 60 mg/mL (denosumab)")


def check(drug: MedicationOrder, *labs: LabResult, policy: Policy = POLICY):
    return check_renal_function(drug, labs, "pat-1", TODAY, policy)


# --- each labelled limit, on both sides ------------------------------------------------------------------

@pytest.mark.parametrize("drug, below, at, indicator", [
    (ALENDRONATE, "34.9", "35", Indicator.WARNING),
    (ZOLEDRONIC, "34.9", "35", Indicator.CRITICAL),
    (RISEDRONATE, "29.9", "30", Indicator.WARNING),
    (IBANDRONATE, "29.9", "30", Indicator.WARNING),
    (DENOSUMAB, "29.9", "30", Indicator.WARNING),
], ids=["alendronate", "zoledronic acid", "risedronate", "ibandronate", "denosumab"])
def test_a_value_below_the_labelled_limit_is_a_finding_and_the_limit_itself_is_not(drug, below, at, indicator):
    finding = check(drug, lab("2026-10-02", below))
    assert finding is not None and finding.indicator is indicator
    assert finding.measurements[0].value == Decimal(below)
    assert check(drug, lab("2026-10-02", at)) is None


def test_zoledronic_acid_is_critical_because_its_label_contraindicates_it():
    finding = check(ZOLEDRONIC, lab("2026-10-02", 28, EGFR_UNIT, loinc=EGFR))
    assert finding is not None
    assert (finding.topic, finding.indicator, finding.drugs) == (
        Topic.RENAL_ANTIRESORPTIVE, Indicator.CRITICAL, ("zoledronic acid",))
    assert finding.criteria == (
        "eGFR 28 mL/min/1.73 m² is below the labelled limit of 35 mL/min for zoledronic acid",)


def test_the_finding_names_the_order_patient_and_measurement():
    finding = check(ALENDRONATE, lab("2026-10-02", 31, loinc=CRCL_CG))
    assert finding is not None
    assert (finding.patient_id, finding.order) == ("pat-1", ALENDRONATE)
    assert finding.measurements == (
        Measurement("Creatinine clearance", CRCL_CG, date(2026, 10, 2), Decimal(31), "mL/min", None, "< 35 mL/min"),
    )
    assert finding.criteria == (
        "Creatinine clearance 31 mL/min is below the labelled limit of 35 mL/min for alendronate",)
    assert finding.notes == ()


@pytest.mark.parametrize("name", ["Pamidronate 90 mg", "Etidronate 400 mg", "Evenity (romosozumab)",
                                  "Clodronate 800 mg"])
def test_antiresorptives_without_a_labelled_renal_limit_get_no_renal_finding(name):
    assert check(order(name), lab("2026-10-02", 5)) is None


def test_a_bisphosphonate_known_only_by_its_atc_group_gets_no_renal_finding():
    unnamed = order("Bone tablet", codes=(Code(ATC, "M05BA99"),))
    assert check(unnamed, lab("2026-10-02", 5)) is None


def test_a_drug_that_is_not_an_antiresorptive_gets_no_renal_finding():
    assert check(order("Metformin 500 mg"), lab("2026-10-02", 5)) is None


def test_an_order_recognised_by_rxnorm_code_is_checked():
    coded = order("Bone tablet", codes=(Code(RXNORM, "77655"),))  # zoledronic acid
    finding = check(coded, lab("2026-10-02", 20))
    assert finding is not None and finding.indicator is Indicator.CRITICAL


def test_limits_are_policy_parameters():
    stricter = dataclasses.replace(POLICY, renal_limit_alendronate=Decimal(45))
    assert check(ALENDRONATE, lab("2026-10-02", 40)) is None
    finding = check(ALENDRONATE, lab("2026-10-02", 40), policy=stricter)
    assert finding is not None and finding.measurements[0].limit == "< 45 mL/min"


# --- eGFR as a proxy, and units ---------------------------------------------------------------------------

def test_an_egfr_carries_the_note_that_labels_are_written_in_cockcroft_gault_crcl():
    finding = check(ALENDRONATE, lab("2026-10-02", 30, EGFR_UNIT, loinc=EGFR))
    assert finding is not None
    assert finding.notes == (EGFR_NOTE,)
    assert "Cockcroft-Gault" in EGFR_NOTE and "proxy" in EGFR_NOTE
    assert (finding.measurements[0].label, finding.measurements[0].unit) == ("eGFR", "mL/min/1.73 m²")


@pytest.mark.parametrize("loinc", ["98979-8", "62238-1", "33914-3", "48642-3", "48643-1", "77147-7"])
def test_every_egfr_code_is_read(loinc):
    finding = check(ALENDRONATE, lab("2026-10-02", 30, "mL/min/1.73m2", loinc=loinc))
    assert finding is not None and finding.measurements[0].label == "eGFR"


def test_a_creatinine_clearance_has_no_proxy_note():
    finding = check(ALENDRONATE, lab("2026-10-02", 30))
    assert finding is not None and EGFR_NOTE not in finding.notes


def test_an_unrelated_code_such_as_serum_creatinine_is_not_read():
    assert check(ALENDRONATE, lab("2026-10-02", 2, "mg/dL", loinc="2160-0")) is None


@pytest.mark.parametrize("value, unit, below", [
    ("0.58", "mL/s", True),   # 34.8 mL/min
    ("0.59", "mL/s", False),  # 35.4 mL/min
    ("0.5", "mL/s/{1.73_m2}", True),
])
def test_millilitres_per_second_are_converted_to_millilitres_per_minute(value, unit, below):
    finding = check(ALENDRONATE, lab("2026-10-02", value, unit))
    assert (finding is not None) is below
    if finding is not None:
        assert finding.measurements[0].value == Decimal(value) * 60
        assert finding.notes == (f"Creatinine clearance reported as {value} {unit}, shown converted to "
                                 f"{finding.measurements[0].unit}.",)


# --- the look-back window ---------------------------------------------------------------------------------

def test_a_result_exactly_twelve_calendar_months_old_is_in_the_window_and_a_day_older_is_not():
    assert check(ALENDRONATE, lab("2025-11-24", 20)) is not None
    assert check(ALENDRONATE, lab("2025-11-23", 20)) is None


def test_the_window_is_a_policy_parameter():
    six_months = dataclasses.replace(POLICY, renal_lookback_months=6)
    assert check(ALENDRONATE, lab("2026-05-24", 20), policy=six_months) is not None
    assert check(ALENDRONATE, lab("2026-05-23", 20), policy=six_months) is None


def test_a_result_without_a_date_is_ignored():
    assert check(ALENDRONATE, lab(None, 20)) is None


# --- the newest value decides, and is never replaced by an older one ------------------------------------

@pytest.mark.parametrize("newest", [
    lab("2026-10-02", 30, "mg/dL"),
    lab("2026-10-02", 30, None),
    lab("2026-10-02", None),
    lab("2026-10-02", -5),
], ids=["unknown unit", "no unit", "no value", "negative value"])
def test_an_uninterpretable_newest_value_gives_no_finding_even_when_an_older_one_is_low(newest):
    older_low = lab("2026-06-01", 20)
    assert check(ALENDRONATE, older_low) is not None
    assert check(ALENDRONATE, older_low, newest) is None


def test_a_newer_normal_value_replaces_an_older_low_one():
    assert check(ALENDRONATE, lab("2026-06-01", 20), lab("2026-10-02", 60)) is None


def test_a_newer_low_value_replaces_an_older_normal_one():
    finding = check(ALENDRONATE, lab("2026-10-02", 20), lab("2026-06-01", 60))
    assert finding is not None and finding.measurements[0].effective == date(2026, 10, 2)


def test_an_egfr_newer_than_a_crcl_is_the_value_used():
    finding = check(ALENDRONATE, lab("2026-06-01", 60), lab("2026-10-02", 30, EGFR_UNIT, loinc=EGFR))
    assert finding is not None and finding.measurements[0].label == "eGFR"


def test_on_the_same_day_the_time_of_day_decides_which_is_newest():
    morning_low, afternoon_normal = lab("2026-10-02", 20, at="08:00"), lab("2026-10-02", 60, at="14:00")
    assert check(ALENDRONATE, afternoon_normal, morning_low) is None
    morning_normal, afternoon_low = lab("2026-10-02", 60, at="08:00"), lab("2026-10-02", 20, at="14:00")
    assert check(ALENDRONATE, afternoon_low, morning_normal) is not None


def test_same_day_results_without_a_time_are_equally_recent_and_the_least_alarming_decides():
    assert check(ALENDRONATE, lab("2026-10-02", 20), lab("2026-10-02", 60)) is None
    finding = check(ALENDRONATE, lab("2026-10-02", 20), lab("2026-10-02", 31))
    assert finding is not None and finding.measurements[0].value == Decimal(31)


def test_an_uninterpretable_result_on_the_newest_day_with_no_time_blocks_the_finding():
    assert check(ALENDRONATE, lab("2026-10-02", 20, at="14:00"), lab("2026-10-02", 20, "mg/dL")) is None


def test_a_creatinine_clearance_is_preferred_to_an_egfr_of_the_same_day():
    egfr_low, crcl_normal = lab("2026-10-02", 28, EGFR_UNIT, loinc=EGFR), lab("2026-10-02", 40)
    assert check(ALENDRONATE, egfr_low, crcl_normal) is None
    crcl_low, egfr_normal = lab("2026-10-02", 28), lab("2026-10-02", 40, EGFR_UNIT, loinc=EGFR)
    finding = check(ALENDRONATE, egfr_normal, crcl_low)
    assert finding is not None and finding.measurements[0].label == "Creatinine clearance"
    assert finding.notes == ()


def test_the_order_of_the_input_does_not_matter():
    results = [lab("2026-06-01", 20), lab("2026-10-02", 60), lab("2026-08-01", 25)]
    assert check(ALENDRONATE, *results) is None
    assert check(ALENDRONATE, *reversed(results)) is None


# --- comparators ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("comparator, value, below", [
    ("<", "35", True),    # under 35: certainly below 35
    ("<", "10", True),
    ("<", "35.1", False),  # under 35.1 may be 35: cannot be judged
    ("<=", "34.9", True),
    ("<=", "35", False),   # may be exactly 35
    (">", "10", False),    # above 10 may be far above the limit
    (">=", "20", False),
    (">", "90", False),
])
def test_comparators_count_only_values_certainly_below_the_limit(comparator, value, below):
    finding = check(ALENDRONATE, lab("2026-10-02", value, comparator=comparator))
    assert (finding is not None) is below
    if finding is not None:
        assert finding.measurements[0].comparator == comparator
        assert finding.criteria[0].startswith(f"Creatinine clearance {comparator}{value} mL/min is below")


def test_an_undeterminable_comparator_does_not_fall_back_to_an_older_value():
    assert check(ALENDRONATE, lab("2026-06-01", 20), lab("2026-10-02", 50, comparator="<")) is None


# --- statuses -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, counts", [
    ("final", True), ("amended", True), ("corrected", True),
    ("preliminary", False), ("registered", False), ("cancelled", False), ("entered-in-error", False),
    ("unknown", False),
])
def test_only_verified_results_count(status, counts):
    assert (check(ALENDRONATE, lab("2026-10-02", 20, status=status)) is not None) is counts


def test_an_unverified_newer_result_does_not_hide_a_verified_older_one():
    finding = check(ALENDRONATE, lab("2026-06-01", 20), lab("2026-10-02", 60, status="preliminary"))
    assert finding is not None and finding.measurements[0].effective == date(2026, 6, 1)


def test_a_result_with_a_data_absent_reason_is_not_a_value():
    finding = check(ALENDRONATE, lab("2026-06-01", 20), lab("2026-10-02", 60, absent=True))
    assert finding is not None and finding.measurements[0].effective == date(2026, 6, 1)
    assert check(ALENDRONATE, lab("2026-10-02", 20, absent=True)) is None


def test_trusted_statuses_are_a_policy_parameter():
    final_only = dataclasses.replace(POLICY, trusted_statuses=frozenset({"final"}))
    assert check(ALENDRONATE, lab("2026-10-02", 20, status="amended"), policy=final_only) is None


# --- several antiresorptives in one order -----------------------------------------------------------------

def test_several_ingredients_use_the_highest_limit_that_is_breached():
    both = order("Alendronate 70 mg", "Denosumab 60 mg")
    finding = check(both, lab("2026-10-02", 32))
    assert finding is not None
    assert (finding.drugs, finding.indicator, finding.measurements[0].limit) == (
        ("alendronate",), Indicator.WARNING, "< 35 mL/min")


def test_several_ingredients_below_their_limits_are_all_named():
    both = order("Alendronate 70 mg", "Denosumab 60 mg")
    finding = check(both, lab("2026-10-02", 25))
    assert finding is not None
    assert finding.drugs == ("alendronate", "denosumab")
    assert len(finding.criteria) == 2 and finding.criteria[1].endswith("30 mL/min for denosumab")


@pytest.mark.parametrize("names", [("Alendronate 70 mg", "Zoledronic acid 5 mg"),
                                   ("Zoledronic acid 5 mg", "Denosumab 60 mg")])
def test_several_ingredients_take_the_most_severe_indicator(names):
    finding = check(order(*names), lab("2026-10-02", 25))
    assert finding is not None and finding.indicator is Indicator.CRITICAL


def test_the_severity_comes_from_a_limit_that_is_actually_breached():
    # With alendronate's limit raised above zoledronic acid's, a value between them breaches only alendronate.
    policy = dataclasses.replace(POLICY, renal_limit_alendronate=Decimal(40))
    both = order("Alendronate 70 mg", "Zoledronic acid 5 mg")
    finding = check(both, lab("2026-10-02", 37), policy=policy)
    assert finding is not None
    assert (finding.drugs, finding.indicator) == (("alendronate",), Indicator.WARNING)


def test_a_time_zone_aware_result_is_read():
    when = datetime(2026, 10, 2, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    result = dataclasses.replace(lab("2026-10-02", 20), instant=when)
    finding = check(ALENDRONATE, result, lab("2026-10-02", 21, at="04:00"))
    assert finding is not None and finding.measurements[0].value == Decimal(20)


# --- oncology zoledronic acid (Zometa) ------------------------------------------------------------------

ZOMETA = order("Zometa 4 mg/5 mL concentrate")
ZOLEDRONIC_4MG = order("zoledronic acid 4 MG per 5 ML Injection",
                       codes=(Code("http://www.nlm.nih.gov/research/umls/rxnorm", "351114"),))


@pytest.mark.parametrize("drug", [ZOMETA, ZOLEDRONIC_4MG], ids=["by name", "by RxNorm"])
def test_oncology_zoledronic_acid_is_not_recommended_below_30_not_contraindicated_below_35(drug):
    assert check(drug, lab("2026-10-02", "32")) is None
    finding = check(drug, lab("2026-10-02", "29.9"))
    assert finding is not None and finding.indicator is Indicator.WARNING
