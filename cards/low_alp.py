"""The HPP and low-ALP cards: the action first, then the numbers, then the why; the full ALP list kept below."""

from __future__ import annotations

from collections.abc import Callable, Iterable

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
from cards.spec import SUMMARY_MAX_CHARS, Json, card
from cards.text import (
    alp_table,
    alp_value_text,
    bullets,
    decimal_text,
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
    TSOURDI_2021,
    alp_guard_source,
    literature,
    override_reasons,
)
from cards.wording import source_verb
from cards.workup import ALPL_SEQUENCING, REPEAT_ALP, hpp_workup, needs_genetics
from hooks.findings import AlpAssessment, Finding, Indicator, JudgedAlp, Pattern, Topic
from hooks.secondary_causes import SecondaryCause
from hooks.substrates import workup_complete
from hooks.therapy import Therapy

LOW_ALP_BY_PATTERN = {
    Pattern.PERSISTENT: "Persistently low ALP",
    Pattern.RECURRENT: "Recurrently low ALP",
}
HPP_HARM = (
    "Hypophosphatasia (HPP) is often taken for osteoporosis, and antiresorptives can worsen it (atypical femoral"
    " fractures)."
)
VARIANT_FIGURE = (
    "About half of adults with unexplained, persistently low ALP carry an *ALPL* variant (Riancho-Zarrabeitia 2016:"
    " 21 of 42; Tornero 2020: 47%)."
)
RECOGNITION = "Low ALP is recognised in only about 3% of cases (Maman 2016)."
CHILD_HPP = (
    "In children, hypophosphatasia causes rickets-like bone disease, early loss of milk teeth, poor growth and bone"
    " pain, and low ALP is rarely flagged by laboratories."
)
DENOSUMAB_REBOUND = (
    "Stopping denosumab causes rebound bone loss and multiple vertebral fractures within months (Prolia label; ECTS"
    " position statement, Tsourdi 2021, JCEM 106:264): do not stop it without a transition plan, such as another"
    " antiresorptive 6 months after the last dose, or a metabolic bone specialist's advice."
)
DENOSUMAB_FIRST_DOSE = (
    "Not giving a first dose of denosumab is safe; once it has been given, stopping it causes rebound vertebral"
    " fractures unless a transition plan is in place (Prolia label; Tsourdi 2021)."
)
ADULT_REFERRAL = "a metabolic bone disease or endocrinology clinic"
CHILD_REFERRAL = "paediatric endocrinology or a paediatric metabolic bone service"
SECONDARY_CAUSES = (
    "acute illness, surgery or cardiopulmonary bypass, massive transfusion; malnutrition, zinc or magnesium"
    " deficiency, vitamin B12 deficiency, coeliac disease; hypothyroidism, Wilson disease; oestrogens,"
    " glucocorticoids, fibrates, antiresorptive therapy itself; EDTA contamination of the sample"
)
CAUSE_SHOWN_AS = {
    "glucocorticoid": "a glucocorticoid",
    "fibrate": "a fibrate",
    "oestrogen": "an oestrogen",
    "low magnesium": "low magnesium",
    "low zinc": "low zinc",
}


