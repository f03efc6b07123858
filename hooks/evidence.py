"""Gather what the rules know about a patient from the records read for one hook call."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from hooks.alp import assess_alp, years_before
from hooks.extract import (
    index_medications,
    named_drug,
    read_conditions,
    read_encounters,
    read_lab_results,
    read_medication_uses,
    read_patient,
)
from hooks.findings import AlpAssessment, Measurement
from hooks.hpp import hpp_on_record, workup_on_file
from hooks.labs import counts, newest_first, specimen_day
from hooks.medications import antiresorptive_ingredients, is_asfotase_alfa
from hooks.policy import Policy
from hooks.records import (
    ConditionRecord,
    EncounterRecord,
    LabResult,
    MedicationOrder,
    PatientFacts,
    Unreadable,
)
from hooks.secondary_causes import SecondaryCause, drug_cause, secondary_causes
from hooks.substrates import elevated_substrates, normal_workup, tests_done
from hooks.therapy import Therapy, antiresorptive_therapies
from hooks.valuesets import (
    ALP_BONE_SPECIFIC,
    ALP_TOTAL,
    ALT,
    AST,
    BILIRUBIN_TOTAL,
    BODY_WEIGHT,
    CALCIUM,
    CREATININE_CLEARANCE,
    EGFR,
    HPP_CONDITION_ICD10CM_UNSPECIFIC,
    HPP_CONDITION_SNOMED,
    HPP_WORKUP,
    INR,
    MAGNESIUM,
    SERUM_CREATININE,
    VITAMIN_D_25OH,
    WILSON_DISEASE_ICD10CM,
    WILSON_DISEASE_SNOMED,
    ZINC,
    ValueSet,
)

# What each kind of data holds, in one place: the services build their prefetch queries from these.
ALP_LABS: tuple[ValueSet, ...] = (ALP_TOTAL, ALP_BONE_SPECIFIC)  # bone-specific ALP: supporting data only
SAFETY_LABS: tuple[ValueSet, ...] = (CREATININE_CLEARANCE, EGFR, VITAMIN_D_25OH, CALCIUM, SERUM_CREATININE, BODY_WEIGHT)
LIVER_LABS: tuple[ValueSet, ...] = (INR, BILIRUBIN_TOTAL, AST, ALT)
# Diagnoses that change a finding by code; the conditions query reads every Condition, since a locally coded
# hypophosphatasia, a secondary cause of low ALP or a chronic liver disease may carry any code.
CONDITIONS_READ: tuple[ValueSet, ...] = (
    HPP_CONDITION_SNOMED,
    HPP_CONDITION_ICD10CM_UNSPECIFIC,
    WILSON_DISEASE_SNOMED,
    WILSON_DISEASE_ICD10CM,
)
# The prefetch keys whose resources say what medication the patient takes or took.
MEDICATION_KEYS = ("medications", "medicationStatements", "medicationDispenses", "medicationAdministrations")
# The HPP work-up, and magnesium and zinc, whose deficiency lowers ALP.
WORKUP_LABS: tuple[ValueSet, ...] = (HPP_WORKUP, MAGNESIUM, ZINC)
WORKUP_LAB_CODES = frozenset().union(*(v.codes for v in WORKUP_LABS))
SAFETY_LAB_CODES = frozenset().union(*(v.codes for v in SAFETY_LABS))
LIVER_LAB_CODES = frozenset().union(*(v.codes for v in LIVER_LABS))


@dataclass(frozen=True)
class Evidence:
    """The patient's ALP assessment, HPP status, medications and the labs the safety checks read."""

    patient: PatientFacts
    alp: AlpAssessment
    hpp: tuple[str, ...]
    workup_on_file: bool
    medications: tuple[MedicationOrder, ...]
    substrates: tuple[Measurement, ...] = ()  # elevated PLP or phosphoethanolamine
    safety_labs: tuple[LabResult, ...] = ()  # renal function, 25-OH vitamin D, calcium
    liver_labs: tuple[LabResult, ...] = ()  # INR, bilirubin, AST, ALT and the ALP results
    conditions: tuple[ConditionRecord, ...] = ()  # every Condition of the patient that could be read
    unreadable_conditions: tuple[Unreadable, ...] = ()
    unavailable: frozenset[str] = frozenset()  # prefetch keys that could not be obtained in time
    encounters: tuple[EncounterRecord, ...] = ()
    therapies: tuple[Therapy, ...] = ()  # antiresorptive therapy from every medication source, oldest first
    normal_workup: tuple[Measurement, ...] = ()  # the latest PLP or PEA when normal, a negative ALPL test
    tests_done: frozenset[str] = frozenset()  # work-up tests with a result in the window: "plp", "pea", "alpl"
    secondary_causes: tuple[SecondaryCause, ...] = ()

    def knows(self, *keys: str) -> bool:
        """Return whether every one of these kinds of data was obtained."""
        return not self.unavailable.intersection(keys)


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
    draft_orders: Sequence[MedicationOrder] = (),
    bone_specific: Sequence[LabResult] = (),
    safety_labs: Sequence[LabResult] = (),
    liver_labs: Sequence[LabResult] = (),
    encounters: Sequence[EncounterRecord] = (),
    today: date,
    policy: Policy,
) -> Evidence:
    """Return the Evidence for one patient on `today`; an asfotase alfa draft order also shows HPP."""
    since = years_before(today, policy.lookback_years)
    therapies = antiresorptive_therapies(medications, today, policy)
    exposures = [(therapy.start, therapy.end) for therapy in therapies]
    alp = assess_alp(alp_results, alp_unreadable, patient, today, policy, exposures, encounters)
    alp = dataclasses.replace(alp, bone_specific=bone_specific_alp(bone_specific, since, policy))
    return Evidence(
        patient=patient,
        alp=alp,
        hpp=hpp_on_record(conditions, unreadable_conditions, [*medications, *draft_orders]),
        workup_on_file=workup_on_file(workup_results, workup_unreadable, since, policy),
        medications=tuple(medications),
        substrates=elevated_substrates(workup_results, today, policy),
        safety_labs=tuple(safety_labs),
        liver_labs=(*liver_labs, *alp_results),
        conditions=tuple(conditions),
        unreadable_conditions=tuple(unreadable_conditions),
        encounters=tuple(encounters),
        therapies=tuple(therapies),
        normal_workup=normal_workup(workup_results, today, policy),
        tests_done=tests_done(workup_results, today, policy),
        secondary_causes=secondary_causes(conditions, medications, workup_results, today, policy),
    )


