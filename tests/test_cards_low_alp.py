"""Tests for cards.low_alp: the four ALP Guard cards, rendered from findings."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cards import render_card, render_cards
from cards.low_alp import CARD_FOR_TOPIC
from tests.cds_checks import assert_spec_exact
from hooks.findings import (
    AlpAssessment,
    Finding,
    Indicator,
    JudgedAlp,
    Measurement,
    Pattern,
    Topic,
    UninterpretableAlp,
)
from hooks.records import Code, MedicationOrder

PATIENT = "pat-1"
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
HOSTILE_DRUG = "alen|dronate <script>alert(1)</script> *x*"
LONG_DRUG = "alendronate " + "x" * 288
assert len(LONG_DRUG) == 300


def uuids() -> Callable[[], str]:
    """Return a deterministic uuid factory: 00000000-...-000000000001, ...02, and so on."""
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter)))


def judged(day: date, value: str, low: bool | None, *, comparator: str | None = None,
           limit: str | None = "35") -> JudgedAlp:
    """Build an ALP result judged against an adult lab range."""
    return JudgedAlp(
        effective=day,
        value_u_per_l=Decimal(value),
        comparator=comparator,
        limit_u_per_l=Decimal(limit) if limit is not None else None,
        limit_basis="lab range" if limit is not None else "no range for age",
        low=low,
        loinc="6768-6",
    )


PERSISTENT = AlpAssessment(
    pattern=Pattern.PERSISTENT,
    results=(
        judged(date(2025, 3, 10), "31", True),
        judged(date(2025, 6, 12), "28.0", True),
        judged(date(2025, 9, 15), "44", False),
        judged(date(2026, 1, 20), "30.50", True),
    ),
    months_with_results=4,
    low_months=3,
)
PERSISTENT_FIVE = AlpAssessment(
    pattern=Pattern.PERSISTENT,
    results=(*PERSISTENT.results, judged(date(2026, 2, 25), "29", True)),
    months_with_results=5,
    low_months=4,
)
RECURRENT = AlpAssessment(
    pattern=Pattern.RECURRENT,
    results=(
        judged(date(2025, 1, 5), "33", True),
        judged(date(2025, 4, 5), "52", False),
        judged(date(2025, 7, 5), "55", False),
        judged(date(2025, 10, 5), "32", True),
        judged(date(2026, 1, 5), "60", False),
    ),
    months_with_results=5,
    low_months=2,
)
SINGLE_LOW = AlpAssessment(
    pattern=Pattern.SINGLE_LOW,
    results=(judged(date(2025, 11, 4), "58", False), judged(date(2026, 3, 2), "31", True)),
    months_with_results=2,
    low_months=1,
)
UNINTERPRETABLE = (
    UninterpretableAlp(date(2025, 8, 1), "unit 'mg/dL' cannot be converted to U/L"),
    UninterpretableAlp(None, "resource could not be read"),
)
ORDER = MedicationOrder(
    id="ord-1",
    status="draft",
    codes=(Code("http://www.nlm.nih.gov/research/umls/rxnorm", "904419"),),
    names=("alendronate sodium 70 MG Oral Tablet",),
    authored=date(2026, 3, 5),
)
HPP_EVIDENCE = ("Condition: Hypophosphatasia (confirmed, 2019-04-02)", "Asfotase alfa ordered on 2024-06-01")


PLP_HIGH = Measurement("Pyridoxal 5'-phosphate", "62236-5", date(2026, 10, 1), Decimal(210), "nmol/L",
                       limit="> 125 (lab range high)")


def finding(topic: Topic, **changes: Any) -> Finding:
    """Build a realistic finding of the topic, with changes."""
    defaults: dict[Topic, Finding] = {
        Topic.HPP_ANTIRESORPTIVE: Finding(
            Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL, PATIENT, ("alendronate",), ORDER, None, HPP_EVIDENCE
        ),
        Topic.LOW_ALP_ANTIRESORPTIVE: Finding(
            Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING, PATIENT, ("alendronate",), ORDER, PERSISTENT
        ),
        Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE: Finding(
            Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE, Indicator.INFO, PATIENT, ("alendronate",), ORDER, SINGLE_LOW
        ),
        Topic.LOW_ALP_UNEVALUATED: Finding(Topic.LOW_ALP_UNEVALUATED, Indicator.INFO, PATIENT, alp=PERSISTENT_FIVE),
        Topic.HPP_LIKELY: Finding(
            Topic.HPP_LIKELY, Indicator.WARNING, PATIENT, alp=PERSISTENT_FIVE, measurements=(PLP_HIGH,),
            criteria=("Pyridoxal 5'-phosphate 210 nmol/L is above 125 nmol/L",),
        ),
    }
    return replace(defaults[topic], **changes)


def render(topic: Topic, **changes: Any) -> dict:
    """Render the card for a finding of the topic."""
    return render_card(finding(topic, **changes), uuids())


def labels(card: dict) -> list[str]:
    """Return the suggestion labels of a card."""
    return [s["label"] for s in card.get("suggestions", [])]


def by_label(card: dict, label: str) -> dict:
    """Return the card's suggestion with this label."""
    return next(s for s in card["suggestions"] if s["label"] == label)