def hpp_antiresorptive_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Warn that hypophosphatasia is on record, so the antiresorptive should be avoided."""
    denosumab_continuing = is_denosumab(finding) and after_denosumab(finding)
    if denosumab_continuing:
        action = "Do not stop denosumab abruptly: plan its future with a metabolic bone specialist."
        summary = "Hypophosphatasia on record: plan denosumab with a specialist; do not stop it abruptly"
    elif in_use(finding):
        action = f"Review {drug_markdown(finding)} with a metabolic bone specialist: hypophosphatasia is on record."
        summary = fill_name(
            "Hypophosphatasia on record: review {name} in use (antiresorptives can worsen HPP)",
            drug_names(finding),
            SUMMARY_MAX_CHARS,
        )
    else:
        action = f"Do not start {drug_markdown(finding)}: hypophosphatasia is on record."
        summary = fill_name(
            "Hypophosphatasia on record: avoid {name} (antiresorptives can worsen HPP)",
            drug_names(finding),
            SUMMARY_MAX_CHARS,
        )
    return card(
        uuid=new_uuid(),
        summary=summary,
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            f"**{action}**",
            hpp_evidence_section(finding.hpp_evidence),
            therapy_line(finding),
            bullets(
                (
                    HPP_HARM,
                    "ALP is not interpreted: with hypophosphatasia on record or asfotase alfa (an ALP enzyme) in use,"
                    " it no longer reflects the disease.",
                    *denosumab_lines(finding),
                    "Ask a metabolic bone specialist before starting any bone-active drug.",
                )
            ),
            notes_section(finding),
        ),
        suggestions=present(removal(finding, new_uuid, recommended=not denosumab_continuing)),
        override_reasons=override_reasons(SPECIALIST_ADVISED, INCORRECT_DATA),
        links=literature(KHAN_2024, *((TSOURDI_2021,) if is_denosumab(finding) else ())),
    )


def low_alp_antiresorptive_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Warn that low ALP must be explained, and hypophosphatasia ruled out, before an antiresorptive."""
    alp = low_alp_assessment(finding)
    critical = finding.indicator is Indicator.CRITICAL
    warning = finding.indicator is Indicator.WARNING
    return card(
        uuid=new_uuid(),
        summary=low_alp_summary(finding, alp),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            f"**{low_alp_action(finding)}**",
            numbers_line(alp),
            therapy_line(finding),
            results_section("ALP substrates (raised when ALP is deficient)", finding),
            normal_workup_section(finding),
            bullets(why_lines(finding)),
            secondary_causes_section(finding),
            "**ALP results**\n" + alp_table(alp.results),
            not_used_section(alp),
            notes_section(finding),
        ),
        suggestions=present(
            # Denosumab already given is never offered for removal here: an unplanned stop is the greater harm.
            removal(finding, new_uuid, recommended=critical and not after_denosumab(finding))
            if (critical or warning) and not (is_denosumab(finding) and after_denosumab(finding))
            else None,
            workup_suggestion(finding, new_uuid),
            genetics_suggestion(finding, new_uuid),
        ),
        override_reasons=override_reasons(HPP_EXCLUDED, SECONDARY_CAUSE, SPECIALIST_ADVISED, INCORRECT_DATA),
        links=literature(KHAN_2024, NG_2023, RIANCHO_2023, *((TSOURDI_2021,) if after_denosumab(finding) else ())),
    )


