"""patient-view: flag an active antiresorptive despite HPP or low ALP, or low ALP never worked up."""

from __future__ import annotations

from hooks.evidence import Evidence
from hooks.findings import Finding, Indicator, Pattern, Topic
from hooks.medications import antiresorptive_ingredients


def evaluate_patient_view(evidence: Evidence) -> list[Finding]:
    """Return the findings for a chart being opened."""
    active = [m for m in evidence.medications if m.status == "active" and antiresorptive_ingredients(m)]
    drugs = tuple(dict.fromkeys(d for m in active for d in antiresorptive_ingredients(m)))
    patient_id = evidence.patient.id
    pattern = evidence.alp.pattern
    if active:
        if evidence.hpp:
            return [Finding(Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL, patient_id, drugs,
                            hpp_evidence=evidence.hpp)]
        if pattern in (Pattern.PERSISTENT, Pattern.RECURRENT):
            return [Finding(Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING, patient_id, drugs, alp=evidence.alp)]
        return []
    if pattern is Pattern.PERSISTENT and not evidence.hpp and not evidence.workup_on_file:
        return [Finding(Topic.LOW_ALP_UNEVALUATED, Indicator.INFO, patient_id, alp=evidence.alp)]
    return []
