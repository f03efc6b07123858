"""Tests for cards.low_alp: the HPP and low-ALP cards, rendered from findings (issue 10: what a specialist signs)."""

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
from fhir.resources.R4B.servicerequest import ServiceRequest

from cards import render_card, render_cards
from cards.low_alp import CARD_FOR_TOPIC
from hooks.findings import (
    AlpAssessment,
    Check,
    Criterion,
    Finding,
    Indicator,
    JudgedAlp,
    Measurement,
    Pattern,
    Topic,
    UninterpretableAlp,
)
from hooks.records import Code, EncounterRecord, MedicationOrder
from hooks.secondary_causes import SecondaryCause
from hooks.therapy import Therapy
from tests.cds_checks import assert_spec_exact

PATIENT = "pat-1"
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
HOSTILE_DRUG = "alen|dronate <script>alert(1)</script> *x*"
LONG_DRUG = "alendronate " + "x" * 288
assert len(LONG_DRUG) == 300


def uuids() -> Callable[[], str]:
    """Return a deterministic uuid factory: 00000000-...-000000000001, ...02, and so on."""
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter)))


def judged(
    day: date, value: str, low: bool | None, *, comparator: str | None = None, limit: str | None = "35"
) -> JudgedAlp:
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


PLP_HIGH = Measurement(
    "Pyridoxal 5'-phosphate", "62236-5", date(2026, 10, 1), Decimal(210), "nmol/L", limit="> 125 (lab range high)"
)


