"""Choose the renal measure a label's limit is judged on: Cockcroft-Gault clearance, a lab's CrCl, or eGFR."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hooks.alp import completed_years
from hooks.labs import (
    Reading,
    exact,
    is_below,
    least_alarming,
    months_before,
    most_recent,
    number_text,
    read_all,
    recent_trusted,
    shown_value,
    specimen_day,
)
from hooks.policy import Policy
from hooks.records import LabResult, PatientFacts
from hooks.units import to_kg, to_mg_per_dl_creatinine, to_ml_per_min
from hooks.valuesets import BODY_WEIGHT, CREATININE_CLEARANCE, EGFR, SERUM_CREATININE

# Cockcroft DW, Gault MH. Nephron 1976;16:31-41: CrCl (mL/min) = (140 - age) x weight (kg) / (72 x SCr mg/dL),
# times 0.85 for a woman. The zoledronic acid labels compute CrCl this way.
CG_AGE_FROM = 140
CG_DIVISOR = Decimal(72)
CG_FEMALE_FACTOR = Decimal("0.85")
COCKCROFT_GAULT_LOINC = "35591-7"
CG_LABEL = "Cockcroft-Gault CrCl"
CRCL_LABEL = "Creatinine clearance"
EGFR_LABEL = "eGFR"
REPORTED_NOTE = "Creatinine clearance as reported by the laboratory."


@dataclass(frozen=True)
class RenalMeasure:
    """A renal function value in mL/min with where it came from, ready to compare with a label's limit."""

    kind: str  # "computed" (Cockcroft-Gault here), "reported" (a lab's CrCl) or "egfr"
    label: str
    loinc: str
    effective: date
    value: Decimal
    unit: str
    comparator: str | None = None
    reported: LabResult | None = None  # the lab result, when the value was reported rather than computed
    description: str = ""  # how it was obtained, e.g. the Cockcroft-Gault inputs

    @property
    def is_clearance(self) -> bool:
        """Return whether this is a creatinine clearance (computed or reported), the measure most labels use."""
        return self.kind != "egfr"

    def is_below(self, limit: Decimal) -> bool:
        """Return whether the value is certainly below `limit`."""
        return is_below(Reading(self.reported or _NO_RESULT, self.value, self.comparator), limit)


_NO_RESULT = LabResult(None, COCKCROFT_GAULT_LOINC, "final", None, None)


def cockcroft_gault(age_years: int, weight_kg: Decimal, creatinine_mg_per_dl: Decimal, sex: str) -> Decimal:
    """Return the Cockcroft-Gault creatinine clearance in mL/min for an adult of known sex."""
    if sex not in ("male", "female") or creatinine_mg_per_dl <= 0 or weight_kg <= 0 or age_years >= CG_AGE_FROM:
        raise ValueError("Cockcroft-Gault needs sex male or female, a positive creatinine and weight, age < 140")
    clearance = (CG_AGE_FROM - age_years) * weight_kg / (CG_DIVISOR * creatinine_mg_per_dl)
    return clearance * CG_FEMALE_FACTOR if sex == "female" else clearance


def computed_clearance(
    labs: Sequence[LabResult], patient: PatientFacts | None, today: date, policy: Policy
) -> tuple[RenalMeasure | None, str | None]:
    """Return the Cockcroft-Gault clearance from the newest creatinine and a recent weight, or why there is none."""
    since = months_before(today, policy.renal_lookback_months)
    newest = most_recent(recent_trusted(labs, SERUM_CREATININE.codes, since, policy))
    if not newest:
        return None, "no serum creatinine on file"
    creatinines = read_all(newest, to_mg_per_dl_creatinine)
    if not creatinines or any(r.comparator for r in creatinines) or any(r.value <= 0 for r in creatinines):
        return None, "the latest serum creatinine has no usable value or unit"
    creatinine = min(creatinines, key=lambda r: r.value)  # the lowest creatinine claims the least
    day = specimen_day(creatinine.result)
    if patient is None or patient.birth_date is None:
        return None, "birth date unknown"
    age = completed_years(patient.birth_date, day)
    if age < policy.adult_age_years:
        return None, "Cockcroft-Gault is for adults"
    if age >= CG_AGE_FROM:
        return None, "age outside the formula"
    if patient.sex not in ("male", "female"):
        return None, "sex not recorded as male or female"
    weights = recent_trusted(labs, BODY_WEIGHT.codes, today - timedelta(days=policy.weight_max_age_days), policy)
    if not weights:
        return None, f"no body weight recorded in the last {policy.weight_max_age_days} days"
    readings = read_all(most_recent(weights), to_kg)
    if not readings or any(r.comparator for r in readings) or any(r.value <= 0 for r in readings):
        return None, "the latest body weight has no usable value or unit"
    weight = least_alarming(readings)
    value = exact(cockcroft_gault(age, weight.value, creatinine.value, patient.sex))
    inputs = (
        f"creatinine {number_text(shown_value(creatinine.value))} mg/dL on {day.isoformat()},"
        f" weight {number_text(shown_value(weight.value))} kg on {specimen_day(weight.result).isoformat()},"
        f" age {age}, {patient.sex}"
    )
    return RenalMeasure(
        "computed",
        CG_LABEL,
        COCKCROFT_GAULT_LOINC,
        day,
        value,
        "mL/min",
        description=f"Computed here by Cockcroft-Gault from {inputs}.",
    ), None


def reported(labs: Sequence[LabResult], codes: frozenset[str], today: date, policy: Policy) -> RenalMeasure | None:
    """Return the newest trusted lab value among `codes` in mL/min, or None when there is none or it is unreadable."""
    since = months_before(today, policy.renal_lookback_months)
    readings = read_all(most_recent(recent_trusted(labs, codes, since, policy)), to_ml_per_min)
    if not readings:
        return None
    reading = least_alarming(readings)
    result = reading.result
    if result.loinc in CREATININE_CLEARANCE:
        return RenalMeasure(
            "reported",
            CRCL_LABEL,
            result.loinc,
            specimen_day(result),
            reading.value,
            "mL/min",
            reading.comparator,
            result,
            REPORTED_NOTE,
        )
    unit = result.quantity.unit if result.quantity else None
    shown_unit = "mL/min/1.73 m²" if unit and "1.73" in unit else "mL/min"
    return RenalMeasure(
        "egfr", EGFR_LABEL, result.loinc, specimen_day(result), reading.value, shown_unit, reading.comparator, result
    )


def renal_measure(
    labs: Sequence[LabResult], patient: PatientFacts | None, today: date, policy: Policy, *, prefer_egfr: bool = False
) -> tuple[RenalMeasure | None, str | None]:
    """Return the measure to judge by and, when Cockcroft-Gault could not be computed, why not."""
    # Creatinine clearance (the newer of computed and reported) comes first, eGFR only when there is none; a label
    # written in eGFR (`prefer_egfr`) reverses the order.
    computed, why_not = computed_clearance(labs, patient, today, policy)
    lab_crcl = reported(labs, CREATININE_CLEARANCE.codes, today, policy)
    clearances = [m for m in (computed, lab_crcl) if m is not None]
    clearance = max(clearances, key=lambda m: (m.effective, m.value), default=None)
    egfr = reported(labs, EGFR.codes, today, policy)
    first, second = (egfr, clearance) if prefer_egfr else (clearance, egfr)
    return first or second, why_not if computed is None else None
