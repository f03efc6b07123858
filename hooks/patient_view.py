"""patient-view: the Wilson pattern in acute liver failure, then the low-ALP findings and duplicate therapy."""

from __future__ import annotations

from datetime import date

from hooks.duplicates import check_duplicate_therapy
from hooks.evidence import Evidence
from hooks.findings import Finding
from hooks.low_alp import defer_to_wilson, findings_for_chart
from hooks.policy import Policy
from hooks.therapy import in_use
from hooks.wilson import check_wilson_pattern


def evaluate_patient_view(evidence: Evidence, today: date, policy: Policy) -> list[Finding]:
    """Return the findings for a chart being opened: Wilson first, then HPP and low ALP."""
    wilson = check_wilson_pattern(
        evidence.liver_labs, evidence.conditions, evidence.unreadable_conditions, evidence.patient, today, policy
    )
    findings = findings_for_chart(evidence, today, policy)
    findings += check_duplicate_therapy(in_use(evidence.therapies, today), evidence.patient.id)
    if wilson is None:
        return findings
    return [wilson, *(defer_to_wilson(f) for f in findings)]
