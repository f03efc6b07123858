"""Check renal function against the labelled limit of the antiresorptive ordered (clinical.md §6.4, §10.1)."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Decimal,
    InvalidOperation,
)

from hooks.findings import Finding, Indicator, Measurement, Topic
from hooks.medications import antiresorptive_ingredients, is_oncology_zoledronic_acid
from hooks.policy import Policy
from hooks.records import LabResult, MedicationOrder
from hooks.units import to_ml_per_min
from hooks.valuesets import CREATININE_CLEARANCE, EGFR

Convert = Callable[[Decimal, str | None], Decimal | None]

EGFR_NOTE = (
    "Drug labels state their renal limits as creatinine clearance (Cockcroft-Gault); eGFR is used here as a"
    " proxy for it."
)
_SEVERITY = {Indicator.INFO: 0, Indicator.WARNING: 1, Indicator.CRITICAL: 2}
# Conversion factors are 28-digit decimals: rounding far below any lab's precision lets an exact equivalent
# (49.92 nmol/L = 20 ng/mL) compare equal to its limit.
_EXACT = Decimal("1e-9")
_SHOWN = Decimal("0.01")


@dataclass(frozen=True)
class RenalLimit:
    """A labelled renal limit: below it the drug is contraindicated or not recommended."""

    ingredient: str
    limit_ml_per_min: Decimal
    indicator: Indicator


@dataclass(frozen=True)
class Reading:
    """A result's value in the unit its limit is written in, with the comparator it was reported with."""

    result: LabResult
    value: Decimal
    comparator: str | None


def renal_limits(policy: Policy) -> tuple[RenalLimit, ...]:
    """Return the labelled renal limit of each antiresorptive that has one."""
    return (
        RenalLimit("alendronate", policy.renal_limit_alendronate, Indicator.WARNING),
        # The only labelled contraindication among them (Reclast; FDA 2011 safety labelling change).
        RenalLimit("zoledronic acid", policy.renal_limit_zoledronic_acid, Indicator.CRITICAL),
        RenalLimit("risedronate", policy.renal_limit_risedronate, Indicator.WARNING),
        RenalLimit("ibandronate", policy.renal_limit_ibandronate, Indicator.WARNING),
        # A boxed warning (severe hypocalcaemia in advanced CKD), not a contraindication.
        RenalLimit("denosumab", policy.renal_limit_denosumab, Indicator.WARNING),
    )


def check_renal_function(
    order: MedicationOrder, labs: Sequence[LabResult], patient_id: str, today: date, policy: Policy
) -> Finding | None:
    """Return a finding when the latest CrCl or eGFR is below the labelled limit of a drug in the order."""
    limits = labelled_limits(order, policy)
    if not limits:
        return None
    readings = latest_renal_function(labs, today, policy)
    breached = [limit for limit in limits if readings and all(is_below(r, limit.limit_ml_per_min) for r in readings)]
    if not breached:
        return None
    return renal_finding(order, breached, least_alarming(readings), patient_id)


def labelled_limits(order: MedicationOrder, policy: Policy) -> list[RenalLimit]:
    """Return the renal limits of the antiresorptives in the order; most have none."""
    ingredients = antiresorptive_ingredients(order)
    limits = [limit for limit in renal_limits(policy) if limit.ingredient in ingredients]
    if is_oncology_zoledronic_acid(order):
        # Zometa: not recommended below CrCl 30 mL/min (dose reduced from 60); not Reclast's contraindication.
        oncology = RenalLimit("zoledronic acid", policy.renal_limit_zoledronic_acid_oncology, Indicator.WARNING)
        limits = [oncology if limit.ingredient == "zoledronic acid" else limit for limit in limits]
    return limits


def latest_renal_function(labs: Sequence[LabResult], today: date, policy: Policy) -> tuple[Reading, ...]:
    """Return the most recent trusted CrCl or eGFR in mL/min, or nothing when it cannot be interpreted."""
    since = months_before(today, policy.renal_lookback_months)
    newest = most_recent(recent_trusted(labs, CREATININE_CLEARANCE.codes | EGFR.codes, since, policy))
    # Labels are written in CrCl: a clearance drawn with an eGFR is the better of the two.
    newest = tuple(r for r in newest if r.loinc in CREATININE_CLEARANCE) or newest
    return read_all(newest, to_ml_per_min)


def renal_finding(order: MedicationOrder, breached: Sequence[RenalLimit], reading: Reading, patient_id: str) -> Finding:
    """Return the finding that the reading is below the limits it breaches, the most severe one deciding."""
    label, unit = renal_label_and_unit(reading.result)
    shown = shown_value(reading.value)
    value_text = f"{reading.comparator or ''}{number_text(shown)} {unit}"
    highest = max(limit.limit_ml_per_min for limit in breached)
    notes = (EGFR_NOTE if reading.result.loinc in EGFR else None, conversion_note(label, reading, unit))
    return Finding(
        Topic.RENAL_ANTIRESORPTIVE,
        max((limit.indicator for limit in breached), key=_SEVERITY.__getitem__),
        patient_id,
        drugs=tuple(limit.ingredient for limit in breached),
        order=order,
        measurements=(
            Measurement(label, reading.result.loinc, _day(reading.result), shown, unit, reading.comparator,
                        f"< {number_text(highest)} mL/min"),
        ),
        criteria=tuple(
            f"{label} {value_text} is below the labelled limit of {number_text(limit.limit_ml_per_min)} mL/min"
            f" for {limit.ingredient}"
            for limit in breached
        ),
        notes=tuple(note for note in notes if note),
    )


