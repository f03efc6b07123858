"""Safety cards on an antiresorptive order: renal function below the labelled limit, low vitamin D or calcium."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote_plus

from cards.common import (
    NewUuid,
    drug_markdown,
    drug_names,
    notes_section,
    present,
    remove_order_suggestion,
    results_section,
    sections,
)
from cards.spec import (
    SUMMARY_MAX_CHARS,
    Json,
    action_create,
    card,
    link,
    suggestion,
)
from cards.text import (
    bullets,
    decimal_text,
    escape_markdown,
    fill_name,
    iso_date,
    join_names,
)
from cards.vocabulary import (
    INCORRECT_DATA,
    SPECIALIST_ADVISED,
    OverrideReason,
    alp_guard_source,
    override_reasons,
)
from cards.workup import CALCIUM, VITAMIN_D, service_request
from hooks.findings import Finding, Indicator, Measurement, Topic
from hooks.valuesets import CALCIUM as CALCIUM_CODES
from hooks.valuesets import VITAMIN_D_25OH

CRCL_ADEQUATE = OverrideReason("crcl-adequate", "CrCl above the limit on recalculation")
BEING_CORRECTED = OverrideReason("being-corrected", "Vitamin D or calcium already being corrected")

NOT_RECOMMENDED = "not recommended"
# Zoledronic acid is "contraindicated" only when the finding is critical (Reclast), which renal_verdict adds.
RENAL_VERDICTS = {"denosumab": "severe hypocalcaemia risk"}
# What each label says about renal function (clinical.md §6.4).
RENAL_LABELS = {
    "alendronate": "Alendronate (Fosamax): not recommended if creatinine clearance is below 35 mL/min.",
    "zoledronic acid": "Zoledronic acid 5 mg (Reclast): contraindicated if creatinine clearance is below 35 mL/min"
    " or in acute renal impairment (FDA 2011 safety labelling change); 4 mg for oncology (Zometa): not"
    " recommended below 30 mL/min, dose reduced from 60 mL/min.",
    "risedronate": "Risedronate (Actonel): not recommended if creatinine clearance is below 30 mL/min.",
    "ibandronate": "Ibandronate (Boniva): not recommended if creatinine clearance is below 30 mL/min.",
    "denosumab": "Denosumab (Prolia): boxed warning of severe hypocalcaemia in advanced chronic kidney disease"
    " (eGFR below 30 mL/min/1.73 m²) or on dialysis; not a contraindication.",
}
DAILYMED_SEARCH = "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query="
RECHECK_RENAL = (
    "Recheck renal function and calculate creatinine clearance by Cockcroft-Gault with a current weight:"
    " the labels are written in creatinine clearance."
)
DENOSUMAB_WORKUP = (
    "Before denosumab, check calcium, 25-OH vitamin D and PTH and assess for CKD-mineral and bone disorder"
    " (CKD-MBD); correct hypocalcaemia and vitamin D deficiency first and monitor calcium closely after each dose."
)
RENAL_SPECIALIST = "Consider advice from nephrology or a metabolic bone specialist."
VITAMIN_D_TARGET = "Replete vitamin D to at least {target} before starting {drugs}."
CORRECT_CALCIUM = (
    "Correct hypocalcaemia before starting {drugs}: confirm it with albumin-corrected or ionised calcium and"
    " look for its cause (vitamin D deficiency, hypoparathyroidism, chronic kidney disease, malabsorption)."
)
SEVERE_HYPOCALCAEMIA = (
    "This matters most before denosumab and zoledronic acid, which can cause severe hypocalcaemia."
)
KEEP_INTAKE = "Ensure adequate calcium and vitamin D intake throughout treatment."


def renal_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Warn that renal function is below the labelled limit of the antiresorptive ordered."""
    measurement = measurements_of(finding)[0]
    return card(
        uuid=new_uuid(),
        summary=fill_name(
            f"{measured(measurement)} is below {limit_value(measurement)} for {{name}}: {renal_verdict(finding)}",
            drug_names(finding),
            SUMMARY_MAX_CHARS,
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            results_section("Renal function", finding),
            notes_section(finding),
            labelled_limits_section(finding),
            "**What to do**\n" + bullets(renal_steps(finding)),
        ),
        suggestions=present(
            # Removal is the recommended choice only for a labelled contraindication.
            remove_order_suggestion(finding, new_uuid, recommended=finding.indicator is Indicator.CRITICAL),
        ),
        override_reasons=override_reasons(CRCL_ADEQUATE, SPECIALIST_ADVISED, INCORRECT_DATA),
        links=label_links(finding),
    )


