"""Tell which labelled regimen an order is: zoledronic acid 4 mg or 5 mg, denosumab 60 mg or 120 mg."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from hooks.extract import normalise_text
from hooks.records import MedicationOrder
from hooks.valuesets import (
    DENOSUMAB_60_NAMES,
    DENOSUMAB_60_RXNORM,
    DENOSUMAB_120_NAMES,
    DENOSUMAB_120_RXNORM,
    RXNORM,
    ZOLEDRONIC_ACID_4MG_NAMES,
    ZOLEDRONIC_ACID_4MG_RXNORM,
    ZOLEDRONIC_ACID_5MG_NAMES,
    ZOLEDRONIC_ACID_5MG_RXNORM,
)


class Regimen(str, Enum):
    """A labelled regimen: each has its own label, and so its own renal and calcium wording."""

    ZOLEDRONIC_ACID_4MG = "zoledronic acid 4 mg (Zometa)"
    ZOLEDRONIC_ACID_5MG = "zoledronic acid 5 mg (Reclast)"
    ZOLEDRONIC_ACID_UNKNOWN = "zoledronic acid, dose unknown"
    DENOSUMAB_60MG = "denosumab 60 mg (Prolia or a biosimilar)"
    DENOSUMAB_120MG = "denosumab 120 mg (Xgeva or a biosimilar)"
    DENOSUMAB_UNKNOWN = "denosumab, dose unknown"


@dataclass(frozen=True)
class Classified:
    """The regimen an order was found to be, and what gave it away, e.g. "ordered dose 4 mg"."""

    regimen: Regimen
    basis: str


_MG = re.compile(r"(\d+(?:\.\d+)?)\s*mg\b(\s*/\s*(\d+(?:\.\d+)?)?\s*ml\b)?")
_VOLUME = re.compile(r"(\d+(?:\.\d+)?)\s*ml\b")


def ordered_dose_mg(order: MedicationOrder) -> Decimal | None:
    """Return the ordered dose in mg, when the order states one in mg."""
    dose = order.dose
    if dose is None or dose.unit is None or not dose.value.is_finite() or dose.comparator:
        return None
    return dose.value if dose.unit.strip().casefold() in ("mg", "milligram", "milligrams") else None


def strength_mg(text: str) -> Decimal | None:
    """Return the amount of drug a product text names, e.g. 5 from "5 MG in 100 ML" or 4 from "0.04 MG/ML, 100 ML"."""
    normal = normalise_text(text)
    match = _MG.search(normal)
    if match is None:
        return None
    amount = Decimal(match.group(1))
    if match.group(2) and not match.group(3):  # a concentration per mL: needs the volume
        volumes = [Decimal(v) for v in _VOLUME.findall(normal[match.end() :])]
        return amount * volumes[0] if volumes else None
    return amount


def zoledronic_acid_regimen(order: MedicationOrder) -> Classified:
    """Classify a zoledronic acid order as 4 mg (oncology) or 5 mg (osteoporosis, Paget); unknown otherwise."""
    return _classify(
        order,
        (
            (
                Regimen.ZOLEDRONIC_ACID_4MG,
                lambda mg: Decimal(3) <= mg <= Decimal(4),
                ZOLEDRONIC_ACID_4MG_RXNORM,
                ZOLEDRONIC_ACID_4MG_NAMES,
            ),
            (
                Regimen.ZOLEDRONIC_ACID_5MG,
                lambda mg: mg == Decimal(5),
                ZOLEDRONIC_ACID_5MG_RXNORM,
                ZOLEDRONIC_ACID_5MG_NAMES,
            ),
        ),
        Regimen.ZOLEDRONIC_ACID_UNKNOWN,
    )


def denosumab_regimen(order: MedicationOrder) -> Classified:
    """Classify a denosumab order as 60 mg (Prolia and biosimilars) or 120 mg (Xgeva and biosimilars)."""
    return _classify(
        order,
        (
            (Regimen.DENOSUMAB_60MG, lambda mg: abs(mg - 60) <= 1, DENOSUMAB_60_RXNORM, DENOSUMAB_60_NAMES),
            (Regimen.DENOSUMAB_120MG, lambda mg: abs(mg - 120) <= 1, DENOSUMAB_120_RXNORM, DENOSUMAB_120_NAMES),
        ),
        Regimen.DENOSUMAB_UNKNOWN,
    )


Option = tuple[Regimen, Callable[[Decimal], bool], frozenset[str], tuple[str, ...]]


def _classify(order: MedicationOrder, options: Sequence[Option], unknown: Regimen) -> Classified:
    """Decide by the ordered dose, then the RxNorm product, then the strength in the name, then the brand."""
    dose = ordered_dose_mg(order)
    if dose is not None:
        for regimen, fits, _, _ in options:
            if fits(dose):
                return Classified(regimen, f"ordered dose {_text(dose)} mg")
    codes = {code.code for code in order.codes if code.system == RXNORM}
    for regimen, _, rxnorm, _ in options:
        if codes & rxnorm:
            return Classified(regimen, f"RxNorm {min(codes & rxnorm)}")
    names = [normalise_text(name) for name in order.names]
    for name in names:
        strength = strength_mg(name)
        for regimen, fits, _, _ in options:
            if strength is not None and fits(strength):
                return Classified(regimen, f"strength {_text(strength)} mg in the product name")
    for regimen, _, _, brands in options:
        brand = next((b for b in brands for name in names if re.search(rf"\b{b}", name)), None)
        if brand:
            return Classified(regimen, f"brand {brand.capitalize()}")
    return Classified(unknown, "neither the dose, the product code, the strength nor the brand says which")


def _text(value: Decimal) -> str:
    """Write a dose without trailing zeros."""
    return format(value.normalize(), "f")
