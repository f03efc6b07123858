"""Recognise antiresorptives and asfotase alfa by RxNorm, ATC, or as a last resort by name."""

from __future__ import annotations

import re

from hooks.extract import normalise_text
from hooks.records import Code, MedicationOrder
from hooks.valuesets import (
    ANTIRESORPTIVE_ATC_CODES,
    ANTIRESORPTIVE_ATC_PREFIXES,
    ANTIRESORPTIVES,
    ASFOTASE_ALFA_ATC,
    ASFOTASE_NAMES,
    ATC,
    RXNORM,
    Antiresorptive,
)

# A name matches at the start of a word: "alendron" finds "Alendronic acid" and "alendronate sodium",
# "denosumab" finds "denosumab-bbdz", and no stem fires inside an unrelated word.
_NAME_PATTERNS = tuple(
    (drug.ingredient, re.compile(r"\b(?:" + "|".join(map(re.escape, drug.names)) + r")")) for drug in ANTIRESORPTIVES
)
_ANY_NAME_PATTERN = re.compile(r"\b(?:" + "|".join(re.escape(n) for drug in ANTIRESORPTIVES for n in drug.names) + r")")
_ASFOTASE_PATTERN = re.compile(r"\b(?:" + "|".join(ASFOTASE_NAMES) + r")")


def antiresorptive_ingredients(order: MedicationOrder) -> tuple[str, ...]:
    """Return the antiresorptive ingredients an order asks for, by code first and name as a fallback."""
    found = [drug.ingredient for drug in ANTIRESORPTIVES if any(_is_code_of(code, drug) for code in order.codes)]
    if any(_is_antiresorptive_atc_group(code) for code in order.codes) and not found:
        found.append("bisphosphonate")
    if not found:
        names = [normalise_text(name) for name in order.names]
        if any(_ANY_NAME_PATTERN.search(n) for n in names):  # one pass for the many orders that name none
            found = [ingredient for ingredient, pattern in _NAME_PATTERNS if any(pattern.search(n) for n in names)]
    return tuple(dict.fromkeys(found))


def is_asfotase_alfa(order: MedicationOrder) -> bool:
    """Return whether an order is for asfotase alfa (Strensiq), the enzyme replacement for HPP."""
    if any(code.system == ATC and code.code in ASFOTASE_ALFA_ATC for code in order.codes):
        return True
    return any(_ASFOTASE_PATTERN.search(normalise_text(name)) for name in order.names)


def _is_code_of(code: Code, drug: Antiresorptive) -> bool:
    """Return whether a coding identifies the given antiresorptive by RxNorm or ATC."""
    if code.system == RXNORM:
        return code.code in drug.rxnorm
    if code.system == ATC:
        return code.code.upper() in drug.atc
    return False


def _is_antiresorptive_atc_group(code: Code) -> bool:
    """Return whether an ATC code belongs to the bisphosphonate groups or the listed M05BX agents."""
    if code.system != ATC:
        return False
    upper = code.code.upper()
    return upper in ANTIRESORPTIVE_ATC_CODES or upper.startswith(ANTIRESORPTIVE_ATC_PREFIXES)