def low_alp_on_therapy_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Say that low ALP drawn on antiresorptive therapy, after a normal pre-treatment ALP, is expected."""
    alp = low_alp_assessment(finding)
    before = alp.pre_treatment
    assert before is not None
    return card(
        uuid=new_uuid(),
        summary=shorten(
            f"Low ALP on antiresorptive therapy, expected: pre-treatment ALP {alp_value_text(before)} U/L"
            f" ({iso_date(before.effective)}) was normal",
            SUMMARY_MAX_CHARS,
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            "**No change is needed for these low values alone: antiresorptives lower ALP.**",
            f"Every low ALP was drawn on antiresorptive therapy. The latest ALP before therapy was"
            f" {alp_value_text(before)} U/L on {iso_date(before.effective)}, clearly normal.",
            therapy_line(finding),
            bullets(
                (
                    "Check the pre-treatment value above is the patient's own baseline.",
                    "Think again of hypophosphatasia if ALP stays low after therapy stops, or with an atypical femoral"
                    " fracture, pseudofractures or unexplained bone pain.",
                    *((DENOSUMAB_REBOUND,) if after_denosumab(finding) else ()),
                )
            ),
            "**ALP results**\n" + alp_table(alp.results),
            notes_section(finding),
        ),
        override_reasons=override_reasons(HPP_EXCLUDED, INCORRECT_DATA),
        links=literature(RIANCHO_2023),
    )


def low_alp_acute_illness_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Advise repeating ALP after recovery when every low value came from one acute stay."""
    alp = low_alp_assessment(finding)
    stay = alp.acute_stay
    assert stay is not None and stay.start is not None
    until = f" to {iso_date(stay.end)}" if stay.end else ", ongoing"
    return card(
        uuid=new_uuid(),
        summary=shorten(
            f"Low ALP only during an acute stay from {iso_date(stay.start)}: repeat ALP after recovery",
            SUMMARY_MAX_CHARS,
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            "**Repeat ALP after recovery before reading it as hypophosphatasia.**",
            (f"All {len(alp.lows)} low results were" if len(alp.lows) > 1 else "The low result was")
            + f" drawn during one hospital or emergency stay ({iso_date(stay.start)}{until}).",
            bullets(
                (
                    "Acute illness, surgery, cardiopulmonary bypass and transfusion lower ALP for a while (McKiernan"
                    " 2014, acute hypophosphatasemia).",
                    *(
                        (
                            f"Starting {drug_markdown(finding)} need not wait for this alone; hold it if the repeat"
                            " ALP is low again.",
                        )
                        if finding.order is not None and not after_denosumab(finding)
                        else ()
                    ),
                    *(
                        ("Do not delay the next denosumab dose for this.",)
                        if is_denosumab(finding) and after_denosumab(finding)
                        else ()
                    ),
                    *((DENOSUMAB_REBOUND,) if after_denosumab(finding) else ()),
                )
            ),
            "**ALP results**\n" + alp_table(alp.results),
            notes_section(finding),
        ),
        suggestions=[order_suggestion("Order a repeat ALP", (REPEAT_ALP,), finding, new_uuid, recommended=True)],
        override_reasons=override_reasons(REPEAT_NORMAL, SECONDARY_CAUSE, INCORRECT_DATA),
        links=literature(MCKIERNAN_2014, RIANCHO_2023),
    )


def single_low_alp_antiresorptive_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Advise repeating a single low ALP before an antiresorptive is started."""
    alp = low_alp_assessment(finding)
    return card(
        uuid=new_uuid(),
        summary=fill_name(
            f"{single_low_alp_phrase(alp)}: repeat ALP before starting {{name}}", drug_names(finding), SUMMARY_MAX_CHARS
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            "**Repeat ALP, and do not delay the next denosumab dose for it: a single low value is often transient.**"
            if is_denosumab(finding) and after_denosumab(finding)
            else f"**Repeat ALP before starting {drug_markdown(finding)}: a single low value is often transient.**",
            numbers_line(alp),
            bullets(
                (
                    f"If ALP is low again, check pyridoxal 5'-phosphate, urine phosphoethanolamine, calcium, phosphate,"
                    f" PTH, 25-OH vitamin D, magnesium and zinc, and refer to {referral(finding)}.",
                    *denosumab_lines(finding),
                )
            ),
            secondary_causes_section(finding),
            "**ALP results**\n" + alp_table(alp.results),
            not_used_section(alp),
            notes_section(finding),
        ),
        suggestions=present(
            order_suggestion("Order a repeat ALP", (REPEAT_ALP,), finding, new_uuid, recommended=True),
            None if after_denosumab(finding) else removal(finding, new_uuid, recommended=False),
        ),
        override_reasons=override_reasons(REPEAT_NORMAL, SECONDARY_CAUSE, HPP_EXCLUDED, INCORRECT_DATA),
        links=literature(RIANCHO_2023, MCKIERNAN_2014, NG_2023),
    )


def low_alp_unevaluated_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Point out a persistently low ALP that nobody has evaluated for hypophosphatasia."""
    alp = low_alp_assessment(finding)
    return card(
        uuid=new_uuid(),
        summary=f"{low_alp_pattern(alp)} ({low_alp_counts(alp)}) not evaluated: consider hypophosphatasia work-up",
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            "**Consider a hypophosphatasia work-up: this low ALP has not been evaluated.**",
            numbers_line(alp),
            bullets(why_lines(finding)),
            secondary_causes_section(finding),
            "**ALP results**\n" + alp_table(alp.results),
            not_used_section(alp),
            notes_section(finding),
        ),
        suggestions=present(workup_suggestion(finding, new_uuid), genetics_suggestion(finding, new_uuid)),
        override_reasons=override_reasons(HPP_EXCLUDED, SECONDARY_CAUSE, INCORRECT_DATA),
        links=literature(KHAN_2024, NG_2023, RIANCHO_2023),
    )


