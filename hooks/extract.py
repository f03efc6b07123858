"""Read FHIR resources (JSON dicts) once each, tolerantly, into the small records the rules read.

One pass per resource checks the elements the rules read (hooks/fhir_read.py: fhir.resources' own checks, with
the known repairs of sloppy clients) and converts them. A resource that fails is never guessed at: Observations and
Conditions are reported as Unreadable with whatever codes and date are legible, and a medication is still
recognised from its legible codes, since a missed warning is the worse error. Elements no rule reads are not
checked: a defect there does not cost the resource.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hooks.fhir_read import (
    Concept,
    FhirDateTime,
    FhirQuantity,
    UnreadableResource,
    boolean,
    checked_concept,
    choice,
    code,
    coding,
    concept,
    concept_codes,
    date_time,
    decimal,
    fhir_date,
    fhir_id,
    instant,
    integer,
    invalid,
    items,
    obj,
    period,
    present,
    quantity,
    range_,
    ratio,
    reference,
    required,
    string,
)
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

_LOINC = "http://loinc.org"
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_BIRTH_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?")
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
_OBSERVATION_VALUES = (
    "Quantity",
    "CodeableConcept",
    "String",
    "Boolean",
    "Integer",
    "Range",
    "Ratio",
    "SampledData",
    "Time",
    "DateTime",
    "Period",
)
Memo = dict[tuple[str, str], Any]
MEDICATION_SOURCES = ("MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration")


@functools.lru_cache(maxsize=4096)  # the same drug and lab names recur on every call; the size bounds memory
def normalise_text(text: str) -> str:
    """Return `text` NFKC-normalised, without invisible characters, case-folded and space-collapsed."""
    cleaned = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    return " ".join(cleaned.split())


def _checked(resource: Mapping, kind: str, read: Callable[[Mapping], Any]) -> Any:
    """Return `read(resource)`, naming the resource type in the reason when it is not valid where read."""
    try:
        fhir_id(resource.get("id"), "id")
        return read(resource)
    except UnreadableResource as exc:
        raise UnreadableResource(f"{kind} failed validation: {exc}") from None


def read_patient(resource: Mapping | None, patient_id: str) -> PatientFacts:
    """Return the patient's birth date and sex; read leniently when the resource is otherwise invalid."""
    if not resource:
        return PatientFacts(id=patient_id)
    try:
        birth, gender = _checked(
            resource,
            "Patient",
            lambda r: (fhir_date(r.get("birthDate"), "birthDate"), code(r.get("gender"), "gender")),
        )
    except UnreadableResource:
        # A sloppy telecom must not turn a child into an adult: the two fields the rule needs are simple.
        raw_birth = resource.get("birthDate")
        raw_gender = resource.get("gender")
        birth_date = _earliest_date(raw_birth) if isinstance(raw_birth, str) and _BIRTH_DATE.match(raw_birth) else None
        sex = raw_gender if isinstance(raw_gender, str) and raw_gender in _GENDERS else None
        return PatientFacts(patient_id, birth_date, sex)
    return PatientFacts(id=patient_id, birth_date=_earliest_date(birth), sex=gender)


def read_lab_results(resources: Iterable[Mapping], loincs: frozenset[str]) -> tuple[list[LabResult], list[Unreadable]]:
    """Return the Observations coded with one of `loincs`, and those of them that could not be read."""
    results: list[LabResult] = []
    unreadable: list[Unreadable] = []
    memo: Memo = {}  # one lab's code, ranges and interpretation recur on each of its results: read each once
    for resource in resources:
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            # An entry too broken to tell what it is may have been one of these results.
            unreadable.append(Unreadable("Observation", None, "the entry is not a FHIR resource"))
            continue
        if resource.get("resourceType") != "Observation":
            continue
        loinc = _loinc(resource.get("code"), loincs)
        if loinc is None:
            continue  # only the results a rule reads are read: the rest is not our evidence
        try:
            read = functools.partial(_lab_result, loinc=loinc, memo=memo)
            results.append(_checked(resource, "Observation", read))
        except UnreadableResource as exc:
            unreadable.append(
                Unreadable(
                    "Observation",
                    _raw_id(resource),
                    str(exc),
                    raw_codes(resource.get("code")),
                    effective=_raw_effective(resource),
                    status=_raw_text(resource.get("status")),
                )
            )
    return results, unreadable


