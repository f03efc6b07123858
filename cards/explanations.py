"""The page behind each card's `source.url`: what the card means, when it fires and where its rule comes from."""

from __future__ import annotations

from html import escape

from cards.vocabulary import TOPIC_DISPLAYS
from hooks.findings import Topic

EXPLANATIONS: dict[Topic, tuple[str, ...]] = {
    Topic.HPP_ANTIRESORPTIVE: (
        "Hypophosphatasia (a diagnosis, or asfotase alfa in use) is on record and an antiresorptive is ordered or "
        "in use. Antiresorptives suppress bone turnover in a skeleton that already mineralises poorly and are "
        "linked to atypical femoral fractures in hypophosphatasia (Khan 2024).",
        "Denosumab is never simply stopped: stopping it causes rebound vertebral fractures, so the card asks for "
        "a transition plan (Prolia label; ECTS position statement, Tsourdi 2021).",
    ),
    Topic.LOW_ALP_ANTIRESORPTIVE: (
        "Total ALP has been low on at least two occasions 30 days apart. Persistently low ALP (most months low, "
        "Ng 2023) is a warning before an antiresorptive; recurrently low ALP alone, or a finished and normal "
        "work-up, is information. An elevated pyridoxal 5'-phosphate or phosphoethanolamine makes it critical.",
        "Limits: the lab's own lower limit capped at 40 U/L, else 35 U/L in adults (Tornero 2020); age- and "
        "sex-specific limits in children (CALIPER on Roche, Estey 2013).",
    ),
    Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE: (
        "One low ALP, or lows too close together to call persistent, with no normal value since: repeat ALP "
        "before starting the antiresorptive, since single lows are often transient (McKiernan 2014).",
    ),
    Topic.LOW_ALP_UNEVALUATED: (
        "ALP has been persistently low and no hypophosphatasia work-up (pyridoxal 5'-phosphate, urine "
        "phosphoethanolamine, ALPL gene test) is on file. Low ALP is recognised in about 3% of cases "
        "(Maman 2016).",
    ),
    Topic.HPP_LIKELY: (
        "Persistently low ALP with an elevated ALP substrate is consistent with hypophosphatasia (a major "
        "criterion of the 2024 international working group, Khan 2024): refer, and avoid antiresorptives.",
    ),
    Topic.RENAL_ANTIRESORPTIVE: (
        "Renal function is below the labelled limit of the antiresorptive ordered. Labels are written in "
        "creatinine clearance (Cockcroft-Gault); eGFR stands in for it only when no clearance is available.",
    ),
    Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE: (
        "Hypocalcaemia must be corrected before any antiresorptive (a labelled contraindication of most), and "
        "vitamin D repleted to at least 20 ng/mL (50 nmol/L).",
    ),
    Topic.WILSON_ALF: (
        "Acute liver failure with ALP/bilirubin below 4 and AST/ALT above 2.2 suggests Wilson disease "
        "(Korman 2008): an emergency needing urgent hepatology and transplant referral.",
    ),
    Topic.LOW_ALP_ON_THERAPY: (
        "Every low ALP was drawn during antiresorptive therapy, which itself lowers ALP, and the latest ALP "
        "before therapy was normal: the lows are expected and need no change on their own.",
    ),
    Topic.LOW_ALP_ACUTE_ILLNESS: (
        "Every low ALP was drawn during one inpatient or emergency stay. Acute illness, surgery, bypass and "
        "transfusion lower ALP for a while (McKiernan 2014): repeat it after recovery.",
    ),
    Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT: (
        "Zoledronic acid 4 mg (the oncology regimen) is dosed by baseline creatinine clearance: 3.5 mg at 50-60, "
        "3.3 mg at 40-49, 3.0 mg at 30-39 mL/min, not recommended below 30 (Zometa label).",
    ),
    Topic.ROMOSOZUMAB_CARDIOVASCULAR: (
        "Romosozumab carries a boxed warning: do not start it within a year of a myocardial infarction or a "
        "stroke (Evenity label).",
    ),
    Topic.DUPLICATE_ANTIRESORPTIVE: (
        "Two different antiresorptives at once: usually a planned switch whose other order should be stopped. "
        "Denosumab is never stopped without a follow-on treatment (Tsourdi 2021).",
    ),
}


def explanation_page(topic: Topic) -> str:
    """Return a small self-contained HTML page that explains one card topic."""
    title = TOPIC_DISPLAYS.get(topic, topic.value)
    paragraphs = "".join(f"<p>{escape(text)}</p>" for text in EXPLANATIONS.get(topic, ()))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>ALP Guard: {escape(title)}</title></head><body style="font-family:sans-serif;max-width:40em">'
        f"<h1>{escape(title)}</h1>{paragraphs}<p>Card topic code <code>{escape(topic.value)}</code> "
        "(http://alp-guard.org/fhir/CodeSystem/card-topic).</p></body></html>"
    )