PRE_TREATMENT = judged(date(2019, 5, 2), "64", False)
ON_THERAPY = AlpAssessment(
    pattern=Pattern.PERSISTENT,
    results=tuple(replace(r, on_antiresorptive=True) for r in PERSISTENT.results),
    months_with_results=4,
    low_months=3,
    pre_treatment=PRE_TREATMENT,
)
STAY = EncounterRecord("enc-1", "IMP", "finished", date(2026, 2, 1), date(2026, 2, 20))
ACUTE = replace(SINGLE_LOW, acute_stay=STAY)
DENOSUMAB_ORDER = MedicationOrder(
    "dmab-1",
    "draft",
    (Code("http://www.nlm.nih.gov/research/umls/rxnorm", "993452"),),
    ("denosumab 60 MG/ML Prefilled Syringe",),
)
DENOSUMAB_GIVEN = Therapy(
    "denosumab",
    "MedicationAdministration",
    date(2026, 6, 1),
    date(2026, 12, 1),
    MedicationOrder(
        "adm-1", "completed", (), ("Prolia",), authored=date(2026, 6, 1), source="MedicationAdministration"
    ),
)


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
            Topic.HPP_LIKELY,
            Indicator.WARNING,
            PATIENT,
            alp=PERSISTENT_FIVE,
            measurements=(PLP_HIGH,),
            checks=(Criterion(Check.SUBSTRATE_HIGH, PLP_HIGH.value, measurement=PLP_HIGH),),
        ),
        Topic.LOW_ALP_ON_THERAPY: Finding(
            Topic.LOW_ALP_ON_THERAPY, Indicator.INFO, PATIENT, ("alendronate",), ORDER, ON_THERAPY
        ),
        Topic.LOW_ALP_ACUTE_ILLNESS: Finding(
            Topic.LOW_ALP_ACUTE_ILLNESS, Indicator.INFO, PATIENT, ("alendronate",), ORDER, ACUTE
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


ALL_TOPICS = list(CARD_FOR_TOPIC)  # the topics this module renders
MARKDOWN_DEBRIS = ("&lt;", "&gt;", "&amp;", "\\")


@pytest.mark.parametrize("topic", ALL_TOPICS)
@pytest.mark.parametrize("order", [ORDER, replace(ORDER, id=None), None], ids=["order-id", "order-no-id", "no-order"])
@pytest.mark.parametrize("unusable", [(), UNINTERPRETABLE], ids=["all-usable", "with-uninterpretable"])
def test_every_card_kind_meets_the_spec(
    topic: Topic, order: MedicationOrder | None, unusable: tuple[UninterpretableAlp, ...]
) -> None:
    base = finding(topic)
    alp = replace(base.alp, uninterpretable=unusable) if base.alp else None
    assert_spec_exact(render_card(replace(base, order=order, alp=alp), uuids()))


@pytest.mark.parametrize("topic", ALL_TOPICS)
@pytest.mark.parametrize("drugs", [(), ("alendronate", "denosumab"), (HOSTILE_DRUG,), (LONG_DRUG,)])
def test_every_card_kind_meets_the_spec_whatever_the_drug_names(topic: Topic, drugs: tuple[str, ...]) -> None:
    card = render(topic, drugs=drugs)
    assert_spec_exact(card)
    assert len(card["summary"]) < 140
    assert "<script>" not in card.get("detail", "") and not any(d in card.get("detail", "") for d in MARKDOWN_DEBRIS)


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_the_detail_starts_with_the_action_in_one_bold_line(topic: Topic) -> None:
    first = render(topic)["detail"].splitlines()[0]
    assert first.startswith("**") and first.endswith("**")


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_the_detail_stays_short_apart_from_the_alp_list(topic: Topic) -> None:
    lines = [line for line in render(topic)["detail"].splitlines() if line.strip()]
    listed = sum(1 for line in lines if re.match(r"- \d{4}-\d{2}-\d{2}: ", line))
    assert len(lines) - listed <= 14


def test_alp_results_are_listed_one_per_line_with_value_limit_and_basis_apart() -> None:
    detail = render(Topic.LOW_ALP_ANTIRESORPTIVE)["detail"]
    assert "- 2025-06-12: **28 U/L**, low (limit 35 U/L, lab range)" in detail
    assert "- 2025-09-15: 44 U/L, normal (limit 35 U/L, lab range)" in detail


# --- hpp-antiresorptive --------------------------------------------------------------------


def test_hpp_card_is_critical_says_not_to_start_and_recommends_removal() -> None:
    card = render(Topic.HPP_ANTIRESORPTIVE)
    assert card["indicator"] == "critical"
    assert card["detail"].startswith("**Do not start alendronate: hypophosphatasia is on record.**")
    removal = card["suggestions"][0]
    assert removal["isRecommended"] is True and removal["actions"][0]["resourceId"] == "MedicationRequest/ord-1"


def test_hpp_card_for_denosumab_already_given_never_recommends_stopping_and_names_the_rebound() -> None:
    card = render(Topic.HPP_ANTIRESORPTIVE, drugs=("denosumab",), order=DENOSUMAB_ORDER, continuing=True)
    assert "Do not stop denosumab abruptly" in card["detail"]
    assert "rebound" in card["detail"] and "Tsourdi 2021" in card["detail"]
    (removal,) = card["suggestions"]
    assert "isRecommended" not in removal and "transition plan" in removal["label"]


# --- low-alp-antiresorptive ----------------------------------------------------------------


def test_persistent_low_alp_card_says_to_hold_the_drug_and_offers_the_missing_workup() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, tests_done=frozenset({"plp"}))
    assert card["detail"].startswith("**Hold alendronate until the low ALP is explained.**")
    workup = by_label(card, "Order the HPP work-up")
    codes = ordered_codes(workup)
    assert "62236-5" not in codes  # PLP is on file
    assert {"6768-6", "13789-3", "19123-9", "5763-8"} <= set(codes)
    assert "77084-2" not in codes  # ALPL sequencing is its own suggestion
    genetics = next(s for s in card["suggestions"] if s["label"].startswith("Order ALPL gene sequencing"))
    assert ordered_codes(genetics) == ["77084-2"] and "isRecommended" not in genetics


def test_alpl_sequencing_is_not_offered_again_once_on_file() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, tests_done=frozenset({"alpl"}))
    assert not any(s["label"].startswith("Order ALPL") for s in card["suggestions"])


def test_a_finished_normal_workup_is_shown_and_nothing_is_reordered() -> None:
    normal = (
        Measurement("Pyridoxal 5'-phosphate", "62236-5", date(2026, 5, 1), Decimal(60), "nmol/L", None, "normal"),
        Measurement(
            "Urine phosphoethanolamine", "13789-3", date(2026, 5, 1), Decimal(20), "umol/g{creat}", None, "normal"
        ),
    )
    card = render(
        Topic.LOW_ALP_ANTIRESORPTIVE,
        indicator=Indicator.INFO,
        normal_workup=normal,
        tests_done=frozenset({"plp", "pea"}),
    )
    assert card["indicator"] == "info"
    assert "HPP work-up on file is normal" in card["detail"] and "60 nmol/L, normal" in card["detail"]
    assert "suggestions" not in card


def test_a_denosumab_order_for_a_patient_already_on_it_is_never_removed_and_names_the_rebound() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, drugs=("denosumab",), order=DENOSUMAB_ORDER, continuing=True)
    assert card["detail"].startswith("**Do not stop denosumab abruptly")
    assert "multiple vertebral fractures" in card["detail"]
    # The decision documented in docs/rules.md: no removal at all, only the work-up.
    assert not any(a["type"] == "delete" for s in card["suggestions"] for a in s["actions"])
    assert "Order the HPP work-up" in labels(card)
    assert "do not stop denosumab abruptly" in card["summary"]