def _loinc(concept_: Any, loincs: frozenset[str]) -> str | None:
    """Return the first of `loincs` a raw CodeableConcept dict codes, as far as it is legible."""
    codings = concept_.get("coding") if isinstance(concept_, dict) else None
    for c in codings if isinstance(codings, list) else ():
        code_ = c.get("code") if isinstance(c, dict) else None
        if isinstance(code_, str) and code_ in loincs and c.get("system") == _LOINC:
            return code_
    return None


def _memoised(memo: Memo, read: Callable[[Any, str], Any], raw: Any, path: str) -> Any:
    """Return `read(raw, path)`, computed once per equal JSON value (`read` is pure; failures are not kept)."""
    if raw is None:
        return read(raw, path)
    key = (path, repr(raw))  # repr tells 1, 1.0, "1" and True apart, as JSON does
    if key not in memo:
        memo[key] = read(raw, path)
    return memo[key]


def _reference_ranges(value: Any, path: str) -> tuple[ReferenceRange, ...]:
    """Return each Observation.referenceRange entry."""
    return tuple(_reference_range(entry, path) for entry in items(value, path))


def _lab_result(r: Mapping, *, loinc: str, memo: Memo) -> LabResult:
    """Return the LabResult of one Observation, or raise UnreadableResource."""
    status = str(code(required(r.get("status"), "status"), "status"))
    present(r, "code")
    _memoised(memo, checked_concept, r.get("code"), "code")  # its codes were read before
    issued = instant(r.get("issued"), "issued")
    absent = obj(r.get("dataAbsentReason"), "dataAbsentReason")
    checked_concept(absent, "dataAbsentReason")
    ranges = _memoised(memo, _reference_ranges, r.get("referenceRange"), "referenceRange")
    encounter = reference(r.get("encounter"), "encounter")
    interpretation = _memoised(memo, concept_codes, r.get("interpretation"), "interpretation")
    value_kind = choice(r, "value", _OBSERVATION_VALUES)
    value_quantity = quantity(r.get("valueQuantity"), "valueQuantity")
    value_concept = concept(r.get("valueCodeableConcept"), "valueCodeableConcept")
    value_string = string(r.get("valueString"), "valueString")
    if value_kind not in (None, "Quantity", "CodeableConcept", "String"):
        _check_other_value(r, value_kind)
    effective_kind = choice(r, "effective", ("DateTime", "Period", "Timing", "Instant"))
    effective_date_time = date_time(r.get("effectiveDateTime"), "effectiveDateTime")
    start, _ = period(r.get("effectivePeriod"), "effectivePeriod")
    if effective_kind == "Timing":
        _timing(r["effectiveTiming"], "effectiveTiming")
    elif effective_kind == "Instant":
        instant(r["effectiveInstant"], "effectiveInstant")
    value_text = r["valueCodeableConcept"].get("text") if value_kind == "CodeableConcept" else None
    return LabResult(
        id=r.get("id"),
        loinc=loinc,
        status=status,
        effective=_date_of(effective_date_time) or _date_of(start) or _date_of(issued),
        quantity=_quantity(value_quantity),
        reference_ranges=ranges,
        has_data_absent_reason=absent is not None,
        # Not `issued`: that is when the report was released, not when the specimen was drawn.
        instant=_instant_of(effective_date_time) or _instant_of(start),
        encounter=encounter.get("reference") if encounter is not None else None,
        coded_value=value_concept.codes,
        text_value=value_string or value_text,
        interpretation=interpretation,
    )