def hpp_likely_card(finding: Finding, new_uuid: NewUuid) -> Json:
    """Say that persistently low ALP with an elevated substrate is consistent with hypophosphatasia."""
    alp = low_alp_assessment(finding)
    return card(
        uuid=new_uuid(),
        summary=shorten(
            f"{low_alp_pattern(alp)} ({low_alp_counts(alp)}) and elevated ALP substrate:"
            " hypophosphatasia likely; avoid antiresorptives",
            SUMMARY_MAX_CHARS,
        ),
        indicator=finding.indicator,
        source=alp_guard_source(finding.topic),
        detail=sections(
            (
                f"**Refer to {referral(finding)} before the next denosumab dose is due: do not let it lapse without a"
                " plan.**"
                if finding.prior_denosumab
                else f"**Refer to {referral(finding)}, and avoid bisphosphonates, denosumab and romosozumab"
                " until then.**"
            ),
            numbers_line(alp),
            results_section("ALP substrates (raised when ALP is deficient)", finding),
            bullets(
                (
                    "Persistently low ALP with raised pyridoxal 5'-phosphate or phosphoethanolamine is consistent with"
                    " hypophosphatasia (a major criterion of the 2024 international working group, Khan 2024).",
                    "*ALPL* gene sequencing follows, after genetic counselling.",
                    *((DENOSUMAB_REBOUND,) if finding.prior_denosumab else ()),
                )
            ),
            "**ALP results**\n" + alp_table(alp.results),
            notes_section(finding),
        ),
        suggestions=present(genetics_suggestion(finding, new_uuid, recommended=True)),
        override_reasons=override_reasons(HPP_EXCLUDED, SECONDARY_CAUSE, INCORRECT_DATA),
        links=literature(KHAN_2024, RIANCHO_2023),
    )


# --- the pieces ----------------------------------------------------------------------------------------------


def low_alp_action(finding: Finding) -> str:
    """Write the one line that says what to do about a low ALP with this antiresorptive."""
    drug = drug_markdown(finding)
    indicator = finding.indicator
    denosumab_continuing = is_denosumab(finding) and (finding.continuing or in_use(finding))
    if indicator is Indicator.INFO:
        if workup_is_normal(finding):
            return f"The HPP work-up on file is normal: {drug} need not wait for the low ALP."
        return f"Recheck ALP; this pattern alone does not hold back {drug}."
    if denosumab_continuing:
        return (
            "Do not stop denosumab abruptly: ask a metabolic bone specialist before the next dose, and work up"
            " the low ALP."
        )
    if finding.prior_denosumab and not in_use(finding):
        return (
            f"Ask a metabolic bone specialist before holding {drug}: after denosumab, leaving the patient"
            " untreated risks rebound vertebral fractures."
        )
    if indicator is Indicator.CRITICAL:
        return (
            f"Review {drug} with a metabolic bone specialist: low ALP with a raised ALP substrate suggests"
            " hypophosphatasia."
            if in_use(finding)
            else f"Do not start {drug}: low ALP with a raised ALP substrate suggests hypophosphatasia."
        )
    return (
        f"Review whether to continue {drug} until the low ALP is explained."
        if in_use(finding)
        else f"Hold {drug} until the low ALP is explained."
    )


def low_alp_summary(finding: Finding, alp: AlpAssessment) -> str:
    """Write the summary: the pattern and its numbers, then the action."""
    counts = f"{low_alp_pattern(alp)} ({low_alp_counts(alp)})"
    if finding.indicator is Indicator.INFO:
        reason = "HPP work-up normal" if workup_is_normal(finding) else "recheck ALP"
        return fill_name(f"{counts}: {reason}; {{name}} not held back", drug_names(finding), SUMMARY_MAX_CHARS)
    if is_denosumab(finding) and (finding.continuing or in_use(finding)):
        return shorten(f"{counts}: rule out hypophosphatasia; do not stop denosumab abruptly", SUMMARY_MAX_CHARS)
    if in_use(finding):
        return fill_name(f"{counts} on {{name}}: rule out hypophosphatasia", drug_names(finding), SUMMARY_MAX_CHARS)
    return fill_name(f"{counts}: rule out hypophosphatasia before {{name}}", drug_names(finding), SUMMARY_MAX_CHARS)


