"""Respect the prescriber: do not repeat a card just overridden, unless it is critical or its finding changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Iterable

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


def is_suppressed(finding: Finding, hook: str, history: Iterable[PastOverride], today: date, policy: Policy) -> bool:
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
            same_draft = finding.order is not None and past.order_ref == finding.order.reference
            if same_draft and past.overridden_on == today and past.fingerprint == fingerprint(finding):
                return True
    return False
