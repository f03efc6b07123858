"""Convert ALP catalytic activity to U/L, refusing any unit that cannot be converted exactly."""

from __future__ import annotations

from decimal import Decimal

# 1 U = 1 umol/min, so 1 ukat/L = 60 U/L and 1 nkat/L = 0.06 U/L (UCUM essence; clinical.md §2).
# UCUM treats [IU] as arbitrary, but for ALP activity labs use IU/L to mean U/L: equal by convention.
_FACTORS_TO_U_PER_L: dict[str, Decimal] = {
    "u/l": Decimal(1),
    "[u]/l": Decimal(1),
    "iu/l": Decimal(1),
    "[iu]/l": Decimal(1),
    "ukat/l": Decimal(60),
    "nkat/l": Decimal("0.06"),
}

_MICRO_SIGNS = ("\u00b5", "\u03bc")  # MICRO SIGN and GREEK SMALL LETTER MU


def _unit_key(unit: str) -> str:
    """Return the lookup key of a unit: trimmed, case-folded, micro signs spelt `u`."""
    key = unit.strip().casefold()
    for sign in _MICRO_SIGNS:
        key = key.replace(sign, "u")
    return key


def alp_factor(unit: str | None) -> Decimal | None:
    """Return the factor that turns a value in `unit` into U/L, or None when it cannot be converted."""
    if unit is None or not unit.strip():
        return None
    return _FACTORS_TO_U_PER_L.get(_unit_key(unit))


def to_u_per_l(value: Decimal, unit: str | None) -> Decimal | None:
    """Return `value` expressed in U/L, or None when `unit` is not an ALP activity unit."""
    factor = alp_factor(unit)
    return None if factor is None else value * factor
