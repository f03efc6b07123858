"""The reference read: fhir.resources validation with repair, then a mapper over its models (the former reader).

The service no longer reads with it (hooks/extract.py reads each resource once, in one pass); the differential test
(tests/test_extract_reference.py) holds the two side by side, so that fhir.resources stays the arbiter of what is
valid FHIR and of what the rules are given.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
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

from hooks.records import (
    AgeBound,
    Code,
    ConditionRecord,
    EncounterRecord,
    LabResult,
    MedicationOrder,
    PatientFacts,
    Quantity,
    ReferenceRange,
    Unreadable,
)

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


# The mapper over the validated models.

_LOINC = "http://loinc.org"
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_BIRTH_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_AGE_UNITS = {
    "a": "a",
    "year": "a",
    "yr": "a",
    "mo": "mo",
    "month": "mo",
    "wk": "wk",
    "week": "wk",
    "d": "d",
    "day": "d",
}
_GENDERS = frozenset({"male", "female", "other", "unknown"})
# Zero-width characters found inside real display strings ("[Enzymatic activity/\u200bvolume]").
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def normalise_text(text: str) -> str:
    """Return `text` NFKC-normalised, without invisible characters, case-folded and space-collapsed."""
    cleaned = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    return " ".join(cleaned.split())


def read_patient(resource: Mapping | None, patient_id: str) -> PatientFacts:
    """Return the patient's birth date and sex; read leniently when the resource is otherwise invalid."""
    if not resource:
        return PatientFacts(id=patient_id)
    try:
        patient = validate(dict(resource))
    except UnreadableResource:
        # A sloppy telecom must not turn a child into an adult: the two fields the rule needs are simple.
        birth = resource.get("birthDate")
        gender = resource.get("gender")
        birth_date = _earliest_date(birth) if isinstance(birth, str) and _BIRTH_DATE.match(birth) else None
        # (A list here raised TypeError in the former reader; both now read it as no sex.)
        return PatientFacts(patient_id, birth_date, gender if isinstance(gender, str) and gender in _GENDERS else None)
    return PatientFacts(id=patient_id, birth_date=_earliest_date(patient.birthDate), sex=patient.gender)


def read_lab_results(
    resources: Iterable[Mapping], loincs: frozenset[str], *, shared: SharedElements | None = None
) -> tuple[list[LabResult], list[Unreadable]]:
    """Return the Observations coded with one of `loincs`, and those of them that could not be read."""
    results: list[LabResult] = []
    unreadable: list[Unreadable] = []
    for resource in resources:
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            # An entry too broken to tell what it is may have been one of these results.
            unreadable.append(Unreadable("Observation", None, "the entry is not a FHIR resource"))
            continue
        if resource.get("resourceType") != "Observation":
            continue
        codes = raw_codes(resource.get("code"))
        loinc = next((c.code for c in codes if c.system == _LOINC and c.code in loincs), None)
        if loinc is None:
            continue  # only the results a rule reads are validated: the rest is not our evidence
        try:
            observation = validate(dict(resource), shared)
        except UnreadableResource as exc:
            unreadable.append(
                Unreadable(
                    "Observation",
                    _raw_id(resource),
                    str(exc),
                    codes,
                    effective=_raw_effective(resource),
                    status=_raw_text(resource.get("status")),
                )
            )
            continue
        results.append(_lab_result(observation, loinc))
    return results, unreadable


def _lab_result(observation: Any, loinc: str) -> LabResult:
    """Return the LabResult of a validated Observation."""
    effective = (
        _date_of(observation.effectiveDateTime)
        or _date_of(observation.effectivePeriod.start if observation.effectivePeriod else None)
        or _date_of(observation.issued)
    )
    quantity = _quantity(observation.valueQuantity)
    ranges = tuple(_reference_range(r) for r in observation.referenceRange or ())
    start = observation.effectivePeriod.start if observation.effectivePeriod else None
    return LabResult(
        id=observation.id,
        loinc=loinc,
        status=str(observation.status),
        effective=effective,
        quantity=quantity,
        reference_ranges=ranges,
        has_data_absent_reason=observation.dataAbsentReason is not None,
        # Not `issued`: that is when the report was released, not when the specimen was drawn.
        instant=_instant_of(observation.effectiveDateTime) or _instant_of(start),
        encounter=_reference_of(observation.encounter),
        coded_value=_concept(observation.valueCodeableConcept)[0],
        text_value=observation.valueString
        or (observation.valueCodeableConcept.text if observation.valueCodeableConcept else None),
        interpretation=tuple(
            code.code for concept in observation.interpretation or () for code in _concept(concept)[0]
        ),
    )


MEDICATION_SOURCES = ("MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration")


