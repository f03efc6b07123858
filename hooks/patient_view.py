"""patient-view: an active antiresorptive despite HPP or low ALP, low ALP never worked up, and Wilson ALF."""

from __future__ import annotations

import dataclasses
from datetime import date

from hooks.evidence import Evidence
from hooks.findings import Finding, Indicator, Pattern, Topic
from hooks.medications import antiresorptive_ingredients
from hooks.orders import low_alp_finding
from hooks.policy import Policy
from hooks.substrates import substrate_criteria
from hooks.wilson import check_wilson_pattern

# Low ALP read as hypophosphatasia; Wilson disease in liver failure explains it better.
_LOW_ALP_TOPICS = frozenset({Topic.LOW_ALP_ANTIRESORPTIVE, Topic.LOW_ALP_UNEVALUATED, Topic.HPP_LIKELY})
WILSON_NOTE = (
    "Acute liver failure with the Wilson disease pattern is present: Wilson disease is the likelier cause of "
    "the low ALP. Work it up first."
)


def evaluate_patient_view(evidence: Evidence, today: date, policy: Policy) -> list[Finding]:
    """Return the findings for a chart being opened: Wilson first, then HPP and low ALP."""
    wilson = check_wilson_pattern(evidence.liver_labs, evidence.conditions, evidence.unreadable_conditions,
                                  evidence.patient, today, policy)
    findings = low_alp_findings(evidence)
    if wilson is None:
        return findings
    return [wilson, *(defer_to_wilson(f) for f in findings)]


def low_alp_findings(evidence: Evidence) -> list[Finding]:
    """Return the HPP and low-ALP findings of a chart."""
    if not evidence.knows("medications"):
        return []  # whether an antiresorptive is active decides every finding below
    active = [m for m in evidence.medications if m.status == "active" and antiresorptive_ingredients(m)]
    drugs = tuple(dict.fromkeys(d for m in active for d in antiresorptive_ingredients(m)))
    patient_id = evidence.patient.id
    pattern = evidence.alp.pattern
    if active:
        if evidence.hpp:
            return [Finding(Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL, patient_id, drugs,
                            hpp_evidence=evidence.hpp)]
        if pattern in (Pattern.PERSISTENT, Pattern.RECURRENT):
            return [low_alp_finding(evidence, drugs, None)]
        return []
    # "Not on record" and "not worked up" are claims: they need the conditions and the work-up results.
    if pattern is not Pattern.PERSISTENT or evidence.hpp or not evidence.knows("conditions", "hppWorkup"):
        return []
    if evidence.substrates:
        return [Finding(Topic.HPP_LIKELY, Indicator.WARNING, patient_id, alp=evidence.alp,
                        measurements=evidence.substrates, criteria=substrate_criteria(evidence.substrates))]
    if not evidence.workup_on_file:
        return [Finding(Topic.LOW_ALP_UNEVALUATED, Indicator.INFO, patient_id, alp=evidence.alp)]
    return []


def defer_to_wilson(finding: Finding) -> Finding:
    """Drop a low-ALP finding to info and name Wilson disease; a critical finding keeps its urgency."""
    if finding.topic not in _LOW_ALP_TOPICS:
        return finding  # an HPP diagnosis on record is not explained away by liver failure
    # A critical low-ALP finding rests on an elevated substrate too, which liver failure does not explain.
    indicator = finding.indicator if finding.indicator is Indicator.CRITICAL else Indicator.INFO
    return dataclasses.replace(finding, indicator=indicator, notes=(*finding.notes, WILSON_NOTE))