def test_a_first_denosumab_dose_may_be_held_and_the_card_says_what_stopping_later_would_risk() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, drugs=("denosumab",), order=DENOSUMAB_ORDER)
    assert card["detail"].startswith("**Hold denosumab until the low ALP is explained.**")
    assert "Not giving a first dose of denosumab is safe" in card["detail"]


def test_denosumab_in_use_names_where_it_was_seen() -> None:
    card = render(
        Topic.LOW_ALP_ANTIRESORPTIVE, drugs=("denosumab",), order=None, therapies=(DENOSUMAB_GIVEN,), continuing=True
    )
    assert "In use: denosumab, given 2026-06-01." in card["detail"]
    assert card["detail"].startswith("**Do not stop denosumab abruptly") and "rebound" in card["detail"]


@pytest.mark.parametrize("applies", [True, False])
def test_the_variant_figure_is_shown_only_when_its_criteria_are_met(applies: bool) -> None:
    detail = render(Topic.LOW_ALP_ANTIRESORPTIVE, variant_figure_applies=applies)["detail"]
    assert ("About half of adults" in detail) is applies


def test_a_childs_card_has_paediatric_wording_and_no_adult_statistics() -> None:
    detail = render(Topic.LOW_ALP_ANTIRESORPTIVE, paediatric=True, variant_figure_applies=False)["detail"]
    assert "early loss of milk teeth" in detail and "paediatric endocrinology" in detail
    assert "osteoporosis" not in detail and "Maman" not in detail and "About half of adults" not in detail


def test_secondary_causes_on_record_are_named() -> None:
    causes = (
        SecondaryCause("hypothyroidism", "Hashimoto thyroiditis", date(2020, 1, 1)),
        SecondaryCause("glucocorticoid", "prednisone 5 MG Oral Tablet", date(2026, 1, 1)),
        SecondaryCause("low magnesium", "1.2 mg/dL", date(2026, 10, 1)),
    )
    detail = render(Topic.LOW_ALP_ANTIRESORPTIVE, secondary_causes=causes)["detail"]
    assert (
        "On record, and can lower ALP:** hypothyroidism (Hashimoto thyroiditis, 2020-01-01); a glucocorticoid"
        " (prednisone 5 MG Oral Tablet, 2026-01-01); low magnesium (1.2 mg/dL, 2026-10-01)."
    ) in detail


def test_a_clearly_normal_later_value_is_stated() -> None:
    later = judged(date(2026, 3, 1), "61", False)
    detail = render(Topic.LOW_ALP_ANTIRESORPTIVE, indicator=Indicator.INFO, alp=replace(RECURRENT, later_normal=later))[
        "detail"
    ]
    assert "A later ALP of 61 U/L (2026-03-01) was clearly normal" in detail


def test_a_recurrent_info_card_does_not_offer_removal() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, indicator=Indicator.INFO, alp=RECURRENT)
    assert not any(a["type"] == "delete" for s in card["suggestions"] for a in s["actions"])
    assert card["detail"].startswith("**Recheck ALP; this pattern alone does not hold back alendronate.**")


def test_critical_low_alp_recommends_removal() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, indicator=Indicator.CRITICAL, measurements=(PLP_HIGH,))
    removal = card["suggestions"][0]
    assert removal["isRecommended"] is True and removal["actions"][0]["type"] == "delete"


# --- low-alp-on-therapy and low-alp-acute-illness ------------------------------------------


def test_low_alp_on_therapy_is_info_names_the_pre_treatment_value_and_suggests_nothing() -> None:
    card = render(Topic.LOW_ALP_ON_THERAPY)
    assert card["indicator"] == "info" and "suggestions" not in card
    assert "pre-treatment ALP 64 U/L (2019-05-02) was normal" in card["summary"]
    assert "drawn on antiresorptive therapy" in card["detail"]


def test_lows_from_one_acute_stay_ask_for_a_repeat_after_recovery() -> None:
    card = render(Topic.LOW_ALP_ACUTE_ILLNESS)
    assert "repeat ALP after recovery" in card["summary"]
    assert ordered_codes(card["suggestions"][0]) == ["6768-6"]
    assert "2026-02-01 to 2026-02-20" in card["detail"]


# --- the rest ------------------------------------------------------------------------------


