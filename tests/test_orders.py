"""Antiresorptive orders: per order HPP or the ALP pattern, and renal function; one vitamin D/calcium finding."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from cards.wording import note_lines
from hooks.evidence import Evidence
from hooks.findings import AlpAssessment, Caveat, Indicator, JudgedAlp, Note, Pattern, Topic
from hooks.orders import antiresorptive_drafts, evaluate_antiresorptive_orders
from hooks.policy import Policy
from hooks.records import Code, LabResult, MedicationOrder, PatientFacts, Quantity
from hooks.valuesets import RXNORM

PATIENT = PatientFacts("p1", date(1961, 4, 12), "female")
TODAY = date(2026, 11, 24)
POLICY = Policy()
ALENDRONATE = MedicationOrder("d-aln", "draft", (Code(RXNORM, "904431"),), ("alendronic acid 70 MG",))
DENOSUMAB = MedicationOrder("d-dmab", "active", (Code(RXNORM, "993452"),), ())
STATIN = MedicationOrder("d-stat", "draft", (Code(RXNORM, "617310"),), ("atorvastatin",))
LOW = JudgedAlp(date(2026, 1, 1), Decimal(28), None, Decimal(35), "adult default", True, "6768-6")


def evaluate(orders, evidence):
    return evaluate_antiresorptive_orders(orders, evidence, TODAY, POLICY)


def evidence(pattern: Pattern, hpp=(), safety=()) -> Evidence:
    return Evidence(PATIENT, AlpAssessment(pattern, (LOW,)), tuple(hpp), False, (), safety_labs=tuple(safety))


@pytest.mark.parametrize(
    "pattern, topic, indicator",
    [
        (Pattern.PERSISTENT, Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING),
        (Pattern.RECURRENT, Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.INFO),
        (Pattern.SINGLE_LOW, Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE, Indicator.INFO),
    ],
)
def test_the_alp_pattern_decides_the_finding(pattern, topic, indicator):
    (finding,) = evaluate([ALENDRONATE], evidence(pattern))
    assert (finding.topic, finding.indicator, finding.drugs, finding.order) == (
        topic,
        indicator,
        ("alendronate",),
        ALENDRONATE,
    )
    assert finding.alp.pattern is pattern


def test_no_low_alp_no_finding():
    assert evaluate([ALENDRONATE], evidence(Pattern.NONE)) == []


def test_hpp_on_record_is_critical_whatever_the_alp():
    (finding,) = evaluate([ALENDRONATE], evidence(Pattern.NONE, hpp=["Hypophosphatasia diagnosis on record"]))
    assert (finding.topic, finding.indicator, finding.alp) == (Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL, None)
    assert finding.hpp_evidence == ("Hypophosphatasia diagnosis on record",)


def test_each_antiresorptive_draft_gets_its_own_finding_and_other_drugs_none():
    findings = evaluate([ALENDRONATE, STATIN, DENOSUMAB], evidence(Pattern.PERSISTENT))
    low_alp = [f for f in findings if f.topic is Topic.LOW_ALP_ANTIRESORPTIVE]
    assert [(f.order.id, f.drugs) for f in low_alp] == [("d-aln", ("alendronate",)), ("d-dmab", ("denosumab",))]
    # Two different antiresorptives drafted together: one duplicate warning, on the later draft.
    (duplicate,) = [f for f in findings if f.topic is Topic.DUPLICATE_ANTIRESORPTIVE]
    assert (duplicate.order.id, duplicate.indicator) == ("d-dmab", Indicator.WARNING)


def test_revised_orders_in_any_status_are_checked():
    assert antiresorptive_drafts([DENOSUMAB, STATIN]) == [DENOSUMAB]


ZOLEDRONIC = MedicationOrder("d-zol", "draft", (Code(RXNORM, "705824"),), ())


def lab(loinc: str, value: str, unit: str, day=date(2026, 10, 1)) -> LabResult:
    return LabResult(f"{loinc}-x", loinc, "final", day, Quantity(Decimal(value), unit))


def test_a_low_egfr_adds_a_renal_finding_beside_the_alp_finding():
    findings = evaluate([ZOLEDRONIC], evidence(Pattern.PERSISTENT, safety=[lab("98979-8", "28", "mL/min/{1.73_m2}")]))
    assert [(f.topic, f.indicator) for f in findings] == [
        (Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING),
        (Topic.RENAL_ANTIRESORPTIVE, Indicator.CRITICAL),
    ]


def test_low_vitamin_d_gives_one_finding_for_all_the_orders():
    findings = evaluate([ALENDRONATE, DENOSUMAB], evidence(Pattern.NONE, safety=[lab("62292-8", "14", "ng/mL")]))
    (minerals,) = [f for f in findings if f.topic is not Topic.DUPLICATE_ANTIRESORPTIVE]
    assert (minerals.topic, minerals.indicator, set(minerals.drugs)) == (
        Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE,
        Indicator.INFO,
        {"alendronate", "denosumab"},
    )


def test_safety_labs_say_nothing_about_other_drugs():
    assert evaluate([STATIN], evidence(Pattern.PERSISTENT, safety=[lab("62292-8", "14", "ng/mL")])) == []


def test_a_low_alp_card_says_what_could_not_be_checked_in_time():
    partial = dataclasses.replace(evidence(Pattern.PERSISTENT), unavailable=frozenset({"conditions", "hppWorkup"}))
    (finding,) = evaluate([ALENDRONATE], partial)
    assert finding.caveats == (Note(Caveat.NOT_CHECKED, subjects=("conditions", "hppWorkup")),)
    assert note_lines(finding) == (
        "Could not be read in time, so not checked: the problem list (a hypophosphatasia "
        "diagnosis on record); the HPP work-up results (pyridoxal 5'-phosphate, "
        "phosphoethanolamine).",
    )
    assert evaluate([ALENDRONATE], evidence(Pattern.PERSISTENT))[0].caveats == ()
