"""Check renal function against the labelled limit or dose step of the antiresorptive ordered.

Sources: docs/evidence/antiresorptive-safety.md#renal-function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hooks.clearance import RenalMeasure, renal_measure
from hooks.extract import normalise_text
from hooks.findings import Caveat, Check, Criterion, Finding, Indicator, Measurement, Note, Topic
from hooks.labs import number_text, shown_value
from hooks.medications import antiresorptive_ingredients
from hooks.policy import Policy
from hooks.records import Code, ConditionRecord, LabResult, MedicationOrder, PatientFacts
from hooks.regimens import Regimen, denosumab_regimen, ordered_dose_mg, zoledronic_acid_regimen
from hooks.valuesets import DIALYSIS_ESRD_ICD10CM, DIALYSIS_ESRD_SNOMED, DIALYSIS_WORDS, ICD10CM, SNOMED

EGFR_NOTE = Note(Caveat.EGFR_FOR_CRCL)
EGFR_LABEL_NOTE = Note(Caveat.CRCL_FOR_EGFR)
# Conditions that are over or were never true do not count.
_NOT_CURRENT = frozenset({"inactive", "remission", "resolved"})
_NOT_TRUE = frozenset({"refuted", "entered-in-error"})


@dataclass(frozen=True)
class RenalLimit:
    """A labelled renal limit: below it the drug is contraindicated, not recommended or riskier."""

    ingredient: str
    limit_ml_per_min: Decimal
    indicator: Indicator
    regimen: Regimen | None = None  # for zoledronic acid and denosumab, which regimen's label applies
    egfr_label: bool = False  # the label states the limit as eGFR (Prolia's boxed warning, Evenity)


@dataclass(frozen=True)
class DoseStep:
    """A band of the Zometa renal dose table: from this CrCl (inclusive) upwards, this dose."""

    min_crcl: Decimal
    dose_mg: Decimal
    below: Decimal  # the band ends below this CrCl (or at it, for the first band: `through`)
    through: bool = False  # the band includes its upper limit (the Zometa label's "50-60 mL/min")


def zometa_dose_steps(policy: Policy) -> tuple[DoseStep, ...]:
    """Return the Zometa label's reduced-dose bands, highest first; above the first, the full dose."""
    top, one, two = policy.zometa_full_dose_above_crcl, policy.zometa_step_1_min_crcl, policy.zometa_step_2_min_crcl
    three = policy.renal_limit_zoledronic_acid_oncology
    return (
        DoseStep(one, policy.zometa_step_1_dose_mg, top, through=True),
        DoseStep(two, policy.zometa_step_2_dose_mg, one),
        DoseStep(three, policy.zometa_step_3_dose_mg, two),
    )


def band_text(step: DoseStep) -> str:
    """Write a band as the label does, "40-49 mL/min", when its limits are whole numbers."""
    low, below = step.min_crcl, step.below
    if step.through:
        return f"{number_text(low)}-{number_text(below)} mL/min"
    if low == low.to_integral_value() and below == below.to_integral_value():
        return f"{number_text(low)}-{number_text(below - 1)} mL/min"
    return f"{number_text(low)} to below {number_text(below)} mL/min"


def check_renal_function(
    order: MedicationOrder,
    labs: Sequence[LabResult],
    patient_id: str,
    today: date,
    policy: Policy,
    *,
    patient: PatientFacts | None = None,
    conditions: Sequence[ConditionRecord] = (),
) -> Finding | None:
    """Return a finding when renal function is below a labelled limit of a drug in the order, or above a dose step."""
    limits, notes = labelled_limits(order, policy)
    if not limits:
        return None
    measure, why_not = renal_measure(
        labs, patient, today, policy, prefer_egfr=all(limit.egfr_label for limit in limits)
    )
    dialysis = dialysis_conditions(conditions)
    breached = [
        limit for limit in limits if dialysis or (measure is not None and measure.is_below(limit.limit_ml_per_min))
    ]
    if measure is not None and measure.kind == "egfr" and why_not and patient is not None:
        notes = (*notes, Note(Caveat.NO_COCKCROFT_GAULT, subjects=(why_not,)))
    if breached:
        return renal_finding(order, breached, measure, dialysis, patient_id, notes, policy)
    if measure is not None and any(limit.regimen is Regimen.ZOLEDRONIC_ACID_4MG for limit in limits):
        return dose_adjustment_finding(order, measure, patient_id, notes, policy)
    return None


