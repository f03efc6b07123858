"""order-sign: one finding per antiresorptive draft, HPP first, then the ALP pattern."""

from datetime import date
from decimal import Decimal

import pytest

from hooks.evidence import Evidence
from hooks.findings import AlpAssessment, Indicator, JudgedAlp, Pattern, Topic
from hooks.order_sign import antiresorptive_drafts, evaluate_order_sign
from hooks.records import Code, MedicationOrder, PatientFacts
from hooks.valuesets import RXNORM

PATIENT = PatientFacts("p1", date(1961, 4, 12), "female")
ALENDRONATE = MedicationOrder("d-aln", "draft", (Code(RXNORM, "904431"),), ("alendronic acid 70 MG",))
DENOSUMAB = MedicationOrder("d-dmab", "active", (Code(RXNORM, "993452"),), ())
STATIN = MedicationOrder("d-stat", "draft", (Code(RXNORM, "617310"),), ("atorvastatin",))
LOW = JudgedAlp(date(2026, 1, 1), Decimal(28), None, Decimal(35), "adult default", True, "6768-6")


def evidence(pattern: Pattern, hpp=()) -> Evidence:
    return Evidence(PATIENT, AlpAssessment(pattern, (LOW,)), tuple(hpp), False, ())


@pytest.mark.parametrize("pattern, topic, indicator", [
    (Pattern.PERSISTENT, Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING),
    (Pattern.RECURRENT, Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING),
    (Pattern.SINGLE_LOW, Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE, Indicator.INFO),
])
def test_the_alp_pattern_decides_the_finding(pattern, topic, indicator):
    (finding,) = evaluate_order_sign([ALENDRONATE], evidence(pattern))
    assert (finding.topic, finding.indicator, finding.drugs, finding.order) == (topic, indicator, ("alendronate",), ALENDRONATE)
    assert finding.alp.pattern is pattern


def test_no_low_alp_no_finding():
    assert evaluate_order_sign([ALENDRONATE], evidence(Pattern.NONE)) == []


def test_hpp_on_record_is_critical_whatever_the_alp():
    (finding,) = evaluate_order_sign([ALENDRONATE], evidence(Pattern.NONE, hpp=["Hypophosphatasia diagnosis on record"]))
    assert (finding.topic, finding.indicator, finding.alp) == (Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL, None)
    assert finding.hpp_evidence == ("Hypophosphatasia diagnosis on record",)


def test_each_antiresorptive_draft_gets_its_own_finding_and_other_drugs_none():
    findings = evaluate_order_sign([ALENDRONATE, STATIN, DENOSUMAB], evidence(Pattern.PERSISTENT))
    assert [(f.order.id, f.drugs) for f in findings] == [("d-aln", ("alendronate",)), ("d-dmab", ("denosumab",))]


def test_revised_orders_in_any_status_are_checked():
    assert antiresorptive_drafts([DENOSUMAB, STATIN]) == [DENOSUMAB]
