"""The CDS services: each is a descriptor plus a function, and discovery is derived from the same list."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping

from cds_service.hook_request import BadHookRequest, HookRequest
from cds_service.prefetch import FhirAccess, read_references, resolve
from hooks.evidence import Evidence, evidence_from_resources
from hooks.extract import index_medications, read_medication_requests, unresolved_medication_references
from hooks.findings import Finding
from hooks.order_sign import antiresorptive_drafts, evaluate_order_sign
from hooks.patient_view import evaluate_patient_view
from hooks.policy import Policy
from hooks.records import MedicationOrder
from hooks.valuesets import ALP_TOTAL, HPP_CONDITION_ICD10CM_UNSPECIFIC, HPP_CONDITION_SNOMED, HPP_WORKUP


def _codes(system: str, codes: frozenset[str]) -> str:
    """Return a FHIR token list `system|a,system|b` in a stable order."""
    return ",".join(f"{system}|{code}" for code in sorted(codes))


PATIENT = "Patient/{{context.patientId}}"
ALP = f"Observation?patient={{{{context.patientId}}}}&code={_codes(ALP_TOTAL.system, ALP_TOTAL.codes)}&_sort=-date&_count=100"
CONDITIONS = (
    "Condition?patient={{context.patientId}}&code="
    + _codes(HPP_CONDITION_SNOMED.system, HPP_CONDITION_SNOMED.codes)
    + ","
    + _codes(HPP_CONDITION_ICD10CM_UNSPECIFIC.system, HPP_CONDITION_ICD10CM_UNSPECIFIC.codes)
)
MEDICATIONS = "MedicationRequest?patient={{context.patientId}}&_count=100"
HPP_WORKUP_RESULTS = (
    f"Observation?patient={{{{context.patientId}}}}&code={_codes(HPP_WORKUP.system, HPP_WORKUP.codes)}"
    "&_sort=-date&_count=50"
)


@dataclass(frozen=True)
class HookCall:
    """One hook invocation with everything a service function needs from the shell."""

    request: HookRequest
    access: FhirAccess
    executor: Executor
    policy: Policy
    today: date


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
    """Warn about antiresorptive draft orders; fetch the patient's record only when one is drafted."""
    drafts = draft_medication_orders(call)
    targets = antiresorptive_drafts(drafts)
    if not targets:
        return []
    evidence = patient_evidence(call, ORDER_SIGN_PREFETCH, draft_orders=drafts)
    return evaluate_order_sign(targets, evidence)


def check_patient_view(call: HookCall) -> list[Finding]:
    """Flag an active antiresorptive despite HPP or low ALP, or persistently low ALP not worked up."""
    return evaluate_patient_view(patient_evidence(call, PATIENT_VIEW_PREFETCH))


def draft_medication_orders(call: HookCall) -> list[MedicationOrder]:
    """Return the MedicationRequests of context.draftOrders with their medications resolved."""
    bundle = call.request.context["draftOrders"]
    raw_entries = bundle.get("entry")
    if raw_entries is not None and not isinstance(raw_entries, list):
        raise BadHookRequest("context.draftOrders.entry must be a list")
    entries = [e for e in raw_entries or () if isinstance(e, dict)]
    resources = [e["resource"] for e in entries if isinstance(e.get("resource"), dict)]
    index = index_medications(entries)
    missing = unresolved_medication_references(resources, index)
    if missing:
        index.update(read_references(missing, call.access, call.executor))
    orders, _ = read_medication_requests(resources, index)
    return orders


def patient_evidence(
    call: HookCall, templates: Mapping[str, str], draft_orders: list[MedicationOrder] | None = None
) -> Evidence:
    """Return the patient's Evidence, from prefetch where the client sent it and the FHIR server otherwise."""
    request = call.request
    data = resolve(templates, request.prefetch, request.context, call.access, call.executor)
    medication_requests = data.get("medications") or []
    missing = unresolved_medication_references(medication_requests, index_medications(medication_requests))
    fetched = read_references(missing, call.access, call.executor) if missing else {}
    return evidence_from_resources(
        data,
        fetched,
        patient_id=request.patient_id,
        today=call.today,
        policy=call.policy,
        draft_orders=draft_orders or (),
    )


ORDER_SIGN_PREFETCH = {"patient": PATIENT, "alp": ALP, "conditions": CONDITIONS, "medications": MEDICATIONS}
PATIENT_VIEW_PREFETCH = {**ORDER_SIGN_PREFETCH, "hppWorkup": HPP_WORKUP_RESULTS}

SERVICES: tuple[CdsService, ...] = (
    CdsService(
        id="low-alp-order-sign",
        hook="order-sign",
        title="ALP Guard: antiresorptive order with low ALP or hypophosphatasia",
        description=(
            "Warns when a bisphosphonate, denosumab or romosozumab is ordered for a patient with "
            "hypophosphatasia on record or persistently low alkaline phosphatase, where antiresorptives "
            "can worsen undiagnosed hypophosphatasia."
        ),
        prefetch=ORDER_SIGN_PREFETCH,
        evaluate=check_order_sign,
        required_context={"draftOrders": dict},
        usage_requirements=(
            "Needs the patient's ALP results, conditions and medication requests, from prefetch or from a "
            "FHIR server the service can reach."
        ),
    ),
    CdsService(
        id="low-alp-patient-view",
        hook="patient-view",
        title="ALP Guard: low ALP and hypophosphatasia check",
        description=(
            "When a chart is opened, flags an active antiresorptive despite hypophosphatasia or low alkaline "
            "phosphatase, and persistently low alkaline phosphatase that has not been evaluated."
        ),
        prefetch=PATIENT_VIEW_PREFETCH,
        evaluate=check_patient_view,
        usage_requirements=(
            "Needs the patient's ALP and HPP work-up results, conditions and medication requests, from "
            "prefetch or from a FHIR server the service can reach."
        ),
    ),
)

SERVICES_BY_ID: Mapping[str, CdsService] = {service.id: service for service in SERVICES}


def discovery_document() -> dict[str, Any]:
    """Return the discovery response listing every service."""
    return {"services": [service.discovery() for service in SERVICES]}
