"""The romosozumab check: MI or stroke within a year, by code, date and status; pinned at 364/365/366 days."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from cards.wording import criteria_lines, note_lines
from hooks.cardiovascular import check_recent_cardiovascular_event, event_kind
from hooks.findings import Caveat, Check, Indicator, Note, Topic
from hooks.policy import Policy
from hooks.records import Code, ConditionRecord, MedicationOrder

TODAY = date(2026, 11, 24)
POLICY = Policy()
SNOMED = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
EVENITY = MedicationOrder("mr-e", "draft", (), ("Evenity 105 mg/1.17 mL (romosozumab)",))
ALENDRONATE = MedicationOrder("mr-a", "draft", (), ("Alendronate 70 mg",))


def condition(
    system: str = SNOMED,
    code: str = "22298006",
    *,
    days_ago: int | None = 30,
    recorded_days_ago: int | None = None,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    name: str = "Myocardial infarction",
) -> ConditionRecord:
    onset = TODAY - timedelta(days=days_ago) if days_ago is not None else None
    recorded = TODAY - timedelta(days=recorded_days_ago) if recorded_days_ago is not None else None
    return ConditionRecord("c-1", (Code(system, code),), (name,), verification, clinical, onset, recorded)


def check(*conditions: ConditionRecord, orders=(EVENITY,), policy: Policy = POLICY):
    return check_recent_cardiovascular_event(orders, conditions, "pat-1", TODAY, policy)


@pytest.mark.parametrize(
    "system, code, kind",
    [
        (SNOMED, "22298006", "myocardial infarction"),
        (SNOMED, "57054005", "myocardial infarction"),
        (ICD, "I21.4", "myocardial infarction"),
        (ICD, "I22.0", "myocardial infarction"),
        (ICD, "I21", "myocardial infarction"),
        (SNOMED, "230690007", "stroke"),
        (ICD, "I63.9", "stroke"),
        (ICD, "I61.0", "stroke"),
        (SNOMED, "164867002", None),
        (ICD, "I25.2", None),
        (ICD, "I64", None),
        (SNOMED, "38341003", None),
    ],
)
def test_event_codes(system, code, kind):
    assert event_kind(Code(system, code)) == kind


@pytest.mark.parametrize("days, warns", [(364, True), (365, True), (366, False)])
def test_the_one_year_window_on_both_sides(days, warns):
    findings = check(condition(days_ago=days))
    assert bool(findings) is warns
    if warns:
        [finding] = findings
        assert (finding.topic, finding.indicator, finding.drugs, finding.order) == (
            Topic.ROMOSOZUMAB_CARDIOVASCULAR,
            Indicator.WARNING,
            ("romosozumab",),
            EVENITY,
        )
        onset = (TODAY - timedelta(days=days)).isoformat()
        (event,) = finding.checks
        assert (event.what, event.subject, event.value, event.on, event.source, event.coded) == (
            Check.RECENT_EVENT,
            "myocardial infarction",
            Decimal(days),
            TODAY - timedelta(days=days),
            "onset",
            Code(SNOMED, "22298006"),
        )
        assert criteria_lines(finding) == (
            f"Myocardial infarction {days} days ago: onset {onset}, Myocardial infarction, SNOMED CT 22298006",
        )


def test_the_window_is_a_policy_parameter():
    two_years = dataclasses.replace(POLICY, romosozumab_cv_event_window_days=730)
    assert check(condition(days_ago=500), policy=two_years)
    assert not check(condition(days_ago=500))


def test_a_stroke_six_months_ago_warns():
    [finding] = check(condition(ICD, "I63.9", days_ago=182, name="Cerebral infarction"))
    assert criteria_lines(finding)[0].startswith("Stroke 182 days ago: onset")


def test_onset_outranks_the_recorded_date():
    assert not check(condition(days_ago=800, recorded_days_ago=20))  # an old MI entered recently
    [finding] = check(condition(days_ago=None, recorded_days_ago=20))
    assert finding.checks[0].source == "recorded"
    assert " ago: recorded " in criteria_lines(finding)[0]


@pytest.mark.parametrize(
    "clinical, warns", [("active", True), (None, True), ("recurrence", True), ("resolved", False), ("inactive", False)]
)
def test_an_undated_event_warns_only_when_current_and_says_the_date_is_unknown(clinical, warns):
    findings = check(condition(days_ago=None, clinical=clinical))
    assert bool(findings) is warns
    if warns:
        assert findings[0].checks[0].on is None and findings[0].checks[0].value is None
        assert criteria_lines(findings[0])[0].startswith("Myocardial infarction, date unknown")
        assert findings[0].caveats == (Note(Caveat.EVENT_UNDATED),)
        assert note_lines(findings[0]) == ("The date of the event is not recorded: confirm when it happened.",)


def test_a_resolved_but_recent_mi_still_counts():
    assert check(condition(days_ago=90, clinical="resolved"))


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_a_refuted_or_erroneous_event_does_not_count(verification):
    assert not check(condition(verification=verification))


def test_only_romosozumab_orders_are_checked():
    assert not check(condition(), orders=(ALENDRONATE,))
    findings = check(condition(), orders=(ALENDRONATE, EVENITY))
    assert [f.order for f in findings] == [EVENITY]


def test_an_unrelated_condition_gives_nothing():
    assert not check(condition(SNOMED, "38341003", name="Hypertension"))


def test_several_events_are_all_listed():
    [finding] = check(condition(days_ago=100), condition(ICD, "I63.9", days_ago=10, name="Stroke"))
    assert [c.subject for c in finding.checks] == ["myocardial infarction", "stroke"]
