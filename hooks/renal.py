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
from hooks.findings import Finding, Indicator, Measurement, Topic
from hooks.labs import number_text, shown_value
from hooks.medications import antiresorptive_ingredients
from hooks.policy import Policy
from hooks.records import Code, ConditionRecord, LabResult, MedicationOrder, PatientFacts
from hooks.regimens import Regimen, denosumab_regimen, ordered_dose_mg, zoledronic_acid_regimen
from hooks.valuesets import DIALYSIS_ESRD_ICD10CM, DIALYSIS_ESRD_SNOMED, DIALYSIS_WORDS, ICD10CM, SNOMED

EGFR_NOTE = (
    "Drug labels state their renal limits as creatinine clearance (Cockcroft-Gault); eGFR is used here as a"
    " proxy for it."
)
EGFR_LABEL_NOTE = "The label states this limit as eGFR; a creatinine clearance is used here as a proxy for it."
UNKNOWN_ZOLEDRONIC_NOTE = (
    "Zoledronic acid dose and indication could not be told from the order ({basis}): the stricter rule of"
    " Reclast (5 mg, contraindicated below 35 mL/min) is applied; Zometa (4 mg, oncology) has dose steps instead."
)
NO_COCKCROFT_GAULT = "Cockcroft-Gault creatinine clearance not computed: {reason}."
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
    band: str  # e.g. "40-49 mL/min"


def zometa_dose_steps(policy: Policy) -> tuple[DoseStep, ...]:
    """Return the Zometa label's reduced-dose bands, highest first; above the first, the full dose."""
    top, one, two = policy.zometa_full_dose_above_crcl, policy.zometa_step_1_min_crcl, policy.zometa_step_2_min_crcl
    three = policy.renal_limit_zoledronic_acid_oncology
    return (
        DoseStep(one, policy.zometa_step_1_dose_mg, f"{number_text(one)}-{number_text(top)} mL/min"),
        DoseStep(two, policy.zometa_step_2_dose_mg, band(two, one)),
        DoseStep(three, policy.zometa_step_3_dose_mg, band(three, two)),
    )


def band(low: Decimal, below: Decimal) -> str:
    """Write a band as the label does, "40-49 mL/min", when its limits are whole numbers."""
    if low == low.to_integral_value() and below == below.to_integral_value():
        return f"{number_text(low)}-{number_text(below - 1)} mL/min"
    return f"{number_text(low)} to below {number_text(below)} mL/min"


def mg_text(dose: Decimal) -> str:
    """Write a dose as the label does, with one decimal: 3.0 mg, 3.3 mg."""
    return f"{dose:.1f}"


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
        notes = (*notes, NO_COCKCROFT_GAULT.format(reason=why_not))
    if breached:
        return renal_finding(order, breached, measure, dialysis, patient_id, notes, policy)
    if measure is not None and any(limit.regimen is Regimen.ZOLEDRONIC_ACID_4MG for limit in limits):
        return dose_adjustment_finding(order, measure, patient_id, notes, policy)
    return None


def labelled_limits(order: MedicationOrder, policy: Policy) -> tuple[list[RenalLimit], tuple[str, ...]]:
    """Return the renal limits of the antiresorptives in the order (most have one) and notes on how they were chosen."""
    limits: list[RenalLimit] = []
    notes: list[str] = []
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
                    notes.append(UNKNOWN_ZOLEDRONIC_NOTE.format(basis=classified.basis))
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


def dialysis_conditions(conditions: Sequence[ConditionRecord]) -> tuple[str, ...]:
    """Describe each current Condition that records dialysis or end-stage renal disease."""
    found = []
    for condition in conditions:
        if condition.verification_status in _NOT_TRUE or condition.clinical_status in _NOT_CURRENT:
            continue
        coded = next((c for c in condition.codes if _is_dialysis_code(c)), None)
        texts = [normalise_text(name) for name in condition.names]
        worded = any(word in text for text in texts for word in DIALYSIS_WORDS)
        if coded or worded:
            name = condition.names[0] if condition.names else (coded.display if coded and coded.display else "")
            code = f", {_system_name(coded.system)} {coded.code}," if coded else ", by its text,"
            found.append(f"{name or 'Dialysis or end-stage renal disease'}{code} on the problem list")
    return tuple(dict.fromkeys(found))


