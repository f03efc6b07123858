"""Safety cards on an antiresorptive order: renal limits and dose steps, minerals, recent MI or stroke, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote_plus

from cards.common import (
    NewUuid,
    drug_markdown,
    drug_names,
    notes_section,
    order_suggestion,
    present,
    remove_order_suggestion,
    results_section,
    sections,
)
from cards.spec import (
    SUMMARY_MAX_CHARS,
    Json,
    card,
    link,
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
    DOSE_ALREADY_ADJUSTED,
    EVENT_OLDER,
    INCORRECT_DATA,
    PLANNED_TRANSITION,
    SPECIALIST_ADVISED,
    OverrideReason,
    alp_guard_source,
    override_reasons,
)
from cards.wording import criteria_lines, event_claim, mg_text
from cards.workup import CALCIUM, VITAMIN_D
from hooks.findings import Check, Finding, Indicator, Measurement, Topic
from hooks.regimens import Regimen, denosumab_regimen, zoledronic_acid_regimen
from hooks.valuesets import CALCIUM as CALCIUM_CODES
from hooks.valuesets import VITAMIN_D_25OH

CRCL_ADEQUATE = OverrideReason("crcl-adequate", "CrCl above the limit on recalculation")
BEING_CORRECTED = OverrideReason("being-corrected", "Vitamin D or calcium already being corrected")

NOT_RECOMMENDED = "not recommended"
# Zoledronic acid is "contraindicated" only when the finding is critical (Reclast), which renal_verdict adds.
RENAL_VERDICTS = {
    "denosumab": "severe hypocalcaemia risk",
    "romosozumab": "hypocalcaemia risk",
    Regimen.DENOSUMAB_120MG: "hypocalcaemia risk",
}
# What each label says about renal function (docs/evidence/antiresorptive-safety.md), by ingredient or regimen.
RECLAST_RENAL = (
    "Zoledronic acid 5 mg (Reclast; label updated 2023-11-30): contraindicated if creatinine clearance is below"
    " 35 mL/min or in acute renal impairment (added by the FDA in 2011)."
)
ZOMETA_RENAL = (
    "Zoledronic acid 4 mg (Zometa, oncology): dose reduced when creatinine clearance (Cockcroft-Gault) is 60 mL/min"
    " or less (3.5, 3.3, 3.0 mg) and not recommended below 30 mL/min; not a contraindication."
)
PROLIA_RENAL = (
    "Denosumab 60 mg (Prolia and its biosimilars): boxed warning of severe hypocalcaemia in advanced chronic kidney"
    " disease (eGFR below 30 mL/min/1.73 m²), including dialysis, added January 2024; evaluate for CKD-mineral and"
    " bone disorder first. Not a contraindication."
)
XGEVA_RENAL = (
    "Denosumab 120 mg (Xgeva and its biosimilars): greater risk of hypocalcaemia with creatinine clearance below"
    " 30 mL/min or on dialysis; monitor calcium and calcium and vitamin D intake (warning since 2014)."
)
DENOSUMAB_RENAL = (
    "Denosumab, dose not known: severe renal impairment or dialysis raises the risk of severe hypocalcaemia"
    " (Prolia and Xgeva labels); for the 60 mg products (Prolia and biosimilars) this is a boxed warning."
)
RENAL_LABELS: dict[str, str] = {
    "alendronate": "Alendronate (Fosamax, Fosamax Plus D): not recommended if creatinine clearance is below 35 mL/min.",
    Regimen.ZOLEDRONIC_ACID_5MG: RECLAST_RENAL,
    Regimen.ZOLEDRONIC_ACID_4MG: ZOMETA_RENAL,
    Regimen.ZOLEDRONIC_ACID_UNKNOWN: f"{RECLAST_RENAL} {ZOMETA_RENAL}",
    "risedronate": "Risedronate (Actonel): not recommended if creatinine clearance is below 30 mL/min.",
    "ibandronate": "Ibandronate (Boniva tablets and injection): not recommended, or not to be given (injection),"
    " if creatinine clearance is below 30 mL/min.",
    Regimen.DENOSUMAB_60MG: PROLIA_RENAL,
    Regimen.DENOSUMAB_120MG: XGEVA_RENAL,
    Regimen.DENOSUMAB_UNKNOWN: DENOSUMAB_RENAL,
    "romosozumab": "Romosozumab (Evenity, US label 2019): with eGFR 15-29 mL/min/1.73 m² or on dialysis, a greater"
    " risk of hypocalcaemia and limited safety data; monitor calcium.",
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
XGEVA_WORKUP = (
    "Before denosumab 120 mg, correct hypocalcaemia, make sure of calcium and vitamin D intake and monitor calcium"
    " closely after each dose."
)
ROMOSOZUMAB_WORKUP = (
    "Before romosozumab, correct hypocalcaemia, supplement calcium and vitamin D and monitor serum calcium."
)
RENAL_SPECIALIST = "Consider advice from nephrology or a metabolic bone specialist."
VITAMIN_D_TARGET = "Replete vitamin D to at least {target} before starting {drugs}."
CORRECT_CALCIUM = (
    "Correct hypocalcaemia before starting {drugs}: confirm it with albumin-corrected or ionised calcium and"
    " look for its cause (vitamin D deficiency, hypoparathyroidism, chronic kidney disease, malabsorption)."
)
SEVERE_HYPOCALCAEMIA = "This matters most before denosumab and zoledronic acid, which can cause severe hypocalcaemia."
KEEP_INTAKE = "Ensure adequate calcium and vitamin D intake throughout treatment."


def renal_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Warn that renal function is below the labelled limit of the antiresorptive ordered, or dialysis is on record."""
    if not finding.measurements and not finding.checks:
        raise ValueError("a renal card needs a measurement or a dialysis condition")
    if finding.measurements:
        measurement = finding.measurements[0]
        template = (
            f"{renal_action(finding)} {{name}}: {measured(measurement)} is below"
            f" {limit_value(measurement)}, {renal_verdict(finding)}"
        )
    else:
        template = f"{renal_action(finding)} {{name}}: dialysis or kidney failure on record, {renal_verdict(finding)}"
    return card(
        uuid=new_uuid(),
        summary=fill_name(template, drug_names(finding), SUMMARY_MAX_CHARS),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            results_section("Renal function", finding) or criteria_section("Renal function", finding),
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


def criteria_section(heading: str, finding: Finding) -> str:
    """List what was found, when there is no value to tabulate."""
    criteria = [escape_markdown(c) for c in criteria_lines(finding) if c.strip()]
    return f"**{heading}**\n" + bullets(criteria) if criteria else ""


def vitamin_d_calcium_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Advise correcting low vitamin D or calcium before the antiresorptive is started."""
    low = ", ".join(measured(m) for m in measurements_of(finding))
    return card(
        uuid=new_uuid(),
        summary=fill_name(
            f"{sentence_case(correction(finding))} before starting {{name}}: {low}",
            drug_names(finding),
            SUMMARY_MAX_CHARS,
        ),
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


ZOMETA_TABLE = (
    "Zometa label, renal dose table for multiple myeloma and bone metastases (creatinine clearance by"
    " Cockcroft-Gault): above 60 mL/min 4 mg; 50-60 mL/min 3.5 mg; 40-49 mL/min 3.3 mg; 30-39 mL/min 3.0 mg;"
    " below 30 mL/min not recommended. A dose adjustment, not a contraindication."
)
ZOMETA_STEPS = (
    "Order {dose} mg in place of the full 4 mg, unless the indication is hypercalcaemia of malignancy, for which the"
    " label makes no adjustment while serum creatinine is below 4.5 mg/dL.",
    "Check serum creatinine before each dose and withhold zoledronic acid if renal function deteriorates (a rise of"
    " 0.5 mg/dL from a normal baseline, 1.0 mg/dL from an abnormal one).",
    "Keep the patient hydrated and give daily calcium and vitamin D.",
)
EVENITY_BOXED = (
    "Evenity (romosozumab) boxed warning, US label 2019: it may increase the risk of myocardial infarction, stroke"
    " and cardiovascular death; do not start it in a patient who had a myocardial infarction or stroke within the"
    " preceding year; stop it if one occurs during treatment. The EU label goes further: contraindicated after any"
    " myocardial infarction or stroke."
)
CARDIOVASCULAR_STEPS = (
    "Do not start romosozumab now: choose another osteoporosis treatment with the patient.",
    "If the date on record is wrong or the event was more than a year ago, correct the problem list and weigh"
    " romosozumab's benefit against the patient's other cardiovascular risk factors (label).",
    "Consider advice from cardiology or a metabolic bone specialist.",
)
DUPLICATE_STEPS = (
    "Two antiresorptives together are not a labelled regimen and add the risks of both (hypocalcaemia first):"
    " keep one.",
    "If this is a planned switch (for example from denosumab to a bisphosphonate), stop or complete the other"
    " order so that the record shows one current antiresorptive.",
    "Do not stop denosumab without a follow-on treatment: stopping it risks rapid bone loss and multiple vertebral"
    " fractures (Prolia label; MHRA 2020); ECTS 2021 advises starting the alternative about 6 months after the last"
    " injection.",
)
ECTS_2021 = "https://academic.oup.com/jcem/article/106/1/264/5939974"


def dose_adjustment_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Advise the Zometa dose step for the patient's creatinine clearance."""
    measurement = measurements_of(finding)[0]
    step = next((c for c in finding.checks if c.what is Check.ZOMETA_DOSE_STEP and c.value is not None), None)
    dose = mg_text(step.value) if step is not None and step.value is not None else "the reduced"
    return card(
        uuid=new_uuid(),
        summary=f"Reduce zoledronic acid to {dose} mg: {measured(measurement)}, Zometa dose table",
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            results_section("Renal function", finding),
            notes_section(finding),
            "**What the label says**\n" + bullets([ZOMETA_TABLE]),
            "**What to do**\n" + bullets(step.format(dose=escape_markdown(dose)) for step in ZOMETA_STEPS),
        ),
        override_reasons=override_reasons(DOSE_ALREADY_ADJUSTED, CRCL_ADEQUATE, INCORRECT_DATA),
        links=[link("DailyMed: Zometa prescribing information", DAILYMED_SEARCH + "zometa")],
    )