def numbers_line(alp: AlpAssessment) -> str:
    """Give the numbers in one or two sentences: how many lows, the lowest, the months, a later normal value."""
    lowest = lowest_low(alp)
    months = (
        f"; low in {alp.low_months} of {alp.months_with_results} months with a result"
        if alp.months_with_results
        else ""
    )
    line = (
        f"{low_alp_pattern(alp)}: {len(alp.lows)} of {len(alp.judged)} results low, lowest"
        f" {alp_value_text(lowest)} U/L on {iso_date(lowest.effective)}{months}."
    )
    if alp.later_normal is not None:
        later = alp.later_normal
        line += (
            f" A later ALP of {alp_value_text(later)} U/L ({iso_date(later.effective)}) was clearly normal, so"
            " the lows may have been transient."
        )
    return line


def why_lines(finding: Finding) -> tuple[str, ...]:
    """Say why a low ALP matters, for adults or children, with the variant figure only where it applies."""
    if finding.paediatric:
        return (CHILD_HPP, f"Refer to {referral(finding)} if it stays low.", *denosumab_lines(finding))
    figure = (VARIANT_FIGURE,) if finding.variant_figure_applies else ()
    return (HPP_HARM, *figure, RECOGNITION, *denosumab_lines(finding))


def denosumab_lines(finding: Finding) -> tuple[str, ...]:
    """Say what stopping denosumab risks whenever a card could lead to stopping, holding or not following it."""
    if after_denosumab(finding):
        return (DENOSUMAB_REBOUND,)
    if not is_denosumab(finding):
        return ()
    return (DENOSUMAB_FIRST_DOSE,)


def after_denosumab(finding: Finding) -> bool:
    """Tell whether denosumab was given before, so that a lapse or a stop risks rebound vertebral fractures."""
    return finding.prior_denosumab or (is_denosumab(finding) and (finding.continuing or in_use(finding)))


def therapy_line(finding: Finding) -> str:
    """Say where the antiresorptive in use was seen: prescribed, dispensed, given or recorded as taken."""
    seen = [therapy_text(t) for t in finding.therapies]
    return f"In use: {'; '.join(seen)}." if seen else ""


def therapy_text(therapy: Therapy) -> str:
    """Describe one stretch of therapy, e.g. "denosumab, given 2026-06-01"."""
    how = source_verb(therapy.source)
    supply = (
        f" ({therapy.record.supply_days} days' supply)"
        if therapy.source == "MedicationDispense" and therapy.record.supply_days
        else ""
    )
    return f"{escape_markdown(therapy.ingredient)}, {how} {iso_date(therapy.start)}{supply}"


def normal_workup_section(finding: Finding) -> str:
    """Show the work-up results that speak against hypophosphatasia."""
    if not finding.normal_workup:
        return ""
    lines = [
        f"{escape_markdown(m.label)} {iso_date(m.effective)}: "
        + (
            f"{m.comparator or ''}{decimal_text(m.value)} {escape_markdown(m.unit)}, normal"
            if m.unit
            else escape_markdown(m.limit or "negative")
        )
        for m in finding.normal_workup
    ]
    return "**HPP work-up on file**\n" + bullets(lines)


def secondary_causes_section(finding: Finding) -> str:
    """Name the secondary causes on this patient's record; list the rest to exclude in one line."""
    on_record = [cause_text(c) for c in finding.secondary_causes]
    named = f"**On record, and can lower ALP:** {'; '.join(on_record)}.\n\n" if on_record else ""
    return f"{named}Other causes to exclude: {SECONDARY_CAUSES}."


