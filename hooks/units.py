"""Convert laboratory values to the units the rules compare in, refusing any unit that cannot be converted."""

from __future__ import annotations

from decimal import Decimal

# 1 U = 1 umol/min: 1 ukat/L = 60 U/L, 1 nkat/L = 0.06 U/L (UCUM; docs/evidence/units.md#alp-activity).
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


def unit_key(unit: str) -> str:
    """Return the lookup key of a unit: trimmed, case-folded, micro signs spelt `u`."""
    key = unit.strip().casefold()
    for sign in _MICRO_SIGNS:
        key = key.replace(sign, "u")
    return key


def alp_factor(unit: str | None) -> Decimal | None:
    """Return the factor that turns a value in `unit` into U/L, or None when it cannot be converted."""
    if unit is None or not unit.strip():
        return None
    return _FACTORS_TO_U_PER_L.get(unit_key(unit))


def to_u_per_l(value: Decimal, unit: str | None) -> Decimal | None:
    """Return `value` expressed in U/L, or None when `unit` is not an ALP activity unit."""
    factor = alp_factor(unit)
    return None if factor is None else value * factor


# Other analytes, each to the unit its limits are written in (docs/evidence/units.md#other-analytes).
_RENAL_TO_ML_PER_MIN: dict[str, Decimal] = {
    "ml/min": Decimal(1),
    "ml/min/{1.73_m2}": Decimal(1),
    "ml/min/1.73m2": Decimal(1),
    "ml/min/1.73 m2": Decimal(1),
    "ml/min/1.73m²": Decimal(1),
    "ml/min/1.73 m²": Decimal(1),
    "ml/min/1.73": Decimal(1),
    "ml/s": Decimal(60),
    "ml/s/{1.73_m2}": Decimal(60),
    "ml/s/1.73m2": Decimal(60),
    "ml/s/1.73 m2": Decimal(60),
}
# 25-OH vitamin D: 1 ng/mL = 2.496 nmol/L.
_VITAMIN_D_TO_NG_PER_ML: dict[str, Decimal] = {
    "ng/ml": Decimal(1),
    "ug/l": Decimal(1),
    "mcg/l": Decimal(1),
    "nmol/l": 1 / Decimal("2.496"),
}
# Calcium: 1 mg/dL = 0.2495 mmol/L.
_CALCIUM_TO_MG_PER_DL: dict[str, Decimal] = {
    "mg/dl": Decimal(1),
    "mmol/l": 1 / Decimal("0.2495"),
}
# Total bilirubin: 1 mg/dL = 17.1 umol/L. Korman's ALP/bilirubin ratio is in mg/dL: using umol/L makes it
# about 17 times too small and falsely "< 4" (docs/evidence/units.md#total-bilirubin).
_BILIRUBIN_TO_MG_PER_DL: dict[str, Decimal] = {
    "mg/dl": Decimal(1),
    "umol/l": 1 / Decimal("17.1"),
}
# Pyridoxal 5'-phosphate: 1 ug/L = 4.05 nmol/L.
_PLP_TO_NMOL_PER_L: dict[str, Decimal] = {
    "nmol/l": Decimal(1),
    "ug/l": Decimal("4.05"),
    "mcg/l": Decimal("4.05"),
    "ng/ml": Decimal("4.05"),
}
# INR is a ratio: sent without a unit or with a ratio annotation.
_INR_UNITS = frozenset({"", "{inr}", "inr", "{ratio}", "ratio", "1", "{index}"})


def _convert(value: Decimal, unit: str | None, factors: dict[str, Decimal]) -> Decimal | None:
    """Return `value` times the factor of its unit, or None for a unit not in `factors`."""
    if unit is None or not unit.strip():
        return None
    factor = factors.get(unit_key(unit))
    return None if factor is None else value * factor


def to_ml_per_min(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a creatinine clearance or eGFR in mL/min (per 1.73 m² for eGFR), or None."""
    return _convert(value, unit, _RENAL_TO_ML_PER_MIN)


def to_ng_per_ml_vitamin_d(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a 25-OH vitamin D value in ng/mL, or None."""
    return _convert(value, unit, _VITAMIN_D_TO_NG_PER_ML)


def to_mg_per_dl_calcium(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a calcium value in mg/dL, or None."""
    return _convert(value, unit, _CALCIUM_TO_MG_PER_DL)


def to_mg_per_dl_bilirubin(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a total bilirubin value in mg/dL, or None."""
    return _convert(value, unit, _BILIRUBIN_TO_MG_PER_DL)


def to_nmol_per_l_plp(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a pyridoxal 5'-phosphate value in nmol/L, or None."""
    return _convert(value, unit, _PLP_TO_NMOL_PER_L)


def is_inr_unit(unit: str | None) -> bool:
    """Return whether `unit` is how an INR is sent: no unit, or a ratio annotation."""
    return unit is None or unit_key(unit) in _INR_UNITS


# Serum creatinine: 1 mg/dL = 88.4 umol/L (molar mass 113.12 g/mol), the factor the Cockcroft-Gault formula's
# users and the drug labels assume.
CREATININE_UMOL_PER_MG_DL = Decimal("88.4")
_CREATININE_TO_MG_PER_DL: dict[str, Decimal] = {
    "mg/dl": Decimal(1),
    "umol/l": 1 / CREATININE_UMOL_PER_MG_DL,
    "mmol/l": 1000 / CREATININE_UMOL_PER_MG_DL,
}
# Body weight: UCUM kg, g and the international avoirdupois pound (exactly 0.45359237 kg).
POUND_KG = Decimal("0.45359237")
_WEIGHT_TO_KG: dict[str, Decimal] = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "[lb_av]": POUND_KG,
    "lb": POUND_KG,
    "lbs": POUND_KG,
}


def to_mg_per_dl_creatinine(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a serum creatinine in mg/dL, or None."""
    return _convert(value, unit, _CREATININE_TO_MG_PER_DL)


def to_kg(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a body weight in kg, or None."""
    return _convert(value, unit, _WEIGHT_TO_KG)


# Magnesium: 1 mmol/L = 2.431 mg/dL = 2 mEq/L. Zinc: 1 umol/L = 6.538 ug/dL (65.38 g/mol).
_MAGNESIUM_TO_MG_PER_DL: dict[str, Decimal] = {
    "mg/dl": Decimal(1),
    "mmol/l": Decimal("2.431"),
    "meq/l": Decimal("1.2155"),
}
_ZINC_TO_UG_PER_DL: dict[str, Decimal] = {
    "ug/dl": Decimal(1),
    "mcg/dl": Decimal(1),
    "ug/ml": Decimal(100),
    "mg/l": Decimal(100),
    "umol/l": Decimal("6.538"),
}


def to_mg_per_dl_magnesium(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a magnesium value in mg/dL, or None."""
    return _convert(value, unit, _MAGNESIUM_TO_MG_PER_DL)


def to_ug_per_dl_zinc(value: Decimal, unit: str | None) -> Decimal | None:
    """Return a zinc value in ug/dL, or None."""
    return _convert(value, unit, _ZINC_TO_UG_PER_DL)
