"""Check vitamin D and calcium before an antiresorptive is started.

Sources: docs/evidence/antiresorptive-safety.md#hypocalcaemia.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hooks.findings import Finding, Indicator, Measurement, Topic
from hooks.labs import (
    Reading,
    conversion_note,
    exact,
    is_below,
    least_alarming,
    months_before,
    most_recent,
    number_text,
    read_all,
    recent_trusted,
    shown_limit,
    shown_value,
)
from hooks.medications import antiresorptive_ingredients
from hooks.policy import Policy
from hooks.records import LabResult, MedicationOrder, Quantity, ReferenceRange
from hooks.regimens import Regimen, denosumab_regimen, zoledronic_acid_regimen
from hooks.units import to_mg_per_dl_calcium, to_ng_per_ml_vitamin_d
from hooks.valuesets import CALCIUM, VITAMIN_D_25OH

VITAMIN_D_LABEL = "25-OH vitamin D"
CALCIUM_LABEL = "Calcium"
CORRECT_FIRST = "hypocalcaemia is a contraindication; correct it before starting"
# What each label says about hypocalcaemia (docs/evidence/antiresorptive-safety.md), by ingredient or regimen.
CALCIUM_LABELS: dict[str, str] = {
    "alendronate": f"Fosamax and Fosamax Plus D, alendronate, labels revised 2/2026: {CORRECT_FIRST}.",
    "risedronate": f"Actonel and Atelvia, risedronate: {CORRECT_FIRST}.",
    "ibandronate": f"Boniva tablets and Boniva Injection, ibandronate: {CORRECT_FIRST}.",
    Regimen.ZOLEDRONIC_ACID_5MG: f"Reclast, zoledronic acid 5 mg, label updated 2023-11-30: {CORRECT_FIRST}.",
    Regimen.ZOLEDRONIC_ACID_4MG: "Zometa, zoledronic acid 4 mg: hypocalcaemia is not a contraindication, but"
    " the label's warnings ask to monitor calcium, phosphate and magnesium and to treat hypocalcaemia.",
    Regimen.ZOLEDRONIC_ACID_UNKNOWN: "Zoledronic acid, dose not known: for Reclast, 5 mg, hypocalcaemia is a"
    " contraindication; for Zometa, 4 mg, a warning: monitor and treat it.",
    Regimen.DENOSUMAB_60MG: "Prolia and its biosimilars, denosumab 60 mg: hypocalcaemia is a contraindication;"
    " pre-existing hypocalcaemia must be corrected before starting.",
    Regimen.DENOSUMAB_120MG: "Xgeva and its biosimilars, denosumab 120 mg, a contraindication since 2013:"
    " pre-existing hypocalcaemia must be corrected before starting.",
    Regimen.DENOSUMAB_UNKNOWN: "Denosumab, Prolia, Xgeva and their biosimilars: pre-existing hypocalcaemia"
    " must be corrected before starting.",
    "romosozumab": f"Evenity, romosozumab, US label 2019: {CORRECT_FIRST}.",
}
OTHER_CALCIUM = "{drug}: correct hypocalcaemia before starting; antiresorptives lower calcium further."
ALBUMIN_NOTE = "Total calcium is not corrected for albumin: confirm with albumin-corrected or ionised calcium."


@dataclass(frozen=True)
class LowValue:
    """A value below its limit: what to show, the criterion it meets and the caveats that go with it."""

    measurement: Measurement
    criterion: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RangeLow:
    """A reference range's low end in mg/dL, and as the lab reported it."""

    mg_per_dl: Decimal
    reported: Quantity


def check_vitamin_d_and_calcium(
    orders: Sequence[MedicationOrder], labs: Sequence[LabResult], patient_id: str, today: date, policy: Policy
) -> Finding | None:
    """Return one finding when vitamin D or calcium is low and an antiresorptive is ordered."""
    antiresorptive_orders = [order for order in orders if antiresorptive_ingredients(order)]
    if not antiresorptive_orders:
        return None
    since = months_before(today, policy.mineral_lookback_months)
    lows = [low for low in (low_vitamin_d(labs, since, policy), low_calcium(labs, since, policy)) if low]
    if not lows:
        return None
    drugs = tuple(dict.fromkeys(d for order in antiresorptive_orders for d in antiresorptive_ingredients(order)))
    # Every antiresorptive can deepen hypocalcaemia; most labels make it a contraindication (calcium_label_lines).
    calcium_low = any(low.measurement.loinc in CALCIUM for low in lows)
    labels = calcium_label_lines(antiresorptive_orders) if calcium_low else ()
    return Finding(
        Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE,
        Indicator.WARNING if calcium_low else Indicator.INFO,
        patient_id,
        drugs=drugs,
        order=antiresorptive_orders[0],
        measurements=tuple(low.measurement for low in lows),
        criteria=(*(low.criterion for low in lows), *labels),
        notes=tuple(note for low in lows for note in low.notes),
    )