def ordered_codes(suggestion: dict) -> list[str]:
    """Return the LOINC codes a suggestion orders, in order."""
    return [a["resource"]["code"]["coding"][0]["code"] for a in suggestion["actions"]]


def table_rows(detail: str) -> list[str]:
    """Return the lines of the ALP results table in a detail."""
    lines = detail.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Date | ALP"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


ALL_TOPICS = list(CARD_FOR_TOPIC)  # the topics this module renders
LOW_ALP_TOPICS = [t for t in ALL_TOPICS if t is not Topic.HPP_ANTIRESORPTIVE]
ORDER_TOPICS = [t for t in ALL_TOPICS if t not in (Topic.LOW_ALP_UNEVALUATED, Topic.HPP_LIKELY)]
# Cards that ask for the low ALP to be explained (hpp-likely has already found the explanation).
WORKUP_TOPICS = [t for t in LOW_ALP_TOPICS if t is not Topic.HPP_LIKELY]


@pytest.mark.parametrize("topic", ALL_TOPICS)
@pytest.mark.parametrize("order", [ORDER, replace(ORDER, id=None), None], ids=["order-id", "order-no-id", "no-order"])
@pytest.mark.parametrize("unusable", [(), UNINTERPRETABLE], ids=["all-usable", "with-uninterpretable"])
def test_every_card_kind_meets_the_spec(topic: Topic, order: MedicationOrder | None,
                                        unusable: tuple[UninterpretableAlp, ...]) -> None:
    base = finding(topic)
    alp = replace(base.alp, uninterpretable=unusable) if base.alp else None
    assert_spec_exact(render_card(replace(base, order=order, alp=alp), uuids()))


@pytest.mark.parametrize("topic", ALL_TOPICS)
@pytest.mark.parametrize("drugs", [(), ("alendronate", "denosumab"), (HOSTILE_DRUG,), (LONG_DRUG,)])
def test_every_card_kind_meets_the_spec_whatever_the_drug_names(topic: Topic, drugs: tuple[str, ...]) -> None:
    assert_spec_exact(render(topic, drugs=drugs))


def test_checker_catches_empty_members() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE)
    card["links"][0]["label"] = ""
    with pytest.raises(AssertionError):
        assert_spec_exact(card)


# --- hpp-antiresorptive --------------------------------------------------------------------


def test_hpp_card_is_critical_and_says_to_avoid_the_drug() -> None:
    card = render(Topic.HPP_ANTIRESORPTIVE)
    assert card["indicator"] == "critical"
    assert card["source"]["topic"]["code"] == "hpp-antiresorptive"
    assert card["summary"] == "Hypophosphatasia on record: avoid alendronate (antiresorptives can worsen HPP)"


