"""The four ALP Guard cards: what each says, suggests and cites."""

from __future__ import annotations

from collections.abc import Callable, Iterable

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
from cards.spec import SUMMARY_MAX_CHARS, Json, action_create, card, suggestion
from cards.text import (
    alp_table,
    alp_value_text,
    bullets,
    escape_markdown,
    fill_name,
    iso_date,
    measurement_table,
    shorten,
    uninterpretable_lines,
)
from cards.vocabulary import (
    HPP_EXCLUDED,
    INCORRECT_DATA,
    KHAN_2024,
    MCKIERNAN_2014,
    NG_2023,
    REPEAT_NORMAL,
    RIANCHO_2023,
    SECONDARY_CAUSE,
    SPECIALIST_ADVISED,
    alp_guard_source,
    literature,
    override_reasons,
)
from cards.workup import (
    ALPL_SEQUENCING,
    REPEAT_ALP,
    LabTest,
    hpp_workup,
    needs_genetics,
    service_request,
)
from hooks.findings import AlpAssessment, Finding, Indicator, JudgedAlp, Pattern, Topic

LOW_ALP_BY_PATTERN = {
    Pattern.PERSISTENT: "Persistently low ALP",
    Pattern.RECURRENT: "Recurrently low ALP",
}

WHY_IT_MATTERS = (
    "Hypophosphatasia (HPP) is often misdiagnosed as osteoporosis, and antiresorptives can worsen it"
    " (atypical femoral fractures).",
    "About half of adults with unexplained, persistently low ALP carry an *ALPL* variant"
    " (Riancho-Zarrabeitia 2016: 21 of 42; Tornero 2020: 47%).",
    "Low ALP is recognised in only about 3% of cases (Maman 2016).",
)
SUBSTRATE_AND_MINERAL_TESTS = (
    "pyridoxal 5'-phosphate (stop vitamin B6 supplements a week before), urine phosphoethanolamine,"
    " calcium, phosphate, PTH and 25-OH vitamin D"
)
REFERRAL = "referral to metabolic bone disease or endocrinology"
SECONDARY_CAUSES = (
    "**Acute:** acute illness, surgery or cardiopulmonary bypass, massive transfusion",
    "**Nutritional:** malnutrition, zinc or magnesium deficiency, vitamin B12 deficiency or pernicious"
    " anaemia, coeliac disease",
    "**Endocrine and genetic:** hypothyroidism, Wilson disease",
    "**Drugs:** oestrogens or oral contraceptives, glucocorticoids, clofibrate, antiresorptive therapy itself",
    "**Sample:** EDTA contamination",
)


def hpp_antiresorptive_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Warn that hypophosphatasia is on record, so the antiresorptive should be avoided."""
    return card(
        uuid=new_uuid(),
        summary=fill_name(
            "Hypophosphatasia on record: review {name} in use (antiresorptives can worsen HPP)"
            if in_use(finding)
            else "Hypophosphatasia on record: avoid {name} (antiresorptives can worsen HPP)",
            drug_names(finding),
            SUMMARY_MAX_CHARS,
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            notes_section(finding),
            hpp_evidence_section(finding.hpp_evidence),
            "**ALP is not interpreted.** With hypophosphatasia on record or asfotase alfa in use, ALP no"
            " longer reflects the disease: asfotase alfa is an ALP enzyme and raises measured ALP.",
            f"**Why avoid {drug_markdown(finding)}**\n"
            + bullets(
                (
                    "Antiresorptives (bisphosphonates, denosumab) suppress bone turnover in a skeleton that"
                    " already mineralises poorly.",
                    "In hypophosphatasia they are linked to atypical femoral fractures and can worsen impaired"
                    " mineralisation.",
                )
            ),
            "**What to do**\n"
            + bullets(
                (
                    f"Review {drug_markdown(finding)} with a metabolic bone specialist; consider stopping it."
                    if in_use(finding)
                    else f"Do not start {drug_markdown(finding)}.",
                    "Ask a metabolic bone specialist before starting any bone-active drug.",
                )
            ),
        ),
        suggestions=present(remove_order_suggestion(finding, new_uuid, recommended=True)),
        override_reasons=override_reasons(SPECIALIST_ADVISED, INCORRECT_DATA),
        links=literature(KHAN_2024),
    )


def low_alp_antiresorptive_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Warn that low ALP must be explained, and hypophosphatasia ruled out, before an antiresorptive."""
    alp = low_alp_assessment(finding)
    return card(
        uuid=new_uuid(),
        summary=fill_name(
            f"{low_alp_pattern(alp)} ({low_alp_counts(alp)}) on {{name}}: rule out hypophosphatasia"
            if in_use(finding)
            else f"{low_alp_pattern(alp)} ({low_alp_counts(alp)}): rule out hypophosphatasia before {{name}}",
            drug_names(finding),
            SUMMARY_MAX_CHARS,
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            notes_section(finding),
            results_section("ALP substrates (elevated when ALP is deficient)", finding),
            alp_results_section(alp),
            why_it_matters_section(finding),
            "**What to do**\n"
            + bullets(
                (
                    f"Review whether to continue {drug_markdown(finding)} until the low ALP is explained."
                    if in_use(finding)
                    else f"Hold {drug_markdown(finding)} until the low ALP is explained.",
                    *persistent_low_alp_workup_steps(alp),
                )
            ),
            secondary_causes_section(),
        ),
        suggestions=present(
            # Removal is the recommended choice only when the rules judged the risk critical.
            remove_order_suggestion(finding, new_uuid, recommended=finding.indicator is Indicator.CRITICAL),
            workup_suggestion("Order the HPP work-up", hpp_workup(alp.pattern), finding, new_uuid),
        ),
        override_reasons=override_reasons(HPP_EXCLUDED, SECONDARY_CAUSE, SPECIALIST_ADVISED, INCORRECT_DATA),
        links=literature(KHAN_2024, NG_2023, RIANCHO_2023),
    )


