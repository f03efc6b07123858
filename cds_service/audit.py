"""The card audit and the override history: which cards to hold back, and what to record of those served."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy.exc import SQLAlchemyError

from cds_service.logs import get_logger
from cds_service.store import ServedCard, Store
from hooks.findings import Finding
from hooks.policy import Policy
from hooks.suppression import fingerprint, is_suppressed

log = get_logger("audit")


def respect_overrides(
    findings: list[Finding], store: Store, patient_id: str, hook: str, now: datetime, policy: Policy
) -> tuple[list[Finding], str | None]:
    """Return the findings the prescriber has not just overridden, and the patient's key in the audit."""
    if not findings:
        return findings, None
    try:
        key = store.patient_key(patient_id)
        history = store.overrides(key, now - timedelta(days=max(policy.patient_view_snooze_days, 1)))
    except SQLAlchemyError as exc:
        # Without the history, show everything: a repeated card is better than a missing one.
        log.warning("override history unavailable", extra={"fields": {"exception": type(exc).__name__}})
        return findings, None
    return [f for f in findings if not is_suppressed(f, hook, history, now.date(), policy)], key


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
) -> None:
    """Record each card served, and to whom (the caller's iss and tenant); a database failure never costs the card."""
    issuer = getattr(caller, "iss", None)
    tenant = getattr(caller, "tenant", None)
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
        )
        for finding, card in zip(findings, cards)
    ]
    try:
        store.record_cards(rows)
    except SQLAlchemyError as exc:
        log.error("card audit not written", extra={"fields": {"exception": type(exc).__name__, "cards": len(rows)}})


def offered_codes(card: dict) -> str | None:
    """Return the card's override reason codes, comma-separated, or None when it offers none."""
    codes = [reason.get("code") for reason in card.get("overrideReasons") or () if isinstance(reason, dict)]
    return ",".join(code.replace(",", "") for code in codes if isinstance(code, str)) or None