def _check_other_value(r: Mapping, kind: str) -> None:
    """Check a value[x] of a type no rule reads, as fhir.resources would."""
    path = "value" + kind
    value = r[path]
    if kind == "Boolean":
        boolean(value, path)
    elif kind == "Integer":
        integer(value, path)
    elif kind == "Range":
        range_(value, path)
    elif kind == "Ratio":
        ratio(value, path)
    elif kind == "Period":
        period(value, path)
    elif kind == "DateTime":
        date_time(value, path)
    elif kind == "Time":
        if not isinstance(value, str) or not _TIME.fullmatch(value):
            raise invalid(path, "not a time")
    elif kind == "SampledData":
        sampled = obj(value, path) or {}
        quantity(required(sampled.get("origin"), path + ".origin"), path + ".origin")
        decimal(required(sampled.get("period"), path + ".period"), path + ".period")
        integer(required(sampled.get("dimensions"), path + ".dimensions"), path + ".dimensions", minimum=1)


def _timing(value: Any, path: str) -> None:
    """Check the parts of a Timing that are simple to state: its events and code."""
    timing = obj(value, path) or {}
    for event in items(timing.get("event"), path + ".event"):
        date_time(event, path + ".event")
    obj(timing.get("repeat"), path + ".repeat")
    checked_concept(timing.get("code"), path + ".code")


def _reference_range(value: Any, path: str) -> ReferenceRange:
    """Return one Observation.referenceRange entry, with its age bounds."""
    entry = obj(value, path) or {}
    low = quantity(entry.get("low"), path + ".low")
    high = quantity(entry.get("high"), path + ".high")
    checked_concept(entry.get("type"), path + ".type")
    applies = concept_codes(entry.get("appliesTo"), path + ".appliesTo")
    age_low, age_high = range_(entry.get("age"), path + ".age")
    string(entry.get("text"), path + ".text")
    return ReferenceRange(
        low=_quantity(low),
        high=_quantity(high),
        age_low=_age_bound(age_low),
        age_high=_age_bound(age_high),
        applies_to=applies,
    )


def read_medication_requests(
    resources: Iterable[Mapping], medications: Mapping[str, Mapping]
) -> tuple[list[MedicationOrder], list[Unreadable]]:
    """Return MedicationRequests with their medication's codes and names resolved."""
    return read_medication_uses(resources, medications, kinds=("MedicationRequest",))