def test_hpp_card_recommends_deleting_the_draft_order_and_orders_nothing() -> None:
    card = render(Topic.HPP_ANTIRESORPTIVE)
    assert labels(card) == ["Remove the alendronate order"]
    remove = card["suggestions"][0]
    assert remove["isRecommended"] is True
    assert remove["actions"] == [
        {"type": "delete", "description": "Remove the draft alendronate order", "resourceId": "MedicationRequest/ord-1"}
    ]


def test_hpp_card_without_an_order_id_has_no_suggestions() -> None:
    card = render(Topic.HPP_ANTIRESORPTIVE, order=replace(ORDER, id=None))
    assert "suggestions" not in card and "selectionBehavior" not in card


def test_hpp_card_detail_lists_evidence_and_explains_why_alp_is_not_read() -> None:
    detail = render(Topic.HPP_ANTIRESORPTIVE)["detail"]
    assert "- Condition: Hypophosphatasia \\(confirmed, 2019-04-02\\)" in detail
    assert "- Asfotase alfa ordered on 2024-06-01" in detail
    assert "asfotase alfa is an ALP enzyme and raises measured ALP" in detail
    assert "atypical femoral fractures" in detail
    assert "metabolic bone specialist" in detail
    assert "| Date |" not in detail


def test_hpp_card_cannot_be_dismissed_as_hpp_excluded() -> None:
    codes = [r["code"] for r in render(Topic.HPP_ANTIRESORPTIVE)["overrideReasons"]]
    assert "hpp-excluded" not in codes
    assert codes == ["specialist-advised", "incorrect-data"]


def test_hpp_card_cites_the_iwg_criteria() -> None:
    assert [link["url"] for link in render(Topic.HPP_ANTIRESORPTIVE)["links"]] == [
        "https://doi.org/10.1007/s00198-023-06844-1"
    ]


def test_hpp_card_without_drug_names_speaks_of_an_antiresorptive() -> None:
    card = render(Topic.HPP_ANTIRESORPTIVE, drugs=())
    assert card["summary"] == "Hypophosphatasia on record: avoid an antiresorptive (antiresorptives can worsen HPP)"
    assert labels(card) == ["Remove the antiresorptive order"]


# --- low-alp-antiresorptive ----------------------------------------------------------------


def test_persistent_low_alp_card_states_the_pattern_and_numbers() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE)
    assert card["summary"] == (
        "Persistently low ALP (3 of 4 results, lowest 28 U/L): rule out hypophosphatasia before alendronate"
    )
    assert card["source"]["topic"]["code"] == "low-alp-antiresorptive"


def test_recurrent_low_alp_card_says_recurrently() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, alp=RECURRENT)
    assert card["summary"] == (
        "Recurrently low ALP (2 of 5 results, lowest 32 U/L): rule out hypophosphatasia before alendronate"
    )


def test_low_alp_card_names_a_censored_lowest_value_with_its_comparator() -> None:
    alp = replace(PERSISTENT, results=(*PERSISTENT.results, judged(date(2026, 2, 1), "5", True, comparator="<")))
    assert "lowest <5 U/L" in render(Topic.LOW_ALP_ANTIRESORPTIVE, alp=alp)["summary"]


@pytest.mark.parametrize("indicator", [Indicator.WARNING, Indicator.CRITICAL])
def test_low_alp_card_copies_the_indicator_the_rules_chose(indicator: Indicator) -> None:
    assert render(Topic.LOW_ALP_ANTIRESORPTIVE, indicator=indicator)["indicator"] == indicator.value


