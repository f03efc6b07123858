"""Check renal function against the labelled limit of the antiresorptive ordered (clinical.md §6.4, §10.1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import (
    Decimal,
)

from hooks.findings import Finding, Indicator, Measurement, Topic
from hooks.labs import (
    Reading,
    conversion_note,
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
from hooks.medications import antiresorptive_ingredients, is_oncology_zoledronic_acid
from hooks.policy import Policy
from hooks.records import LabResult, MedicationOrder
from hooks.units import to_ml_per_min
from hooks.valuesets import CREATININE_CLEARANCE, EGFR

EGFR_NOTE = (
    "Drug labels state their renal limits as creatinine clearance (Cockcroft-Gault); eGFR is used here as a"
    " proxy for it."
)


@dataclass(frozen=True)
class RenalLimit:
    """A labelled renal limit: below it the drug is contraindicated or not recommended."""

    ingredient: str
    limit_ml_per_min: Decimal
    indicator: Indicator


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
        max((limit.indicator for limit in breached), key=lambda indicator: indicator.rank),
        patient_id,
        drugs=tuple(limit.ingredient for limit in breached),
        order=order,
        measurements=(
            Measurement(label, reading.result.loinc, specimen_day(reading.result), shown, unit, reading.comparator,
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
