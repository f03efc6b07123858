"""The Wilson disease card: acute liver failure with Korman's ALP/bilirubin and AST/ALT pattern."""

from __future__ import annotations

from collections.abc import Callable

from cards.common import (
    NewUuid,
    order_suggestion,
    sections,
)
from cards.spec import SUMMARY_MAX_CHARS, Json, card
from cards.text import bullets, decimal_text, measurement_table
from cards.vocabulary import (
    INCORRECT_DATA,
    OverrideReason,
    Reference,
    alp_guard_source,
    literature,
    override_reasons,
)
from cards.wording import claim, criteria_lines, note_lines
from cards.workup import LabTest
from hooks.findings import Finding, Indicator, Measurement, Topic
from hooks.valuesets import ALP_TOTAL
from hooks.wilson import korman_met, lowered_for_age

KORMAN_2008 = Reference(
    "Korman 2008: screening for Wilson disease in acute liver failure (Hepatology 48:1167)",
    "https://doi.org/10.1002/hep.22446",
)
WILSON_EXCLUDED = OverrideReason("wilson-excluded", "Wilson disease already excluded")
OTHER_CAUSE = OverrideReason("other-cause", "Liver failure explained by another cause")

SERUM_COPPER = LabTest("5631-7", "Copper [Mass/volume] in Serum or Plasma", "Serum copper")
CERULOPLASMIN = LabTest("2064-4", "Ceruloplasmin [Mass/volume] in Serum or Plasma", "Ceruloplasmin")
WILSON_WORKUP = (SERUM_COPPER, CERULOPLASMIN)

URGENT = "Urgent Wilson work-up and transplant referral"
CONSIDER_WORKUP = "Consider the Wilson disease work-up"
CONSIDER = "Consider Wilson disease"

WHAT_IT_MEANS = (
    "Korman 2008 (Hepatology 48:1167, doi:10.1002/hep.22446; 140 patients with acute liver failure, 16 with"
    " Wilson disease): ALP (U/L) / total bilirubin (mg/dL) < 4 had sensitivity 94% and specificity 96%;"
    " AST/ALT > 2.2 had sensitivity 94% and specificity 86%; both together had 100% and 100%.",
    "The ratio needs bilirubin in mg/dL: in µmol/L it comes out about 17 times too small and falsely < 4.",
    "The ratios screen, they do not diagnose: they failed in a small cohort (Eisenbach 2007), and both were met"
    " in only 4 of 5 transplanted patients with Wilson acute liver injury (Camarata 2020).",
    "Wilson disease presenting as acute liver failure is usually fatal without liver transplantation.",
    "The service sees the INR and the liver tests only. Acute liver failure also needs encephalopathy and no"
    " pre-existing liver disease (AASLD position paper on acute liver failure, 2011 update): confirm both. The"
    " card is not shown when a current cirrhosis, chronic liver disease or alcohol-related liver disease is on"
    " record, since the ratios were validated in acute liver failure only.",
    "Most Wilson disease presents between ages 3 and 55 (AASLD 2008 Wilson disease guideline; EASL 2012"
    " guideline: mostly 5 to 35), but age alone does not exclude it: outside that range the card is one level"
    " lower.",
)
LOW_ALP_MEANING = (
    "A very low ALP is typical of Wilson disease presenting as acute liver failure, even when the ratios are not met."
)
WHAT_TO_DO = (
    "Refer urgently to hepatology and a liver transplant centre.",
    "Serum copper and 24-hour urine copper.",
    "Ceruloplasmin, knowing that it is unreliable in acute liver failure (low in any liver failure, raised as"
    " an acute-phase reactant).",
    "Haemolysis labs: CBC, haptoglobin and direct Coombs test (Wilson disease causes Coombs-negative haemolysis).",
    "Slit-lamp examination for Kayser-Fleischer rings.",
)


def wilson_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Report the Wilson disease pattern in acute liver failure and offer the copper work-up."""
    if finding.topic is not Topic.WILSON_ALF or not finding.measurements:
        raise ValueError("a wilson-alf card needs a wilson-alf finding with its measurements")
    return card(
        uuid=new_uuid(),
        summary=wilson_summary(finding),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            "**Results**\n\n" + measurement_table(finding.measurements),
            # Criteria and notes are the service's own sentences (numbers, dates and fixed words), not EHR text.
            "**Criteria**\n" + bullets(criteria_lines(finding)),
            "**What it means**\n" + bullets(what_it_means(finding)),
            "**What to do**\n" + bullets(WHAT_TO_DO),
            "**Notes**\n" + bullets(note_lines(finding)) if note_lines(finding) else "",
        ),
        suggestions=[workup_suggestion(finding, new_uuid)],
        override_reasons=override_reasons(WILSON_EXCLUDED, OTHER_CAUSE, INCORRECT_DATA),
        links=literature(KORMAN_2008),
    )


def wilson_summary(finding: Finding) -> str:
    """Say what to do, then how strong the pattern is, in fewer than 140 characters."""
    met = ", ".join(claim(c) for c in korman_met(finding))
    age = ", atypical age" if lowered_for_age(finding) else ""
    if finding.indicator is Indicator.CRITICAL:
        return fitting(
            f"{URGENT}: acute liver failure with the Wilson pattern ({met})",
            f"{URGENT}: acute liver failure with the Wilson pattern",
        )
    if finding.indicator is Indicator.WARNING and age:
        return fitting(
            f"{CONSIDER_WORKUP}: acute liver failure with the Wilson pattern ({met}){age}",
            f"{CONSIDER_WORKUP}: acute liver failure with the Wilson pattern{age}",
        )
    if finding.indicator is Indicator.WARNING:
        return fitting(
            f"{CONSIDER_WORKUP}: acute liver failure, one of two Wilson criteria met ({met})",
            f"{CONSIDER_WORKUP}: acute liver failure, one of two Wilson criteria met",
        )
    if age:
        return fitting(
            f"{CONSIDER}: acute liver failure, one of two Wilson criteria met ({met}){age}",
            f"{CONSIDER}: acute liver failure, one of two Wilson criteria met{age}",
        )
    alp = alp_measurement(finding)
    return fitting(
        f"{CONSIDER}: acute liver failure with ALP {decimal_text(alp.value)} U/L",
        f"{CONSIDER}: acute liver failure with a very low ALP",
    )


def fitting(*summaries: str) -> str:
    """Return the first summary short enough for a card, else the last one."""
    return next((s for s in summaries if len(s) <= SUMMARY_MAX_CHARS), summaries[-1])


def alp_measurement(finding: Finding) -> Measurement:
    """Return the finding's ALP, refusing a finding without one."""
    alp = next((m for m in finding.measurements if m.loinc in ALP_TOTAL), None)
    if alp is None:
        raise ValueError("a wilson-alf finding needs its ALP measurement")
    return alp


def what_it_means(finding: Finding) -> tuple[str, ...]:
    """Explain the evidence, adding what a very low ALP alone means."""
    return (*WHAT_IT_MEANS, LOW_ALP_MEANING) if finding.indicator is Indicator.INFO else WHAT_IT_MEANS


def workup_suggestion(finding: Finding, new_uuid: NewUuid) -> Json:
    """Offer to order serum copper and ceruloplasmin together."""
    return order_suggestion("Order the Wilson disease work-up", WILSON_WORKUP, finding, new_uuid, recommended=True)


CARD_FOR_TOPIC: dict[Topic, Callable[[Finding, NewUuid], Json]] = {Topic.WILSON_ALF: wilson_card}