def test_low_alp_card_offers_removal_and_recommends_the_full_workup() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE)
    assert labels(card) == ["Remove the alendronate order", "Order the HPP work-up"]
    remove, workup = card["suggestions"]
    assert remove["actions"][0]["resourceId"] == "MedicationRequest/ord-1"
    assert "isRecommended" not in remove
    assert workup["isRecommended"] is True
    assert ordered_codes(workup) == [
        "6768-6", "62236-5", "13789-3", "17861-6", "2777-1", "2731-8", "62292-8", "77084-2"
    ]
    assert all(a["type"] == "create" for a in workup["actions"])
    assert {a["resource"]["subject"]["reference"] for a in workup["actions"]} == {"Patient/pat-1"}


def test_critical_low_alp_card_also_recommends_removing_the_order() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, indicator=Indicator.CRITICAL)
    assert by_label(card, "Remove the alendronate order")["isRecommended"] is True


def test_recurrent_low_alp_workup_includes_alpl_sequencing() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, alp=RECURRENT)
    assert ordered_codes(by_label(card, "Order the HPP work-up"))[-1] == "77084-2"


def test_low_alp_card_without_order_id_offers_only_the_workup() -> None:
    assert labels(render(Topic.LOW_ALP_ANTIRESORPTIVE, order=replace(ORDER, id=None))) == ["Order the HPP work-up"]


def test_low_alp_card_with_an_order_id_that_is_not_a_fhir_id_still_renders_without_removal() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, order=replace(ORDER, id="bad id/1"))
    assert labels(card) == ["Order the HPP work-up"]


def test_low_alp_card_override_reasons_and_literature() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE)
    assert [r["code"] for r in card["overrideReasons"]] == [
        "hpp-excluded", "secondary-cause", "specialist-advised", "incorrect-data"
    ]
    assert [link["url"] for link in card["links"]] == [
        "https://doi.org/10.1007/s00198-023-06844-1",
        "https://doi.org/10.1007/s00198-022-06597-3",
        "https://doi.org/10.1007/s00223-022-01039-y",
    ]


# --- single-low-alp-antiresorptive ---------------------------------------------------------


def test_single_low_card_gives_value_and_date_and_asks_for_a_repeat() -> None:
    card = render(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE)
    assert card["indicator"] == "info"
    assert card["source"]["topic"]["code"] == "single-low-alp-antiresorptive"
    assert card["summary"] == "One low ALP (31 U/L on 2026-03-02): repeat ALP before starting alendronate"


def test_single_low_card_with_two_close_lows_does_not_say_one() -> None:
    alp = replace(SINGLE_LOW, results=(*SINGLE_LOW.results, judged(date(2026, 3, 20), "29.5", True)))
    summary = render(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE, alp=alp)["summary"]
    assert summary == (
        "2 low ALP results close together (lowest 29.5 U/L on 2026-03-20): repeat ALP before starting alendronate"
    )


def test_single_low_card_recommends_a_repeat_alp_and_offers_removal() -> None:
    card = render(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE)
    assert labels(card) == ["Order a repeat ALP", "Remove the alendronate order"]
    repeat, remove = card["suggestions"]
    assert repeat["isRecommended"] is True
    assert ordered_codes(repeat) == ["6768-6"]
    assert "isRecommended" not in remove
    assert remove["actions"][0] == {
        "type": "delete", "description": "Remove the draft alendronate order", "resourceId": "MedicationRequest/ord-1"
    }


def test_single_low_card_without_order_offers_only_the_repeat() -> None:
    assert labels(render(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE, order=None)) == ["Order a repeat ALP"]


def test_single_low_card_can_be_dismissed_because_the_repeat_was_normal() -> None:
    card = render(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE)
    assert "repeat-normal" in [r["code"] for r in card["overrideReasons"]]
    assert "https://doi.org/10.1002/jbmr.2178" in [link["url"] for link in card["links"]]


def test_single_low_card_defers_genetics_until_the_low_alp_persists() -> None:
    detail = render(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE)["detail"]
    assert "If low ALP persists: *ALPL* gene sequencing" in detail
    assert "- *ALPL* gene sequencing." not in detail