def read_medication_requests(
    resources: Iterable[Mapping], medications: Mapping[str, Mapping], *, shared: SharedElements | None = None
) -> tuple[list[MedicationOrder], list[Unreadable]]:
    """Return MedicationRequests with their medication's codes and names resolved."""
    return read_medication_uses(resources, medications, shared=shared, kinds=("MedicationRequest",))


def read_medication_uses(
    resources: Iterable[Mapping],
    medications: Mapping[str, Mapping],
    *,
    shared: SharedElements | None = None,
    kinds: tuple[str, ...] = MEDICATION_SOURCES,
) -> tuple[list[MedicationOrder], list[Unreadable]]:
    """Return requests, statements, dispenses and administrations with their medication resolved."""
    orders: list[MedicationOrder] = []
    unreadable: list[Unreadable] = []
    for resource in resources:
        kind = resource.get("resourceType") if isinstance(resource, Mapping) else None
        if kind not in kinds:
            continue
        try:
            model = validate(dict(resource), shared)
        except UnreadableResource as exc:
            unreadable.append(Unreadable(str(kind), _raw_id(resource), str(exc)))
            # Still recognise the drug from what is legible: a missed warning is the worse error.
            orders.append(legible_order(resource, medications))
            continue
        codes, names = _medication_identity(model, resource, medications, shared)
        orders.append(_medication_use(str(kind), model, codes, names))
    return orders, unreadable


def _medication_use(kind: str, model: Any, codes: tuple[Code, ...], names: tuple[str, ...]) -> MedicationOrder:
    """Return the MedicationOrder record of one validated medication resource of any of the four kinds."""
    status = str(model.status) if model.status else None
    if kind == "MedicationRequest":
        dispense = model.dispenseRequest
        return MedicationOrder(
            model.id,
            status,
            codes,
            names,
            authored=_date_of(model.authoredOn),
            ends=_date_of(dispense.validityPeriod.end) if dispense and dispense.validityPeriod else None,
            supply_days=_days(dispense.expectedSupplyDuration) if dispense else None,
            dose=_first_dose(model.dosageInstruction),
        )
    if kind == "MedicationStatement":
        period = model.effectivePeriod
        started = _date_of(model.effectiveDateTime) or _date_of(period.start if period else None)
        return MedicationOrder(
            model.id,
            status,
            codes,
            names,
            authored=started or _date_of(model.dateAsserted),
            ends=_date_of(period.end if period else None),
            source=kind,
            dose=_first_dose(model.dosage),
        )
    if kind == "MedicationDispense":
        supply = model.daysSupply
        days = (
            _days(supply)
            if supply is not None and (supply.code or supply.unit)
            else (int(Decimal(supply.value)) if supply is not None and supply.value is not None else None)
        )
        return MedicationOrder(
            model.id,
            status,
            codes,
            names,
            authored=_date_of(model.whenHandedOver) or _date_of(model.whenPrepared),
            supply_days=days,
            source=kind,
            dose=_first_dose(model.dosageInstruction),
        )
    period = model.effectivePeriod
    dosage = model.dosage
    dose = _quantity(dosage.dose) if dosage is not None and dosage.dose is not None else None
    return MedicationOrder(
        model.id,
        status,
        codes,
        names,
        authored=_date_of(model.effectiveDateTime) or _date_of(period.start if period else None),
        source=kind,
        dose=dose,
    )


def _first_dose(dosages: Any) -> Quantity | None:
    """Return the first dose quantity of a list of Dosage models, when one is stated."""
    for dosage in dosages or ():
        for dose_and_rate in dosage.doseAndRate or ():
            if dose_and_rate.doseQuantity is not None:
                return _quantity(dose_and_rate.doseQuantity)
    return None


def read_encounters(resources: Iterable[Mapping], *, shared: SharedElements | None = None) -> list[EncounterRecord]:
    """Return the Encounters that could be read with their class, status and period."""
    encounters = []
    for resource in resources:
        if not isinstance(resource, Mapping) or resource.get("resourceType") != "Encounter":
            continue
        try:
            encounter = validate(dict(resource), shared)
        except UnreadableResource:
            continue  # an Encounter only ever softens a finding: one that cannot be read softens nothing
        coding = encounter.class_fhir
        period = encounter.period
        encounters.append(
            EncounterRecord(
                encounter.id,
                str(coding.code) if coding is not None and coding.code else None,
                str(encounter.status) if encounter.status else None,
                _date_of(period.start if period else None),
                _date_of(period.end if period else None),
            )
        )
    return encounters


def _reference_of(reference: Any) -> str | None:
    """Return the relative reference text of a Reference model."""
    text = reference.reference if reference is not None else None
    return str(text) if text else None


