"""Gather what the rules know about a patient from the records read for one hook call."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Sequence

from hooks.alp import assess_alp, years_before
from hooks.extract import (
    index_medications,
    read_conditions,
    read_lab_results,
    read_medication_requests,
    read_patient,
)
from hooks.findings import AlpAssessment
from hooks.hpp import hpp_on_record, workup_on_file
from hooks.policy import Policy
from hooks.records import ConditionRecord, LabResult, MedicationOrder, PatientFacts, Unreadable
from hooks.valuesets import ALP_TOTAL, HPP_WORKUP


@dataclass(frozen=True)
class Evidence:
    """The patient's ALP assessment, HPP status and medications, ready for a hook's rule."""

    patient: PatientFacts
    alp: AlpAssessment
    hpp: tuple[str, ...]
    workup_on_file: bool
    medications: tuple[MedicationOrder, ...]


def gather_evidence(
    *,
    patient: PatientFacts,
    alp_results: Sequence[LabResult],
    alp_unreadable: Sequence[Unreadable],
    conditions: Sequence[ConditionRecord],
    unreadable_conditions: Sequence[Unreadable],
    medications: Sequence[MedicationOrder],
    workup_results: Sequence[LabResult] = (),
    workup_unreadable: Sequence[Unreadable] = (),
    today: date,
    policy: Policy,
) -> Evidence:
    """Return the Evidence for one patient on `today`."""
    since = years_before(today, policy.lookback_years)
    return Evidence(
        patient=patient,
        alp=assess_alp(alp_results, alp_unreadable, patient, today, policy),
        hpp=hpp_on_record(conditions, unreadable_conditions, medications),
        workup_on_file=workup_on_file(workup_results, workup_unreadable, since, policy),
        medications=tuple(medications),
    )


def evidence_from_resources(
    data: Mapping[str, Any],
    fetched_medications: Mapping[str, Mapping],
    *,
    patient_id: str,
    today: date,
    policy: Policy,
    draft_orders: Sequence[MedicationOrder] = (),
) -> Evidence:
    """Return the Evidence from resolved prefetch data (keys as in the service's prefetch templates)."""
    medication_resources = list(data.get("medications") or ())
    index = {**fetched_medications, **index_medications(medication_resources)}
    medications, _ = read_medication_requests(medication_resources, index)
    alp_results, alp_unreadable = read_lab_results(data.get("alp") or (), ALP_TOTAL.codes)
    conditions, unreadable_conditions = read_conditions(data.get("conditions") or ())
    workup_results, workup_unreadable = read_lab_results(data.get("hppWorkup") or (), HPP_WORKUP.codes)
    evidence = gather_evidence(
        patient=read_patient(data.get("patient"), patient_id),
        alp_results=alp_results,
        alp_unreadable=alp_unreadable,
        conditions=conditions,
        unreadable_conditions=unreadable_conditions,
        medications=medications,
        workup_results=workup_results,
        workup_unreadable=workup_unreadable,
        today=today,
        policy=policy,
    )
    if draft_orders:
        # An asfotase alfa order in the same session shows HPP as surely as one on file.
        hpp = hpp_on_record(conditions, unreadable_conditions, [*medications, *draft_orders])
        evidence = dataclasses.replace(evidence, hpp=hpp)
    return evidence