# --- low-alp-unevaluated -------------------------------------------------------------------


def test_unevaluated_card_states_pattern_and_numbers() -> None:
    card = render(Topic.LOW_ALP_UNEVALUATED)
    assert card["indicator"] == "info"
    assert card["source"]["topic"]["code"] == "low-alp-unevaluated"
    assert card["summary"] == (
        "Persistently low ALP (4 of 5 results, lowest 28 U/L) not evaluated: consider hypophosphatasia work-up"
    )


def test_unevaluated_card_recommends_the_workup_with_alpl_sequencing_only() -> None:
    card = render(Topic.LOW_ALP_UNEVALUATED, order=ORDER)
    assert labels(card) == ["Order the HPP work-up"]
    workup = card["suggestions"][0]
    assert workup["isRecommended"] is True
    assert ordered_codes(workup)[-1] == "77084-2"
    assert all(a["type"] == "create" for a in workup["actions"])


def test_unevaluated_card_does_not_mention_a_drug() -> None:
    detail = render(Topic.LOW_ALP_UNEVALUATED)["detail"]
    assert "**Why this matters**" in detail
    assert "Hold " not in detail


# --- detail of the low-ALP cards -----------------------------------------------------------


@pytest.mark.parametrize("topic", LOW_ALP_TOPICS)
def test_low_alp_detail_tabulates_every_result_used(topic: Topic) -> None:
    card = render(topic)
    alp = finding(topic).alp
    rows = table_rows(card["detail"])
    assert rows[0] == "| Date | ALP (U/L) | Limit (U/L) | Basis | Low? |"
    assert len(rows) == 2 + len(alp.results)
    for result, row in zip(alp.results, rows[2:]):
        assert row.startswith(f"| {result.effective.isoformat()} |")


def test_low_alp_detail_shows_comparators_and_unjudged_results() -> None:
    alp = replace(
        PERSISTENT,
        results=(*PERSISTENT.results, judged(date(2026, 2, 1), "5", True, comparator="<"),
                 judged(date(2026, 2, 2), "80", None, limit=None)),
    )
    rows = table_rows(render(Topic.LOW_ALP_ANTIRESORPTIVE, alp=alp)["detail"])
    assert "| 2026-02-01 | &lt;5 | 35 | lab range | **yes** |" in rows
    assert "| 2026-02-02 | 80 | none | no range for age | not judged |" in rows
    assert "| 2025-06-12 | 28 | 35 | lab range | **yes** |" in rows
    assert "| 2026-01-20 | 30.5 | 35 | lab range | **yes** |" in rows


@pytest.mark.parametrize("topic", LOW_ALP_TOPICS)
def test_low_alp_detail_lists_uninterpretable_results(topic: Topic) -> None:
    base = finding(topic)
    detail = render_card(replace(base, alp=replace(base.alp, uninterpretable=UNINTERPRETABLE)), uuids())["detail"]
    assert "- 2025-08-01: not interpretable (unit 'mg/dL' cannot be converted to U/L)" in detail
    assert "- date unknown: not interpretable (resource could not be read)" in detail


def test_low_alp_detail_without_uninterpretable_results_has_no_such_section() -> None:
    assert "not interpretable" not in render(Topic.LOW_ALP_ANTIRESORPTIVE)["detail"]