def unresolved_medication_references(resources: Iterable[Mapping], medications: Mapping[str, Mapping]) -> set[str]:
    """Return the `Medication/<id>` references that neither `contained` nor `medications` can resolve."""
    missing: set[str] = set()
    for resource in resources:
        if not isinstance(resource, Mapping) or resource.get("resourceType") not in MEDICATION_SOURCES:
            continue
        reference = _medication_reference(resource)
        if reference and not reference.startswith("#") and reference not in medications:
            missing.add(reference)
    return missing


def index_medications(entries: Iterable[Mapping]) -> dict[str, Mapping]:
    """Return Medication resources keyed by `Medication/<id>` and by their Bundle fullUrl."""
    index: dict[str, Mapping] = {}
    for entry in entries:
        resource = entry.get("resource", entry) if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping) or resource.get("resourceType") != "Medication":
            continue
        if isinstance(resource.get("id"), str):
            index[f"Medication/{resource['id']}"] = resource
        if isinstance(entry.get("fullUrl"), str):
            index[entry["fullUrl"]] = resource
    return index


def read_conditions(
    resources: Iterable[Mapping], *, shared: SharedElements | None = None
) -> tuple[list[ConditionRecord], list[Unreadable]]:
    """Return Conditions with their codes, names and verification status."""
    conditions: list[ConditionRecord] = []
    unreadable: list[Unreadable] = []
    for resource in resources:
        if not isinstance(resource, Mapping) or resource.get("resourceType") != "Condition":
            continue
        try:
            condition = validate(dict(resource), shared)
        except UnreadableResource as exc:
            verification = raw_codes(resource.get("verificationStatus"))
            unreadable.append(
                Unreadable(
                    "Condition",
                    _raw_id(resource),
                    str(exc),
                    raw_codes(resource.get("code")),
                    status=verification[0].code if verification else None,
                )
            )
            continue
        codes, names = _concept(condition.code)
        verification = _first_code(condition.verificationStatus)
        period = condition.onsetPeriod
        onset = _date_of(condition.onsetDateTime) or _date_of(period.start if period else None)
        conditions.append(
            ConditionRecord(
                condition.id,
                codes,
                names,
                verification,
                _first_code(condition.clinicalStatus),
                onset,
                _date_of(condition.recordedDate),
            )
        )
    return conditions, unreadable


def legible_order(raw: Mapping, medications: Mapping[str, Mapping]) -> MedicationOrder:
    """Return the order as far as a MedicationRequest that failed validation can be read."""
    concept = raw.get("medicationCodeableConcept")
    reference = raw.get("medicationReference")
    target = _resolve(_medication_reference(raw), raw, medications)
    display = reference.get("display") if isinstance(reference, Mapping) else None
    codes = raw_codes(concept) + (raw_codes(target.get("code")) if target else ())
    names = _raw_names(concept) + (_raw_names(target.get("code")) if target else ())
    names += (display,) if isinstance(display, str) and display else ()
    status = raw.get("status")
    kind = raw.get("resourceType")
    return MedicationOrder(
        _raw_id(raw),
        status if isinstance(status, str) else None,
        codes,
        names,
        source=kind if kind in MEDICATION_SOURCES else "MedicationRequest",
    )


def _medication_identity(
    request: Any, raw: Mapping, medications: Mapping[str, Mapping], shared: SharedElements | None
) -> tuple[tuple[Code, ...], tuple[str, ...]]:
    """Return the codes and names of the medication a MedicationRequest asks for."""
    if request.medicationCodeableConcept is not None:
        return _concept(request.medicationCodeableConcept)
    reference = request.medicationReference
    names = (reference.display,) if reference is not None and reference.display else ()
    target = _resolve(reference.reference if reference else None, raw, medications)
    if target is None:
        return (), names
    try:
        medication = validate(dict(target), shared)
    except UnreadableResource:
        # Keep whatever codes are legible: missing a drug is worse than reading a sloppy resource.
        return raw_codes(target.get("code")), names + _raw_names(target.get("code"))
    codes, more_names = _concept(medication.code)
    return codes, names + more_names


def _resolve(reference: str | None, raw: Mapping, medications: Mapping[str, Mapping]) -> Mapping | None:
    """Return the Medication a reference points to: contained, in the same Bundle, or fetched."""
    if not reference:
        return None
    if reference.startswith("#"):
        return next(
            # (Anything but a list here raised TypeError in the former reader; both now resolve nothing from it.)
            (
                c
                for c in (raw["contained"] if isinstance(raw.get("contained"), list) else ())
                if isinstance(c, Mapping) and c.get("id") == reference[1:]
            ),
            None,
        )
    return medications.get(reference)


