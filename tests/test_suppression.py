"""Suppression after an override: patient-view snooze, order-select to order-sign, never critical or changed."""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from hooks.findings import AlpAssessment, Finding, Indicator, JudgedAlp, Pattern, Topic
from hooks.policy import Policy
from hooks.records import Code, MedicationOrder
from hooks.suppression import ORDER_SESSION_WINDOW, OrderSession, PastOverride, fingerprint, is_suppressed

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
POLICY = Policy()
LOW = JudgedAlp(date(2026, 1, 1), Decimal(28), None, Decimal(35), "adult default", True, "6768-6")
ORDER = MedicationOrder("request-123", "draft", (Code("http://www.nlm.nih.gov/research/umls/rxnorm", "904431"),), ())
UNEVALUATED = Finding(Topic.LOW_ALP_UNEVALUATED, Indicator.INFO, "p1", alp=AlpAssessment(Pattern.PERSISTENT, (LOW,)))
ON_ORDER = Finding(
    Topic.LOW_ALP_ANTIRESORPTIVE,
    Indicator.WARNING,
    "p1",
    ("alendronate",),
    ORDER,
    AlpAssessment(Pattern.PERSISTENT, (LOW,)),
)


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
    history = [
        view_override(0, Topic.HPP_ANTIRESORPTIVE),
        PastOverride("order-select", "hpp-antiresorptive", ORDER.reference, fingerprint(critical), TODAY),
    ]
    assert not is_suppressed(critical, "patient-view", history, TODAY, POLICY)
    assert not is_suppressed(critical, "order-sign", history, TODAY, POLICY, OrderSession(NOW))


def select_override(finding=ON_ORDER, minutes_ago=5, order_ref=ORDER.reference, **session) -> PastOverride:
    """Return an order-select override of `finding` shown `minutes_ago`, in a session without encounter or user."""
    served = NOW - timedelta(minutes=minutes_ago)
    return PastOverride(
        "order-select",
        finding.topic.value,
        order_ref,
        fingerprint(finding),
        served.date(),
        "warning",
        served,
        ",".join(sorted(finding.drugs)),
        **session,
    )


def signed(finding=ON_ORDER, history=None, policy=POLICY, **session) -> bool:
    """Tell whether `finding` is held back at order-sign now, after the history (by default one fresh override)."""
    history = [select_override()] if history is None else history
    return is_suppressed(finding, "order-sign", history, TODAY, policy, OrderSession(NOW, **session))


def test_an_order_select_override_is_not_repeated_at_order_sign_in_the_same_session():
    assert signed()
    assert signed(history=[select_override(minutes_ago=int(ORDER_SESSION_WINDOW.total_seconds() // 60))])


def test_it_is_repeated_in_a_later_session_for_another_draft_or_when_the_policy_says_so():
    assert not signed(history=[select_override(minutes_ago=int(ORDER_SESSION_WINDOW.total_seconds() // 60) + 1)])
    assert not signed(history=[select_override(minutes_ago=-1)])  # shown after the call: not this session's
    assert not signed(history=[select_override(order_ref="MedicationRequest/other")])
    assert not signed(policy=dataclasses.replace(POLICY, order_select_repeat_at_sign=True))
    assert not is_suppressed(ON_ORDER, "order-sign", [select_override()], TODAY, POLICY)  # no session facts


def test_a_reused_draft_id_in_another_encounter_or_for_another_user_is_another_session():
    history = [select_override(encounter="e1", user="u1")]
    assert signed(history=history, encounter="e1", user="u1")
    assert not signed(history=history, encounter="e2", user="u1")
    assert not signed(history=history, encounter="e1", user="u2")
    assert not signed(history=history, user="u1")  # the encounter sent at select but not at sign
    assert not signed(history=[dataclasses.replace(select_override(), superseded=True)])


def test_an_override_recorded_without_its_session_never_silences_order_sign():
    assert not signed(history=[dataclasses.replace(select_override(), served_at=None, drugs=None)])


def test_a_changed_finding_is_always_shown_at_order_sign():
    newer = dataclasses.replace(LOW, effective=date(2026, 11, 20))
    changed = dataclasses.replace(ON_ORDER, alp=AlpAssessment(Pattern.PERSISTENT, (LOW, newer)))
    assert not signed(changed)
    other_drug = dataclasses.replace(ON_ORDER, drugs=("denosumab",))
    assert not signed(other_drug)


def test_order_select_cards_themselves_are_not_suppressed_by_earlier_selects():
    assert not is_suppressed(ON_ORDER, "order-select", [select_override()], TODAY, POLICY, OrderSession(NOW))


def test_fingerprints_ignore_card_identity_but_not_evidence():
    assert fingerprint(ON_ORDER) == fingerprint(dataclasses.replace(ON_ORDER, patient_id="p1"))
    assert fingerprint(ON_ORDER) != fingerprint(
        dataclasses.replace(ON_ORDER, topic=Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE)
    )


@pytest.mark.parametrize(
    "past, now, suppressed",
    [
        ("info", Indicator.INFO, True),
        ("warning", Indicator.INFO, True),
        ("warning", Indicator.WARNING, True),
        ("info", Indicator.WARNING, False),
    ],
)
def test_a_patient_view_card_that_got_more_urgent_is_shown(past, now, suppressed):
    finding = dataclasses.replace(UNEVALUATED, indicator=now)
    history = [PastOverride("patient-view", "low-alp-unevaluated", None, None, TODAY, past)]
    assert is_suppressed(finding, "patient-view", history, TODAY, POLICY) is suppressed
