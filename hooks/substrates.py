"""Recognise an elevated ALP substrate: pyridoxal 5'-phosphate or urine phosphoethanolamine above normal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Iterable

from hooks.alp import years_before
from hooks.findings import Measurement
from hooks.policy import Policy
from hooks.records import LabResult, Quantity
from hooks.units import unit_key, to_nmol_per_l_plp
from hooks.valuesets import PYRIDOXAL_PHOSPHATE, URINE_PHOSPHOETHANOLAMINE

_PLP_LABEL = "Pyridoxal 5'-phosphate"
_PEA_LABEL = "Urine phosphoethanolamine"


def elevated_substrates(results: Iterable[LabResult], today: date, policy: Policy) -> tuple[Measurement, ...]:
    """Return the trusted substrate results in the look-back window that are above normal, newest first."""
    since = years_before(today, policy.lookback_years)
    elevated = []
    for result in results:
        if result.status not in policy.trusted_statuses or result.has_data_absent_reason:
            continue
        if result.effective is None or result.effective < since or result.quantity is None:
            continue
        measurement = _elevated_plp(result, policy) if result.loinc in PYRIDOXAL_PHOSPHATE else (
            _elevated_pea(result) if result.loinc in URINE_PHOSPHOETHANOLAMINE else None)
        if measurement is not None:
            elevated.append(measurement)
    return tuple(sorted(elevated, key=lambda m: m.effective, reverse=True))


def substrate_criteria(measurements: Iterable[Measurement]) -> tuple[str, ...]:
    """Return one readable line per elevated substrate."""
    return tuple(f"{m.label} {_text(m.value)} {m.unit} on {m.effective.isoformat()} is above normal ({m.limit})"
                 for m in measurements)


def _elevated_plp(result: LabResult, policy: Policy) -> Measurement | None:
    """Return a PLP result above the lab's range high, else above the default for its unit (nmol/L or ug/L)."""
    assert result.quantity is not None and result.effective is not None
    value = to_nmol_per_l_plp(result.quantity.value, result.quantity.unit)
    if value is None or result.quantity.comparator in ("<", "<="):
        return None  # an unknown unit, or an upper bound, never shows an elevation
    high = _range_high(result)
    high_nmol = to_nmol_per_l_plp(high.value, high.unit) if high is not None else None
    if high_nmol is not None:
        limit, basis = high_nmol, "lab range high"
    elif result.loinc == "30552-4":
        limit, basis = policy.plp_high_ug_per_l * Decimal("4.05"), f"{_text(policy.plp_high_ug_per_l)} ug/L default"
    else:
        limit, basis = policy.plp_high_nmol_per_l, f"{_text(policy.plp_high_nmol_per_l)} nmol/L default"
    if value <= limit:
        return None
    return Measurement(_PLP_LABEL, result.loinc, result.effective, result.quantity.value,
                       result.quantity.unit or "", result.quantity.comparator, f"> {_text(limit)} nmol/L ({basis})")


def _elevated_pea(result: LabResult) -> Measurement | None:
    """Return a phosphoethanolamine result above its own range high (there is no portable default)."""
    assert result.quantity is not None and result.effective is not None
    high = _range_high(result)
    if high is None or result.quantity.comparator in ("<", "<="):
        return None
    if unit_key(high.unit or "") != unit_key(result.quantity.unit or ""):
        return None  # creatinine-ratio units vary by lab; compare only like with like
    if result.quantity.value <= high.value:
        return None
    return Measurement(_PEA_LABEL, result.loinc, result.effective, result.quantity.value,
                       result.quantity.unit or "", result.quantity.comparator,
                       f"> {_text(high.value)} {high.unit} (lab range high)")


def _range_high(result: LabResult) -> Quantity | None:
    """Return the high of the result's first reference range that has one."""
    return next((r.high for r in result.reference_ranges if r.high is not None), None)


def _text(value: Decimal) -> str:
    """Return a Decimal without trailing zeros."""
    return format(value.normalize(), "f")
