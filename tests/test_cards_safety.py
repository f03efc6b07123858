"""Tests for cards.safety: the renal and the vitamin D/calcium cards, rendered from findings."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from cards.safety import CARD_FOR_TOPIC, renal_card, vitamin_d_calcium_card
from hooks.findings import Finding, Indicator, Measurement, Topic
from hooks.minerals import check_vitamin_d_and_calcium
from hooks.policy import Policy
from hooks.records import LabResult, MedicationOrder, Quantity, ReferenceRange
from hooks.renal import EGFR_NOTE, check_renal_function
from tests.cds_checks import assert_spec_exact

PATIENT = "pat-1"
LONG_DRUG = "zoledronic acid " + "x" * 284
assert len(LONG_DRUG) == 300
HOSTILE_DRUG = "alen|dronate <script>alert(1)</script> *x*"
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def uuids() -> Callable[[], str]:
    """Return a deterministic uuid factory: 00000000-...-000000000001, ...02, and so on."""
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter)))


def draft(id: str | None = "mr-1", name: str = "Zoledronic acid 5 mg") -> MedicationOrder:
    return MedicationOrder(id, "draft", (), (name,))


EGFR_28 = Measurement("eGFR", "98979-8", date(2026, 10, 2), Decimal("28.00"), "mL/min/1.73 m²", None, "< 35 mL/min")
CRCL_25 = Measurement("Creatinine clearance", "2164-2", date(2026, 10, 2), Decimal(25), "mL/min", None, "< 30 mL/min")
VITAMIN_D_14 = Measurement("25-OH vitamin D", "62292-8", date(2026, 9, 1), Decimal(14), "ng/mL", None, "< 20 ng/mL")
CALCIUM_8 = Measurement("Calcium", "17861-6", date(2026, 9, 2), Decimal("8.1"), "mg/dL", None,
                        "< 8.6 mg/dL (lab range low)")


def renal(drug: str = "zoledronic acid", indicator: Indicator = Indicator.CRITICAL, *,
          measurement: Measurement = EGFR_28, order: MedicationOrder | None = None,
          notes: tuple[str, ...] = (EGFR_NOTE,)) -> Finding:
    return Finding(
        Topic.RENAL_ANTIRESORPTIVE, indicator, PATIENT, (drug,), order or draft(),
        measurements=(measurement,),
        criteria=(f"{measurement.label} 28 is below the labelled limit of 35 mL/min for {drug}",),
        notes=notes,
    )


def minerals(*measurements: Measurement, drugs: tuple[str, ...] = ("alendronate",)) -> Finding:
    return Finding(
        Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE, Indicator.INFO, PATIENT, drugs, draft(name="Alendronate"),
        measurements=measurements,
        criteria=tuple(f"{m.label} is low" for m in measurements),
        notes=("Total calcium is not corrected for albumin.",),
    )


ZOLEDRONIC = renal()
ALENDRONATE = renal("alendronate", Indicator.WARNING)
DENOSUMAB = renal("denosumab", Indicator.WARNING, measurement=CRCL_25, notes=())
VITAMIN_D_LOW = minerals(VITAMIN_D_14)
CALCIUM_LOW = minerals(CALCIUM_8)
BOTH_LOW = minerals(VITAMIN_D_14, CALCIUM_8)
ALL_FINDINGS = [ZOLEDRONIC, ALENDRONATE, DENOSUMAB, VITAMIN_D_LOW, CALCIUM_LOW, BOTH_LOW]
IDS = ["zoledronic", "alendronate", "denosumab", "vitamin D", "calcium", "both"]


def render(finding: Finding) -> dict:
    return CARD_FOR_TOPIC[finding.topic](finding, uuids())


def with_drug(finding: Finding, drug: str) -> Finding:
    return replace(finding, drugs=(drug,))


# --- every card ---------------------------------------------------------------------------------------

def test_the_dispatch_covers_exactly_the_two_safety_topics():
    assert CARD_FOR_TOPIC == {Topic.RENAL_ANTIRESORPTIVE: renal_card,
                              Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE: vitamin_d_calcium_card}


@pytest.mark.parametrize("finding", ALL_FINDINGS, ids=IDS)
def test_every_card_meets_the_specification(finding):
    assert_spec_exact(render(finding))


@pytest.mark.parametrize("finding", ALL_FINDINGS, ids=IDS)
@pytest.mark.parametrize("drug", [LONG_DRUG, HOSTILE_DRUG], ids=["long", "hostile"])
def test_every_card_meets_the_specification_with_an_awkward_drug_name(finding, drug):
    card = render(with_drug(finding, drug))
    assert_spec_exact(card)
    assert len(card["summary"]) < 140


@pytest.mark.parametrize("finding", ALL_FINDINGS, ids=IDS)
def test_a_long_drug_name_is_shortened_so_the_numbers_stay_in_the_summary(finding):
    summary = render(with_drug(finding, LONG_DRUG))["summary"]
    first = finding.measurements[0]
    assert len(summary) < 140
    assert f"{first.label} " in summary and iso_date_in(summary, first.effective)
    assert "…" in summary


def iso_date_in(text: str, day: date) -> bool:
    return day.isoformat() in text


@pytest.mark.parametrize("finding", ALL_FINDINGS, ids=IDS)
def test_the_card_carries_the_finding_s_indicator_and_topic(finding):
    card = render(finding)
    assert card["indicator"] == finding.indicator.value
    assert card["source"]["topic"]["code"] == finding.topic.value
    assert card["source"]["label"] == "ALP Guard"


@pytest.mark.parametrize("finding", ALL_FINDINGS, ids=IDS)
def test_the_card_uuid_comes_first_and_suggestions_follow(finding):
    card = render(finding)
    assert card["uuid"] == str(uuid.UUID(int=1))
    assert [s["uuid"] for s in card.get("suggestions", [])] == [
        str(uuid.UUID(int=i + 2)) for i in range(len(card.get("suggestions", [])))]


@pytest.mark.parametrize("finding", ALL_FINDINGS, ids=IDS)
def test_the_detail_escapes_the_drug_name(finding):
    detail = render(with_drug(finding, HOSTILE_DRUG))["detail"]
    assert "<script>" not in detail
    table_free = [line for line in detail.splitlines() if not line.startswith("|")]
    assert not any(UNESCAPED_PIPE.search(line) for line in table_free)


@pytest.mark.parametrize("factory", [renal_card, vitamin_d_calcium_card])
def test_a_finding_without_a_measurement_is_refused(factory):
    with pytest.raises(ValueError):
        factory(replace(ZOLEDRONIC, measurements=()), uuids())


# --- the renal card -----------------------------------------------------------------------------------

@pytest.mark.parametrize("finding, summary", [
    (ZOLEDRONIC, "eGFR 28 mL/min/1.73 m² (2026-10-02) is below 35 mL/min for zoledronic acid: contraindicated"),
    (ALENDRONATE, "eGFR 28 mL/min/1.73 m² (2026-10-02) is below 35 mL/min for alendronate: not recommended"),
    (DENOSUMAB, "Creatinine clearance 25 mL/min (2026-10-02) is below 30 mL/min for denosumab:"
                " severe hypocalcaemia risk"),
], ids=["zoledronic", "alendronate", "denosumab"])
def test_the_renal_summary_gives_the_value_date_limit_drug_and_verdict(finding, summary):
    assert render(finding)["summary"] == summary


def test_the_renal_summary_keeps_a_comparator():
    finding = renal(measurement=replace(EGFR_28, value=Decimal(15), comparator="<"))
    assert render(finding)["summary"].startswith("eGFR <15 mL/min/1.73 m² (2026-10-02) is below 35 mL/min")


def test_several_drugs_give_each_verdict_and_a_critical_one_leads():
    finding = replace(ZOLEDRONIC, drugs=("denosumab", "zoledronic acid"))
    assert render(finding)["summary"].endswith(
        "for denosumab and zoledronic acid: contraindicated; severe hypocalcaemia risk")


def test_the_renal_detail_has_the_table_the_label_the_proxy_note_and_what_to_do():
    detail = render(ZOLEDRONIC)["detail"]
    assert "| eGFR | 2026-10-02 | 28 mL/min/1.73 m² | < 35 mL/min |" in detail
    assert "eGFR 28 is below the labelled limit of 35 mL/min for zoledronic acid" in detail
    assert "Cockcroft-Gault); eGFR is used here as a proxy" in detail
    assert "Zoledronic acid 5 mg (Reclast): contraindicated if creatinine clearance is below 35 mL/min" in detail
    assert "calculate creatinine clearance by Cockcroft-Gault" in detail
    assert "Do not give zoledronic acid" in detail
    assert "nephrology or a metabolic bone specialist" in detail


def test_the_denosumab_detail_asks_for_calcium_vitamin_d_pth_and_ckd_mbd():
    detail = render(DENOSUMAB)["detail"]
    assert "check calcium, 25-OH vitamin D and PTH" in detail and "CKD-MBD" in detail
    assert "boxed warning of severe hypocalcaemia" in detail
    assert "proxy" not in detail
    assert "Hold" not in detail and "Do not give" not in detail


def test_an_oral_bisphosphonate_is_to_be_held_not_forbidden():
    detail = render(ALENDRONATE)["detail"]
    assert "Hold alendronate or choose another option" in detail
    assert "Do not give" not in detail


def test_a_critical_renal_card_recommends_removing_the_order():
    suggestions = render(ZOLEDRONIC)["suggestions"]
    assert suggestions == [{
        "label": "Remove the zoledronic acid order",
        "uuid": str(uuid.UUID(int=2)),
        "isRecommended": True,
        "actions": [{"type": "delete", "description": "Remove the draft zoledronic acid order",
                     "resourceId": "MedicationRequest/mr-1"}],
    }]


def test_a_warning_renal_card_offers_removal_without_recommending_it():
    [suggestion] = render(ALENDRONATE)["suggestions"]
    assert suggestion["label"] == "Remove the alendronate order"
    assert suggestion["actions"][0]["resourceId"] == "MedicationRequest/mr-1"
    assert "isRecommended" not in suggestion


@pytest.mark.parametrize("order_id", [None, "has space", "x" * 65])
def test_no_removal_is_offered_for_an_order_that_cannot_be_referenced(order_id):
    card = render(renal(order=draft(order_id)))
    assert "suggestions" not in card and "selectionBehavior" not in card
    assert_spec_exact(card)


def test_the_removal_label_stays_short_with_a_long_drug_name():
    [suggestion] = render(with_drug(ZOLEDRONIC, LONG_DRUG))["suggestions"]
    assert len(suggestion["label"]) <= len("Remove the  order") + 60


def test_the_renal_override_reasons_have_codes_and_displays():
    reasons = render(ZOLEDRONIC)["overrideReasons"]
    assert [(r["code"], r["display"]) for r in reasons] == [
        ("crcl-adequate", "CrCl above the limit on recalculation"),
        ("specialist-advised", "Benefit outweighs risk (specialist advised)"),
        ("incorrect-data", "Data incorrect or not applicable"),
    ]


def test_the_renal_card_links_to_the_label_on_dailymed():
    assert render(ZOLEDRONIC)["links"] == [{
        "label": "DailyMed: zoledronic acid prescribing information",
        "url": "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=zoledronic+acid",
        "type": "absolute",
    }]
    assert "links" not in render(with_drug(ZOLEDRONIC, HOSTILE_DRUG))


# --- the vitamin D and calcium card -------------------------------------------------------------------

@pytest.mark.parametrize("finding, summary", [
    (VITAMIN_D_LOW, "25-OH vitamin D 14 ng/mL (2026-09-01): replete vitamin D before starting alendronate"),
    (CALCIUM_LOW, "Calcium 8.1 mg/dL (2026-09-02): correct low calcium before starting alendronate"),
    (BOTH_LOW, "25-OH vitamin D 14 ng/mL (2026-09-01), Calcium 8.1 mg/dL (2026-09-02): correct vitamin D and"
               " calcium before starting alendronate"),
], ids=["vitamin D", "calcium", "both"])
def test_the_mineral_summary_gives_the_values_dates_and_what_to_correct(finding, summary):
    assert render(finding)["summary"] == summary


def test_the_mineral_summary_names_every_drug():
    finding = minerals(VITAMIN_D_14, drugs=("alendronate", "denosumab"))
    assert render(finding)["summary"].endswith("before starting alendronate and denosumab")


def test_the_mineral_card_is_info():
    assert render(BOTH_LOW)["indicator"] == "info"


def test_the_mineral_detail_has_the_table_the_notes_and_the_advice():
    detail = render(BOTH_LOW)["detail"]
    assert "| 25-OH vitamin D | 2026-09-01 | 14 ng/mL | < 20 ng/mL |" in detail
    assert "| Calcium | 2026-09-02 | 8.1 mg/dL | < 8.6 mg/dL (lab range low) |" in detail
    assert "Total calcium is not corrected for albumin." in detail
    assert "Replete vitamin D to at least 20 ng/mL before starting alendronate." in detail
    assert "Correct hypocalcaemia before starting alendronate" in detail
    assert "denosumab and zoledronic acid, which can cause severe hypocalcaemia" in detail


def test_the_mineral_advice_follows_what_is_low():
    assert "Correct hypocalcaemia" not in render(VITAMIN_D_LOW)["detail"]
    assert "Replete vitamin D" not in render(CALCIUM_LOW)["detail"]


def test_the_mineral_card_offers_vitamin_d_and_calcium_tests_without_recommending_them():
    [suggestion] = render(VITAMIN_D_LOW)["suggestions"]
    assert suggestion["label"] == "Order 25-OH vitamin D and calcium"
    assert "isRecommended" not in suggestion
    resources = [action["resource"] for action in suggestion["actions"]]
    assert [r["code"]["coding"][0]["code"] for r in resources] == ["62292-8", "17861-6"]
    assert {(r["resourceType"], r["status"], r["subject"]["reference"]) for r in resources} == {
        ("ServiceRequest", "draft", "Patient/pat-1")}


def test_the_mineral_card_offers_no_order_deletion():
    actions = [a for s in render(BOTH_LOW)["suggestions"] for a in s["actions"]]
    assert {a["type"] for a in actions} == {"create"}


def test_the_mineral_override_reasons_have_codes_and_displays():
    reasons = render(BOTH_LOW)["overrideReasons"]
    assert [r["code"] for r in reasons] == ["being-corrected", "specialist-advised", "incorrect-data"]
    assert all(r["display"] for r in reasons)


# --- from the rules to the cards ----------------------------------------------------------------------

def test_a_renal_finding_from_the_rule_renders_a_spec_exact_card():
    result = LabResult("o1", "98979-8", "final", date(2026, 10, 2), Quantity(Decimal("0.45"), "mL/s/{1.73_m2}"))
    finding = check_renal_function(draft(), [result], PATIENT, date(2026, 11, 24), Policy())
    assert finding is not None
    card = render(finding)
    assert_spec_exact(card)
    assert card["summary"] == (
        "eGFR 27 mL/min/1.73 m² (2026-10-02) is below 35 mL/min for zoledronic acid: contraindicated")
    assert "reported as 0.45 mL/s/{1.73 m2}" in card["detail"]


def test_a_mineral_finding_from_the_rule_renders_a_spec_exact_card():
    ranges = (ReferenceRange(Quantity(Decimal("2.15"), "mmol/L"), None),)
    results = [
        LabResult("o1", "14635-7", "final", date(2026, 9, 1), Quantity(Decimal(35), "nmol/L")),
        LabResult("o2", "17861-6", "final", date(2026, 9, 1), Quantity(Decimal("2.05"), "mmol/L"), ranges),
    ]
    finding = check_vitamin_d_and_calcium([draft(name="Prolia")], results, PATIENT, date(2026, 11, 24), Policy())
    assert finding is not None
    card = render(finding)
    assert_spec_exact(card)
    assert card["summary"] == ("25-OH vitamin D 14.02 ng/mL (2026-09-01), Calcium 8.21 mg/dL (2026-09-01):"
                               " correct vitamin D and calcium before starting denosumab")
