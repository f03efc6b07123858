"""Small immutable records the rules read, converted once from FHIR resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Code:
    """A coding: system, code and the display the sender gave it."""

    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True)
class Quantity:
    """A measured value with its comparator and unit as sent (code, else unit text)."""

    value: Decimal
    unit: str | None
    comparator: str | None = None


@dataclass(frozen=True)
class AgeBound:
    """An age limit as the lab wrote it: a number of completed years, months, weeks or days."""

    value: Decimal
    unit: str  # "a", "mo", "wk" or "d"


@dataclass(frozen=True)
class ReferenceRange:
    """One Observation.referenceRange entry, with the ages it applies to when stated."""

    low: Quantity | None
    high: Quantity | None
    age_low: AgeBound | None = None
    age_high: AgeBound | None = None
    applies_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientFacts:
    """What the rules need to know about the patient: age and sex."""

    id: str
    birth_date: date | None = None
    sex: str | None = None  # FHIR administrative gender: male, female, other, unknown


@dataclass(frozen=True)
class LabResult:
    """One laboratory Observation, dated by its specimen (effective) time."""

    id: str | None
    loinc: str
    status: str
    effective: date | None
    quantity: Quantity | None
    reference_ranges: tuple[ReferenceRange, ...] = ()
    has_data_absent_reason: bool = False
    instant: datetime | None = None  # time-zone aware specimen time, when the source gives a time of day
    encounter: str | None = None  # `Encounter/<id>` the specimen was drawn in, when stated
    coded_value: tuple[Code, ...] = ()  # valueCodeableConcept codings (e.g. a genetic result's answer)
    text_value: str | None = None  # valueString, or valueCodeableConcept.text
    interpretation: tuple[str, ...] = ()  # interpretation codes (e.g. "L", "N", "NEG")


@dataclass(frozen=True)
class MedicationOrder:
    """A MedicationRequest with the medication's codes and names already resolved."""

    id: str | None
    status: str | None
    codes: tuple[Code, ...]
    names: tuple[str, ...]
    authored: date | None = None
    ends: date | None = None  # dispenseRequest.validityPeriod.end, when stated
    supply_days: int | None = None  # dispenseRequest.expectedSupplyDuration in days, when stated
    source: str = "MedicationRequest"  # or MedicationStatement, MedicationDispense, MedicationAdministration
    dose: Quantity | None = None  # the first dose quantity of the first dosage instruction, when stated

    @property
    def reference(self) -> str | None:
        """Return the relative reference `MedicationRequest/<id>`, when the order has an id."""
        return f"MedicationRequest/{self.id}" if self.id else None


@dataclass(frozen=True)
class ConditionRecord:
    """A Condition's codes, names and verification status."""

    id: str | None
    codes: tuple[Code, ...]
    names: tuple[str, ...]
    verification_status: str | None = None
    clinical_status: str | None = None
    onset: date | None = None  # onset[x] as a date (onsetDateTime, onsetPeriod.start), when stated
    recorded: date | None = None  # recordedDate


@dataclass(frozen=True)
class EncounterRecord:
    """An Encounter's class (v3 ActCode: IMP, EMER, ACUTE, AMB ...), status and period."""

    id: str | None
    class_code: str | None
    status: str | None
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Unreadable:
    """A resource that could not be read; kept so that its absence is never mistaken for evidence."""

    resource_type: str
    id: str | None
    reason: str
    codes: tuple[Code, ...] = field(default=())
    effective: date | None = None  # for Observations, when the raw date is legible
    status: str | None = None  # the raw status (Observation.status, Condition.verificationStatus code)
