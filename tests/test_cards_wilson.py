"""The Wilson disease card, rendered from findings of the Wilson check."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from cards.wilson import CARD_FOR_TOPIC, wilson_card
from cards.wording import criteria_lines
from hooks.findings import Caveat, Check, Finding, Topic
from hooks.policy import Policy
from hooks.records import LabResult, PatientFacts, Quantity
from hooks.wilson import check_wilson_pattern
from tests.cds_checks import assert_spec_exact

DAY = date(2026, 11, 23)
ADULT = PatientFacts("pat-1", date(1996, 5, 1), "female")
AGE_60 = PatientFacts("pat-60", date(1966, 5, 1), "female")


def uuids() -> Callable[[], str]:
    """Return a deterministic uuid factory."""
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter)))


def lab(loinc: str, value: str, unit: str | None) -> LabResult:
    return LabResult(f"o-{loinc}", loinc, "final", DAY, Quantity(Decimal(value), unit))


def finding(alp="20", tb="12", ast="180", alt="60", *, tb_unit="mg/dL", patient=ADULT) -> Finding:
    """Return the Wilson check's finding for a patient with INR 3.1 and this set."""
    labs = [
        lab("6301-6", "3.1", "{INR}"),
        lab("6768-6", alp, "U/L"),
        lab("1975-2", tb, tb_unit),
        lab("1920-8", ast, "U/L"),
        lab("1742-6", alt, "U/L"),
    ]
    result = check_wilson_pattern(labs, [], [], patient, date(2026, 11, 24), Policy())
    assert result is not None
    return result


CRITICAL = finding()
WARNING = finding(alp="100", tb="2")
INFO = finding(alp="32", tb="1", ast="150", alt="150")  # injured liver, neither ratio met, ALP ≤ 40


def render(f: Finding) -> dict:
    card = wilson_card(f, uuids())
    assert_spec_exact(card)
    return card


# --- summaries ----------------------------------------------------------------------------------------------


def test_critical_summary_puts_the_urgent_action_first_then_both_ratios():
    assert render(CRITICAL)["summary"] == (
        "Urgent Wilson work-up and transplant referral: acute liver failure with the Wilson pattern"
        " (ALP/bilirubin 1.7 < 4, AST/ALT 3.0 > 2.2)"
    )
    assert render(CRITICAL)["indicator"] == "critical"


def test_warning_summary_puts_the_work_up_first_and_names_the_one_criterion_met():
    card = render(WARNING)
    assert card["summary"] == (
        "Consider the Wilson disease work-up: acute liver failure, one of two Wilson criteria met (AST/ALT 3.0 > 2.2)"
    )
    assert card["indicator"] == "warning"


def test_info_summary_gives_the_alp():
    card = render(INFO)
    assert card["summary"] == "Consider Wilson disease: acute liver failure with ALP 32 U/L"
    assert card["indicator"] == "info"


def test_a_pattern_lowered_for_age_says_so_in_the_summary():
    critical_at_60 = render(finding(patient=AGE_60))
    assert critical_at_60["indicator"] == "warning"
    assert critical_at_60["summary"] == (
        "Consider the Wilson disease work-up: acute liver failure with the Wilson pattern"
        " (ALP/bilirubin 1.7 < 4, AST/ALT 3.0 > 2.2), atypical age"
    )
    warning_at_60 = render(finding(alp="100", tb="2", patient=AGE_60))
    assert warning_at_60["indicator"] == "info"
    assert warning_at_60["summary"] == (
        "Consider Wilson disease: acute liver failure, one of two Wilson criteria met (AST/ALT 3.0 > 2.2), atypical age"
    )


def test_a_lowered_card_explains_why_in_its_notes():
    detail = render(finding(patient=AGE_60))["detail"]
    assert "Age 60, outside 3-55 years" in detail
    assert "AASLD 2008" in detail and "EASL 2012" in detail
    assert "Age alone does not exclude Wilson disease" in detail


