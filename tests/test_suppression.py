"""Suppression after an override: patient-view snooze, order-select to order-sign, never critical or changed."""

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from hooks.findings import AlpAssessment, Finding, Indicator, JudgedAlp, Pattern, Topic
from hooks.policy import Policy
from hooks.records import Code, MedicationOrder
from hooks.suppression import PastOverride, fingerprint, is_suppressed

TODAY = date(2026, 11, 24)
POLICY = Policy()
LOW = JudgedAlp(date(2026, 1, 1), Decimal(28), None, Decimal(35), "adult default", True, "6768-6")
ORDER = MedicationOrder("request-123", "draft", (Code("http://www.nlm.nih.gov/research/umls/rxnorm", "904431"),), ())
UNEVALUATED = Finding(Topic.LOW_ALP_UNEVALUATED, Indicator.INFO, "p1", alp=AlpAssessment(Pattern.PERSISTENT, (LOW,)))
ON_ORDER = Finding(Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING, "p1", ("alendronate",), ORDER,
                   AlpAssessment(Pattern.PERSISTENT, (LOW,)))


def view_override(days_ago: int, topic=Topic.LOW_ALP_UNEVALUATED) -> PastOverride:
    return PastOverride("patient-view", topic.value, None, None, TODAY - timedelta(days=days_ago))


@pytest.mark.parametrize("days_ago, suppressed", [(0, True), (89, True), (90, False), (400, False)])
def test_an_overridden_patient_view_card_sleeps_for_90_days(days_ago, suppressed):
    assert is_suppressed(UNEVALUATED, "patient-view", [view_override(days_ago)], TODAY, POLICY) is suppressed


def test_the_snooze_period_is_a_policy_parameter():
    policy = dataclasses.replace(POLICY, patient_view_snooze_days=7)
    assert not is_suppressed(UNEVALUATED, "patient-view", [view_override(7)], TODAY, policy)


def test_an_override_of_another_topic_suppresses_nothing():
    history = [view_override(1, Topic.HPP_LIKELY)]
    assert not is_suppressed(UNEVALUATED, "patient-view", history, TODAY, POLICY)


def test_critical_cards_are_never_suppressed():
    critical = dataclasses.replace(ON_ORDER, topic=Topic.HPP_ANTIRESORPTIVE, indicator=Indicator.CRITICAL)
    history = [view_override(0, Topic.HPP_ANTIRESORPTIVE),
               PastOverride("order-select", "hpp-antiresorptive", ORDER.reference, fingerprint(critical), TODAY)]
    assert not is_suppressed(critical, "patient-view", history, TODAY, POLICY)
    assert not is_suppressed(critical, "order-sign", history, TODAY, POLICY)


def select_override(finding=ON_ORDER, day=TODAY, order_ref=ORDER.reference) -> PastOverride:
    return PastOverride("order-select", finding.topic.value, order_ref, fingerprint(finding), day)


def test_an_order_select_override_is_not_repeated_at_order_sign_the_same_day():
    assert is_suppressed(ON_ORDER, "order-sign", [select_override()], TODAY, POLICY)


def test_it_is_repeated_the_next_day_for_another_draft_or_when_the_policy_says_so():
    assert not is_suppressed(ON_ORDER, "order-sign", [select_override(day=TODAY - timedelta(days=1))], TODAY, POLICY)
    assert not is_suppressed(ON_ORDER, "order-sign", [select_override(order_ref="MedicationRequest/other")], TODAY, POLICY)
    repeat = dataclasses.replace(POLICY, order_select_repeat_at_sign=True)
    assert not is_suppressed(ON_ORDER, "order-sign", [select_override()], TODAY, repeat)


def test_a_changed_finding_is_always_shown_at_order_sign():
    newer = dataclasses.replace(LOW, effective=date(2026, 11, 20))
    changed = dataclasses.replace(ON_ORDER, alp=AlpAssessment(Pattern.PERSISTENT, (LOW, newer)))
    assert not is_suppressed(changed, "order-sign", [select_override()], TODAY, POLICY)
    other_drug = dataclasses.replace(ON_ORDER, drugs=("denosumab",))
    assert not is_suppressed(other_drug, "order-sign", [select_override()], TODAY, POLICY)


def test_order_select_cards_themselves_are_not_suppressed_by_earlier_selects():
    assert not is_suppressed(ON_ORDER, "order-select", [select_override()], TODAY, POLICY)


def test_fingerprints_ignore_card_identity_but_not_evidence():
    assert fingerprint(ON_ORDER) == fingerprint(dataclasses.replace(ON_ORDER, patient_id="p1"))
    assert fingerprint(ON_ORDER) != fingerprint(dataclasses.replace(ON_ORDER, topic=Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE))



@pytest.mark.parametrize("past, now, suppressed", [
    ("info", Indicator.INFO, True), ("warning", Indicator.INFO, True), ("warning", Indicator.WARNING, True),
    ("info", Indicator.WARNING, False),
])
def test_a_patient_view_card_that_got_more_urgent_is_shown(past, now, suppressed):
    finding = dataclasses.replace(UNEVALUATED, indicator=now)
    history = [PastOverride("patient-view", "low-alp-unevaluated", None, None, TODAY, past)]
    assert is_suppressed(finding, "patient-view", history, TODAY, POLICY) is suppressed