def test_single_low_card_offers_a_repeat_alp_and_an_optional_removal() -> None:
    card = render(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE)
    assert labels(card)[0] == "Order a repeat ALP" and by_label(card, "Order a repeat ALP")["isRecommended"]
    assert "isRecommended" not in card["suggestions"][1]


def test_unevaluated_card_does_not_mention_a_drug_and_offers_the_workup() -> None:
    card = render(Topic.LOW_ALP_UNEVALUATED)
    assert "alendronate" not in card["detail"]
    assert "Order the HPP work-up" in labels(card)


def test_hpp_likely_card_recommends_alpl_sequencing() -> None:
    card = render(Topic.HPP_LIKELY)
    genetics = card["suggestions"][0]
    assert genetics["isRecommended"] is True and ordered_codes(genetics) == ["77084-2"]


def test_render_cards_keeps_order_and_uuids_unique_across_cards() -> None:
    cards = render_cards([finding(t) for t in ALL_TOPICS], uuids())
    assert [c["source"]["topic"]["code"] for c in cards] == [t.value for t in ALL_TOPICS]
    ids = [c["uuid"] for c in cards] + [s["uuid"] for c in cards for s in c.get("suggestions", [])]
    assert len(ids) == len(set(ids))


def test_the_source_url_is_the_page_that_explains_the_topic() -> None:
    card = render_card(
        finding(Topic.LOW_ALP_ANTIRESORPTIVE), uuids(), lambda t: f"https://cds.example.org/cards/{t.value}"
    )
    assert card["source"]["url"] == "https://cds.example.org/cards/low-alp-antiresorptive"


def test_every_suggested_resource_is_valid_fhir() -> None:
    for topic in ALL_TOPICS:
        for s in render(topic).get("suggestions", []):
            for action in s["actions"]:
                if action["type"] == "create":
                    ServiceRequest.model_validate(action["resource"])


# --- after denosumab (second review) -------------------------------------------------------


def test_a_bisphosphonate_ordered_after_denosumab_is_never_a_plain_hold_and_names_the_rebound() -> None:
    card = render(Topic.LOW_ALP_ANTIRESORPTIVE, prior_denosumab=True)
    assert card["detail"].startswith("**Ask a metabolic bone specialist before holding alendronate")
    assert "multiple vertebral fractures" in card["detail"]


def test_critical_low_alp_after_denosumab_offers_removal_without_recommending_it() -> None:
    card = render(
        Topic.LOW_ALP_ANTIRESORPTIVE, indicator=Indicator.CRITICAL, measurements=(PLP_HIGH,), prior_denosumab=True
    )
    removal = next(s for s in card["suggestions"] if s["actions"][0]["type"] == "delete")
    assert "isRecommended" not in removal


def test_hpp_likely_after_denosumab_asks_for_a_plan_before_the_next_dose() -> None:
    card = render(Topic.HPP_LIKELY, prior_denosumab=True)
    assert "before the next denosumab dose is due" in card["detail"] and "rebound" in card["detail"]
    assert "avoid bisphosphonates, denosumab" not in card["detail"]


def test_an_acute_stay_card_for_continuing_denosumab_does_not_delay_the_dose() -> None:
    card = render(Topic.LOW_ALP_ACUTE_ILLNESS, drugs=("denosumab",), order=DENOSUMAB_ORDER, continuing=True)
    assert "Do not delay the next denosumab dose" in card["detail"] and "rebound" in card["detail"]
    assert "Starting denosumab" not in card["detail"]


def test_a_single_low_card_for_continuing_denosumab_never_suggests_removal() -> None:
    card = render(Topic.SINGLE_LOW_ALP_ANTIRESORPTIVE, drugs=("denosumab",), order=DENOSUMAB_ORDER, continuing=True)
    assert card["detail"].startswith("**Repeat ALP, and do not delay the next denosumab dose")
    assert not any(a["type"] == "delete" for s in card["suggestions"] for a in s["actions"])


def test_substrate_limits_keep_their_comparator() -> None:
    assert "> 125 (lab range high)" in render(Topic.HPP_LIKELY)["detail"]


def test_an_elevated_plp_is_stated_with_its_date_and_limit_and_the_vitamin_b6_caveat() -> None:
    detail = render(Topic.HPP_LIKELY)["detail"]
    assert "Pyridoxal 5'-phosphate 210 nmol/L on 2026-10-01 is above normal (> 125 (lab range high))" in detail
    assert "Vitamin B6 supplements raise pyridoxal 5'-phosphate: ask about them before reading it as HPP." in detail
