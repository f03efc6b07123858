"""Check vitamin D and calcium before an antiresorptive is started.

Sources: docs/evidence/antiresorptive-safety.md#hypocalcaemia.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hooks.findings import Caveat, Check, Criterion, Finding, Indicator, Measurement, Note, Topic
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
    shown_limit,
    shown_value,
)
from hooks.medications import antiresorptive_ingredients
from hooks.policy import Policy
from hooks.records import LabResult, MedicationOrder, Quantity, ReferenceRange
from hooks.regimens import denosumab_regimen, zoledronic_acid_regimen
from hooks.units import to_mg_per_dl_calcium, to_ng_per_ml_vitamin_d
from hooks.valuesets import CALCIUM, VITAMIN_D_25OH

VITAMIN_D_LABEL = "25-OH vitamin D"
CALCIUM_LABEL = "Calcium"


@dataclass(frozen=True)
class LowValue:
    """A value below its limit: what to show, the criterion it meets and the caveats that go with it."""

    measurement: Measurement
    criterion: Criterion
    notes: tuple[Note, ...] = ()


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
        checks=(*(low.criterion for low in lows), *labels),
        caveats=tuple(note for low in lows for note in low.notes),
    )


def calcium_label_lines(orders: Sequence[MedicationOrder]) -> tuple[Criterion, ...]:
    """Name, once each, the label whose word on hypocalcaemia applies: the drug's, or its regimen's."""
    labels = []
    for order in orders:
        for drug in antiresorptive_ingredients(order):
            key = drug
            if drug == "zoledronic acid":
                key = zoledronic_acid_regimen(order).regimen.value
            elif drug == "denosumab":
                key = denosumab_regimen(order).regimen.value
            labels.append(Criterion(Check.CALCIUM_LABEL, subject=key))
    return tuple(dict.fromkeys(labels))


def low_vitamin_d(labs: Sequence[LabResult], since: date, policy: Policy) -> LowValue | None:
    """Return the latest trusted 25-OH vitamin D when it is below the level to reach before treatment."""
    newest = most_recent(recent_trusted(labs, VITAMIN_D_25OH.codes, since, policy))
    readings = read_all(newest, to_ng_per_ml_vitamin_d)
    minimum = policy.vitamin_d_min_ng_per_ml
    if not readings or not all(is_below(r, minimum) for r in readings):
        return None
    reading = least_alarming(readings)
    limit_text = f"< {number_text(minimum)} ng/mL"
    shown = _measurement(VITAMIN_D_LABEL, reading, shown_value(reading.value), "ng/mL", limit_text)
    return LowValue(
        shown,
        Criterion(Check.LOW_VITAMIN_D, shown.value, minimum, measurement=shown),
        _converted(VITAMIN_D_LABEL, reading, "ng/mL"),
    )


def low_calcium(labs: Sequence[LabResult], since: date, policy: Policy) -> LowValue | None:
    """Return the latest trusted calcium when it is below its own reference range; no range, no verdict."""
    readings = read_all(most_recent(recent_trusted(labs, CALCIUM.codes, since, policy)), to_mg_per_dl_calcium)
    judged = [(reading, range_low(reading.result.reference_ranges)) for reading in readings]
    if not judged or not all(low and is_below(reading, low.mg_per_dl) for reading, low in judged):
        return None
    reading, low = max(judged, key=lambda pair: pair[0].value)
    assert low is not None
    limit = shown_limit(low.mg_per_dl)
    converted = low.reported.value != low.mg_per_dl
    as_reported = f" {number_text(low.reported.value)} {low.reported.unit}" if converted else ""
    limit_text = f"< {number_text(limit)} mg/dL (lab range low{as_reported})"
    shown = _measurement(CALCIUM_LABEL, reading, shown_value(reading.value), "mg/dL", limit_text)
    return LowValue(
        shown,
        Criterion(Check.LOW_CALCIUM, shown.value, limit, measurement=shown),
        (*_converted(CALCIUM_LABEL, reading, "mg/dL"), Note(Caveat.CALCIUM_NOT_ALBUMIN_CORRECTED)),
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


def _measurement(label: str, reading: Reading, shown: Decimal, unit: str, limit: str) -> Measurement:
    """Return the measurement a card shows for a reading."""
    assert reading.result.effective is not None
    return Measurement(label, reading.result.loinc, reading.result.effective, shown, unit, reading.comparator, limit)


def _converted(label: str, reading: Reading, unit: str) -> tuple[Note, ...]:
    """Name what the lab reported when the value shown was converted from another unit."""
    sent = reading.result.quantity
    if sent is None or sent.value == reading.value:
        return ()
    return (
        Note(Caveat.CONVERTED, values=(sent.value,), subjects=(label, sent.comparator or "", sent.unit or "", unit)),
    )