def labelled_limits(order: MedicationOrder, policy: Policy) -> tuple[list[RenalLimit], tuple[Note, ...]]:
    """Return the renal limits of the antiresorptives in the order (most have one) and notes on how they were chosen."""
    limits: list[RenalLimit] = []
    notes: list[Note] = []
    for ingredient in antiresorptive_ingredients(order):
        if ingredient == "alendronate":
            limits.append(RenalLimit(ingredient, policy.renal_limit_alendronate, Indicator.WARNING))
        elif ingredient == "risedronate":
            limits.append(RenalLimit(ingredient, policy.renal_limit_risedronate, Indicator.WARNING))
        elif ingredient == "ibandronate":
            limits.append(RenalLimit(ingredient, policy.renal_limit_ibandronate, Indicator.WARNING))
        elif ingredient == "zoledronic acid":
            classified = zoledronic_acid_regimen(order)
            if classified.regimen is Regimen.ZOLEDRONIC_ACID_4MG:
                # Zometa: not recommended below CrCl 30 mL/min, dose steps from 60; not Reclast's contraindication.
                limits.append(
                    RenalLimit(
                        ingredient, policy.renal_limit_zoledronic_acid_oncology, Indicator.WARNING, classified.regimen
                    )
                )
            else:
                # Reclast: the only labelled renal contraindication among them (FDA 2011 safety labelling change).
                limits.append(
                    RenalLimit(ingredient, policy.renal_limit_zoledronic_acid, Indicator.CRITICAL, classified.regimen)
                )
                if classified.regimen is Regimen.ZOLEDRONIC_ACID_UNKNOWN:
                    notes.append(Note(Caveat.ZOLEDRONIC_ACID_UNKNOWN, subjects=(classified.basis,)))
        elif ingredient == "denosumab":
            # Prolia: a boxed warning written in eGFR (below 30 or on dialysis); Xgeva: a warning written in CrCl.
            regimen = denosumab_regimen(order).regimen
            limits.append(
                RenalLimit(
                    ingredient,
                    policy.renal_limit_denosumab,
                    Indicator.WARNING,
                    regimen,
                    egfr_label=regimen is not Regimen.DENOSUMAB_120MG,
                )
            )
        elif ingredient == "romosozumab":
            limits.append(RenalLimit(ingredient, policy.renal_limit_romosozumab, Indicator.WARNING, egfr_label=True))
    return limits, tuple(notes)


def dialysis_conditions(conditions: Sequence[ConditionRecord]) -> tuple[Criterion, ...]:
    """Return each current Condition that records dialysis or end-stage renal disease, with the code that did."""
    found = []
    for condition in conditions:
        if condition.verification_status in _NOT_TRUE or condition.clinical_status in _NOT_CURRENT:
            continue
        coded = next((c for c in condition.codes if _is_dialysis_code(c)), None)
        texts = [normalise_text(name) for name in condition.names]
        worded = any(word in text for text in texts for word in DIALYSIS_WORDS)
        if coded or worded:
            name = condition.names[0] if condition.names else (coded.display if coded and coded.display else None)
            found.append(Criterion(Check.DIALYSIS, name=name or None, coded=coded))
    return tuple(dict.fromkeys(found))


def _is_dialysis_code(code: Code) -> bool:
    """Return whether a coding is end-stage renal disease or dependence on dialysis."""
    return (code.system == SNOMED and code.code in DIALYSIS_ESRD_SNOMED) or (
        code.system == ICD10CM and code.code in DIALYSIS_ESRD_ICD10CM
    )


def measurement_of(measure: RenalMeasure, limit: str) -> Measurement:
    """Return the measurement a card shows for a renal measure."""
    return Measurement(
        measure.label,
        measure.loinc,
        measure.effective,
        shown_value(measure.value),
        measure.unit,
        measure.comparator,
        limit,
    )


