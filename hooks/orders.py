"""order-select and order-sign: check each antiresorptive order against HPP, low ALP, renal function and minerals."""

from __future__ import annotations

from datetime import date
from typing import Iterable, Sequence

from hooks.cardiovascular import check_recent_cardiovascular_event
from hooks.evidence import Evidence
from hooks.findings import Finding, Indicator, Pattern, Topic
from hooks.medications import antiresorptive_ingredients
from hooks.minerals import check_vitamin_d_and_calcium
from hooks.policy import Policy
from hooks.records import MedicationOrder
from hooks.renal import check_renal_function
from hooks.substrates import substrate_criteria


def antiresorptive_drafts(drafts: Iterable[MedicationOrder]) -> list[MedicationOrder]:
    """Return the draft orders that ask for an antiresorptive, whatever their status."""
    return [draft for draft in drafts if antiresorptive_ingredients(draft)]


def evaluate_antiresorptive_orders(
    orders: Sequence[MedicationOrder], evidence: Evidence, today: date, policy: Policy
) -> list[Finding]:
    """Return, per antiresorptive order, its HPP or low-ALP finding and its renal finding; then one mineral finding."""
    targets = antiresorptive_drafts(orders)
    findings: list[Finding] = []
    for order in targets:
        for finding in (finding_for_order(order, evidence),
                        check_renal_function(order, evidence.safety_labs, evidence.patient.id, today, policy,
                                             patient=evidence.patient, conditions=evidence.conditions)):
            if finding is not None:
                findings.append(finding)
    minerals = check_vitamin_d_and_calcium(targets, evidence.safety_labs, evidence.patient.id, today, policy)
    findings += check_recent_cardiovascular_event(targets, evidence.conditions, evidence.patient.id, today, policy)
    return findings + ([minerals] if minerals else [])


def finding_for_order(draft: MedicationOrder, evidence: Evidence) -> Finding | None:
    """Return the finding for one antiresorptive order: HPP first, then the ALP pattern."""
    drugs = antiresorptive_ingredients(draft)
    patient_id = evidence.patient.id
    if evidence.hpp:
        return Finding(Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL, patient_id, drugs, draft,
                       hpp_evidence=evidence.hpp)
    pattern = evidence.alp.pattern
    if pattern in (Pattern.PERSISTENT, Pattern.RECURRENT):
        return low_alp_finding(evidence, drugs, draft)
    if pattern is Pattern.SINGLE_LOW:
        return Finding(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE, Indicator.INFO, patient_id, drugs, draft, evidence.alp)
    return None


def low_alp_finding(evidence: Evidence, drugs: tuple[str, ...], order: MedicationOrder | None) -> Finding:
    """Return the low-ALP finding for an antiresorptive: critical when an ALP substrate is elevated too."""
    substrates = evidence.substrates
    indicator = Indicator.CRITICAL if substrates else Indicator.WARNING
    return Finding(Topic.LOW_ALP_ANTIRESORPTIVE, indicator, evidence.patient.id, drugs, order, evidence.alp,
                   measurements=substrates, criteria=substrate_criteria(substrates), notes=unchecked(evidence))


_UNCHECKED = {
    "conditions": "the problem list (a hypophosphatasia diagnosis on record)",
    "medications": "the medication list (asfotase alfa)",
    "hppWorkup": "the HPP work-up results (pyridoxal 5'-phosphate, phosphoethanolamine)",
}


def unchecked(evidence: Evidence) -> tuple[str, ...]:
    """Say what could not be read in time, since it could have made the finding more severe."""
    missing = [text for key, text in _UNCHECKED.items() if not evidence.knows(key)]
    return (f"Could not be read in time, so not checked: {'; '.join(missing)}.",) if missing else ()