def bone_specific_alp(results: Sequence[LabResult], since: date, policy: Policy) -> tuple[Measurement, ...]:
    """Return the bone-specific ALP results that count in the window, oldest first, in their own units."""
    return tuple(
        Measurement(
            "Bone-specific ALP",
            r.loinc,
            specimen_day(r),
            r.quantity.value,
            r.quantity.unit or "",
            r.quantity.comparator,
        )
        for r in reversed(newest_first(r for r in results if counts(r, policy, since)))
        if r.quantity is not None
    )


def may_matter(order: MedicationOrder) -> bool:
    """Return whether a medication could be an antiresorptive, asfotase alfa or a cause of low ALP."""
    if not order.codes and not order.names:
        return True  # cannot tell what it is: keep it
    return bool(antiresorptive_ingredients(order)) or is_asfotase_alfa(order) or drug_cause(order) is not None


def _may_matter_raw(resource: Mapping, index: Mapping[str, Mapping]) -> bool:
    """Return False only for a medication resource whose every read is named and does not matter."""
    named = named_drug(resource, index)
    # The checks only match codes and names: what matches none of all it carries matches none of a read's.
    return named is None or may_matter(named)


def read_with_placeholders(resources: Any, loincs: frozenset[str]) -> list[LabResult]:
    """Return the results, with a value-less stand-in for each unreadable one, so it still counts as newest."""
    results, unreadable = read_lab_results(resources, loincs)
    for resource in unreadable:
        loinc = next((c.code for c in resource.codes if c.code in loincs), None)
        if loinc is not None and resource.effective is not None:
            status = resource.status if resource.status is not None else "final"
            results.append(LabResult(resource.id, loinc, status, resource.effective, None))
    return results


def evidence_from_resources(
    data: Mapping[str, Any],
    fetched_medications: Mapping[str, Mapping],
    *,
    patient_id: str,
    today: date,
    policy: Policy,
    draft_orders: Sequence[MedicationOrder] = (),
    unavailable: frozenset[str] = frozenset(),
) -> Evidence:
    """Return the Evidence from resolved prefetch data (keys as in the services' prefetch templates)."""
    medication_resources = [r for key in MEDICATION_KEYS for r in data.get(key) or ()]
    index = {**fetched_medications, **index_medications(medication_resources)}
    # Only a drug that may matter is read in full: a cheap look at its codes and names settles the rest.
    maybe = [r for r in medication_resources if not isinstance(r, Mapping) or _may_matter_raw(r, index)]
    medications = [order for order in read_medication_uses(maybe, index)[0] if may_matter(order)]
    alp_resources = list(data.get("alp") or ())
    alp_results, alp_unreadable = read_lab_results(alp_resources, ALP_TOTAL.codes)
    bone_specific, _ = read_lab_results(alp_resources, ALP_BONE_SPECIFIC.codes)
    conditions, unreadable_conditions = read_conditions(data.get("conditions") or ())
    workup_results, workup_unreadable = read_lab_results(data.get("hppWorkup") or (), WORKUP_LAB_CODES)
    safety_labs = read_with_placeholders(data.get("safetyLabs") or (), SAFETY_LAB_CODES)
    liver_labs = read_with_placeholders(data.get("liverPanel") or (), LIVER_LAB_CODES)
    evidence = gather_evidence(
        patient=read_patient(data.get("patient"), patient_id),
        alp_results=alp_results,
        alp_unreadable=alp_unreadable,
        conditions=conditions,
        unreadable_conditions=unreadable_conditions,
        medications=medications,
        workup_results=workup_results,
        workup_unreadable=workup_unreadable,
        draft_orders=draft_orders,
        bone_specific=bone_specific,
        safety_labs=safety_labs,
        liver_labs=liver_labs,
        encounters=read_encounters(data.get("encounters") or ()),
        today=today,
        policy=policy,
    )
    return dataclasses.replace(evidence, unavailable=unavailable)