def _is_dialysis_code(code: Code) -> bool:
    """Return whether a coding is end-stage renal disease or dependence on dialysis."""
    return (code.system == SNOMED and code.code in DIALYSIS_ESRD_SNOMED) or (
        code.system == ICD10CM and code.code in DIALYSIS_ESRD_ICD10CM
    )


def _system_name(system: str) -> str:
    """Name a code system briefly."""
    return "SNOMED CT" if system == SNOMED else "ICD-10-CM"


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


def value_text(measure: RenalMeasure) -> str:
    """Write a measure as "eGFR 28 mL/min/1.73 m²"."""
    return f"{measure.label} {measure.comparator or ''}{number_text(shown_value(measure.value))} {measure.unit}"


def measure_notes(measure: RenalMeasure | None, limits: Sequence[RenalLimit]) -> tuple[str, ...]:
    """Say how the measure was obtained and whether it stands in for another."""
    if measure is None:
        return ()
    notes = [measure.description] if measure.description else []
    conversion = _conversion(measure)
    if conversion:
        notes.append(conversion)
    if measure.kind == "egfr" and any(not limit.egfr_label for limit in limits):
        notes.append(EGFR_NOTE)
    if measure.is_clearance and limits and all(limit.egfr_label for limit in limits):
        notes.append(EGFR_LABEL_NOTE)
    return tuple(notes)


def _conversion(measure: RenalMeasure) -> str | None:
    """Say what the lab reported when the value was converted from another unit."""
    quantity = measure.reported.quantity if measure.reported else None
    if quantity is None or quantity.value == measure.value:
        return None
    return (
        f"{measure.label} reported as {quantity.comparator or ''}{number_text(quantity.value)} {quantity.unit},"
        f" shown converted to {measure.unit}."
    )


def renal_finding(
    order: MedicationOrder,
    breached: Sequence[RenalLimit],
    measure: RenalMeasure | None,
    dialysis: Sequence[str],
    patient_id: str,
    notes: tuple[str, ...],
    policy: Policy,
) -> Finding:
    """Return the finding that renal function is below the limits it breaches, the most severe one deciding."""
    highest = max(limit.limit_ml_per_min for limit in breached)
    criteria = list(dialysis)
    if measure is not None:
        for limit in breached:
            if not measure.is_below(limit.limit_ml_per_min):
                continue
            criterion = (
                f"{value_text(measure)} is below the labelled limit of"
                f" {number_text(limit.limit_ml_per_min)} mL/min for {limit.ingredient}"
            )
            if limit.ingredient == "romosozumab":
                criterion += (
                    "; below 15: kidney failure, beyond the label's data"
                    if measure.is_below(policy.romosozumab_renal_floor)
                    else "; 15-29 is the label's severe renal impairment"
                )
            criteria.append(criterion)
    return Finding(
        Topic.RENAL_ANTIRESORPTIVE,
        max((limit.indicator for limit in breached), key=lambda indicator: indicator.rank),
        patient_id,
        drugs=tuple(dict.fromkeys(limit.ingredient for limit in breached)),
        order=order,
        measurements=(measurement_of(measure, f"< {number_text(highest)} mL/min"),) if measure else (),
        criteria=tuple(criteria),
        notes=(*measure_notes(measure, breached), *notes),
    )


def dose_adjustment_finding(
    order: MedicationOrder, measure: RenalMeasure, patient_id: str, notes: tuple[str, ...], policy: Policy
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
    dose_text = (
        f"Ordered dose {number_text(ordered)} mg is above {mg_text(step.dose_mg)} mg"
        if ordered is not None
        else "The order states no dose in mg"
    )
    egfr_note = (EGFR_NOTE,) if measure.kind == "egfr" else ()
    return Finding(
        Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT,
        Indicator.WARNING,
        patient_id,
        drugs=("zoledronic acid",),
        order=order,
        measurements=(measurement_of(measure, f"{step.band}: {mg_text(step.dose_mg)} mg"),),
        criteria=(
            f"{value_text(measure)} is in the {step.band} step of the Zometa renal dose table:"
            f" {mg_text(step.dose_mg)} mg",
            dose_text,
        ),
        notes=(*((measure.description,) if measure.description else ()), *egfr_note, *notes),
    )
