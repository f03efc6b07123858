"""The population audit's one entry into the rule: one patient's resources in, the patient-view findings out."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from cards import render_card
from hooks.evidence import ALP_LABS, LIVER_LABS, SAFETY_LABS, WORKUP_LABS, evidence_from_resources
from hooks.extract import raw_codes
from hooks.findings import Finding
from hooks.patient_view import evaluate_patient_view
from hooks.policy import Policy
from hooks.therapy import in_use
from hooks.valuesets import LOINC

# Observations go to every prefetch key whose codes they carry, as a FHIR server's searches would return them.
OBSERVATION_KEYS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (key, frozenset().union(*(v.codes for v in value_sets)))
    for key, value_sets in (
        ("alp", ALP_LABS),
        ("hppWorkup", WORKUP_LABS),
        ("safetyLabs", SAFETY_LABS),
        ("liverPanel", LIVER_LABS),
    )
)
# Therapy records and stays, under the keys of the services' prefetch templates.
PASSED_THROUGH: Mapping[str, str] = {
    "MedicationStatement": "medicationStatements",
    "MedicationDispense": "medicationDispenses",
    "MedicationAdministration": "medicationAdministrations",
    "Encounter": "encounters",
}


@dataclass(frozen=True)
class PatientReview:
    """What the patient-view rule finds for one patient, with the numbers a worklist shows."""

    patient_id: str
    findings: tuple[Finding, ...]  # what the patient-view rule (the card rule) finds today
    lowest_alp_u_per_l: Decimal | None  # lowest judged total-ALP result in the look-back window, if any
    therapy: tuple[str, ...]  # antiresorptive ingredients in use (e.g. ("alendronate",))


def prefetch_data(resources: Iterable[Mapping[str, Any]], patient_id: str) -> dict[str, Any]:
    """Return the patient's resources under the prefetch keys the core reads (and the pass-through keys)."""
    data: dict[str, Any] = {
        "patient": None,
        "alp": [],
        "conditions": [],
        "medications": [],
        "hppWorkup": [],
        "safetyLabs": [],
        "liverPanel": [],
        **{key: [] for key in PASSED_THROUGH.values()},
    }
    for resource in resources:
        kind = resource.get("resourceType")
        if kind == "Patient":
            if resource.get("id") == patient_id:
                data["patient"] = resource
        elif kind == "Observation":
            codes = {c.code for c in raw_codes(resource.get("code")) if c.system == LOINC}
            for key, wanted in OBSERVATION_KEYS:
                if codes & wanted:
                    data[key].append(resource)
        elif kind == "Condition":
            data["conditions"].append(resource)
        elif kind in ("MedicationRequest", "Medication"):
            data["medications"].append(resource)
        elif isinstance(kind, str) and kind in PASSED_THROUGH:
            data[PASSED_THROUGH[kind]].append(resource)
    return data


def referenced_medications(medications: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Return the Medication resources keyed by each absolute or relative reference the requests use."""
    by_id = {r["id"]: r for r in medications if r.get("resourceType") == "Medication" and isinstance(r.get("id"), str)}
    index: dict[str, Mapping[str, Any]] = {}
    for request in medications:
        reference = request.get("medicationReference")
        target = reference.get("reference") if isinstance(reference, Mapping) else None
        if isinstance(target, str) and "Medication/" in target:
            found = by_id.get(target.rsplit("Medication/", 1)[1].split("/_history/")[0])
            if found is not None:
                index[target] = found
    return index


def review_patient(
    resources: Iterable[Mapping[str, Any]], patient_id: str, today: date, policy: Policy
) -> PatientReview:
    """Return what the patient-view card rule finds in one patient's resources on `today`."""
    data = prefetch_data(resources, patient_id)
    records = [r for key in ("medications", *PASSED_THROUGH.values()) for r in data[key]]
    evidence = evidence_from_resources(
        data, referenced_medications(records), patient_id=patient_id, today=today, policy=policy
    )
    findings = tuple(evaluate_patient_view(evidence, today, policy))
    judged = [r.value_u_per_l for r in evidence.alp.judged]
    therapy = tuple(dict.fromkeys(t.ingredient for t in in_use(evidence.therapies, today)))
    return PatientReview(patient_id, findings, min(judged, default=None), therapy)


def finding_reason(finding: Finding) -> str:
    """Return the finding's card summary: the worklist and the alert say the same thing."""
    counter = itertools.count(1)  # the audit shows no card: its uuids are never seen, only need to differ
    return str(render_card(finding, lambda: f"00000000-0000-4000-8000-{next(counter):012d}")["summary"])