@pytest.mark.parametrize("f", [CRITICAL, WARNING, finding(patient=AGE_60), finding(alp="100", tb="2", patient=AGE_60)])
def test_a_summary_too_long_for_its_ratios_drops_them_rather_than_the_advice(f):
    # A ratio a hair's breadth from its limit needs 60 decimals to show which side it is on.
    hair = {Check.ALP_BILIRUBIN_RATIO: Decimal("3." + "9" * 60), Check.AST_ALT_RATIO: Decimal("2.2" + "0" * 59 + "1")}
    long = replace(f, checks=tuple(replace(c, value=hair[c.what]) if c.what in hair and c.met else c for c in f.checks))
    assert any(len(line) > 80 for line in criteria_lines(long) if line.startswith(("ALP/", "AST/")))
    summary = render(long)["summary"]
    assert len(summary) < 140 and "…" not in summary
    assert summary.startswith(("Urgent Wilson work-up", "Consider the Wilson disease work-up", "Consider Wilson"))
    assert "(" not in summary
    assert summary.endswith(", atypical age") is (f.caveats[0].caveat is Caveat.ATYPICAL_WILSON_AGE)


@pytest.mark.parametrize(
    "f",
    [
        CRITICAL,
        WARNING,
        INFO,
        finding(tb="205", tb_unit="umol/L"),
        finding(patient=PatientFacts("child", date(2015, 1, 1))),
    ],
)
def test_every_card_meets_the_spec_and_its_summary_fits(f):
    card = render(f)
    assert len(card["summary"]) < 140
    assert card["source"]["topic"]["code"] == "wilson-alf"


# --- detail -------------------------------------------------------------------------------------------------


def test_detail_tabulates_the_inr_and_the_set_with_bilirubin_in_mg_per_dl():
    detail = render(finding(tb="205", tb_unit="umol/L"))["detail"]
    assert "| INR | 2026-11-23 | 3.1 | ≥ 1.5 |" in detail
    assert "| ALP | 2026-11-23 | 20 U/L |  |" in detail
    assert "| Total bilirubin | 2026-11-23 | 11.99 mg/dL |  |" in detail
    assert "| AST | 2026-11-23 | 180 U/L |  |" in detail
    assert "| ALT | 2026-11-23 | 60 U/L |  |" in detail


def test_detail_states_the_acute_liver_failure_picture_then_each_criterion_and_its_verdict():
    detail = render(WARNING)["detail"]
    assert (
        "- Acute liver failure picture: INR 3.1 ≥ 1.5 with AST 180 U/L ≥ 120 U/L, all within the last 7 days,"
        " and no current chronic or alcohol-related liver disease on record"
    ) in detail
    assert "- ALP/bilirubin 50.0 < 4: not met" in detail
    assert "- AST/ALT 3.0 > 2.2: met" in detail


@pytest.mark.parametrize(
    "f",
    [
        CRITICAL,
        WARNING,
        INFO,
        finding(tb="205", tb_unit="umol/L"),
        finding(patient=AGE_60),
        finding(patient=PatientFacts("child", date(2015, 1, 1))),
    ],
)
def test_detail_is_plain_markdown_without_entities_or_backslashes(f):
    detail = render(f)["detail"]
    assert "&lt;" not in detail and "&gt;" not in detail and "&amp;" not in detail and "\\" not in detail


def test_detail_asks_to_confirm_encephalopathy_and_no_pre_existing_liver_disease():
    detail = render(CRITICAL)["detail"]
    assert "Acute liver failure also needs encephalopathy and no pre-existing liver disease" in detail
    assert "alcohol-related liver disease is on record" in detail


def test_detail_explains_korman_2008():
    detail = render(CRITICAL)["detail"]
    for fact in (
        "Hepatology 48:1167",
        "doi:10.1002/hep.22446",
        "sensitivity 94% and specificity 96%",
        "sensitivity 94% and specificity 86%",
        "100% and 100%",
        "16 with",
        "usually fatal without liver transplantation",
        "17 times too small",
    ):
        assert fact in detail