def vitamin_d_calcium_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Advise correcting low vitamin D or calcium before the antiresorptive is started."""
    low = ", ".join(measured(m) for m in measurements_of(finding))
    return card(
        uuid=new_uuid(),
        summary=fill_name(f"{low}: {correction(finding)} before starting {{name}}", drug_names(finding),
                          SUMMARY_MAX_CHARS),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            results_section("Vitamin D and calcium", finding),
            notes_section(finding),
            "**What to do**\n" + bullets(mineral_steps(finding)),
        ),
        suggestions=present(mineral_tests_suggestion(finding, new_uuid)),
        override_reasons=override_reasons(BEING_CORRECTED, SPECIALIST_ADVISED, INCORRECT_DATA),
    )


CARD_FOR_TOPIC: dict[Topic, Callable[[Finding, NewUuid], Json]] = {
    Topic.RENAL_ANTIRESORPTIVE: renal_card,
    Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE: vitamin_d_calcium_card,
}


def measurements_of(finding: Finding) -> tuple[Measurement, ...]:
    """Return the finding's measurements, refusing a finding with nothing to show."""
    if not finding.measurements:
        raise ValueError(f"a {finding.topic.value} card needs a measurement")
    return finding.measurements


def measured(measurement: Measurement) -> str:
    """Write a measurement as plain text, e.g. "eGFR 28 mL/min/1.73 m² (2026-10-02)"."""
    return f"{measurement.label} {value_text(measurement)} {measurement.unit} ({iso_date(measurement.effective)})"


def value_text(measurement: Measurement) -> str:
    """Write a value with its comparator, e.g. "<15" or "28"."""
    return (measurement.comparator or "") + decimal_text(measurement.value)


def limit_value(measurement: Measurement) -> str:
    """Write the limit a value fell below, e.g. "35 mL/min" from "< 35 mL/min"."""
    limit = (measurement.limit or "").strip()
    return limit.removeprefix("<").strip() if limit.startswith("<") else "the limit"


def renal_verdict(finding: Finding) -> str:
    """Say what the label makes of the drug at this renal function: contraindicated, not recommended ..."""
    critical = finding.indicator is Indicator.CRITICAL
    verdicts = dict.fromkeys(RENAL_VERDICTS.get(drug, NOT_RECOMMENDED) for drug in finding.drugs
                             if not (critical and drug == "zoledronic acid"))
    if critical:
        verdicts = {"contraindicated": None, **verdicts}
    return "; ".join(verdicts) or NOT_RECOMMENDED


def correction(finding: Finding) -> str:
    """Say what to correct: vitamin D, calcium or both."""
    vitamin_d, calcium = is_vitamin_d_low(finding), is_calcium_low(finding)
    if vitamin_d and not calcium:
        return "replete vitamin D"
    if calcium and not vitamin_d:
        return "correct low calcium"
    return "correct vitamin D and calcium"


def is_vitamin_d_low(finding: Finding) -> bool:
    """Tell whether a low 25-OH vitamin D is among the finding's measurements."""
    return any(m.loinc in VITAMIN_D_25OH for m in finding.measurements)


def is_calcium_low(finding: Finding) -> bool:
    """Tell whether a low calcium is among the finding's measurements."""
    return any(m.loinc in CALCIUM_CODES for m in finding.measurements)


def renal_steps(finding: Finding) -> list[str]:
    """List what to do about renal function below the drug's limit."""
    drugs = set(finding.drugs)
    bisphosphonates = [d for d in finding.drugs if d != "denosumab"]
    steps = [RECHECK_RENAL]
    if "zoledronic acid" in drugs:
        steps.append("Do not give zoledronic acid while creatinine clearance is below the limit; rule out acute"
                     " renal impairment.")
    elif bisphosphonates:
        steps.append(f"Hold {escape_markdown(join_names(bisphosphonates))} or choose another option unless"
                     " creatinine clearance is at or above the limit.")
    if "denosumab" in drugs:
        steps.append(DENOSUMAB_WORKUP)
    steps.append(RENAL_SPECIALIST)
    return steps


def mineral_steps(finding: Finding) -> list[str]:
    """List what to correct before the antiresorptive is started."""
    drugs = drug_markdown(finding)
    vitamin_d = [m for m in finding.measurements if m.loinc in VITAMIN_D_25OH]
    steps = [VITAMIN_D_TARGET.format(target=escape_markdown(limit_value(m)), drugs=drugs) for m in vitamin_d[:1]]
    if is_calcium_low(finding):
        steps.append(CORRECT_CALCIUM.format(drugs=drugs))
    return [*steps, SEVERE_HYPOCALCAEMIA, KEEP_INTAKE]


def labelled_limits_section(finding: Finding) -> str:
    """Quote what the label of each drug involved says about renal function."""
    lines = [RENAL_LABELS[drug] for drug in finding.drugs if drug in RENAL_LABELS]
    return "**What the label says**\n" + bullets(lines) if lines else ""


def label_links(finding: Finding) -> list[Json]:
    """Link to the DailyMed labels of the drugs involved."""
    return [
        link(f"DailyMed: {drug} prescribing information", DAILYMED_SEARCH + quote_plus(drug))
        for drug in finding.drugs
        if drug in RENAL_LABELS
    ]


def mineral_tests_suggestion(finding: Finding, new_uuid: NewUuid) -> Json | None:
    """Offer 25-OH vitamin D and calcium, to confirm the values or recheck them after correction."""
    if not finding.patient_id:
        return None
    return suggestion(
        "Order 25-OH vitamin D and calcium",
        [action_create(f"Order {t.name}", service_request(t, finding.patient_id)) for t in (VITAMIN_D, CALCIUM)],
        uuid=new_uuid(),
    )