def cause_text(cause: SecondaryCause) -> str:
    """Describe one secondary cause as recorded, e.g. "hypothyroidism (Hashimoto thyroiditis)"."""
    kind = CAUSE_SHOWN_AS.get(cause.kind, cause.kind)
    when = f", {iso_date(cause.effective)}" if cause.effective else ""
    shown = escape_markdown(cause.shown_by)
    return f"{kind} ({shown}{when})" if shown.casefold() != kind.casefold() else f"{kind}{when}"


def not_used_section(alp: AlpAssessment) -> str:
    """List the ALP results left out and why, with bone-specific ALP as supporting data."""
    unusable = uninterpretable_lines(alp.uninterpretable)
    return sections(
        "**Not used**\n" + bullets(unusable) if unusable else "",
        "**Bone-specific ALP** (supporting data, not counted)\n\n" + measurement_table(alp.bone_specific)
        if alp.bone_specific
        else "",
    )


def hpp_evidence_section(evidence: Iterable[str]) -> str:
    """List why hypophosphatasia is considered on record."""
    lines = [escape_markdown(e) for e in evidence if e.strip()]
    return "**Hypophosphatasia on record**\n" + bullets(lines) if lines else ""


def removal(finding: Finding, new_uuid: NewUuid, *, recommended: bool) -> Json | None:
    """Offer to remove the draft order; for denosumab already given, only with the transition plan in the label."""
    if is_denosumab(finding) and finding.continuing:
        offer = remove_order_suggestion(finding, new_uuid, recommended=False)
        if offer is not None:
            offer["label"] = "Remove the denosumab order (only with a transition plan: stopping causes rebound)"
        return offer
    return remove_order_suggestion(finding, new_uuid, recommended=recommended)


def workup_suggestion(finding: Finding, new_uuid: NewUuid) -> Json | None:
    """Offer the biochemical work-up not yet on file, as the recommended next step."""
    if workup_is_normal(finding):
        return None
    return order_suggestion(
        "Order the HPP work-up", hpp_workup(finding.tests_done), finding, new_uuid, recommended=True
    )


def genetics_suggestion(finding: Finding, new_uuid: NewUuid, *, recommended: bool = False) -> Json | None:
    """Offer ALPL sequencing on its own: it follows biochemical confirmation and genetic counselling."""
    alp = finding.alp
    if alp is None or not needs_genetics(alp.pattern) or "alpl" in finding.tests_done or workup_is_normal(finding):
        return None
    return order_suggestion(
        "Order ALPL gene sequencing (after biochemical confirmation and genetic counselling)",
        (ALPL_SEQUENCING,),
        finding,
        new_uuid,
        recommended=recommended,
    )


def workup_is_normal(finding: Finding) -> bool:
    """Tell whether the work-up on file rules hypophosphatasia out as far as labs can."""
    return workup_complete(finding.normal_workup)


def referral(finding: Finding) -> str:
    """Name the specialist service for an adult or a child."""
    return CHILD_REFERRAL if finding.paediatric else ADULT_REFERRAL


def is_denosumab(finding: Finding) -> bool:
    """Tell whether the card is about denosumab."""
    return "denosumab" in finding.drugs


def in_use(finding: Finding) -> bool:
    """Tell whether the antiresorptive is already in use (patient-view) rather than being ordered."""
    return finding.order is None and bool(finding.drugs)


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


CARD_FOR_TOPIC: dict[Topic, Callable[[Finding, NewUuid], Json]] = {
    Topic.HPP_ANTIRESORPTIVE: hpp_antiresorptive_card,
    Topic.LOW_ALP_ANTIRESORPTIVE: low_alp_antiresorptive_card,
    Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE: single_low_alp_antiresorptive_card,
    Topic.LOW_ALP_UNEVALUATED: low_alp_unevaluated_card,
    Topic.HPP_LIKELY: hpp_likely_card,
    Topic.LOW_ALP_ON_THERAPY: low_alp_on_therapy_card,
    Topic.LOW_ALP_ACUTE_ILLNESS: low_alp_acute_illness_card,
}
