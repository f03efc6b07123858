"""Respect the prescriber: do not repeat a card just overridden, unless it is critical or its finding changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hooks.findings import Finding, Indicator
from hooks.policy import Policy


@dataclass(frozen=True)
class PastOverride:
    """A card of this patient that a prescriber overrode."""

    hook: str
    topic: str
    order_ref: str | None
    fingerprint: str | None
    overridden_on: date
    indicator: str | None = None
    # The ordering session the card was shown in (order hooks): when, for which drugs, in which encounter and for
    # which user (both as keyed hashes, None when the call did not say).
    served_at: datetime | None = None
    drugs: str | None = None
    encounter: str | None = None
    user: str | None = None
    superseded: bool = False  # the same card (topic, drugs) was shown again at order-select after this one


@dataclass(frozen=True)
class OrderSession:
    """What tells one ordering session from another: the time of the call, its encounter and user (keyed hashes)."""

    now: datetime
    encounter: str | None = None
    user: str | None = None


# An order is selected and signed within one sitting: an order-select override older than this belongs to another
# session. Drafts carry no session id and some EHRs reuse draft ids (the Sandbox always sends request-123), so the
# time, the drug, the encounter and the user are what is left to tell sessions apart.
ORDER_SESSION_WINDOW = timedelta(minutes=60)


def drugs_key(finding: Finding) -> str:
    """Return the drugs a finding is about, as recorded with its card: sorted ingredient names."""
    return ",".join(sorted(finding.drugs))


def fingerprint(finding: Finding) -> str:
    """Return a digest of what a finding rests on: new results, a new drug or new evidence change it."""
    alp = finding.alp
    evidence = {
        "topic": finding.topic.value,
        "drugs": sorted(finding.drugs),
        "order": sorted(f"{c.system}|{c.code}" for c in finding.order.codes) if finding.order else [],
        "alp": [[r.effective.isoformat(), str(r.value_u_per_l), r.low] for r in alp.results] if alp else [],
        "measurements": [[m.loinc, m.effective.isoformat(), str(m.value)] for m in finding.measurements],
        "hpp": list(finding.hpp_evidence),
    }
    return hashlib.sha256(json.dumps(evidence, sort_keys=True).encode()).hexdigest()[:32]


def is_suppressed(
    finding: Finding,
    hook: str,
    history: Iterable[PastOverride],
    today: date,
    policy: Policy,
    session: OrderSession | None = None,
) -> bool:
    """Return whether a card would repeat one the prescriber has just overridden; critical cards never are."""
    if finding.indicator is Indicator.CRITICAL:
        return False
    topic = finding.topic.value
    for past in history:
        if past.topic != topic:
            continue
        if hook == "patient-view" and past.hook == "patient-view":
            # A finding that has become more urgent than the card overridden is news: show it.
            worse = finding.indicator.rank > Indicator(past.indicator or "info").rank
            if not worse and (today - past.overridden_on).days < policy.patient_view_snooze_days:
                return True
        if hook == "order-sign" and past.hook == "order-select" and not policy.order_select_repeat_at_sign:
            if (
                session is not None
                and same_session(finding, past, session)
                and past.fingerprint == fingerprint(finding)
            ):
                return True
    return False


def same_session(finding: Finding, past: PastOverride, session: OrderSession) -> bool:
    """Tell whether an order-select card and this order-sign finding belong to one ordering session."""
    # Same draft and drugs, same encounter and user (or both absent), the select card shown at most
    # ORDER_SESSION_WINDOW ago, and no later order-select card of the same kind since (that began a new session).
    if finding.order is None or past.order_ref != finding.order.reference or past.drugs != drugs_key(finding):
        return False
    if (past.encounter, past.user) != (session.encounter, session.user) or past.superseded:
        return False
    return past.served_at is not None and timedelta(0) <= session.now - past.served_at <= ORDER_SESSION_WINDOW