def _medication_reference(raw: Mapping) -> str | None:
    """Return the raw medicationReference.reference of a MedicationRequest dict."""
    reference = raw.get("medicationReference")
    value = reference.get("reference") if isinstance(reference, Mapping) else None
    return value if isinstance(value, str) else None


def _concept(concept: Any) -> tuple[tuple[Code, ...], tuple[str, ...]]:
    """Return the codings and human names of a CodeableConcept model."""
    if concept is None:
        return (), ()
    codes = tuple(Code(str(c.system or ""), str(c.code), c.display) for c in concept.coding or () if c.code is not None)
    names = tuple(n for n in [concept.text, *(c.display for c in concept.coding or ())] if n)
    return codes, names


def raw_codes(concept: Any) -> tuple[Code, ...]:
    """Return the codings of a raw CodeableConcept dict, skipping anything malformed."""
    if not isinstance(concept, Mapping):
        return ()
    codings = concept.get("coding")
    return (
        tuple(
            Code(str(c.get("system") or ""), c["code"], c.get("display") if isinstance(c.get("display"), str) else None)
            for c in codings
            if isinstance(c, Mapping) and isinstance(c.get("code"), str)
        )
        if isinstance(codings, list)
        else ()
    )


def _raw_names(concept: Any) -> tuple[str, ...]:
    """Return the text and displays of a raw CodeableConcept dict."""
    if not isinstance(concept, Mapping):
        return ()
    text = concept.get("text")
    displays = tuple(c.display for c in raw_codes(concept) if c.display)
    return ((text,) if isinstance(text, str) and text else ()) + displays


def _raw_id(resource: Mapping) -> str | None:
    """Return the resource id when it is a string."""
    return _raw_text(resource.get("id"))


def _raw_text(value: Any) -> str | None:
    """Return a raw JSON value when it is a string."""
    return value if isinstance(value, str) else None


def _raw_effective(resource: Mapping) -> date | None:
    """Return the specimen date of a raw Observation dict that failed validation, when legible."""
    period = resource.get("effectivePeriod")
    for text in (
        resource.get("effectiveDateTime"),
        period.get("start") if isinstance(period, Mapping) else None,
        resource.get("issued"),
    ):
        if isinstance(text, str):
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                continue
    return None


def _first_code(concept: Any) -> str | None:
    """Return the first code of a CodeableConcept model."""
    if concept is None:
        return None
    return next((str(c.code) for c in concept.coding or () if c.code), None)


def _quantity(value: Any) -> Quantity | None:
    """Return a Quantity from a FHIR Quantity model, preferring the UCUM code over the display unit."""
    if value is None or value.value is None:
        return None
    return Quantity(Decimal(value.value), value.code or value.unit, value.comparator)


def _reference_range(model: Any) -> ReferenceRange:
    """Return a ReferenceRange from its FHIR model, with age bounds in years."""
    age = model.age
    applies = tuple(code for concept in model.appliesTo or () for code in _concept(concept)[0])
    return ReferenceRange(
        low=_quantity(model.low),
        high=_quantity(model.high),
        age_low=_age_bound(age.low if age else None),
        age_high=_age_bound(age.high if age else None),
        applies_to=tuple(code.code for code in applies),
    )


def _age_bound(age: Any) -> AgeBound | None:
    """Return an age limit with its unit (years when none is given), or None when absent or unknown."""
    if age is None or age.value is None:
        return None
    unit = _AGE_UNITS.get(str(age.code or age.unit or "a").strip().casefold().rstrip("s"))
    return None if unit is None else AgeBound(Decimal(age.value), unit)


def _date_of(value: Any) -> date | None:
    """Return the calendar date of a FHIR date/dateTime/instant; year-month counts as its first day."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = _YEAR_MONTH.match(value)
        if match:
            return date(int(match[1]), int(match[2]), 1)
    return None  # a year alone cannot be placed in a month


def _instant_of(value: Any) -> datetime | None:
    """Return a time-zone aware date-time, or None for dates without a time of day."""
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def _days(duration: Any) -> int | None:
    """Return a Duration in whole days, when its unit is days, weeks or months."""
    if duration is None or duration.value is None:
        return None
    unit = str(duration.code or duration.unit or "").strip().casefold().rstrip("s")
    per_unit = {"d": 1, "day": 1, "wk": 7, "week": 7, "mo": 30, "month": 30}.get(unit)
    return None if per_unit is None else int(Decimal(duration.value) * per_unit)


def _earliest_date(value: Any) -> date | None:
    """Return a birth date; a partial one counts as its earliest day, which makes the patient older."""
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}", value):
            return date(int(value), 1, 1)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return None
    return _date_of(value)