def cardiovascular_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Warn that romosozumab is ordered within a year of a myocardial infarction or stroke."""
    events = [c for c in finding.checks if c.what is Check.RECENT_EVENT]
    if not events:
        raise ValueError("a romosozumab cardiovascular card needs the event on record")
    event = event_claim(events[0])
    return card(
        uuid=new_uuid(),
        summary=f"Do not start romosozumab: {event} (Evenity boxed warning)",
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            criteria_section("On the problem list", finding),
            notes_section(finding),
            "**What the label says**\n" + bullets([EVENITY_BOXED]),
            "**What to do**\n" + bullets(CARDIOVASCULAR_STEPS),
        ),
        suggestions=present(remove_order_suggestion(finding, new_uuid, recommended=False)),
        override_reasons=override_reasons(EVENT_OLDER, SPECIALIST_ADVISED, INCORRECT_DATA),
        links=[link("DailyMed: Evenity prescribing information", DAILYMED_SEARCH + "evenity")],
    )


def duplicate_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Warn that a second, different antiresorptive is being ordered."""
    if not criteria_lines(finding):
        raise ValueError("a duplicate antiresorptive card needs the other antiresorptive")
    return card(
        uuid=new_uuid(),
        summary=fill_name("Keep one antiresorptive: {name} at once", drug_names(finding), SUMMARY_MAX_CHARS),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            criteria_section("Antiresorptives", finding),
            "**What to do**\n" + bullets(DUPLICATE_STEPS),
        ),
        suggestions=present(remove_order_suggestion(finding, new_uuid, recommended=False)),
        override_reasons=override_reasons(PLANNED_TRANSITION, SPECIALIST_ADVISED, INCORRECT_DATA),
        links=[link("ECTS 2021: managing the discontinuation of denosumab", ECTS_2021)],
    )


