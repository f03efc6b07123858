"""order-select, order-sign and medication-refill: the findings for the antiresorptives being ordered."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from hooks.cardiovascular import check_recent_cardiovascular_event
from hooks.duplicates import check_duplicate_antiresorptives
from hooks.evidence import Evidence
from hooks.findings import Finding
from hooks.low_alp import finding_for_order
from hooks.medications import antiresorptive_ingredients
from hooks.minerals import check_vitamin_d_and_calcium
from hooks.policy import Policy
from hooks.records import MedicationOrder
from hooks.renal import check_renal_function
from hooks.therapy import in_use


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
        for finding in (
            finding_for_order(order, evidence, today, policy),
            check_renal_function(
                order,
                evidence.safety_labs,
                evidence.patient.id,
                today,
                policy,
                patient=evidence.patient,
                conditions=evidence.conditions,
            ),
        ):
            if finding is not None:
                findings.append(finding)
    minerals = check_vitamin_d_and_calcium(targets, evidence.safety_labs, evidence.patient.id, today, policy)
    findings += check_recent_cardiovascular_event(targets, evidence.conditions, evidence.patient.id, today, policy)
    drafted = {order.id for order in targets if order.id}
    therapies = [t for t in in_use(evidence.therapies, today) if t.record.id not in drafted]
    findings += check_duplicate_antiresorptives(targets, therapies, evidence.patient.id)
    return findings + ([minerals] if minerals else [])
