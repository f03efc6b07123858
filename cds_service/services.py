"""The CDS services: each is a descriptor plus a function, and discovery is derived from the same list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cds_service.hook_request import BadHookRequest, HookRequest
from cds_service.patient_scope import only_this_patient, require_this_patient
from cds_service.prefetch import DataUnavailable, FhirAccess, read_references, resolve_available
from hooks.evidence import (
    ALP_LABS,
    LIVER_LABS,
    MEDICATION_KEYS,
    SAFETY_LABS,
    WORKUP_LABS,
    Evidence,
    evidence_from_resources,
)
from hooks.extract import index_medications, read_medication_requests, unresolved_medication_references
from hooks.findings import Finding, Topic
from hooks.orders import antiresorptive_drafts, evaluate_antiresorptive_orders
from hooks.patient_view import evaluate_patient_view
from hooks.policy import Policy
from hooks.records import MedicationOrder
from hooks.valuesets import ValueSet


def _codes(system: str, codes: frozenset[str]) -> str:
    """Return a FHIR token list `system|a,system|b` in a stable order."""
    return ",".join(f"{system}|{code}" for code in sorted(codes))


def _observations(*value_sets: ValueSet, count: int) -> str:
    """Return a search for the patient's Observations with any of the value sets' codes, newest first."""
    codes = ",".join(_codes(v.system, v.codes) for v in value_sets)
    return f"Observation?patient={{{{context.patientId}}}}&code={codes}&_sort=-date&_count={count}"


PATIENT = "Patient/{{context.patientId}}"
ALP = _observations(*ALP_LABS, count=100)
# Every Condition: a locally coded hypophosphatasia, a secondary cause of low ALP or a chronic liver disease can carry
# any code, so the query cannot filter by code.
CONDITIONS = "Condition?patient={{context.patientId}}&_count=100"
MEDICATIONS = "MedicationRequest?patient={{context.patientId}}&_count=100"
# Therapy recorded elsewhere than as an order: outside prescriptions, pharmacy dispenses, doses given in clinic.
MEDICATION_STATEMENTS = "MedicationStatement?patient={{context.patientId}}&_count=100"
MEDICATION_DISPENSES = "MedicationDispense?patient={{context.patientId}}&_count=100"
MEDICATION_ADMINISTRATIONS = "MedicationAdministration?patient={{context.patientId}}&_count=100"
ENCOUNTERS = "Encounter?patient={{context.patientId}}&_sort=-date&_count=50"
HPP_WORKUP_RESULTS = _observations(*WORKUP_LABS, count=50)
SAFETY_LAB_RESULTS = _observations(*SAFETY_LABS, count=100)  # renal, minerals, creatinine and weight together
LIVER_PANEL = _observations(*LIVER_LABS, count=50)


@dataclass(frozen=True)
class HookCall:
    """One hook invocation with everything a service function needs from the shell."""

    request: HookRequest
    access: FhirAccess
    executor: Executor
    policy: Policy
    today: date
    templates: Mapping[str, str] | None = None  # the site's templates for this service; None: the service's own


@dataclass(frozen=True)
class CdsService:
    """A CDS service: what discovery says about it and the function that evaluates a call."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str]
    evaluate: Callable[[HookCall], list[Finding]]
    required_context: Mapping[str, type] = field(default_factory=dict)
    usage_requirements: str | None = None
    topics: tuple[Topic, ...] = ()  # the card types the service can return (site and per-call switches)

    def discovery(self) -> dict[str, Any]:
        """Return this service's entry in the discovery document, without empty members."""
        entry: dict[str, Any] = {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
            "usageRequirements": self.usage_requirements,
        }
        return {key: value for key, value in entry.items() if value}


def check_order_sign(call: HookCall) -> list[Finding]:
    """Check every antiresorptive draft order; fetch the patient's record only when one is drafted."""
    drafts = draft_medication_orders(call)
    return check_antiresorptive_orders(call, antiresorptive_drafts(drafts), drafts)


def check_order_select(call: HookCall) -> list[Finding]:
    """Check only the antiresorptive orders the clinician has just selected."""
    drafts = draft_medication_orders(call)
    selected = set(call.request.context["selections"])
    chosen = [d for d in antiresorptive_drafts(drafts) if d.reference in selected]
    return check_antiresorptive_orders(call, chosen, drafts)