CARD_FOR_TOPIC: dict[Topic, Callable[[Finding, NewUuid], Json]] = {
    Topic.RENAL_ANTIRESORPTIVE: renal_card,
    Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE: vitamin_d_calcium_card,
    Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT: dose_adjustment_card,
    Topic.ROMOSOZUMAB_CARDIOVASCULAR: cardiovascular_card,
    Topic.DUPLICATE_ANTIRESORPTIVE: duplicate_card,
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
    verdicts = dict.fromkeys(
        RENAL_VERDICTS.get(label_key(finding, drug), RENAL_VERDICTS.get(drug, NOT_RECOMMENDED))
        for drug in finding.drugs
        if not (critical and drug == "zoledronic acid")
    )
    if critical:
        verdicts = {"contraindicated": None, **verdicts}
    return "; ".join(verdicts) or NOT_RECOMMENDED


def renal_action(finding: Finding) -> str:
    """Say what to do first, as the label puts it: do not give, avoid, check calcium; "Review" when they differ."""
    actions = {drug_action(finding, drug) for drug in finding.drugs}
    return actions.pop() if len(actions) == 1 else "Review"


def drug_action(finding: Finding, drug: str) -> str:
    """Say what a drug's label asks for below its renal limit."""
    if drug == "zoledronic acid" and finding.indicator is Indicator.CRITICAL:
        return "Do not give"
    if drug == "denosumab":
        prolia = label_key(finding, drug) is not Regimen.DENOSUMAB_120MG
        return "Check calcium and CKD-MBD before" if prolia else "Check calcium before"
    if drug == "romosozumab":
        return "Monitor calcium with"
    return "Avoid"


def sentence_case(text: str) -> str:
    """Capitalise the first letter only."""
    return text[:1].upper() + text[1:]


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
    bisphosphonates = [d for d in finding.drugs if d not in ("denosumab", "romosozumab")]
    steps = [RECHECK_RENAL] if finding.measurements else []
    if "zoledronic acid" in drugs:
        steps.append(
            "Do not give zoledronic acid while creatinine clearance is below the limit; rule out acute"
            " renal impairment."
        )
    elif bisphosphonates:
        steps.append(
            f"Hold {escape_markdown(join_names(bisphosphonates))} or choose another option unless"
            " creatinine clearance is at or above the limit."
        )
    if "denosumab" in drugs:
        regimen = denosumab_regimen(finding.order).regimen if finding.order else Regimen.DENOSUMAB_UNKNOWN
        steps.append(XGEVA_WORKUP if regimen is Regimen.DENOSUMAB_120MG else DENOSUMAB_WORKUP)
    if "romosozumab" in drugs:
        steps.append(ROMOSOZUMAB_WORKUP)
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


def label_key(finding: Finding, drug: str) -> str:
    """Return the key of the label that applies: the regimen for zoledronic acid and denosumab, else the drug."""
    if drug == "zoledronic acid":
        return zoledronic_acid_regimen(finding.order).regimen if finding.order else Regimen.ZOLEDRONIC_ACID_UNKNOWN
    if drug == "denosumab":
        return denosumab_regimen(finding.order).regimen if finding.order else Regimen.DENOSUMAB_UNKNOWN
    return drug


def labelled_limits_section(finding: Finding) -> str:
    """Quote what the label of each drug involved says about renal function."""
    lines = [RENAL_LABELS[key] for drug in finding.drugs if (key := label_key(finding, drug)) in RENAL_LABELS]
    return "**What the label says**\n" + bullets(lines) if lines else ""


def label_links(finding: Finding) -> list[Json]:
    """Link to the DailyMed labels of the drugs involved."""
    return [
        link(f"DailyMed: {drug} prescribing information", DAILYMED_SEARCH + quote_plus(drug))
        for drug in finding.drugs
        if label_key(finding, drug) in RENAL_LABELS
    ]


def mineral_tests_suggestion(finding: Finding, new_uuid: NewUuid) -> Json | None:
    """Offer 25-OH vitamin D and calcium, to confirm the values or recheck them after correction."""
    if not finding.patient_id:
        return None
    return order_suggestion("Order 25-OH vitamin D and calcium", (VITAMIN_D, CALCIUM), finding, new_uuid)
