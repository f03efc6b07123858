"""The CDS services: each is its prefetch templates, a gate and a pure evaluate; discovery is derived from them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cds_service.hook_request import HookRequest
from hooks.evidence import ALP_LABS, LIVER_LABS, SAFETY_LABS, WORKUP_LABS, Evidence
from hooks.findings import Finding, Topic
from hooks.orders import antiresorptive_drafts, evaluate_antiresorptive_orders
from hooks.patient_view import evaluate_patient_view
from hooks.policy import Policy
from hooks.records import MedicationOrder
from hooks.valuesets import ValueSet

# Which of the hook's orders to check; None: nothing to check, so nothing is fetched and no card is given.
Gate = Callable[[HookRequest, list[MedicationOrder]], list[MedicationOrder] | None]
# The rule: the orders the gate chose and the patient's evidence give the findings. Pure: no I/O.
Evaluate = Callable[[list[MedicationOrder], Evidence, date, Policy], list[Finding]]


def _codes(system: str, codes: frozenset[str]) -> str:
    """Return a FHIR token list `system|a,system|b` in a stable order."""
    return ",".join(f"{system}|{code}" for code in sorted(codes))


def _observations(*value_sets: ValueSet, count: int) -> str:
    """Return a search for the patient's Observations with any of the value sets' codes, newest first."""
    codes = ",".join(_codes(v.system, v.codes) for v in value_sets)
    return f"Observation?patient={{{{context.patientId}}}}&code={codes}&_sort=-date&_count={count}"


def _with_medications(resource_type: str) -> str:
    """Return a search for the patient's resources of a medication type with the Medications they reference."""
    return f"{resource_type}?patient={{{{context.patientId}}}}&_include={resource_type}:medication&_count=100"


PATIENT = "Patient/{{context.patientId}}"
ALP = _observations(*ALP_LABS, count=100)
# Every Condition: a locally coded hypophosphatasia, a secondary cause of low ALP or a chronic liver disease can carry
# any code, so the query cannot filter by code.
CONDITIONS = "Condition?patient={{context.patientId}}&_count=100"
# Each medication search brings the Medications its resources reference (`_include`), in the same round trip.
MEDICATIONS = _with_medications("MedicationRequest")
# Therapy recorded elsewhere than as an order: outside prescriptions, pharmacy dispenses, doses given in clinic.
MEDICATION_STATEMENTS = _with_medications("MedicationStatement")
MEDICATION_DISPENSES = _with_medications("MedicationDispense")
MEDICATION_ADMINISTRATIONS = _with_medications("MedicationAdministration")
ENCOUNTERS = "Encounter?patient={{context.patientId}}&_sort=-date&_count=50"
HPP_WORKUP_RESULTS = _observations(*WORKUP_LABS, count=50)
SAFETY_LAB_RESULTS = _observations(*SAFETY_LABS, count=100)  # renal, minerals, creatinine and weight together
LIVER_PANEL = _observations(*LIVER_LABS, count=50)


@dataclass(frozen=True)
class CdsService:
    """A CDS service: what discovery says about it, what it reads, which calls it checks and its rule."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str]
    gate: Gate
    evaluate: Evaluate
    orders: str | None = None  # the context member holding the orders the hook is about (draftOrders, medications)
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


def _drafted_antiresorptives(request: HookRequest, orders: list[MedicationOrder]) -> list[MedicationOrder] | None:
    """Gate of the order hooks: the antiresorptive orders among those drafted or refilled, or None."""
    return antiresorptive_drafts(orders) or None


def _selected_antiresorptives(request: HookRequest, orders: list[MedicationOrder]) -> list[MedicationOrder] | None:
    """Gate of order-select: only the antiresorptive orders the clinician has just selected, or None."""
    selected = set(request.context["selections"])
    return [order for order in antiresorptive_drafts(orders) if order.reference in selected] or None


def _always(request: HookRequest, orders: list[MedicationOrder]) -> list[MedicationOrder] | None:
    """Gate of patient-view: every chart opened is checked; there are no orders."""
    return []


def _patient_view(orders: list[MedicationOrder], evidence: Evidence, today: date, policy: Policy) -> list[Finding]:
    """Flag an active antiresorptive despite HPP or low ALP, persistently low ALP not worked up, or Wilson's pattern."""
    return evaluate_patient_view(evidence, today, policy)


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
        gate=_drafted_antiresorptives,
        evaluate=evaluate_antiresorptive_orders,
        orders="draftOrders",
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
        gate=_selected_antiresorptives,
        evaluate=evaluate_antiresorptive_orders,
        orders="draftOrders",
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
        gate=_drafted_antiresorptives,
        evaluate=evaluate_antiresorptive_orders,
        orders="medications",
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
        gate=_always,
        evaluate=_patient_view,
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
