"""Secondary causes of low ALP that are on this patient's record: named on the card instead of a generic list."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hooks.extract import normalise_text
from hooks.labs import (
    Convert,
    least_alarming,
    months_before,
    most_recent,
    number_text,
    read_all,
    recent_trusted,
    shown_value,
)
from hooks.policy import Policy
from hooks.records import ConditionRecord, LabResult, MedicationOrder, Quantity
from hooks.therapy import taken_on
from hooks.units import to_mg_per_dl_magnesium, to_ug_per_dl_zinc
from hooks.valuesets import (
    ALP_LOWERING_DRUGS,
    ATC,
    COELIAC_DISEASE,
    HYPOMAGNESAEMIA,
    HYPOTHYROIDISM,
    ICD10CM,
    MAGNESIUM,
    RXNORM,
    SECONDARY_CAUSE_ICD10CM_PREFIXES,
    SECONDARY_CAUSE_WORDS,
    SNOMED,
    ZINC,
    ValueSet,
)

_SNOMED_CAUSES: dict[str, ValueSet] = {
    "coeliac disease": COELIAC_DISEASE,
    "hypothyroidism": HYPOTHYROIDISM,
    "hypomagnesaemia": HYPOMAGNESAEMIA,
}
_INACTIVE = frozenset({"inactive", "remission", "resolved"})
_DISCOUNTED = frozenset({"refuted", "entered-in-error"})
_DRUG_PATTERNS = {
    kind: re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + r")")
    for kind, (_, _, stems) in ALP_LOWERING_DRUGS.items()
}
_LAB_LOOKBACK_MONTHS = 12


@dataclass(frozen=True)
class SecondaryCause:
    """A cause of low ALP other than HPP found on the record, with what shows it."""

    kind: str  # "coeliac disease", "hypothyroidism", "malnutrition", "hypomagnesaemia", "zinc deficiency",
    #            "glucocorticoid", "fibrate", "oestrogen", "low magnesium", "low zinc"
    shown_by: str  # the condition's or drug's name as recorded, or the lab value with its unit
    effective: date | None = None


def secondary_causes(
    conditions: Iterable[ConditionRecord],
    medications: Iterable[MedicationOrder],
    labs: Sequence[LabResult],
    today: date,
    policy: Policy,
) -> tuple[SecondaryCause, ...]:
    """Return the secondary causes of low ALP on record: diagnoses, drugs taken now, low magnesium or zinc."""
    found: dict[tuple[str, str], SecondaryCause] = {}
    for condition in conditions:
        if condition.verification_status in _DISCOUNTED or condition.clinical_status in _INACTIVE:
            continue
        kind = condition_cause(condition)
        if kind:
            name = next((n for n in condition.names if n.strip()), kind)
            found.setdefault((kind, ""), SecondaryCause(kind, name, condition.onset or condition.recorded))
    for record in medications:
        kind = drug_cause(record)
        if kind and taken_on(record, today, today, policy):
            name = next((n for n in record.names if n.strip()), kind)
            found.setdefault((kind, normalise_text(name)), SecondaryCause(kind, name, record.authored))
    since = months_before(today, _LAB_LOOKBACK_MONTHS)
    for kind, value_set, convert, default_low, unit in (
        ("low magnesium", MAGNESIUM, to_mg_per_dl_magnesium, policy.magnesium_low_mg_per_dl, "mg/dL"),
        ("low zinc", ZINC, to_ug_per_dl_zinc, policy.zinc_low_ug_per_dl, "ug/dL"),
    ):
        low = low_lab(labs, value_set, convert, default_low, since, policy)
        if low is not None:
            found.setdefault((kind, ""), SecondaryCause(kind, f"{number_text(shown_value(low[0]))} {unit}", low[1]))
    return tuple(found.values())


def condition_cause(condition: ConditionRecord) -> str | None:
    """Name the secondary cause a condition records, by code first, then by the words of its text."""
    for kind, value_set in _SNOMED_CAUSES.items():
        if any(code.system == SNOMED and code.code in value_set for code in condition.codes):
            return kind
    for kind, prefixes in SECONDARY_CAUSE_ICD10CM_PREFIXES.items():
        if any(code.system == ICD10CM and code.code.upper().startswith(prefixes) for code in condition.codes):
            return kind
    texts = [normalise_text(name) for name in condition.names]
    for kind, words in SECONDARY_CAUSE_WORDS.items():
        if any(word in text for text in texts for word in words):
            return kind
    return None


def drug_cause(record: MedicationOrder) -> str | None:
    """Name the class of ALP-lowering drug a medication record is, by RxNorm, ATC, then name."""
    for kind, (rxnorm, atc_prefixes, _) in ALP_LOWERING_DRUGS.items():
        for code in record.codes:
            if code.system == RXNORM and code.code in rxnorm:
                return kind
            if code.system == ATC and code.code.upper().startswith(atc_prefixes):
                return kind
    names = [normalise_text(name) for name in record.names]
    return next((kind for kind, pattern in _DRUG_PATTERNS.items() if any(pattern.search(n) for n in names)), None)


def low_lab(
    labs: Sequence[LabResult], value_set: ValueSet, convert: Convert, default_low: Decimal, since: date, policy: Policy
) -> tuple[Decimal, date] | None:
    """Return the latest value (in the rule's unit) and its date when below the lab's range low or the default."""
    readings = read_all(most_recent(recent_trusted(labs, value_set.codes, since, policy)), convert)
    if not readings:
        return None
    reading = least_alarming(readings)
    if reading.comparator in (">", ">="):
        return None
    low = _range_low(reading.result.reference_ranges, convert)
    limit = low if low is not None else default_low
    if not reading.value < limit:
        return None
    assert reading.result.effective is not None
    return reading.value, reading.result.effective


def _range_low(ranges: Iterable, convert: Convert) -> Decimal | None:
    """Return the first reference range low converted to the rule's unit."""
    for reference_range in ranges:
        low: Quantity | None = reference_range.low
        if low is not None and (value := convert(low.value, low.unit)) is not None:
            return value
    return None