def check_antiresorptive_orders(
    call: HookCall, targets: list[MedicationOrder], drafts: list[MedicationOrder]
) -> list[Finding]:
    """Return the findings on antiresorptive orders: HPP or low ALP, renal function, vitamin D and calcium."""
    if not targets:
        return []
    evidence = patient_evidence(call, ORDER_PREFETCH, draft_orders=drafts)
    return evaluate_antiresorptive_orders(targets, evidence, call.today, call.policy)


def check_patient_view(call: HookCall) -> list[Finding]:
    """Flag an active antiresorptive despite HPP or low ALP, or persistently low ALP not worked up."""
    return evaluate_patient_view(patient_evidence(call, PATIENT_VIEW_PREFETCH), call.today, call.policy)


def check_medication_refill(call: HookCall) -> list[Finding]:
    """Check every antiresorptive being refilled exactly as if it were being ordered."""
    refills = draft_medication_orders(call, "medications")
    return check_antiresorptive_orders(call, antiresorptive_drafts(refills), refills)


def draft_medication_orders(call: HookCall, member: str = "draftOrders") -> list[MedicationOrder]:
    """Return the MedicationRequests of a context Bundle (draftOrders, medications) with their medications resolved."""
    bundle = call.request.context[member]
    raw_entries = bundle.get("entry")
    if raw_entries is not None and not isinstance(raw_entries, list):
        raise BadHookRequest(f"context.{member}.entry must be a list")
    entries = [e for e in raw_entries or () if isinstance(e, dict)]
    resources = [e["resource"] for e in entries if isinstance(e.get("resource"), dict)]
    require_this_patient(resources, call.request.patient_id)  # 400: an order for another patient
    medications = resolve_medications(resources, index_medications(entries), call, required=True)
    orders, _ = read_medication_requests(resources, medications)
    return orders


def patient_evidence(
    call: HookCall, templates: Mapping[str, str], draft_orders: list[MedicationOrder] | None = None
) -> Evidence:
    """Return the patient's Evidence, from prefetch where the client sent it and the FHIR server otherwise."""
    request = call.request
    templates = call.templates if call.templates is not None else templates  # a site's edits of this service's
    # Without the patient (age) and the ALP results nothing can be said; the rest may be missing.
    data, unavailable = resolve_available(
        templates, request.prefetch, request.context, call.access, call.executor, core=CORE_KEYS
    )
    data = only_this_patient(data, request.patient_id)  # another patient's resources are never evidence
    requests = [r for key in MEDICATION_KEYS for r in data.get(key) or [] if isinstance(r, dict)]
    # A draft order's drug must be known; for the rest of the record, a name is enough when the server fails.
    medications = resolve_medications(requests, index_medications(requests), call, required=False)
    return evidence_from_resources(
        data,
        medications,
        patient_id=request.patient_id,
        today=call.today,
        policy=call.policy,
        draft_orders=draft_orders or (),
        unavailable=unavailable,
    )


def resolve_medications(
    requests: list[dict], index: dict[str, Any], call: HookCall, *, required: bool
) -> dict[str, Any]:
    """Return `index` plus the Medications the requests reference on the FHIR server, read concurrently."""
    missing = unresolved_medication_references(requests, index)
    if not missing:
        return index
    to_read = {reference: _server_reference(reference, call.access.server) for reference in missing}
    try:
        read = read_references(set(to_read.values()), call.access, call.executor)
    except DataUnavailable:
        if required:
            raise
        return index
    return {**index, **{reference: read[target] for reference, target in to_read.items() if target in read}}


def _server_reference(reference: str, server: str | None) -> str:
    """Return `Type/id` for a reference to the FHIR server: relative, absolute on it, or versioned."""
    if server and reference.startswith(server.rstrip("/") + "/"):
        reference = reference[len(server.rstrip("/")) + 1 :]
    return reference.split("/_history/")[0]