def renal_label_and_unit(result: LabResult) -> tuple[str, str]:
    """Name the measure and the unit to show it in: per 1.73 m² only when the lab reported it so."""
    label = "Creatinine clearance" if result.loinc in CREATININE_CLEARANCE else "eGFR"
    reported = result.quantity.unit if result.quantity else None
    return label, "mL/min/1.73 m²" if reported and "1.73" in reported else "mL/min"


# Reading the latest result of an analyte; hooks.minerals uses these too.


def months_before(day: date, months: int) -> date:
    """Return the same day `months` calendar months earlier, or that month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def recent_trusted(labs: Iterable[LabResult], codes: frozenset[str], since: date, policy: Policy) -> list[LabResult]:
    """Return the verified, dated results with one of `codes` drawn on or after `since`."""
    return [
        result
        for result in labs
        if result.loinc in codes
        and result.status in policy.trusted_statuses
        and not result.has_data_absent_reason
        and result.effective is not None
        and result.effective >= since
    ]


def most_recent(results: Sequence[LabResult]) -> tuple[LabResult, ...]:
    """Return the newest results: those of the latest day that no known time of day shows to be older."""
    if not results:
        return ()
    day = max(_day(r) for r in results)
    same_day = [r for r in results if r.effective == day]
    latest = max((r.instant for r in same_day if r.instant is not None), default=None)
    # A result without a time of day cannot be placed within its day, so it counts as just as recent.
    return tuple(r for r in same_day if r.instant is None or r.instant == latest)


def read_all(results: Iterable[LabResult], convert: Convert) -> tuple[Reading, ...]:
    """Return every result converted, or nothing when one of them cannot be interpreted."""
    readings = tuple(read(result, convert) for result in results)
    # Never fall back to an older value: the newest one may have replaced it.
    return () if any(r is None for r in readings) else readings  # type: ignore[return-value]


def read(result: LabResult, convert: Convert) -> Reading | None:
    """Return a result's value converted with `convert`, or None when it has no usable value or unit."""
    quantity = result.quantity
    if quantity is None or not quantity.value.is_finite():
        return None
    value = convert(quantity.value, quantity.unit)
    if value is None or value < 0:
        return None
    return Reading(result, exact(value), quantity.comparator)


def is_below(reading: Reading, limit: Decimal) -> bool:
    """Return whether the reading is certainly below `limit`: "<x" is when x ≤ limit, ">x" never is."""
    comparator = reading.comparator or None
    if comparator is None:
        return reading.value < limit
    if comparator == "<":
        return reading.value <= limit
    if comparator == "<=":
        return reading.value < limit
    return False  # ">", ">=", or a comparator that says nothing about an upper bound


def least_alarming(readings: Sequence[Reading]) -> Reading:
    """Return the highest of equally recent readings: the one that claims the least."""
    return max(readings, key=lambda r: r.value)


def conversion_note(label: str, reading: Reading, unit: str) -> str | None:
    """Say what the lab reported when the value shown was converted from another unit."""
    quantity = reading.result.quantity
    if quantity is None or quantity.value == reading.value:
        return None
    reported = f"{quantity.comparator or ''}{number_text(quantity.value)} {quantity.unit}"
    return f"{label} reported as {reported}, shown converted to {unit}."


def exact(value: Decimal) -> Decimal:
    """Return a converted value rounded far below lab precision, so exact equivalents compare equal."""
    return _quantize(value, _EXACT, ROUND_HALF_EVEN)


def shown_value(value: Decimal) -> Decimal:
    """Return a value to show, cut to two decimals so a value below its limit never reads as at it."""
    return _quantize(value, _SHOWN, ROUND_DOWN)


def shown_limit(value: Decimal) -> Decimal:
    """Return a limit to show, rounded up to two decimals so it never reads as at a value below it."""
    return _quantize(value, _SHOWN, ROUND_CEILING)


def number_text(value: Decimal) -> str:
    """Write a number the way a lab report does: 28, 27.5, never 28.00 or 2.8E+1."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _quantize(value: Decimal, exponent: Decimal, rounding: str) -> Decimal:
    """Return `value` rounded to `exponent`, or unchanged when it is too large to round (far from any limit)."""
    try:
        return value.quantize(exponent, rounding=rounding)
    except InvalidOperation:
        return value


def _day(result: LabResult) -> date:
    """Return a result's specimen date, which recent_trusted has made sure of."""
    assert result.effective is not None
    return result.effective