def calcium_label_lines(orders: Sequence[MedicationOrder]) -> tuple[str, ...]:
    """Quote what the label of each antiresorptive ordered says about hypocalcaemia."""
    lines = []
    for order in orders:
        for drug in antiresorptive_ingredients(order):
            key: str = drug
            if drug == "zoledronic acid":
                key = zoledronic_acid_regimen(order).regimen
            elif drug == "denosumab":
                key = denosumab_regimen(order).regimen
            lines.append(CALCIUM_LABELS.get(key) or OTHER_CALCIUM.format(drug=drug.capitalize()))
    return tuple(dict.fromkeys(lines))


def low_vitamin_d(labs: Sequence[LabResult], since: date, policy: Policy) -> LowValue | None:
    """Return the latest trusted 25-OH vitamin D when it is below the level to reach before treatment."""
    newest = most_recent(recent_trusted(labs, VITAMIN_D_25OH.codes, since, policy))
    readings = read_all(newest, to_ng_per_ml_vitamin_d)
    minimum = policy.vitamin_d_min_ng_per_ml
    if not readings or not all(is_below(r, minimum) for r in readings):
        return None
    reading = least_alarming(readings)
    shown = shown_value(reading.value)
    return LowValue(
        _measurement(VITAMIN_D_LABEL, reading, shown, "ng/mL", f"< {number_text(minimum)} ng/mL"),
        f"{VITAMIN_D_LABEL} {_value_text(reading, shown)} ng/mL is below {number_text(minimum)} ng/mL"
        f" ({number_text(_in_nmol_per_l(minimum))} nmol/L), the level to reach before an antiresorptive",
        _present(conversion_note(VITAMIN_D_LABEL, reading, "ng/mL")),
    )


def low_calcium(labs: Sequence[LabResult], since: date, policy: Policy) -> LowValue | None:
    """Return the latest trusted calcium when it is below its own reference range; no range, no verdict."""
    readings = read_all(most_recent(recent_trusted(labs, CALCIUM.codes, since, policy)), to_mg_per_dl_calcium)
    judged = [(reading, range_low(reading.result.reference_ranges)) for reading in readings]
    if not judged or not all(low and is_below(reading, low.mg_per_dl) for reading, low in judged):
        return None
    reading, low = max(judged, key=lambda pair: pair[0].value)
    assert low is not None
    shown = shown_value(reading.value)
    limit = f"{number_text(shown_limit(low.mg_per_dl))} mg/dL"
    converted = low.reported.value != low.mg_per_dl
    as_reported = f" {number_text(low.reported.value)} {low.reported.unit}" if converted else ""
    return LowValue(
        _measurement(CALCIUM_LABEL, reading, shown, "mg/dL", f"< {limit} (lab range low{as_reported})"),
        f"{CALCIUM_LABEL} {_value_text(reading, shown)} mg/dL is below the lab's reference range (low {limit})",
        _present(conversion_note(CALCIUM_LABEL, reading, "mg/dL"), ALBUMIN_NOTE),
    )


def range_low(ranges: Sequence[ReferenceRange]) -> RangeLow | None:
    """Return the lab's calcium range low, or None when no range gives one in a convertible unit."""
    usable = [
        (RangeLow(exact(mg_per_dl), r.low), r)
        for r in ranges
        if r.low is not None and (mg_per_dl := to_mg_per_dl_calcium(r.low.value, r.low.unit)) is not None
    ]
    # Without the patient's age and sex a general range is the one that applies; failing that, the lowest
    # of the restricted ones, which never calls a normal value low.
    general = [pair for pair in usable if not (pair[1].age_low or pair[1].age_high or pair[1].applies_to)]
    return min((low for low, _ in general or usable), key=lambda low: low.mg_per_dl, default=None)


def _in_nmol_per_l(ng_per_ml: Decimal) -> Decimal:
    """Return a vitamin D level in whole nmol/L, as guidelines quote it (20 ng/mL = 50 nmol/L)."""
    one_nmol_per_l = to_ng_per_ml_vitamin_d(Decimal(1), "nmol/L")
    assert one_nmol_per_l is not None
    return (ng_per_ml / one_nmol_per_l).quantize(Decimal(1))


def _measurement(label: str, reading: Reading, shown: Decimal, unit: str, limit: str) -> Measurement:
    """Return the measurement a card shows for a reading."""
    assert reading.result.effective is not None
    return Measurement(label, reading.result.loinc, reading.result.effective, shown, unit, reading.comparator, limit)


def _value_text(reading: Reading, shown: Decimal) -> str:
    """Write a shown value with its comparator, e.g. "<5" or "14"."""
    return f"{reading.comparator or ''}{number_text(shown)}"


def _present(*notes: str | None) -> tuple[str, ...]:
    """Keep the notes that apply."""
    return tuple(note for note in notes if note)
