"""patient-view: an active antiresorptive despite HPP or low ALP, low ALP never worked up, and Wilson ALF."""

from __future__ import annotations

import dataclasses
from datetime import date

from hooks.evidence import Evidence
from hooks.findings import Finding, Indicator, Topic
from hooks.low_alp import findings_for_chart
from hooks.orders import where_seen
from hooks.policy import Policy
from hooks.therapy import in_use
from hooks.wilson import check_wilson_pattern

# Low ALP read as hypophosphatasia; Wilson disease in liver failure explains it better.
_LOW_ALP_TOPICS = frozenset(
    {Topic.LOW_ALP_ANTIRESORPTIVE, Topic.LOW_ALP_UNEVALUATED, Topic.HPP_LIKELY, Topic.LOW_ALP_ON_THERAPY}
)
WILSON_NOTE = (
    "Acute liver failure with the Wilson disease pattern is present: Wilson disease is the likelier cause of "
    "the low ALP. Work it up first."
)


def evaluate_patient_view(evidence: Evidence, today: date, policy: Policy) -> list[Finding]:
    """Return the findings for a chart being opened: Wilson first, then HPP and low ALP."""
    wilson = check_wilson_pattern(
        evidence.liver_labs, evidence.conditions, evidence.unreadable_conditions, evidence.patient, today, policy
    )
    findings = findings_for_chart(evidence, today, policy) + duplicate_therapy(evidence, today)
    if wilson is None:
        return findings
    return [wilson, *(defer_to_wilson(f) for f in findings)]


def duplicate_therapy(evidence: Evidence, today: date) -> list[Finding]:
    """Return a warning when two different antiresorptives are in use at once."""
    therapies = in_use(evidence.therapies, today)
    if len({t.ingredient for t in therapies}) < 2:
        return []
    seen = where_seen(therapies)
    return [
        Finding(
            Topic.DUPLICATE_ANTIRESORPTIVE,
            Indicator.WARNING,
            evidence.patient.id,
            drugs=tuple(seen),
            criteria=tuple(f"In use: {text}" for text in seen.values()),
        )
    ]


def defer_to_wilson(finding: Finding) -> Finding:
    """Drop a low-ALP finding to info and name Wilson disease; a critical finding keeps its urgency."""
    if finding.topic not in _LOW_ALP_TOPICS or finding.topic is Topic.HPP_LIKELY:
        return finding  # an HPP diagnosis, or a raised substrate, is not explained away by liver failure
    # A critical low-ALP finding rests on an elevated substrate too, which liver failure does not explain.
    indicator = finding.indicator if finding.indicator is Indicator.CRITICAL else Indicator.INFO
    return dataclasses.replace(finding, indicator=indicator, notes=(*finding.notes, WILSON_NOTE))