def single_low_alp_antiresorptive_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Advise repeating a single low ALP before an antiresorptive is started."""
    alp = low_alp_assessment(finding)
    return card(
        uuid=new_uuid(),
        summary=fill_name(
            f"{single_low_alp_phrase(alp)}: repeat ALP before starting {{name}}",
            drug_names(finding),
            SUMMARY_MAX_CHARS,
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            notes_section(finding),
            alp_results_section(alp),
            why_it_matters_section(finding),
            "**What to do**\n"
            + bullets(
                (
                    f"Repeat ALP before starting {drug_markdown(finding)}: a single low value is often transient.",
                    f"If ALP is low again, check {SUBSTRATE_AND_MINERAL_TESTS}.",
                    f"If low ALP persists: *ALPL* gene sequencing and {REFERRAL}.",
                )
            ),
            secondary_causes_section(),
        ),
        suggestions=present(
            workup_suggestion("Order a repeat ALP", (REPEAT_ALP,), finding, new_uuid),
            remove_order_suggestion(finding, new_uuid, recommended=False),
        ),
        override_reasons=override_reasons(REPEAT_NORMAL, SECONDARY_CAUSE, HPP_EXCLUDED, INCORRECT_DATA),
        links=literature(RIANCHO_2023, MCKIERNAN_2014, NG_2023),
    )


def low_alp_unevaluated_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Point out a persistently low ALP that nobody has evaluated for hypophosphatasia."""
    alp = low_alp_assessment(finding)
    return card(
        uuid=new_uuid(),
        summary=(
            f"{low_alp_pattern(alp)} ({low_alp_counts(alp)}) not evaluated: consider hypophosphatasia work-up"
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            notes_section(finding),
            alp_results_section(alp),
            why_it_matters_section(finding),
            "**What to do**\n" + bullets(persistent_low_alp_workup_steps(alp)),
            secondary_causes_section(),
        ),
        suggestions=present(
            workup_suggestion("Order the HPP work-up", hpp_workup(alp.pattern), finding, new_uuid),
        ),
        override_reasons=override_reasons(HPP_EXCLUDED, SECONDARY_CAUSE, INCORRECT_DATA),
        links=literature(KHAN_2024, NG_2023, RIANCHO_2023),
    )




def workup_suggestion(label: str, tests: Iterable[LabTest], finding: Finding, new_uuid: NewUuid) -> Json:
    """Offer to order these tests together, as the recommended next step."""
    return suggestion(
        label,
        [action_create(f"Order {test.name}", service_request(test, finding.patient_id)) for test in tests],
        uuid=new_uuid(),
        recommended=True,
    )


def low_alp_assessment(finding: Finding) -> AlpAssessment:
    """Return the finding's ALP assessment, refusing one without a low result to report."""
    if finding.alp is None or finding.alp.lowest is None:
        raise ValueError(f"a {finding.topic.value} card needs an ALP assessment with a low result")
    return finding.alp


def lowest_low(alp: AlpAssessment) -> JudgedAlp:
    """Return the lowest low ALP result, refusing an assessment without one."""
    if alp.lowest is None:
        raise ValueError("no low ALP result to report")
    return alp.lowest


def low_alp_pattern(alp: AlpAssessment) -> str:
    """Name the pattern: persistently, recurrently or simply low ALP."""
    return LOW_ALP_BY_PATTERN.get(alp.pattern, "Low ALP")


def low_alp_counts(alp: AlpAssessment) -> str:
    """Count the low results and give the lowest, e.g. "3 of 4 results, lowest 28 U/L"."""
    return f"{len(alp.lows)} of {len(alp.judged)} results, lowest {alp_value_text(lowest_low(alp))} U/L"