@pytest.mark.parametrize("topic", WORKUP_TOPICS)
@pytest.mark.parametrize(
    "content",
    [
        "misdiagnosed as osteoporosis",
        "atypical femoral fractures",
        "Riancho-Zarrabeitia 2016: 21 of 42",
        "Tornero 2020: 47%",
        "about 3% of cases (Maman 2016)",
        "Repeat ALP",
        "stop vitamin B6 supplements a week before",
        "urine phosphoethanolamine",
        "PTH",
        "25-OH vitamin D",
        "*ALPL* gene sequencing",
        "metabolic bone disease or endocrinology",
        "cardiopulmonary bypass",
        "massive transfusion",
        "malnutrition",
        "zinc or magnesium deficiency",
        "hypothyroidism",
        "pernicious anaemia",
        "coeliac disease",
        "Wilson disease",
        "oral contraceptives",
        "glucocorticoids",
        "clofibrate",
        "antiresorptive therapy itself",
        "EDTA",
    ],
)
def test_low_alp_detail_explains_why_and_what_to_do(topic: Topic, content: str) -> None:
    assert content in render(topic)["detail"]


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_detail_is_sectioned_not_a_wall_of_text(topic: Topic) -> None:
    detail = render(topic)["detail"]
    assert detail.count("\n\n") >= 3
    assert max(len(line) for line in detail.splitlines()) < 200


# --- names from FHIR: length and escaping --------------------------------------------------


@pytest.mark.parametrize("topic", ORDER_TOPICS)
def test_summary_stays_below_140_characters_with_a_300_character_drug_name(topic: Topic) -> None:
    card = render(topic, drugs=(LONG_DRUG,))
    assert len(card["summary"]) < 140
    assert "alendronate x" in card["summary"] and "…" in card["summary"]
    assert all(len(label) < 80 for label in labels(card))


def test_summary_shortens_the_drug_not_the_finding() -> None:
    summary = render(Topic.LOW_ALP_ANTIRESORPTIVE, drugs=(LONG_DRUG,))["summary"]
    assert summary.startswith("Persistently low ALP (3 of 4 results, lowest 28 U/L): rule out hypophosphatasia before ")


def test_summary_stays_below_140_characters_with_many_drugs() -> None:
    drugs = ("alendronate", "risedronate", "ibandronate", "zoledronic acid", "denosumab", "pamidronate")
    assert len(render(Topic.HPP_ANTIRESORPTIVE, drugs=drugs)["summary"]) < 140


@pytest.mark.parametrize("topic", ORDER_TOPICS)
def test_detail_escapes_a_hostile_drug_name(topic: Topic) -> None:
    detail = render(topic, drugs=(HOSTILE_DRUG,))["detail"]
    assert "<script>" not in detail and "</script>" not in detail
    assert "alen\\|dronate &lt;script&gt;alert\\(1\\)&lt;/script&gt; \\*x\\*" in detail
    assert "alen|dronate" not in detail


@pytest.mark.parametrize("topic", LOW_ALP_TOPICS)
def test_hostile_drug_name_does_not_break_the_table(topic: Topic) -> None:
    rows = table_rows(render(topic, drugs=(HOSTILE_DRUG,))["detail"])
    assert all(len(UNESCAPED_PIPE.findall(row)) == 6 for row in rows)


def test_detail_escapes_hpp_evidence_from_fhir() -> None:
    detail = render(Topic.HPP_ANTIRESORPTIVE, hpp_evidence=("Condition: HPP <img src=x onerror=alert(1)>",))["detail"]
    assert "<img" not in detail
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in detail


def test_detail_escapes_uninterpretable_reasons_from_fhir() -> None:
    alp = replace(PERSISTENT, uninterpretable=(UninterpretableAlp(date(2025, 8, 1), "unit '<b>|x' unknown"),))
    detail = render(Topic.LOW_ALP_ANTIRESORPTIVE, alp=alp)["detail"]
    assert "unit '&lt;b&gt;\\|x' unknown" in detail


# --- rendering -----------------------------------------------------------------------------


def test_card_and_suggestion_uuids_come_from_the_factory() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE)
    assert card["uuid"] == "00000000-0000-0000-0000-000000000001"
    assert [s["uuid"] for s in card["suggestions"]] == [
        "00000000-0000-0000-0000-000000000002",
        "00000000-0000-0000-0000-000000000003",
    ]


