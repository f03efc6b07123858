"""order-select and order-sign: check each antiresorptive order against HPP, low ALP, renal function and minerals."""

from __future__ import annotations

from datetime import date
from typing import Iterable, Sequence

from hooks.evidence import Evidence
from hooks.findings import Finding
from hooks.low_alp import finding_for_order
from hooks.medications import antiresorptive_ingredients
from hooks.minerals import check_vitamin_d_and_calcium
from hooks.policy import Policy
from hooks.records import MedicationOrder
from hooks.renal import check_renal_function


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
        for finding in (finding_for_order(order, evidence, today, policy),
                        check_renal_function(order, evidence.safety_labs, evidence.patient.id, today, policy)):
            if finding is not None:
                findings.append(finding)
    minerals = check_vitamin_d_and_calcium(targets, evidence.safety_labs, evidence.patient.id, today, policy)
    return findings + ([minerals] if minerals else [])