def single_low_alp_phrase(alp: AlpAssessment) -> str:
    """Describe a single low ALP, or lows too close together to call persistent."""
    lowest = lowest_low(alp)
    value = f"{alp_value_text(lowest)} U/L on {iso_date(lowest.effective)}"
    if len(alp.lows) == 1:
        return f"One low ALP ({value})"
    return f"{len(alp.lows)} low ALP results close together (lowest {value})"


def hpp_evidence_section(evidence: Iterable[str]) -> str:
    """List why hypophosphatasia is considered on record."""
    lines = [escape_markdown(e) for e in evidence if e.strip()]
    return "**Hypophosphatasia on record**\n" + bullets(lines) if lines else ""


def alp_results_section(alp: AlpAssessment) -> str:
    """Show the ALP results behind the card and any that could not be used."""
    months = (
        f"; low in {alp.low_months} of {alp.months_with_results} months with a result"
        if alp.months_with_results
        else ""
    )
    heading = f"**ALP results** ({len(alp.lows)} of {len(alp.judged)} low{months})"
    unusable = uninterpretable_lines(alp.uninterpretable)
    return sections(
        heading + "\n\n" + alp_table(alp.results),
        "**Not used**\n" + bullets(unusable) if unusable else "",
        bone_specific_section(alp),
    )


def why_it_matters_section(finding: Finding) -> str:
    """Explain why a low ALP matters, before the antiresorptive when one is ordered."""
    before = f" before {drug_markdown(finding)}" if finding.order is not None else ""
    return f"**Why this matters{before}**\n" + bullets(WHY_IT_MATTERS)


def in_use(finding: Finding) -> bool:
    """Tell whether the antiresorptive is already in use (patient-view) rather than being ordered."""
    return finding.order is None and bool(finding.drugs)


def bone_specific_section(alp: AlpAssessment) -> str:
    """Show bone-specific ALP as supporting data: a different measurand, never counted."""
    if not alp.bone_specific:
        return ""
    return "**Bone-specific ALP** (supporting data, not counted)\n\n" + measurement_table(alp.bone_specific)


def hpp_likely_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Say that persistently low ALP with an elevated substrate is consistent with hypophosphatasia."""
    alp = low_alp_assessment(finding)
    return card(
        uuid=new_uuid(),
        summary=shorten(
            f"{low_alp_pattern(alp)} ({low_alp_counts(alp)}) and elevated ALP substrate: hypophosphatasia"
            " likely; avoid antiresorptives",
            SUMMARY_MAX_CHARS,
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            notes_section(finding),
            results_section("ALP substrates (elevated when ALP is deficient)", finding),
            alp_results_section(alp),
            "**What this means**\n"
            + bullets(
                (
                    "Persistently low ALP with raised pyridoxal 5'-phosphate or phosphoethanolamine is consistent"
                    " with hypophosphatasia (a major criterion of the 2024 international working group).",
                    "Avoid bisphosphonates, denosumab and romosozumab until a specialist has reviewed it:"
                    " they can worsen hypophosphatasia (atypical femoral fractures).",
                )
            ),
            "**What to do**\n"
            + bullets(("*ALPL* gene sequencing.", f"Arrange {REFERRAL}.", "Check vitamin B6 supplements: they raise PLP.")),
        ),
        suggestions=present(
            workup_suggestion("Order ALPL gene sequencing", (ALPL_SEQUENCING,), finding, new_uuid),
        ),
        override_reasons=override_reasons(HPP_EXCLUDED, SECONDARY_CAUSE, INCORRECT_DATA),
        links=literature(KHAN_2024, RIANCHO_2023),
    )


def persistent_low_alp_workup_steps(alp: AlpAssessment) -> tuple[str, ...]:
    """List the work-up for a low ALP that keeps coming back."""
    genetics = ("*ALPL* gene sequencing.",) if needs_genetics(alp.pattern) else ()
    return (
        "Repeat ALP.",
        f"Check {SUBSTRATE_AND_MINERAL_TESTS}.",
        *genetics,
        f"Arrange {REFERRAL}.",
    )


def secondary_causes_section() -> str:
    """List the secondary causes of low ALP to exclude."""
    return "**Secondary causes to exclude**\n" + bullets(SECONDARY_CAUSES)


CARD_FOR_TOPIC: dict[Topic, Callable[[Finding, NewUuid], Json]] = {
    Topic.HPP_ANTIRESORPTIVE: hpp_antiresorptive_card,
    Topic.LOW_ALP_ANTIRESORPTIVE: low_alp_antiresorptive_card,
    Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE: single_low_alp_antiresorptive_card,
    Topic.LOW_ALP_UNEVALUATED: low_alp_unevaluated_card,
    Topic.HPP_LIKELY: hpp_likely_card,
}
