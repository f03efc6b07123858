"""The card audit and the override history: which cards to hold back, and what to record of those served."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from cds_service.logs import get_logger
from cds_service.store import ServedCard, Store
from hooks.findings import Finding
from hooks.policy import Policy
from hooks.suppression import OrderSession, drugs_key, fingerprint, is_suppressed

log = get_logger("audit")


def respect_overrides(
    findings: list[Finding],
    store: Store,
    patient_id: str,
    hook: str,
    now: datetime,
    policy: Policy,
    *,
    encounter_id: object = None,
    user_id: object = None,
) -> tuple[list[Finding], str | None]:
    """Return the findings the prescriber has not just overridden, and the patient's key in the audit."""
    # encounter_id and user_id are the call's context values, when sent: with the time they tell sessions apart.
    if not findings:
        return findings, None
    try:
        key = store.patient_key(patient_id)
        history = store.overrides(key, now - timedelta(days=max(policy.patient_view_snooze_days, 1)))
        session = OrderSession(now, *session_keys(store, patient_id, encounter_id, user_id))
    except SQLAlchemyError as exc:
        # Without the history, show everything: a repeated card is better than a missing one.
        log.warning("override history unavailable", extra={"fields": {"exception": type(exc).__name__}})
        return findings, None
    return [f for f in findings if not is_suppressed(f, hook, history, now.date(), policy, session)], key


def session_keys(store: Store, patient_id: str, encounter_id: object, user_id: object) -> tuple[str | None, str | None]:
    """Return keyed hashes of the call's encounter and user within this patient's scope; None for what was not sent."""

    def key(kind: str, value: object) -> str | None:
        return store.patient_key(f"{patient_id}\x1f{kind}\x1f{value}") if isinstance(value, str) and value else None

    return key("encounter", encounter_id), key("user", user_id)


def record_served(
    store: Store,
    findings: Sequence[Finding],
    cards: Sequence[dict],
    *,
    service_id: str,
    hook: str,
    hook_instance: str,
    now: datetime,
    patient_key: str | None,
    policy: Policy,
    caller: Any = None,
    session: tuple[str | None, str | None] = (None, None),
) -> None:
    """Record each card served, and to whom (the caller's iss and tenant); a database failure never costs the card."""
    issuer = getattr(caller, "iss", None)
    tenant = getattr(caller, "tenant", None)
    encounter_key, user_key = session
    rows = [
        ServedCard(
            card_uuid=card["uuid"],
            service_id=service_id,
            hook=hook,
            hook_instance=hook_instance,
            topic=finding.topic.value,
            indicator=card["indicator"],
            served_at=now,
            patient_key=patient_key,
            order_ref=finding.order.reference if finding.order else None,
            fingerprint=fingerprint(finding),
            policy_version=policy.version,
            issuer=issuer,
            tenant=tenant,
            override_codes=offered_codes(card),
            drugs=drugs_key(finding) or None,
            encounter_key=encounter_key,
            user_key=user_key,
        )
        for finding, card in zip(findings, cards, strict=False)
    ]
    try:
        store.record_cards(rows)
    except SQLAlchemyError as exc:
        log.error("card audit not written", extra={"fields": {"exception": type(exc).__name__, "cards": len(rows)}})


def offered_codes(card: dict) -> str | None:
    """Return the card's override reason codes (and their HL7 equivalents), comma-separated, or None for none."""
    reasons = [reason for reason in card.get("overrideReasons") or () if isinstance(reason, dict)]
    standard = [(reason.get("extension") or {}).get("org.alp-guard.standard-reason") or {} for reason in reasons]
    codes = [reason.get("code") for reason in reasons] + [
        coding.get("code") for coding in standard if isinstance(coding, dict)
    ]
    return ",".join(code.replace(",", "") for code in codes if isinstance(code, str)) or None