def test_render_cards_keeps_order_and_uuids_unique_across_cards() -> None:
    cards = render_cards([finding(t) for t in ALL_TOPICS], uuids())
    assert [c["source"]["topic"]["code"] for c in cards] == [t.value for t in ALL_TOPICS]
    all_uuids = [u for c in cards for u in (c["uuid"], *(s["uuid"] for s in c.get("suggestions", [])))]
    assert len(set(all_uuids)) == len(all_uuids)


def test_render_cards_of_nothing_is_an_empty_list() -> None:
    assert render_cards([], uuids()) == []


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_rendering_is_deterministic(topic: Topic) -> None:
    assert render(topic) == render(topic)


@pytest.mark.parametrize("topic", LOW_ALP_TOPICS)
def test_low_alp_card_refuses_a_finding_without_a_low_alp(topic: Topic) -> None:
    with pytest.raises(ValueError):
        render(topic, alp=None)
    with pytest.raises(ValueError):
        render(topic, alp=replace(PERSISTENT, results=(judged(date(2026, 1, 1), "50", False),)))



# --- issue 3: therapy marks, bone-specific ALP, substrates, notes, wording for a drug in use ----------------

def test_results_drawn_on_therapy_are_marked_with_a_footnote() -> None:
    on_therapy = replace(PERSISTENT, results=tuple(replace(r, on_antiresorptive=i == 0) for i, r in enumerate(PERSISTENT.results)))
    detail = render(Topic.LOW_ALP_ANTIRESORPTIVE, alp=on_therapy)["detail"]
    assert detail.count("(on therapy)") == 1
    assert "which itself lowers ALP" in detail


def test_bone_specific_alp_is_shown_as_supporting_data_only() -> None:
    bone = Measurement("Bone-specific ALP", "17838-4", date(2026, 3, 1), Decimal("6.1"), "ug/L")
    detail = render(Topic.LOW_ALP_ANTIRESORPTIVE, alp=replace(PERSISTENT, bone_specific=(bone,)))["detail"]
    assert "Bone-specific ALP** (supporting data, not counted)" in detail and "6.1 ug/L" in detail


def test_a_critical_low_alp_card_shows_the_substrate_that_made_it_critical() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, indicator=Indicator.CRITICAL, measurements=(PLP_HIGH,),
                  criteria=("Pyridoxal 5'-phosphate 210 nmol/L is above 125 nmol/L",))
    assert card["indicator"] == "critical"
    assert "**ALP substrates (elevated when ALP is deficient)**" in card["detail"] and "210 nmol/L" in card["detail"]


def test_notes_come_first_in_the_detail() -> None:
    detail = render(Topic.LOW_ALP_UNEVALUATED, notes=("Wilson disease is the likelier cause of low ALP",))["detail"]
    assert detail.startswith("**Note**\n- Wilson disease is the likelier cause of low ALP")


def test_a_drug_already_in_use_is_reviewed_not_avoided() -> None:
    hpp = render(Topic.HPP_ANTIRESORPTIVE, order=None)
    low = render(Topic.LOW_ALP_ANTIRESORPTIVE, order=None)
    assert "review alendronate in use" in hpp["summary"] and "Do not start" not in hpp["detail"]
    assert "on alendronate: rule out hypophosphatasia" in low["summary"]
    assert "before alendronate" not in low["detail"] and "Review whether to continue alendronate" in low["detail"]


def test_hpp_likely_card_says_why_and_offers_genetics() -> None:
    card = render(Topic.HPP_LIKELY)
    assert (card["indicator"], card["source"]["topic"]["code"]) == ("warning", "hpp-likely")
    assert "hypophosphatasia likely" in card["summary"] and "210 nmol/L" in card["detail"]
    codes = [a["resource"]["code"]["coding"][0]["code"] for s in card["suggestions"] for a in s["actions"]]
    assert codes == ["77084-2"]