def read_medication_uses(
    resources: Iterable[Mapping],
    medications: Mapping[str, Mapping],
    *,
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
            read = functools.partial(_medication_use, str(kind), medications=medications)
            orders.append(_checked(resource, str(kind), read))
        except UnreadableResource as exc:
            unreadable.append(Unreadable(str(kind), _raw_id(resource), str(exc)))
            # Still recognise the drug from what is legible: a missed warning is the worse error.
            orders.append(legible_order(resource, medications))
    return orders, unreadable


def _medication_use(kind: str, r: Mapping, *, medications: Mapping[str, Mapping]) -> MedicationOrder:
    """Return the MedicationOrder of one medication resource of any of the four kinds, or raise."""
    status = code(required(r.get("status"), "status"), "status")
    if kind != "MedicationDispense":
        present(r, "subject")
    reference(r.get("subject"), "subject")
    if kind == "MedicationRequest":
        code(r.get("intent"), "intent")  # the Sandbox omits it; no rule reads it
    choice(r, "medication", ("CodeableConcept", "Reference"), required=True)
    for contained in items(r.get("contained"), "contained"):
        if (obj(contained, "contained") or {}).get("resourceType") == "Medication":
            fhir_id(contained.get("id"), "contained.id")
            _medication(contained)  # the other kinds no rule reads
    medication_concept = concept(r.get("medicationCodeableConcept"), "medicationCodeableConcept")
    medication_reference = reference(r.get("medicationReference"), "medicationReference")
    if kind == "MedicationRequest":
        authored = date_time(r.get("authoredOn"), "authoredOn")
        dispense = obj(r.get("dispenseRequest"), "dispenseRequest")
        _, ends = period(dispense.get("validityPeriod"), "dispenseRequest.validityPeriod") if dispense else (None, None)
        supply = (
            quantity(dispense.get("expectedSupplyDuration"), "dispenseRequest.expectedSupplyDuration")
            if dispense
            else None
        )
        if dispense:
            _dispense_request(dispense)
        dose = _first_dose(r.get("dosageInstruction"), "dosageInstruction")
        order = MedicationOrder(
            r.get("id"), status, (), (), _date_of(authored), _date_of(ends), _days(supply), dose=dose
        )
    elif kind == "MedicationStatement":
        choice(r, "effective", ("DateTime", "Period"))
        started = date_time(r.get("effectiveDateTime"), "effectiveDateTime")
        start, end = period(r.get("effectivePeriod"), "effectivePeriod")
        asserted = date_time(r.get("dateAsserted"), "dateAsserted")
        dose = _first_dose(r.get("dosage"), "dosage")
        order = MedicationOrder(
            r.get("id"),
            status,
            (),
            (),
            authored=_date_of(started) or _date_of(start) or _date_of(asserted),
            ends=_date_of(end),
            source=kind,
            dose=dose,
        )
    elif kind == "MedicationDispense":
        supply = quantity(r.get("daysSupply"), "daysSupply")
        handed = date_time(r.get("whenHandedOver"), "whenHandedOver")
        prepared = date_time(r.get("whenPrepared"), "whenPrepared")
        dose = _first_dose(r.get("dosageInstruction"), "dosageInstruction")
        days = (
            _days(supply)
            if supply is not None and (supply.code or supply.unit)
            else (int(supply.value) if supply is not None and supply.value is not None else None)
        )
        order = MedicationOrder(
            r.get("id"),
            status,
            (),
            (),
            authored=_date_of(handed) or _date_of(prepared),
            supply_days=days,
            source=kind,
            dose=dose,
        )
    else:
        choice(r, "effective", ("DateTime", "Period"), required=True)
        started = date_time(r.get("effectiveDateTime"), "effectiveDateTime")
        start, _ = period(r.get("effectivePeriod"), "effectivePeriod")
        dosage = obj(r.get("dosage"), "dosage")
        dose_quantity = quantity(dosage.get("dose"), "dosage.dose") if dosage is not None else None
        if dosage is not None:
            _dosage_parts(dosage, "dosage")
        order = MedicationOrder(
            r.get("id"),
            status,
            (),
            (),
            authored=_date_of(started) or _date_of(start),
            source=kind,
            dose=_quantity(dose_quantity),
        )
    codes, names = _medication_identity(medication_concept, medication_reference, r, medications)
    return MedicationOrder(
        order.id,
        order.status,
        codes,
        names,
        order.authored,
        order.ends,
        order.supply_days,
        order.source,
        order.dose,
    )


def _dispense_request(dispense: Mapping) -> None:
    """Check the parts of a dispenseRequest no rule reads but R4 types simply."""
    path = "dispenseRequest"
    initial = obj(dispense.get("initialFill"), path + ".initialFill")
    if initial is not None:
        quantity(initial.get("quantity"), path + ".initialFill.quantity")
        quantity(initial.get("duration"), path + ".initialFill.duration")
    quantity(dispense.get("dispenseInterval"), path + ".dispenseInterval")
    integer(dispense.get("numberOfRepeatsAllowed"), path + ".numberOfRepeatsAllowed", minimum=0)
    quantity(dispense.get("quantity"), path + ".quantity")
    reference(dispense.get("performer"), path + ".performer")


def _first_dose(value: Any, path: str) -> Quantity | None:
    """Return the first dose quantity of a list of Dosages, when one is stated; check them all."""
    first: tuple[FhirQuantity | None, ...] = ()
    for dosage in items(value, path):
        dosage = obj(dosage, path) or {}
        _dosage_parts(dosage, path)
        string(dosage.get("text"), path + ".text")
        integer(dosage.get("sequence"), path + ".sequence")
        concept_codes(dosage.get("additionalInstruction"), path + ".additionalInstruction")
        string(dosage.get("patientInstruction"), path + ".patientInstruction")
        if dosage.get("timing") is not None:
            _timing(dosage["timing"], path + ".timing")
        choice(dosage, "asNeeded", ("Boolean", "CodeableConcept"))
        boolean(dosage.get("asNeededBoolean"), path + ".asNeededBoolean")
        checked_concept(dosage.get("asNeededCodeableConcept"), path + ".asNeededCodeableConcept")
        ratio(dosage.get("maxDosePerPeriod"), path + ".maxDosePerPeriod")
        quantity(dosage.get("maxDosePerAdministration"), path + ".maxDosePerAdministration")
        quantity(dosage.get("maxDosePerLifetime"), path + ".maxDosePerLifetime")
        for dose_and_rate in items(dosage.get("doseAndRate"), path + ".doseAndRate"):
            part = path + ".doseAndRate"
            dose_and_rate = obj(dose_and_rate, part) or {}
            checked_concept(dose_and_rate.get("type"), part + ".type")
            choice(dose_and_rate, "dose", ("Range", "Quantity"))
            choice(dose_and_rate, "rate", ("Ratio", "Range", "Quantity"))
            range_(dose_and_rate.get("doseRange"), part + ".doseRange")
            ratio(dose_and_rate.get("rateRatio"), part + ".rateRatio")
            range_(dose_and_rate.get("rateRange"), part + ".rateRange")
            quantity(dose_and_rate.get("rateQuantity"), part + ".rateQuantity")
            dose = quantity(dose_and_rate.get("doseQuantity"), part + ".doseQuantity")
            if dose is not None and not first:
                first = (dose,)
    return _quantity(first[0]) if first else None


def _dosage_parts(dosage: Mapping, path: str) -> None:
    """Check the coded parts a Dosage and an administration's dosage share."""
    checked_concept(dosage.get("site"), path + ".site")
    checked_concept(dosage.get("route"), path + ".route")
    checked_concept(dosage.get("method"), path + ".method")


def read_encounters(resources: Iterable[Mapping]) -> list[EncounterRecord]:
    """Return the Encounters that could be read with their class, status and period."""
    encounters = []
    for resource in resources:
        if not isinstance(resource, Mapping) or resource.get("resourceType") != "Encounter":
            continue
        try:
            encounters.append(_checked(resource, "Encounter", _encounter))
        except UnreadableResource:
            continue  # an Encounter only ever softens a finding: one that cannot be read softens nothing
    return encounters


def _encounter(r: Mapping) -> EncounterRecord:
    """Return the EncounterRecord of one Encounter, or raise."""
    status = code(required(r.get("status"), "status"), "status")
    present(r, "class")
    class_coding = coding(r.get("class"), "class") or {}
    start, end = period(r.get("period"), "period")
    reference(r.get("subject"), "subject")
    return EncounterRecord(r.get("id"), class_coding.get("code") or None, status, _date_of(start), _date_of(end))


def unresolved_medication_references(resources: Iterable[Mapping], medications: Mapping[str, Mapping]) -> set[str]:
    """Return the `Medication/<id>` references that neither `contained` nor `medications` can resolve."""
    missing: set[str] = set()
    for resource in resources:
        if not isinstance(resource, Mapping) or resource.get("resourceType") not in MEDICATION_SOURCES:
            continue
        reference_ = _medication_reference(resource)
        if reference_ and not reference_.startswith("#") and reference_ not in medications:
            missing.add(reference_)
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


def read_conditions(resources: Iterable[Mapping]) -> tuple[list[ConditionRecord], list[Unreadable]]:
    """Return Conditions with their codes, names and verification status."""
    conditions: list[ConditionRecord] = []
    unreadable: list[Unreadable] = []
    for resource in resources:
        if not isinstance(resource, Mapping) or resource.get("resourceType") != "Condition":
            continue
        try:
            conditions.append(_checked(resource, "Condition", _condition))
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
    return conditions, unreadable


def _condition(r: Mapping) -> ConditionRecord:
    """Return the ConditionRecord of one Condition, or raise."""
    present(r, "subject")
    reference(r.get("subject"), "subject")
    found = concept(r.get("code"), "code")
    verification = concept(r.get("verificationStatus"), "verificationStatus")
    clinical = concept(r.get("clinicalStatus"), "clinicalStatus")
    onset_kind = choice(r, "onset", ("DateTime", "Age", "Period", "Range", "String"))
    onset = date_time(r.get("onsetDateTime"), "onsetDateTime")
    start, _ = period(r.get("onsetPeriod"), "onsetPeriod")
    if onset_kind == "Age":
        quantity(r["onsetAge"], "onsetAge")
    elif onset_kind == "Range":
        range_(r["onsetRange"], "onsetRange")
    elif onset_kind == "String":
        string(r["onsetString"], "onsetString")
    recorded = date_time(r.get("recordedDate"), "recordedDate")
    return ConditionRecord(
        r.get("id"),
        found.codes,
        found.names,
        verification.first_code,
        clinical.first_code,
        _date_of(onset) or _date_of(start),
        _date_of(recorded),
    )


def _medication(r: Mapping) -> Concept:
    """Return the code of one Medication, or raise."""
    found = concept(r.get("code"), "code")
    for ingredient in items(r.get("ingredient"), "ingredient"):
        ingredient = obj(ingredient, "ingredient") or {}
        choice(ingredient, "item", ("CodeableConcept", "Reference"), required=True)
        checked_concept(ingredient.get("itemCodeableConcept"), "ingredient.itemCodeableConcept")
        reference(ingredient.get("itemReference"), "ingredient.itemReference")
        boolean(ingredient.get("isActive"), "ingredient.isActive")
        ratio(ingredient.get("strength"), "ingredient.strength")
    return found


def named_drug(raw: Mapping, medications: Mapping[str, Mapping]) -> MedicationOrder | None:
    """Return, unchecked, every code and name a medication resource carries; None if a read may find it nameless."""
    concept_ = raw.get("medicationCodeableConcept")
    reference_ = raw.get("medicationReference")
    target = _resolve(_medication_reference(raw), raw, medications)
    target_code = target.get("code") if target else None
    display = reference_.get("display") if isinstance(reference_, Mapping) else None
    # What every read (checked or legible) names the drug by; a read that finds nothing keeps the order.
    sure = raw_codes(concept_) + raw_codes(target_code)
    sure_names = tuple(t for t in (_text_of(concept_), display, _text_of(target_code)) if isinstance(t, str) and t)
    if not sure and not sure_names:
        return None
    codings = _codings(concept_) + _codings(target_code)  # a lone coding object too: the checked read repairs it
    codes = tuple(Code(str(c.get("system") or ""), c["code"], None) for c in codings if isinstance(c.get("code"), str))
    displays = tuple(d for c in codings if isinstance(d := c.get("display"), str) and d)
    return MedicationOrder(_raw_id(raw), None, codes, sure_names + displays)


def _text_of(concept_: Any) -> Any:
    """Return the raw text of a CodeableConcept dict."""
    return concept_.get("text") if isinstance(concept_, Mapping) else None


def _codings(concept_: Any) -> tuple[Mapping, ...]:
    """Return the coding objects of a raw CodeableConcept dict, a lone object counting as a list of one."""
    codings = concept_.get("coding") if isinstance(concept_, Mapping) else None
    if isinstance(codings, Mapping):
        return (codings,)
    return tuple(c for c in codings if isinstance(c, Mapping)) if isinstance(codings, list) else ()


def legible_order(raw: Mapping, medications: Mapping[str, Mapping]) -> MedicationOrder:
    """Return the order as far as a medication resource that is not valid FHIR can be read."""
    concept_ = raw.get("medicationCodeableConcept")
    reference_ = raw.get("medicationReference")
    target = _resolve(_medication_reference(raw), raw, medications)
    display = reference_.get("display") if isinstance(reference_, Mapping) else None
    codes = raw_codes(concept_) + (raw_codes(target.get("code")) if target else ())
    names = _raw_names(concept_) + (_raw_names(target.get("code")) if target else ())
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
    medication_concept: Concept, medication_reference: Mapping | None, raw: Mapping, medications: Mapping[str, Mapping]
) -> tuple[tuple[Code, ...], tuple[str, ...]]:
    """Return the codes and names of the medication a medication resource names or references."""
    if raw.get("medicationCodeableConcept") is not None:
        return medication_concept.codes, medication_concept.names
    display = medication_reference.get("display") if medication_reference is not None else None
    names = (display,) if display else ()
    target = _resolve(medication_reference.get("reference") if medication_reference else None, raw, medications)
    if target is None:
        return (), names
    try:
        found = _checked(target, "Medication", _medication)
    except UnreadableResource:
        # Keep whatever codes are legible: missing a drug is worse than reading a sloppy resource.
        return raw_codes(target.get("code")), names + _raw_names(target.get("code"))
    return found.codes, names + found.names