def test_detail_says_what_to_do():
    detail = render(CRITICAL)["detail"]
    for step in (
        "hepatology and a liver transplant centre",
        "Serum copper",
        "24-hour urine copper",
        "Ceruloplasmin, knowing that it is unreliable in acute liver failure",
        "CBC",
        "haptoglobin",
        "Coombs",
        "Slit-lamp examination for Kayser-Fleischer rings",
    ):
        assert step in detail


def test_only_the_info_card_explains_a_very_low_alp_alone():
    assert "A very low ALP is typical" in render(INFO)["detail"]
    assert "A very low ALP is typical" not in render(CRITICAL)["detail"]


def test_detail_carries_the_notes():
    child = render(finding(patient=PatientFacts("child", date(2015, 1, 1))))["detail"]
    assert "**Notes**" in child
    assert "sensitivity 32.5% in a paediatric cohort" in child
    assert "1.85 has been proposed" in child
    assert "Ceruloplasmin is unreliable in acute liver failure" in render(CRITICAL)["detail"]
    assert "converted to 11.99 mg/dL" in render(finding(tb="205", tb_unit="umol/L"))["detail"]


def test_a_finding_without_notes_has_no_notes_section():
    assert "**Notes**" not in render(replace(CRITICAL, caveats=()))["detail"]


# --- suggestion, override reasons, link ---------------------------------------------------------------------


def test_the_suggestion_drafts_serum_copper_and_ceruloplasmin_for_the_patient():
    card = render(CRITICAL)
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Order the Wilson disease work-up"
    assert suggestion["isRecommended"] is True
    assert card["selectionBehavior"] == "any"
    resources = [a["resource"] for a in suggestion["actions"]]
    assert [a["type"] for a in suggestion["actions"]] == ["create", "create"]
    assert [r["code"]["coding"][0]["code"] for r in resources] == ["5631-7", "2064-4"]
    assert {r["code"]["coding"][0]["system"] for r in resources} == {"http://loinc.org"}
    assert {(r["resourceType"], r["status"], r["intent"], r["subject"]["reference"]) for r in resources} == {
        ("ServiceRequest", "draft", "order", "Patient/pat-1")
    }


def test_uuids_are_drawn_for_the_card_and_the_suggestion():
    card = render(CRITICAL)
    assert card["uuid"] == str(uuid.UUID(int=1))
    assert card["suggestions"][0]["uuid"] == str(uuid.UUID(int=2))


def test_override_reasons_have_codes_and_displays():
    reasons = render(CRITICAL)["overrideReasons"]
    assert [(r["code"], r["display"]) for r in reasons] == [
        ("wilson-excluded", "Wilson disease already excluded"),
        ("other-cause", "Liver failure explained by another cause"),
        ("incorrect-data", "Data incorrect or not applicable"),
    ]


def test_the_card_links_to_korman_2008():
    assert [link["url"] for link in render(CRITICAL)["links"]] == ["https://doi.org/10.1002/hep.22446"]


def test_the_source_names_the_topic():
    topic = render(CRITICAL)["source"]["topic"]
    assert (topic["code"], topic["display"]) == ("wilson-alf", "Acute liver failure with the Wilson disease pattern")


# --- dispatch and refusals ----------------------------------------------------------------------------------


def test_card_for_topic_maps_wilson_alf_to_this_card():
    assert CARD_FOR_TOPIC == {Topic.WILSON_ALF: wilson_card}


@pytest.mark.parametrize(
    "bad",
    [
        replace(CRITICAL, measurements=()),
        replace(CRITICAL, topic=Topic.HPP_LIKELY),
        replace(INFO, measurements=INFO.measurements[:1]),
    ],
)
def test_a_finding_the_card_cannot_report_is_refused(bad):
    with pytest.raises(ValueError):
        wilson_card(bad, uuids())
