"""Duplicate antiresorptives: a different one in use, two in one order, two drafted together."""

from __future__ import annotations

from datetime import date, timedelta

from cards.wording import criteria_lines
from hooks.duplicates import check_duplicate_antiresorptives, different
from hooks.findings import Check, Criterion, Indicator, Topic
from hooks.records import Code, MedicationOrder
from hooks.therapy import Therapy


def order(name: str, id: str, codes: tuple[Code, ...] = ()) -> MedicationOrder:
    return MedicationOrder(id, "draft", codes, (name,))


ALENDRONATE = order("Alendronate 70 mg tablet", "mr-a")
ZOLEDRONIC = order("Zoledronic acid 5 mg/100 mL", "mr-z")
PROLIA = order("Prolia 60 mg/mL", "mr-p")
METFORMIN = order("Metformin 500 mg", "mr-m")
UNNAMED_BISPHOSPHONATE = order("Bone tablet", "mr-b", (Code("http://www.whocc.no/atc", "M05BA99"),))


def check(orders, in_use=()):
    return check_duplicate_antiresorptives(orders, in_use, "pat-1")


def taking(ingredient: str, source: str = "MedicationAdministration", start: date = date(2026, 9, 1)) -> Therapy:
    record = MedicationOrder(f"r-{ingredient}", "completed", (), (ingredient,), source=source)
    return Therapy(ingredient, source, start, start + timedelta(days=180), record)


def test_a_different_antiresorptive_in_use_is_a_warning():
    [finding] = check([ALENDRONATE], [taking("denosumab")])
    assert (finding.topic, finding.indicator, finding.order, finding.patient_id) == (
        Topic.DUPLICATE_ANTIRESORPTIVE,
        Indicator.WARNING,
        ALENDRONATE,
        "pat-1",
    )
    assert finding.drugs == ("alendronate", "denosumab")
    assert finding.checks == (
        Criterion(Check.ALREADY_IN_USE, subject="denosumab", on=date(2026, 9, 1), source="MedicationAdministration"),
    )
    assert criteria_lines(finding) == ("Already in use: denosumab (given 2026-09-01)",)


def test_the_same_antiresorptive_in_use_is_a_continuation_not_a_duplicate():
    assert check([ALENDRONATE], [taking("alendronate", "MedicationStatement")]) == []


def test_nothing_in_use_and_one_draft_gives_nothing():
    assert check([ALENDRONATE]) == []
    assert check([METFORMIN], [taking("denosumab")]) == []


def test_two_different_drafts_are_reported_once_on_the_later_one():
    [finding] = check([PROLIA, ZOLEDRONIC])
    assert finding.order == ZOLEDRONIC
    assert finding.checks == (Criterion(Check.ALSO_ORDERED, subject="denosumab", reference="mr-p"),)
    assert criteria_lines(finding) == ("Also being ordered: denosumab, order mr-p",)
    assert finding.drugs == ("zoledronic acid", "denosumab")


def test_two_drafts_of_the_same_drug_are_not_a_duplicate():
    assert check([ALENDRONATE, order("Fosamax 70 mg", "mr-f")]) == []


def test_one_order_with_two_antiresorptives_is_a_duplicate():
    [finding] = check([MedicationOrder("mr-x", "draft", (), ("Alendronate 70 mg", "Denosumab 60 mg"))])
    assert finding.checks == (Criterion(Check.SAME_ORDER, subject="denosumab"),)
    assert criteria_lines(finding) == ("Also in this order: denosumab",)


def test_in_use_and_drafted_together_are_both_listed():
    findings = check([PROLIA, ZOLEDRONIC], [taking("alendronate", "MedicationDispense", date(2026, 10, 1))])
    assert [f.order for f in findings] == [PROLIA, ZOLEDRONIC]
    assert criteria_lines(findings[1]) == (
        "Already in use: alendronate (dispensed 2026-10-01)",
        "Also being ordered: denosumab, order mr-p",
    )


def test_an_unnamed_bisphosphonate_is_not_called_a_duplicate_of_a_named_one():
    assert not different("bisphosphonate", "alendronate")
    assert different("bisphosphonate", "denosumab")
    assert check([UNNAMED_BISPHOSPHONATE], [taking("alendronate")]) == []
    assert len(check([UNNAMED_BISPHOSPHONATE], [taking("denosumab")])) == 1


def test_the_order_of_the_therapies_is_kept_in_the_criteria():
    in_use = [taking("denosumab"), taking("romosozumab", "MedicationRequest", date(2026, 8, 1))]
    [finding] = check([ALENDRONATE], in_use)
    assert [c.subject for c in finding.checks] == ["denosumab", "romosozumab"]
    assert criteria_lines(finding) == (
        "Already in use: denosumab (given 2026-09-01)",
        "Already in use: romosozumab (prescribed 2026-08-01)",
    )