def _resolve(reference_: str | None, raw: Mapping, medications: Mapping[str, Mapping]) -> Mapping | None:
    """Return the Medication a reference points to: contained, in the same Bundle, or fetched."""
    if not reference_:
        return None
    if reference_.startswith("#"):
        return next(
            (c for c in _listed(raw.get("contained")) if isinstance(c, Mapping) and c.get("id") == reference_[1:]),
            None,
        )
    return medications.get(reference_)


def _listed(value: Any) -> list:
    """Return a raw JSON list, or an empty one for anything else."""
    return value if isinstance(value, list) else []


def _medication_reference(raw: Mapping) -> str | None:
    """Return the raw medicationReference.reference of a medication resource dict."""
    reference_ = raw.get("medicationReference")
    value = reference_.get("reference") if isinstance(reference_, Mapping) else None
    return value if isinstance(value, str) else None


def raw_codes(concept_: Any) -> tuple[Code, ...]:
    """Return the codings of a raw CodeableConcept dict, skipping anything malformed."""
    if not isinstance(concept_, Mapping):
        return ()
    codings = concept_.get("coding")
    return (
        tuple(
            Code(str(c.get("system") or ""), c["code"], c.get("display") if isinstance(c.get("display"), str) else None)
            for c in codings
            if isinstance(c, Mapping) and isinstance(c.get("code"), str)
        )
        if isinstance(codings, list)
        else ()
    )


