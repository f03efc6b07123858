"""Validate FHIR R4 JSON with the fhir.resources R4B models: the only module that imports them.

R4B's Observation, MedicationRequest, Condition, Patient and Medication have the same elements as R4, so
R4 JSON validates unchanged. Real clients are sloppy (the CDS Hooks Sandbox sends `category` as an object
and date-times without a zone), so a failed validation is repaired in known, meaning-preserving ways and
tried again; whatever still fails is reported, never silently dropped.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation, ObservationReferenceRange
from fhir.resources.R4B.patient import Patient
from pydantic import BaseModel, ValidationError

MODELS: dict[str, Any] = {
    "Condition": Condition,
    "Encounter": Encounter,
    "Medication": Medication,
    "MedicationAdministration": MedicationAdministration,
    "MedicationDispense": MedicationDispense,
    "MedicationRequest": MedicationRequest,
    "MedicationStatement": MedicationStatement,
    "Observation": Observation,
    "Patient": Patient,
}

_MAX_REPAIR_ROUNDS = 3

# The elements the rules read, plus those R4 requires. Only these are validated: fhir.resources stays the parser
# of record for everything a rule reads, and a defect in an element no rule reads (a malformed `performer`, the
# Sandbox's `category` object) no longer costs the resource. Choice elements (value[x], effective[x]) are kept
# whole, so that two of a kind are still caught.
_READ_ELEMENTS: dict[str, frozenset[str]] = {
    "Observation": frozenset(
        {
            "resourceType",
            "id",
            "status",
            "code",
            "issued",
            "dataAbsentReason",
            "referenceRange",
            "encounter",
            "interpretation",
        }
    ),
    "MedicationRequest": frozenset(
        {
            "resourceType",
            "id",
            "status",
            "intent",
            "subject",
            "medicationCodeableConcept",
            "medicationReference",
            "contained",
            "authoredOn",
            "dispenseRequest",
            "dosageInstruction",
        }
    ),
    "MedicationStatement": frozenset(
        {
            "resourceType",
            "id",
            "status",
            "subject",
            "medicationCodeableConcept",
            "medicationReference",
            "contained",
            "dateAsserted",
            "dosage",
        }
    ),
    "MedicationDispense": frozenset(
        {
            "resourceType",
            "id",
            "status",
            "subject",
            "medicationCodeableConcept",
            "medicationReference",
            "contained",
            "whenHandedOver",
            "whenPrepared",
            "daysSupply",
            "dosageInstruction",
        }
    ),
    "MedicationAdministration": frozenset(
        {
            "resourceType",
            "id",
            "status",
            "subject",
            "medicationCodeableConcept",
            "medicationReference",
            "contained",
            "dosage",
        }
    ),
    "Condition": frozenset(
        {"resourceType", "id", "code", "verificationStatus", "clinicalStatus", "subject", "recordedDate"}
    ),
    "Encounter": frozenset({"resourceType", "id", "status", "class", "period", "subject"}),
    "Patient": frozenset({"resourceType", "id", "birthDate", "gender"}),
    "Medication": frozenset({"resourceType", "id", "code", "ingredient"}),
}
_CHOICE_PREFIXES: dict[str, tuple[str, ...]] = {
    "Observation": ("value", "effective"),
    "Condition": ("onset",),
    "MedicationStatement": ("effective",),
    "MedicationAdministration": ("effective",),
}
# Elements that recur verbatim across the resources of one request: one lab's LOINC code and reference range on each
# of its results, one status concept on each diagnosis. Within a request, each distinct one is validated once, by
# the same fhir.resources model the resource would use, and that validated element stands in for its copies.
# (element model, whether R4 makes the element a list)
_SHARED_ELEMENTS: dict[str, dict[str, tuple[type[BaseModel], bool]]] = {
    "Observation": {"code": (CodeableConcept, False), "referenceRange": (ObservationReferenceRange, True)},
    "Condition": {
        "code": (CodeableConcept, False),
        "verificationStatus": (CodeableConcept, False),
        "clinicalStatus": (CodeableConcept, False),
    },
    "MedicationRequest": {"medicationCodeableConcept": (CodeableConcept, False)},
    "MedicationStatement": {"medicationCodeableConcept": (CodeableConcept, False)},
    "MedicationDispense": {"medicationCodeableConcept": (CodeableConcept, False)},
    "MedicationAdministration": {"medicationCodeableConcept": (CodeableConcept, False)},
    "Medication": {"code": (CodeableConcept, False)},
}
_SHARED_KEY_LIMIT = 4096  # characters: a longer element is validated in place and not remembered
SharedElements = dict[tuple[str, str], Any]  # (element model, repr of the raw element) -> validated element
_ZONELESS_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


class UnreadableResource(ValueError):
    """A resource that failed validation even after repair; the message names no patient data."""


def validate(resource: dict, shared: SharedElements | None = None) -> Any:
    """Return the R4B model of `resource`, repairing known client mistakes; raise UnreadableResource."""
    # `shared` holds the elements already validated in this request: the same dict for every resource of a request.
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    model = MODELS.get(resource_type) if isinstance(resource_type, str) else None
    if model is None:
        raise UnreadableResource(f"unsupported resource type {resource_type!r:.40}")
    candidate = _read_elements(resource, resource_type)
    if shared is not None:
        _use_shared_elements(candidate, resource_type, shared)
    for _ in range(_MAX_REPAIR_ROUNDS + 1):
        try:
            return model.model_validate(candidate)
        except ValidationError as exc:
            errors = exc.errors()
            repaired = _repaired(candidate, errors, resource_type)
            if repaired is None:
                kinds = sorted({str(error["type"]) for error in errors})
                raise UnreadableResource(f"{resource_type} failed validation: {', '.join(kinds)}") from None
            candidate = repaired
    raise UnreadableResource(f"{resource_type} failed validation after repair")


def _read_elements(resource: dict, resource_type: str) -> dict:
    """Return the resource with only the elements the rules read (a shallow copy; the input is untouched)."""
    keep = _READ_ELEMENTS[resource_type]
    choices = _CHOICE_PREFIXES.get(resource_type, ())
    return {k: v for k, v in resource.items() if k in keep or k.startswith(choices)}


def _use_shared_elements(candidate: dict, resource_type: str, shared: SharedElements) -> None:
    """Replace recurring elements of `candidate` by their validated copies (in place; invalid ones stay raw)."""
    for name, (element_model, many) in _SHARED_ELEMENTS.get(resource_type, {}).items():
        value = candidate.get(name)
        # A shape R4 does not allow (an object for a list) stays raw, for the resource's own repair to handle.
        if many and isinstance(value, list):
            candidate[name] = [
                _shared_element(element_model, item, shared) if isinstance(item, dict) else item for item in value
            ]
        elif not many and isinstance(value, dict):
            candidate[name] = _shared_element(element_model, value, shared)


def _shared_element(element_model: type[BaseModel], value: dict, shared: SharedElements) -> Any:
    """Return the validated element for `value`, validating it on first sight; the raw dict when it is invalid."""
    text = repr(value)
    if len(text) > _SHARED_KEY_LIMIT:
        return value
    key = (element_model.__name__, text)
    found = shared.get(key)
    if found is None:
        try:
            found = element_model.model_validate(value)
        except ValidationError:
            found = value  # left for the resource's own validation, which reports and repairs it in context
        shared[key] = found
    return found


def _repaired(resource: dict, errors: list[dict], resource_type: str) -> dict | None:
    """Return a repaired copy of `resource` when every error has a known repair, else None."""
    fixed = copy.deepcopy(resource)
    for error in errors:
        if not _repair_one(fixed, tuple(error["loc"]), str(error["type"]), resource_type):
            return None
    return fixed


def _repair_one(resource: dict, loc: tuple, kind: str, resource_type: str) -> bool:
    """Apply the repair for one validation error in place; return False when there is none."""
    if not loc:
        return False
    parent = _walk(resource, loc[:-1])
    last = loc[-1]
    if kind == "list_type" and isinstance(parent, dict) and isinstance(parent.get(last), dict):
        parent[last] = [parent[last]]  # an object where R4 says 0..* (Sandbox `category`)
        return True
    if kind == "extra_forbidden" and isinstance(parent, dict) and last in parent:
        del parent[last]  # an element R4 does not define (R5 or vendor additions): ignore it
        return True
    if kind.endswith("missing") and resource_type == "MedicationRequest" and loc == ("intent",):
        parent["intent"] = "order"  # the Sandbox omits it; no rule reads the intent
        return True
    if kind.endswith("missing") and resource_type == "Encounter" and loc == ("class",):
        return False  # without its class an Encounter says nothing the rules use
    value = parent.get(last) if isinstance(parent, dict) else None
    if kind == "value_error" and isinstance(value, str) and _ZONELESS_DATETIME.match(value):
        parent[last] = value + "Z"  # keeps the calendar date, which is all the rules use
        return True
    return False


def _walk(node: Any, path: tuple) -> Any:
    """Return the element at `path` inside nested dicts and lists, or None."""
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return None
    return node