CORE_KEYS = frozenset({"patient", "alp"})
COMMON_PREFETCH = {
    "patient": PATIENT,
    "alp": ALP,
    "conditions": CONDITIONS,
    "medications": MEDICATIONS,
    "medicationStatements": MEDICATION_STATEMENTS,
    "medicationDispenses": MEDICATION_DISPENSES,
    "medicationAdministrations": MEDICATION_ADMINISTRATIONS,
    "encounters": ENCOUNTERS,
    "hppWorkup": HPP_WORKUP_RESULTS,
}
ORDER_PREFETCH = {**COMMON_PREFETCH, "safetyLabs": SAFETY_LAB_RESULTS}
PATIENT_VIEW_PREFETCH = {**COMMON_PREFETCH, "liverPanel": LIVER_PANEL}
ORDER_TOPICS = (
    Topic.HPP_ANTIRESORPTIVE,
    Topic.LOW_ALP_ANTIRESORPTIVE,
    Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE,
    Topic.LOW_ALP_ON_THERAPY,
    Topic.LOW_ALP_ACUTE_ILLNESS,
    Topic.RENAL_ANTIRESORPTIVE,
    Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT,
    Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE,
    Topic.ROMOSOZUMAB_CARDIOVASCULAR,
    Topic.DUPLICATE_ANTIRESORPTIVE,
)
PATIENT_VIEW_TOPICS = (
    Topic.HPP_ANTIRESORPTIVE,
    Topic.LOW_ALP_ANTIRESORPTIVE,
    Topic.LOW_ALP_UNEVALUATED,
    Topic.HPP_LIKELY,
    Topic.LOW_ALP_ON_THERAPY,
    Topic.LOW_ALP_ACUTE_ILLNESS,
    Topic.WILSON_ALF,
    Topic.DUPLICATE_ANTIRESORPTIVE,
)
ORDER_USAGE = (
    "Needs the patient's ALP, HPP work-up, renal, vitamin D and calcium results, conditions and medication "
    "requests, from prefetch or from a FHIR server the service can reach."
)
ORDER_DESCRIPTION = (
    "Warns when a bisphosphonate, denosumab or romosozumab is ordered for a patient with hypophosphatasia on "
    "record or persistently low alkaline phosphatase (antiresorptives can worsen hypophosphatasia), or whose "
    "renal function, vitamin D or calcium argue against starting it."
)

SERVICES: tuple[CdsService, ...] = (
    CdsService(
        id="low-alp-order-sign",
        hook="order-sign",
        title="ALP Guard: antiresorptive order safety (HPP, low ALP, renal, vitamin D)",
        description=ORDER_DESCRIPTION,
        prefetch=ORDER_PREFETCH,
        evaluate=check_order_sign,
        required_context={"draftOrders": dict},
        usage_requirements=ORDER_USAGE,
        topics=ORDER_TOPICS,
    ),
    CdsService(
        id="low-alp-order-select",
        hook="order-select",
        title="ALP Guard: antiresorptive selection safety (HPP, low ALP, renal, vitamin D)",
        description=ORDER_DESCRIPTION + " Only the orders just selected are checked.",
        prefetch=ORDER_PREFETCH,
        evaluate=check_order_select,
        required_context={"draftOrders": dict, "selections": list},
        usage_requirements=ORDER_USAGE,
        topics=ORDER_TOPICS,
    ),
    CdsService(
        id="low-alp-medication-refill",
        hook="medication-refill",
        title="ALP Guard: antiresorptive refill safety (HPP, low ALP, renal, vitamin D)",
        description=ORDER_DESCRIPTION + " Checks each prescription being refilled (medication-refill 0.1.0), "
        "with or without a user in the loop.",
        prefetch=ORDER_PREFETCH,
        evaluate=check_medication_refill,
        required_context={"medications": dict},
        usage_requirements=ORDER_USAGE,
        topics=ORDER_TOPICS,
    ),
    CdsService(
        id="low-alp-patient-view",
        hook="patient-view",
        title="ALP Guard: low ALP, hypophosphatasia and Wilson disease check",
        description=(
            "When a chart is opened, flags an active antiresorptive despite hypophosphatasia or low alkaline "
            "phosphatase, persistently low alkaline phosphatase that has not been evaluated or is likely "
            "hypophosphatasia, and acute liver failure with the Wilson disease pattern."
        ),
        prefetch=PATIENT_VIEW_PREFETCH,
        evaluate=check_patient_view,
        usage_requirements=(
            "Needs the patient's ALP, HPP work-up and liver results (INR, bilirubin, AST, ALT), conditions and "
            "medication requests, from prefetch or from a FHIR server the service can reach."
        ),
        topics=PATIENT_VIEW_TOPICS,
    ),
)

SERVICES_BY_ID: Mapping[str, CdsService] = {service.id: service for service in SERVICES}


def discovery_document() -> dict[str, Any]:
    """Return the discovery response listing every service."""
    return {"services": [service.discovery() for service in SERVICES]}