def _raw_names(concept_: Any) -> tuple[str, ...]:
    """Return the text and displays of a raw CodeableConcept dict."""
    if not isinstance(concept_, Mapping):
        return ()
    text = concept_.get("text")
    displays = tuple(c.display for c in raw_codes(concept_) if c.display)
    return ((text,) if isinstance(text, str) and text else ()) + displays


def _raw_id(resource: Mapping) -> str | None:
    """Return the resource id when it is a string."""
    return _raw_text(resource.get("id"))


def _raw_text(value: Any) -> str | None:
    """Return a raw JSON value when it is a string."""
    return value if isinstance(value, str) else None


def _raw_effective(resource: Mapping) -> date | None:
    """Return the specimen date of a raw Observation dict that could not be read, when legible."""
    period_ = resource.get("effectivePeriod")
    for text in (
        resource.get("effectiveDateTime"),
        period_.get("start") if isinstance(period_, Mapping) else None,
        resource.get("issued"),
    ):
        if isinstance(text, str):
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                continue
    return None


def _quantity(value: FhirQuantity | None) -> Quantity | None:
    """Return the record of a FHIR Quantity, preferring the UCUM code over the display unit."""
    if value is None or value.value is None:
        return None
    return Quantity(value.value, value.code or value.unit, value.comparator)


def _age_bound(age: FhirQuantity | None) -> AgeBound | None:
    """Return an age limit with its unit (years when none is given), or None when absent or unknown."""
    if age is None or age.value is None:
        return None
    unit = _AGE_UNITS.get(str(age.code or age.unit or "a").strip().casefold().rstrip("s"))
    return None if unit is None else AgeBound(age.value, unit)


def _date_of(value: FhirDateTime | None) -> date | None:
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


def _instant_of(value: FhirDateTime | None) -> datetime | None:
    """Return a time-zone aware date-time, or None for dates without a time of day."""
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def _days(duration: FhirQuantity | None) -> int | None:
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