def measure_notes(measure: RenalMeasure | None, limits: Sequence[RenalLimit]) -> tuple[Note, ...]:
    """Say how the measure was obtained and whether it stands in for another."""
    if measure is None:
        return ()
    notes = [*described(measure), *_conversion(measure)]
    if measure.kind == "egfr" and any(not limit.egfr_label for limit in limits):
        notes.append(EGFR_NOTE)
    if measure.is_clearance and limits and all(limit.egfr_label for limit in limits):
        notes.append(EGFR_LABEL_NOTE)
    return tuple(notes)


def described(measure: RenalMeasure) -> tuple[Note, ...]:
    """Say how the measure was obtained (clearance.py words it: the Cockcroft-Gault inputs, or "as reported")."""
    return (Note(Caveat.RENAL_MEASURE, subjects=(measure.description,)),) if measure.description else ()


def _conversion(measure: RenalMeasure) -> tuple[Note, ...]:
    """Name what the lab reported when the value was converted from another unit."""
    quantity = measure.reported.quantity if measure.reported else None
    if quantity is None or quantity.value == measure.value:
        return ()
    described = (measure.label, quantity.comparator or "", str(quantity.unit), measure.unit)
    return (Note(Caveat.CONVERTED, values=(quantity.value,), subjects=described),)


def renal_finding(
    order: MedicationOrder,
    breached: Sequence[RenalLimit],
    measure: RenalMeasure | None,
    dialysis: Sequence[Criterion],
    patient_id: str,
    notes: tuple[Note, ...],
    policy: Policy,
) -> Finding:
    """Return the finding that renal function is below the limits it breaches, the most severe one deciding."""
    highest = max(limit.limit_ml_per_min for limit in breached)
    criteria = list(dialysis)
    if measure is not None:
        shown = measurement_of(measure, f"< {number_text(highest)} mL/min")
        for limit in breached:
            if not measure.is_below(limit.limit_ml_per_min):
                continue
            criteria.append(
                Criterion(
                    Check.BELOW_RENAL_LIMIT,
                    shown.value,
                    limit.limit_ml_per_min,
                    subject=limit.ingredient,
                    measurement=shown,
                )
            )
            if limit.ingredient == "romosozumab":
                floor = policy.romosozumab_renal_floor
                criteria.append(
                    Criterion(
                        Check.KIDNEY_FAILURE, shown.value, floor, measure.is_below(floor), subject=limit.ingredient
                    )
                )
    return Finding(
        Topic.RENAL_ANTIRESORPTIVE,
        max((limit.indicator for limit in breached), key=lambda indicator: indicator.rank),
        patient_id,
        drugs=tuple(dict.fromkeys(limit.ingredient for limit in breached)),
        order=order,
        measurements=(measurement_of(measure, f"< {number_text(highest)} mL/min"),) if measure else (),
        checks=tuple(criteria),
        caveats=(*measure_notes(measure, breached), *notes),
    )


def dose_adjustment_finding(
    order: MedicationOrder, measure: RenalMeasure, patient_id: str, notes: tuple[Note, ...], policy: Policy
) -> Finding | None:
    """Return a finding when zoledronic acid 4 mg is ordered above the dose step of the patient's clearance."""
    if measure.comparator or measure.value > policy.zometa_full_dose_above_crcl:
        return None  # a bound ("<45") does not place the value in one band
    step = next((s for s in zometa_dose_steps(policy) if measure.value >= s.min_crcl), None)
    if step is None:
        return None
    ordered = ordered_dose_mg(order)
    if ordered is not None and ordered <= step.dose_mg:
        return None
    egfr_note = (EGFR_NOTE,) if measure.kind == "egfr" else ()
    shown = measurement_of(measure, f"{band_text(step)}: {step.dose_mg:.1f} mg")  # the label's one decimal
    return Finding(
        Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT,
        Indicator.WARNING,
        patient_id,
        drugs=("zoledronic acid",),
        order=order,
        measurements=(shown,),
        checks=(
            Criterion(
                Check.ZOMETA_DOSE_STEP,
                step.dose_mg,
                step.min_crcl,
                measurement=shown,
                name=band_text(step),
            ),
            Criterion(Check.ORDERED_DOSE, ordered, step.dose_mg),
        ),
        caveats=(*described(measure), *egfr_note, *notes),
    )
