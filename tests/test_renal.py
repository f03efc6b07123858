"""The renal check: each labelled limit on both sides, units, the window, the newest-value rule and comparators."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cards.wording import EGFR_FOR_CRCL as EGFR_NOTE
from cards.wording import criteria_lines, note_lines
from hooks.clearance import REPORTED_NOTE
from hooks.findings import Caveat, Check, Criterion, Indicator, Measurement, Note, Topic
from hooks.policy import Policy
from hooks.records import Code, LabResult, MedicationOrder, Quantity
from hooks.renal import check_renal_function
from hooks.valuesets import ATC, RXNORM

TODAY = date(2026, 11, 24)
POLICY = Policy()
CRCL = "2164-2"
CRCL_CG = "35591-7"
EGFR = "98979-8"
EGFR_UNIT = "mL/min/{1.73_m2}"


def lab(
    day: str | None,
    value: str | int | float | None,
    unit: str | None = "mL/min",
    *,
    loinc: str = CRCL,
    status: str = "final",
    comparator: str | None = None,
    absent: bool = False,
    at: str | None = None,
) -> LabResult:
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


@pytest.mark.parametrize(
    "drug, below, at, indicator",
    [
        (ALENDRONATE, "34.9", "35", Indicator.WARNING),
        (ZOLEDRONIC, "34.9", "35", Indicator.CRITICAL),
        (RISEDRONATE, "29.9", "30", Indicator.WARNING),
        (IBANDRONATE, "29.9", "30", Indicator.WARNING),
        (DENOSUMAB, "29.9", "30", Indicator.WARNING),
    ],
    ids=["alendronate", "zoledronic acid", "risedronate", "ibandronate", "denosumab"],
)
def test_a_value_below_the_labelled_limit_is_a_finding_and_the_limit_itself_is_not(drug, below, at, indicator):
    finding = check(drug, lab("2026-10-02", below))
    assert finding is not None and finding.indicator is indicator
    assert finding.measurements[0].value == Decimal(below)
    assert check(drug, lab("2026-10-02", at)) is None


def test_zoledronic_acid_is_critical_because_its_label_contraindicates_it():
    finding = check(ZOLEDRONIC, lab("2026-10-02", 28, EGFR_UNIT, loinc=EGFR))
    assert finding is not None
    assert (finding.topic, finding.indicator, finding.drugs) == (
        Topic.RENAL_ANTIRESORPTIVE,
        Indicator.CRITICAL,
        ("zoledronic acid",),
    )
    assert criteria_lines(finding) == (
        "eGFR 28 mL/min/1.73 m² is below the labelled limit of 35 mL/min for zoledronic acid",
    )


def test_the_finding_names_the_order_patient_and_measurement():
    finding = check(ALENDRONATE, lab("2026-10-02", 31, loinc=CRCL_CG))
    assert finding is not None
    assert (finding.patient_id, finding.order) == ("pat-1", ALENDRONATE)
    assert finding.measurements == (
        Measurement("Creatinine clearance", CRCL_CG, date(2026, 10, 2), Decimal(31), "mL/min", None, "< 35 mL/min"),
    )
    assert finding.checks == (
        Criterion(
            Check.BELOW_RENAL_LIMIT,
            Decimal(31),
            Decimal(35),
            subject="alendronate",
            measurement=finding.measurements[0],
        ),
    )
    assert criteria_lines(finding) == (
        "Creatinine clearance 31 mL/min is below the labelled limit of 35 mL/min for alendronate",
    )
    assert finding.caveats == (Note(Caveat.RENAL_MEASURE, subjects=(REPORTED_NOTE,)),)
    assert note_lines(finding) == (REPORTED_NOTE,)


@pytest.mark.parametrize("name", ["Pamidronate 90 mg", "Etidronate 400 mg", "Clodronate 800 mg"])
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
    assert note_lines(finding) == (EGFR_NOTE,)
    assert "Cockcroft-Gault" in EGFR_NOTE and "proxy" in EGFR_NOTE
    assert (finding.measurements[0].label, finding.measurements[0].unit) == ("eGFR", "mL/min/1.73 m²")


@pytest.mark.parametrize("loinc", ["98979-8", "62238-1", "33914-3", "48642-3", "48643-1", "77147-7"])
def test_every_egfr_code_is_read(loinc):
    finding = check(ALENDRONATE, lab("2026-10-02", 30, "mL/min/1.73m2", loinc=loinc))
    assert finding is not None and finding.measurements[0].label == "eGFR"


def test_a_creatinine_clearance_has_no_proxy_note():
    finding = check(ALENDRONATE, lab("2026-10-02", 30))
    assert finding is not None and EGFR_NOTE not in note_lines(finding)


def test_an_unrelated_code_such_as_serum_creatinine_is_not_read():
    assert check(ALENDRONATE, lab("2026-10-02", 2, "mg/dL", loinc="2160-0")) is None


@pytest.mark.parametrize(
    "value, unit, below",
    [
        ("0.58", "mL/s", True),  # 34.8 mL/min
        ("0.59", "mL/s", False),  # 35.4 mL/min
        ("0.5", "mL/s/{1.73_m2}", True),
    ],
)
def test_millilitres_per_second_are_converted_to_millilitres_per_minute(value, unit, below):
    finding = check(ALENDRONATE, lab("2026-10-02", value, unit))
    assert (finding is not None) is below
    if finding is not None:
        assert finding.measurements[0].value == Decimal(value) * 60
        assert note_lines(finding) == (
            REPORTED_NOTE,
            f"Creatinine clearance reported as {value} {unit}, shown converted to {finding.measurements[0].unit}.",
        )


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


@pytest.mark.parametrize(
    "newest",
    [
        lab("2026-10-02", 30, "mg/dL"),
        lab("2026-10-02", 30, None),
        lab("2026-10-02", None),
        lab("2026-10-02", -5),
    ],
    ids=["unknown unit", "no unit", "no value", "negative value"],
)
def test_an_uninterpretable_newest_value_gives_no_finding_even_when_an_older_one_is_low(newest):
    older_low = lab("2026-06-01", 20)
    assert check(ALENDRONATE, older_low) is not None
    assert check(ALENDRONATE, older_low, newest) is None


def test_a_newer_normal_value_replaces_an_older_low_one():
    assert check(ALENDRONATE, lab("2026-06-01", 20), lab("2026-10-02", 60)) is None


def test_a_newer_low_value_replaces_an_older_normal_one():
    finding = check(ALENDRONATE, lab("2026-10-02", 20), lab("2026-06-01", 60))
    assert finding is not None and finding.measurements[0].effective == date(2026, 10, 2)


def test_a_crcl_in_the_window_is_preferred_to_a_newer_egfr_because_labels_are_written_in_crcl():
    assert check(ALENDRONATE, lab("2026-06-01", 60), lab("2026-10-02", 30, EGFR_UNIT, loinc=EGFR)) is None
    finding = check(ALENDRONATE, lab("2026-06-01", 30), lab("2026-10-02", 60, EGFR_UNIT, loinc=EGFR))
    assert finding is not None and finding.measurements[0].label == "Creatinine clearance"


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
    assert note_lines(finding) == (REPORTED_NOTE,)


def test_the_order_of_the_input_does_not_matter():
    results = [lab("2026-06-01", 20), lab("2026-10-02", 60), lab("2026-08-01", 25)]
    assert check(ALENDRONATE, *results) is None
    assert check(ALENDRONATE, *reversed(results)) is None


# --- comparators ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "comparator, value, below",
    [
        ("<", "35", True),  # under 35: certainly below 35
        ("<", "10", True),
        ("<", "35.1", False),  # under 35.1 may be 35: cannot be judged
        ("<=", "34.9", True),
        ("<=", "35", False),  # may be exactly 35
        (">", "10", False),  # above 10 may be far above the limit
        (">=", "20", False),
        (">", "90", False),
    ],
)
def test_comparators_count_only_values_certainly_below_the_limit(comparator, value, below):
    finding = check(ALENDRONATE, lab("2026-10-02", value, comparator=comparator))
    assert (finding is not None) is below
    if finding is not None:
        assert finding.measurements[0].comparator == comparator
        assert criteria_lines(finding)[0].startswith(f"Creatinine clearance {comparator}{value} mL/min is below")


def test_an_undeterminable_comparator_does_not_fall_back_to_an_older_value():
    assert check(ALENDRONATE, lab("2026-06-01", 20), lab("2026-10-02", 50, comparator="<")) is None


# --- statuses -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, counts",
    [
        ("final", True),
        ("amended", True),
        ("corrected", True),
        ("preliminary", False),
        ("registered", False),
        ("cancelled", False),
        ("entered-in-error", False),
        ("unknown", False),
    ],
)
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
        ("alendronate",),
        Indicator.WARNING,
        "< 35 mL/min",
    )


def test_several_ingredients_below_their_limits_are_all_named():
    both = order("Alendronate 70 mg", "Denosumab 60 mg")
    finding = check(both, lab("2026-10-02", 25))
    assert finding is not None
    assert finding.drugs == ("alendronate", "denosumab")
    assert len(criteria_lines(finding)) == 2 and criteria_lines(finding)[1].endswith("30 mL/min for denosumab")


@pytest.mark.parametrize(
    "names", [("Alendronate 70 mg", "Zoledronic acid 5 mg"), ("Zoledronic acid 5 mg", "Denosumab 60 mg")]
)
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
ZOLEDRONIC_4MG = order(
    "zoledronic acid 4 MG per 5 ML Injection", codes=(Code("http://www.nlm.nih.gov/research/umls/rxnorm", "351114"),)
)


@pytest.mark.parametrize("drug", [ZOMETA, ZOLEDRONIC_4MG], ids=["by name", "by RxNorm"])
def test_oncology_zoledronic_acid_is_not_recommended_below_30_not_contraindicated_below_35(drug):
    at_32 = check(drug, lab("2026-10-02", "32"))
    assert at_32 is not None and at_32.topic is Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT
    finding = check(drug, lab("2026-10-02", "29.9"))
    assert finding is not None and (finding.topic, finding.indicator) == (Topic.RENAL_ANTIRESORPTIVE, Indicator.WARNING)


# --- Cockcroft-Gault creatinine clearance, computed when every input is on file ----------------------------

from cards.wording import NO_COCKCROFT_GAULT  # noqa: E402
from cards.wording import ZOLEDRONIC_ACID_UNKNOWN as UNKNOWN_ZOLEDRONIC_NOTE  # noqa: E402
from hooks.clearance import CG_LABEL, cockcroft_gault  # noqa: E402
from hooks.records import ConditionRecord, PatientFacts  # noqa: E402

WOMAN_70 = PatientFacts("pat-1", date(1956, 1, 10), "female")  # 70 on 2026-10-02
MAN_70 = PatientFacts("pat-1", date(1956, 1, 10), "male")


def creatinine(day: str, value: str, unit: str = "mg/dL", loinc: str = "2160-0", **kwargs) -> LabResult:
    return lab(day, value, unit, loinc=loinc, **kwargs)


def weight(day: str, value: str, unit: str = "kg") -> LabResult:
    return lab(day, value, unit, loinc="29463-7")


def cg_check(
    drug: MedicationOrder,
    *labs: LabResult,
    patient: PatientFacts | None = WOMAN_70,
    conditions: tuple[ConditionRecord, ...] = (),
    policy: Policy = POLICY,
):
    return check_renal_function(drug, labs, "pat-1", TODAY, policy, patient=patient, conditions=conditions)


def test_cockcroft_gault_is_computed_from_creatinine_weight_age_and_sex():
    # (140 - 70) x 60 / (72 x 1.5) x 0.85 = 33.06 mL/min: below alendronate's 35
    finding = cg_check(ALENDRONATE, creatinine("2026-10-02", "1.5"), weight("2026-10-01", "60"))
    assert finding is not None
    measurement = finding.measurements[0]
    assert (measurement.label, measurement.value, measurement.unit) == (CG_LABEL, Decimal("33.05"), "mL/min")
    assert note_lines(finding)[0] == (
        "Computed here by Cockcroft-Gault from creatinine 1.5 mg/dL on 2026-10-02,"
        " weight 60 kg on 2026-10-01, age 70, female."
    )
    assert cg_check(ALENDRONATE, creatinine("2026-10-02", "1.5"), weight("2026-10-01", "60"), patient=MAN_70) is None


def test_micromoles_and_pounds_give_the_same_clearance():
    in_si = cg_check(ALENDRONATE, creatinine("2026-10-02", "132.6", "umol/L", "14682-9"), weight("2026-10-01", "60"))
    in_us = cg_check(ALENDRONATE, creatinine("2026-10-02", "1.5"), weight("2026-10-01", "132.277", "[lb_av]"))
    assert in_si is not None and in_us is not None
    assert in_si.measurements[0].value == in_us.measurements[0].value == Decimal("33.05")


@pytest.mark.parametrize(
    "patient, labs, reason",
    [
        (PatientFacts("pat-1", date(1956, 1, 10), None), (), "sex not recorded as male or female"),
        (PatientFacts("pat-1", date(1956, 1, 10), "unknown"), (), "sex not recorded as male or female"),
        (PatientFacts("pat-1", None, "female"), (), "birth date unknown"),
        (PatientFacts("pat-1", date(2010, 1, 10), "female"), (), "Cockcroft-Gault is for adults"),
        (WOMAN_70, (weight("2026-06-01", "60"),), "no body weight recorded in the last 90 days"),
        (WOMAN_70, (weight("2026-10-01", "60", "stone"),), "the latest body weight has no usable value or unit"),
    ],
    ids=["no sex", "sex unknown", "no birth date", "child", "stale weight", "weight unit unknown"],
)
def test_without_every_input_no_clearance_is_computed_the_egfr_is_used_and_the_card_says_why(patient, labs, reason):
    finding = cg_check(
        ALENDRONATE,
        creatinine("2026-10-02", "1.5"),
        lab("2026-10-02", 30, EGFR_UNIT, loinc=EGFR),
        *labs,
        patient=patient,
    )
    assert finding is not None and finding.measurements[0].label == "eGFR"
    assert NO_COCKCROFT_GAULT.format(reason=reason) in note_lines(finding)
    assert EGFR_NOTE in note_lines(finding)


def test_a_creatinine_in_an_unknown_unit_is_not_used():
    finding = cg_check(
        ALENDRONATE,
        creatinine("2026-10-02", "1.5", "g/L"),
        weight("2026-10-01", "60"),
        lab("2026-10-02", 60, EGFR_UNIT, loinc=EGFR),
    )
    assert finding is None


@pytest.mark.parametrize("age_days, used", [(89, True), (90, True), (91, False)])
def test_weight_recency_is_a_policy_parameter_pinned_on_both_sides(age_days, used):
    day = (TODAY - timedelta(days=age_days)).isoformat()
    finding = cg_check(ALENDRONATE, creatinine("2026-10-02", "1.5"), weight(day, "60"))
    assert (finding is not None) is used
    longer = dataclasses.replace(POLICY, weight_max_age_days=120)
    assert cg_check(ALENDRONATE, creatinine("2026-10-02", "1.5"), weight(day, "60"), policy=longer) is not None


def test_the_newest_clearance_type_value_wins_computed_or_reported():
    older_reported_low = lab("2026-06-01", 20)
    newer_computed_ok = (creatinine("2026-10-02", "0.8"), weight("2026-10-01", "70"))  # 72.3 mL/min
    assert cg_check(ALENDRONATE, older_reported_low, *newer_computed_ok) is None
    newer_reported_low = lab("2026-11-01", 20)
    finding = cg_check(ALENDRONATE, newer_reported_low, *newer_computed_ok)
    assert finding is not None and finding.measurements[0].label == "Creatinine clearance"


def test_a_computed_clearance_is_preferred_to_an_egfr():
    labs = (creatinine("2026-09-02", "0.8"), weight("2026-10-01", "70"), lab("2026-10-02", 25, EGFR_UNIT, loinc=EGFR))
    assert cg_check(ALENDRONATE, *labs) is None


# --- zoledronic acid: classified by dose, product, strength or brand -----------------------------------------


def zoledronic(
    name: str = "Zoledronic acid injection", mg: str | None = None, rxnorm: str | None = None, unit: str = "mg"
) -> MedicationOrder:
    codes = (Code(RXNORM, rxnorm),) if rxnorm else ()
    return MedicationOrder("mr-z", "draft", codes, (name,), dose=Quantity(Decimal(mg), unit) if mg else None)


@pytest.mark.parametrize(
    "drug",
    [
        zoledronic(mg="4"),
        zoledronic(rxnorm="351114"),
        zoledronic(rxnorm="1114085"),
        zoledronic("zoledronic acid 4 MG per 5 ML Injection"),
        zoledronic("zoledronic acid 0.04 MG/ML, 100 ML bag"),
        zoledronic("Zometa"),
    ],
    ids=["dose", "RxNorm 351114", "RxNorm 1114085", "strength", "concentration x volume", "brand"],
)
def test_zoledronic_acid_4_mg_gets_dose_steps_not_the_reclast_contraindication(drug):
    finding = check(drug, lab("2026-10-02", 34))
    assert finding is not None and finding.topic is Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT


@pytest.mark.parametrize(
    "drug",
    [
        zoledronic(mg="5"),
        zoledronic(rxnorm="705824"),
        zoledronic(rxnorm="705875"),
        zoledronic("zoledronic acid 5 MG in 100 ML Injection"),
        zoledronic("Reclast"),
        zoledronic("Aclasta"),
    ],
    ids=["dose", "RxNorm 705824", "RxNorm 705875", "strength", "Reclast", "Aclasta"],
)
def test_zoledronic_acid_5_mg_is_contraindicated_below_35(drug):
    finding = check(drug, lab("2026-10-02", 34))
    assert finding is not None and (finding.topic, finding.indicator) == (
        Topic.RENAL_ANTIRESORPTIVE,
        Indicator.CRITICAL,
    )
    assert UNKNOWN_ZOLEDRONIC_NOTE.split(":")[0] not in " ".join(note_lines(finding))


def test_the_ordered_dose_outranks_the_brand():
    assert check(zoledronic("Zometa", mg="5"), lab("2026-10-02", 34)).indicator is Indicator.CRITICAL


def test_an_unknown_zoledronic_acid_gets_the_stricter_rule_and_says_so():
    finding = check(zoledronic("Zoledronic acid injection", mg="5", unit="mL"), lab("2026-10-02", 34))
    assert finding is not None and finding.indicator is Indicator.CRITICAL
    assert any(note.startswith("Zoledronic acid dose and indication could not be told") for note in note_lines(finding))


ZOMETA_4 = zoledronic("Zometa", mg="4")


@pytest.mark.parametrize(
    "crcl, step_dose",
    [
        ("60.1", None),
        ("60", "3.5"),
        ("50", "3.5"),
        ("49.9", "3.3"),
        ("40", "3.3"),
        ("39.9", "3.0"),
        ("30", "3.0"),
    ],
)
def test_zometa_dose_steps_on_both_sides_of_each_threshold(crcl, step_dose):
    finding = check(ZOMETA_4, lab("2026-10-02", crcl))
    if step_dose is None:
        assert finding is None
        return
    assert finding is not None and (finding.topic, finding.indicator) == (
        Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT,
        Indicator.WARNING,
    )
    step, ordered = finding.checks
    assert (step.what, step.value, ordered.what, ordered.value, ordered.limit) == (
        Check.ZOMETA_DOSE_STEP,
        Decimal(step_dose),
        Check.ORDERED_DOSE,
        Decimal(4),
        Decimal(step_dose),
    )
    assert criteria_lines(finding)[0].endswith(f"step of the Zometa renal dose table: {step_dose} mg")
    assert criteria_lines(finding)[1] == f"Ordered dose 4 mg is above {step_dose} mg"


def test_below_30_zometa_is_not_recommended_a_warning_not_a_contraindication():
    finding = check(ZOMETA_4, lab("2026-10-02", "29.9"))
    assert finding is not None and (finding.topic, finding.indicator) == (Topic.RENAL_ANTIRESORPTIVE, Indicator.WARNING)


@pytest.mark.parametrize("mg, card", [("3.3", False), ("3.0", False), ("3.5", True)])
def test_an_order_already_at_the_reduced_dose_or_less_gets_no_card(mg, card):
    assert (check(zoledronic("Zometa", mg=mg), lab("2026-10-02", 45)) is not None) is card


def test_an_order_without_a_dose_gets_the_card_saying_so():
    finding = check(zoledronic("Zometa"), lab("2026-10-02", 45))
    assert finding is not None and criteria_lines(finding)[1] == "The order states no dose in mg"


def test_the_dose_step_uses_a_computed_clearance_when_possible():
    # (140 - 70) x 80 / (72 x 1.6) = 48.6 mL/min for a man: 3.3 mg; the eGFR of 70 is not used
    labs = (creatinine("2026-10-02", "1.6"), weight("2026-10-01", "80"), lab("2026-10-02", 70, EGFR_UNIT, loinc=EGFR))
    finding = cg_check(ZOMETA_4, *labs, patient=MAN_70)
    assert finding is not None and finding.measurements[0].label == CG_LABEL
    assert criteria_lines(finding)[1] == "Ordered dose 4 mg is above 3.3 mg"


def test_a_bounded_clearance_is_not_placed_in_a_dose_step():
    assert check(ZOMETA_4, lab("2026-10-02", 45, comparator="<")) is None


# --- denosumab and romosozumab: limits written in eGFR, dialysis ----------------------------------------------

ROMOSOZUMAB = order("Evenity 105 mg/1.17 mL (romosozumab)")


@pytest.mark.parametrize(
    "egfr, card, wording",
    [
        ("14.9", True, "below 15: kidney failure"),
        ("15", True, "15-29 is the label's severe renal impairment"),
        ("29.9", True, "15-29"),
        ("30", False, None),
    ],
)
def test_romosozumab_warns_of_hypocalcaemia_below_egfr_30(egfr, card, wording):
    finding = check(ROMOSOZUMAB, lab("2026-10-02", egfr, EGFR_UNIT, loinc=EGFR))
    assert (finding is not None) is card
    if finding is not None:
        assert finding.indicator is Indicator.WARNING and finding.drugs == ("romosozumab",)
        limit, severity = finding.checks
        assert (limit.what, severity.what, severity.met) == (
            Check.BELOW_RENAL_LIMIT,
            Check.KIDNEY_FAILURE,
            Decimal(egfr) < 15,
        )
        assert wording in criteria_lines(finding)[0] and len(criteria_lines(finding)) == 1
        assert EGFR_NOTE not in note_lines(finding)


def test_for_denosumab_and_romosozumab_the_egfr_is_preferred_to_a_clearance():
    labs = (lab("2026-10-02", 25, EGFR_UNIT, loinc=EGFR), lab("2026-10-02", 40))
    for drug in (DENOSUMAB, ROMOSOZUMAB):
        finding = check(drug, *labs)
        assert finding is not None and finding.measurements[0].label == "eGFR"


def condition(
    *codes: tuple[str, str], name: str = "", clinical: str | None = "active", verification: str | None = "confirmed"
) -> ConditionRecord:
    return ConditionRecord(
        "c-1", tuple(Code(system, code) for system, code in codes), (name,) if name else (), verification, clinical
    )


SNOMED_SYSTEM, ICD = "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.mark.parametrize(
    "dialysis",
    [
        condition((SNOMED_SYSTEM, "46177005")),
        condition((SNOMED_SYSTEM, "105502003")),
        condition((ICD, "N18.6")),
        condition((ICD, "Z99.2")),
        condition(name="Haemodialysis three times a week"),
    ],
    ids=["SNOMED ESRD", "SNOMED dialysis", "N18.6", "Z99.2", "text"],
)
@pytest.mark.parametrize("drug", [DENOSUMAB, ROMOSOZUMAB], ids=["denosumab", "romosozumab"])
def test_dialysis_on_the_problem_list_fires_without_a_lab_value(dialysis, drug):
    finding = cg_check(drug, conditions=(dialysis,))
    assert finding is not None and finding.indicator is Indicator.WARNING and finding.measurements == ()
    assert criteria_lines(finding)[0].endswith("on the problem list")


@pytest.mark.parametrize(
    "dialysis",
    [
        condition((ICD, "N18.6"), clinical="resolved"),
        condition((ICD, "N18.6"), verification="refuted"),
        condition((ICD, "N18.5")),
    ],
    ids=["resolved", "refuted", "CKD 5 without dialysis code"],
)
def test_a_past_refuted_or_other_renal_condition_does_not_count_as_dialysis(dialysis):
    assert cg_check(DENOSUMAB, conditions=(dialysis,)) is None


def test_dialysis_makes_reclast_contraindicated_too():
    finding = cg_check(zoledronic("Reclast"), conditions=(condition((ICD, "Z99.2")),))
    assert finding is not None and finding.indicator is Indicator.CRITICAL


@pytest.mark.parametrize(
    "drug, regimen",
    [
        (order("Prolia 60 mg/mL"), "denosumab 60 mg"),
        (order("Xgeva 120 mg/1.7 mL"), "denosumab 120 mg"),
        (order("Wyost (denosumab-bbdz) 120 mg"), "denosumab 120 mg"),
        (order("Denosumab"), "denosumab, dose unknown"),
    ],
)
def test_the_denosumab_regimen_travels_on_the_limit(drug, regimen):
    from hooks.renal import labelled_limits

    limits, _ = labelled_limits(drug, POLICY)
    assert limits[0].regimen is not None and limits[0].regimen.value.startswith(regimen)


# --- Cockcroft-Gault properties --------------------------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ages = st.integers(min_value=18, max_value=120)
weights = st.decimals(min_value=Decimal(20), max_value=Decimal(300), places=1)
creatinines = st.decimals(min_value=Decimal("0.2"), max_value=Decimal(15), places=2)
sexes = st.sampled_from(["male", "female"])


@given(ages, weights, weights, creatinines, sexes)
def test_clearance_rises_with_weight(age, w1, w2, scr, sex):
    low, high = sorted((w1, w2))
    assert cockcroft_gault(age, low, scr, sex) <= cockcroft_gault(age, high, scr, sex)


@given(ages, ages, weights, creatinines, sexes)
def test_clearance_falls_with_age(a1, a2, weight_kg, scr, sex):
    young, old = sorted((a1, a2))
    assert cockcroft_gault(old, weight_kg, scr, sex) <= cockcroft_gault(young, weight_kg, scr, sex)


@given(ages, weights, creatinines, creatinines, sexes)
def test_clearance_falls_with_creatinine(age, weight_kg, c1, c2, sex):
    low, high = sorted((c1, c2))
    assert cockcroft_gault(age, weight_kg, high, sex) <= cockcroft_gault(age, weight_kg, low, sex)


@given(ages, weights, creatinines)
def test_a_woman_s_clearance_is_085_of_a_man_s(age, weight_kg, scr):
    assert cockcroft_gault(age, weight_kg, scr, "female") == cockcroft_gault(age, weight_kg, scr, "male") * Decimal(
        "0.85"
    )


@pytest.mark.parametrize("sex", [None, "unknown", "other", ""])
def test_the_formula_refuses_an_unknown_sex(sex):
    with pytest.raises(ValueError):
        cockcroft_gault(70, Decimal(70), Decimal(1), sex)


def test_a_worked_example():
    # (140 - 60) x 72 / (72 x 1.0) = 80 mL/min for a man of 60, 72 kg, creatinine 1.0 mg/dL
    assert cockcroft_gault(60, Decimal(72), Decimal(1), "male") == Decimal(80)


def test_for_xgeva_the_clearance_comes_first_as_its_label_is_written_in_crcl():
    labs = (lab("2026-10-02", 25, EGFR_UNIT, loinc=EGFR), lab("2026-10-02", 40))
    assert check(order("Xgeva 120 mg/1.7 mL (denosumab)"), *labs) is None
    finding = check(order("Xgeva 120 mg/1.7 mL (denosumab)"), lab("2026-10-02", 25))
    assert finding is not None and note_lines(finding) == (REPORTED_NOTE,)
