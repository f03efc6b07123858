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

from cards.safety import (
    CARD_FOR_TOPIC,
    cardiovascular_card,
    dose_adjustment_card,
    duplicate_card,
    renal_card,
    vitamin_d_calcium_card,
)
from hooks.findings import Caveat, Check, Criterion, Finding, Indicator, Measurement, Note, Topic
from hooks.minerals import check_vitamin_d_and_calcium
from hooks.policy import Policy
from hooks.records import LabResult, MedicationOrder, Quantity, ReferenceRange
from hooks.renal import check_renal_function
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
CALCIUM_8 = Measurement(
    "Calcium", "17861-6", date(2026, 9, 2), Decimal("8.1"), "mg/dL", None, "< 8.6 mg/dL (lab range low)"
)


def renal(
    drug: str = "zoledronic acid",
    indicator: Indicator = Indicator.CRITICAL,
    *,
    measurement: Measurement = EGFR_28,
    order: MedicationOrder | None = None,
    notes: tuple[Note, ...] = (Note(Caveat.EGFR_FOR_CRCL),),
) -> Finding:
    return Finding(
        Topic.RENAL_ANTIRESORPTIVE,
        indicator,
        PATIENT,
        (drug,),
        order or draft(),
        measurements=(measurement,),
        checks=(Criterion(Check.BELOW_RENAL_LIMIT, Decimal(28), Decimal(35), subject=drug, measurement=measurement),),
        caveats=notes,
    )


def mineral_check(m: Measurement) -> Criterion:
    if m.label == "Calcium":
        return Criterion(Check.LOW_CALCIUM, m.value, Decimal("8.6"), measurement=m)
    return Criterion(Check.LOW_VITAMIN_D, m.value, Decimal(20), measurement=m)


def minerals(*measurements: Measurement, drugs: tuple[str, ...] = ("alendronate",)) -> Finding:
    return Finding(
        Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE,
        Indicator.INFO,
        PATIENT,
        drugs,
        draft(name="Alendronate"),
        measurements=measurements,
        checks=tuple(mineral_check(m) for m in measurements),
        caveats=(Note(Caveat.CALCIUM_NOT_ALBUMIN_CORRECTED),),
    )


ZOLEDRONIC = renal()
ALENDRONATE = renal("alendronate", Indicator.WARNING)
DENOSUMAB = renal("denosumab", Indicator.WARNING, measurement=CRCL_25, notes=(), order=draft(name="Prolia 60 mg"))
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


def test_the_dispatch_covers_exactly_the_safety_topics():
    assert CARD_FOR_TOPIC == {
        Topic.RENAL_ANTIRESORPTIVE: renal_card,
        Topic.VITAMIN_D_CALCIUM_ANTIRESORPTIVE: vitamin_d_calcium_card,
        Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT: dose_adjustment_card,
        Topic.ROMOSOZUMAB_CARDIOVASCULAR: cardiovascular_card,
        Topic.DUPLICATE_ANTIRESORPTIVE: duplicate_card,
    }


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
        str(uuid.UUID(int=i + 2)) for i in range(len(card.get("suggestions", [])))
    ]


@pytest.mark.parametrize("finding", ALL_FINDINGS, ids=IDS)
def test_the_detail_escapes_the_drug_name(finding):
    detail = render(with_drug(finding, HOSTILE_DRUG))["detail"]
    assert "<script>" not in detail
    table_free = [line for line in detail.splitlines() if not line.startswith("|")]
    assert not any(UNESCAPED_PIPE.search(line) for line in table_free)


@pytest.mark.parametrize("factory", [renal_card, vitamin_d_calcium_card])
def test_a_finding_without_a_measurement_or_a_dialysis_condition_is_refused(factory):
    with pytest.raises(ValueError):
        factory(replace(ZOLEDRONIC, measurements=(), checks=()), uuids())


# --- the renal card -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "finding, summary",
    [
        (
            ZOLEDRONIC,
            "Do not give zoledronic acid: eGFR 28 mL/min/1.73 m² (2026-10-02) is below 35 mL/min, contraindicated",
        ),
        (ALENDRONATE, "Avoid alendronate: eGFR 28 mL/min/1.73 m² (2026-10-02) is below 35 mL/min, not recommended"),
        (
            DENOSUMAB,
            "Check calcium and CKD-MBD before denosumab: Creatinine clearance 25 mL/min (2026-10-02) is below"
            " 30 mL/min, severe hypocalcaemia risk",
        ),
    ],
    ids=["zoledronic", "alendronate", "denosumab"],
)
def test_the_renal_summary_gives_the_action_then_the_value_date_limit_and_verdict(finding, summary):
    assert render(finding)["summary"] == summary


def test_the_renal_summary_keeps_a_comparator():
    finding = renal(measurement=replace(EGFR_28, value=Decimal(15), comparator="<"))
    assert "eGFR <15 mL/min/1.73 m² (2026-10-02) is below 35 mL/min" in render(finding)["summary"]


def test_several_drugs_give_each_verdict_and_a_critical_one_leads():
    finding = replace(ZOLEDRONIC, drugs=("denosumab", "zoledronic acid"))
    summary = render(finding)["summary"]
    assert summary.startswith("Review denosumab and zoledronic acid: ")
    assert summary.endswith(", contraindicated; severe hypocalcaemia risk")


def test_the_renal_detail_has_the_table_the_label_the_proxy_note_and_what_to_do():
    detail = render(ZOLEDRONIC)["detail"]
    assert "| eGFR | 2026-10-02 | 28 mL/min/1.73 m² | < 35 mL/min |" in detail
    assert "eGFR 28 mL/min/1.73 m² is below the labelled limit of 35 mL/min for zoledronic acid" in detail
    assert "Cockcroft-Gault); eGFR is used here as a proxy" in detail
    assert (
        "Zoledronic acid 5 mg (Reclast; label updated 2023-11-30): contraindicated if creatinine clearance is"
        " below 35 mL/min"
    ) in detail
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
    assert suggestions == [
        {
            "label": "Remove the zoledronic acid order",
            "uuid": str(uuid.UUID(int=2)),
            "isRecommended": True,
            "actions": [
                {
                    "type": "delete",
                    "description": "Remove the draft zoledronic acid order",
                    "resourceId": "MedicationRequest/mr-1",
                }
            ],
        }
    ]


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
    assert render(ZOLEDRONIC)["links"] == [
        {
            "label": "DailyMed: zoledronic acid prescribing information",
            "url": "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=zoledronic+acid",
            "type": "absolute",
        }
    ]
    assert "links" not in render(with_drug(ZOLEDRONIC, HOSTILE_DRUG))


# --- the vitamin D and calcium card -------------------------------------------------------------------


@pytest.mark.parametrize(
    "finding, summary",
    [
        (VITAMIN_D_LOW, "Replete vitamin D before starting alendronate: 25-OH vitamin D 14 ng/mL (2026-09-01)"),
        (CALCIUM_LOW, "Correct low calcium before starting alendronate: Calcium 8.1 mg/dL (2026-09-02)"),
        (
            BOTH_LOW,
            "Correct vitamin D and calcium before starting alendronate: 25-OH vitamin D 14 ng/mL (2026-09-01),"
            " Calcium 8.1 mg/dL (2026-09-02)",
        ),
    ],
    ids=["vitamin D", "calcium", "both"],
)
def test_the_mineral_summary_gives_what_to_correct_then_the_values_and_dates(finding, summary):
    assert render(finding)["summary"] == summary


def test_the_mineral_summary_names_every_drug():
    finding = minerals(VITAMIN_D_14, drugs=("alendronate", "denosumab"))
    assert render(finding)["summary"].startswith("Replete vitamin D before starting alendronate and denosumab: ")


def test_the_mineral_card_is_info():
    assert render(BOTH_LOW)["indicator"] == "info"


def test_the_mineral_detail_has_the_table_the_notes_and_the_advice():
    detail = render(BOTH_LOW)["detail"]
    assert "| 25-OH vitamin D | 2026-09-01 | 14 ng/mL | < 20 ng/mL |" in detail
    assert "| Calcium | 2026-09-02 | 8.1 mg/dL | < 8.6 mg/dL (lab range low) |" in detail
    assert "Total calcium is not corrected for albumin: confirm with albumin-corrected or ionised calcium." in detail
    assert "25-OH vitamin D 14 ng/mL is below 20 ng/mL (50 nmol/L), the level to reach before" in detail
    assert "Calcium 8.1 mg/dL is below the lab's reference range (low 8.6 mg/dL)" in detail
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
        ("ServiceRequest", "draft", "Patient/pat-1")
    }


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
        "Do not give zoledronic acid: eGFR 27 mL/min/1.73 m² (2026-10-02) is below 35 mL/min, contraindicated"
    )
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
    assert card["summary"] == (
        "Correct vitamin D and calcium before starting denosumab: 25-OH vitamin D 14.02 ng/mL"
        " (2026-09-01), Calcium 8.21 mg/dL (2026-09-01)"
    )


# --- the new safety cards: from the rules, spec-exact, action first ------------------------------------------

from datetime import timedelta  # noqa: E402

from hooks.cardiovascular import check_recent_cardiovascular_event  # noqa: E402
from hooks.duplicates import check_duplicate_antiresorptives  # noqa: E402
from hooks.records import Code, ConditionRecord, PatientFacts  # noqa: E402
from hooks.therapy import Therapy  # noqa: E402

TODAY = date(2026, 11, 24)
PLAIN_MARKDOWN_CLUTTER = re.compile(r"&[a-z]+;|\\\\")


def zometa(mg: str | None = "4", id: str = "mr-z") -> MedicationOrder:
    return MedicationOrder(id, "draft", (), ("Zometa 4 mg/5 mL",), dose=Quantity(Decimal(mg), "mg") if mg else None)


def crcl(value: str) -> LabResult:
    return LabResult("o-crcl", "2164-2", "final", date(2026, 10, 2), Quantity(Decimal(value), "mL/min"))


def dose_finding(value: str = "45", mg: str | None = "4") -> Finding:
    finding = check_renal_function(zometa(mg), [crcl(value)], PATIENT, TODAY, Policy())
    assert finding is not None and finding.topic is Topic.ZOLEDRONIC_ACID_DOSE_ADJUSTMENT
    return finding


def evenity(id: str = "mr-e") -> MedicationOrder:
    return MedicationOrder(id, "draft", (), ("Evenity 105 mg/1.17 mL (romosozumab)",))


def mi(days_ago: int | None, name: str = "Acute myocardial infarction") -> ConditionRecord:
    onset = TODAY - timedelta(days=days_ago) if days_ago is not None else None
    return ConditionRecord("c-mi", (Code("http://snomed.info/sct", "57054005"),), (name,), "confirmed", "active", onset)


def cv_finding(*conditions: ConditionRecord) -> Finding:
    [finding] = check_recent_cardiovascular_event([evenity()], conditions, PATIENT, TODAY, Policy())
    return finding


def duplicate_finding() -> Finding:
    given = MedicationOrder("ma-d", "completed", (), ("Prolia 60 mg",), source="MedicationAdministration")
    denosumab = Therapy("denosumab", "MedicationAdministration", date(2026, 9, 1), date(2027, 3, 1), given)
    [finding] = check_duplicate_antiresorptives([draft("mr-a", "Alendronate 70 mg tablet")], [denosumab], PATIENT)
    return finding


NEW_CARDS = [dose_finding(), dose_finding(mg=None), cv_finding(mi(180)), cv_finding(mi(None)), duplicate_finding()]
NEW_IDS = ["dose step", "dose unknown", "MI 180 days", "MI undated", "duplicate"]


@pytest.mark.parametrize("finding", NEW_CARDS, ids=NEW_IDS)
def test_every_new_card_is_spec_exact_and_plain(finding):
    card = render(finding)
    assert_spec_exact(card)
    assert len(card["summary"]) < 140
    assert card["indicator"] == "warning" and card["source"]["topic"]["code"] == finding.topic.value
    own_text = [line for line in card["detail"].splitlines() if not line.startswith("|")]
    assert not any("&amp;" in line or "&lt;" in line for line in own_text)
    assert all(r["display"] for r in card["overrideReasons"])


@pytest.mark.parametrize("finding", NEW_CARDS, ids=NEW_IDS)
def test_every_new_card_survives_a_hostile_drug_name(finding):
    hostile = " <b>|x|</b>"
    checks = tuple(
        replace(c, subject=(c.subject or "") + hostile, name=(c.name or "") + hostile) for c in finding.checks
    )
    card = render(replace(finding, drugs=(HOSTILE_DRUG,), checks=checks))
    assert "/x/" in card["detail"]  # the hostile text reached the card, made inert
    assert_spec_exact(card)
    assert "<b>" not in card["detail"]


def test_the_dose_card_states_the_reduced_dose_first_then_the_value():
    card = render(dose_finding("45"))
    assert card["summary"] == (
        "Reduce zoledronic acid to 3.3 mg: Creatinine clearance 45 mL/min (2026-10-02), Zometa dose table"
    )
    detail = card["detail"]
    assert "Ordered dose 4 mg is above 3.3 mg" in detail
    assert "30-39 mL/min 3.0 mg; below 30 mL/min not recommended. A dose adjustment, not a contraindication." in detail
    assert "hypercalcaemia of malignancy" in detail
    assert "suggestions" not in card
    assert [r["code"] for r in card["overrideReasons"]] == ["dose-already-adjusted", "crcl-adequate", "incorrect-data"]


def test_the_dose_card_says_when_the_order_has_no_dose():
    assert "The order states no dose in mg" in render(dose_finding(mg=None))["detail"]


def test_the_cardiovascular_card_names_the_event_and_its_age():
    card = render(cv_finding(mi(180)))
    assert card["summary"] == "Do not start romosozumab: Myocardial infarction 180 days ago (Evenity boxed warning)"
    assert "Evenity (romosozumab) boxed warning, US label 2019" in card["detail"]
    [suggestion] = card["suggestions"]
    assert suggestion["actions"][0]["resourceId"] == "MedicationRequest/mr-e" and "isRecommended" not in suggestion


def test_the_cardiovascular_card_says_when_the_date_is_unknown():
    card = render(cv_finding(mi(None)))
    assert card["summary"] == "Do not start romosozumab: Myocardial infarction, date unknown (Evenity boxed warning)"
    assert "The date of the event is not recorded" in card["detail"]


def test_the_duplicate_card_names_both_and_the_risk_of_stopping_denosumab():
    card = render(duplicate_finding())
    assert card["summary"] == "Keep one antiresorptive: alendronate and denosumab at once"
    detail = card["detail"]
    assert "Already in use: denosumab (given 2026-09-01)" in detail
    assert "planned switch (for example from denosumab to a bisphosphonate)" in detail
    assert "multiple vertebral fractures (Prolia label; MHRA 2020)" in detail
    assert [r["code"] for r in card["overrideReasons"]][0] == "planned-transition"


def test_the_dialysis_renal_card_has_no_table_but_names_the_condition():
    condition = ConditionRecord(
        "c-d",
        (Code("http://hl7.org/fhir/sid/icd-10-cm", "Z99.2"),),
        ("Dependence on renal dialysis",),
        "confirmed",
        "active",
    )
    finding = check_renal_function(
        draft(name="Prolia 60 mg"), [], PATIENT, TODAY, Policy(), patient=PatientFacts(PATIENT), conditions=[condition]
    )
    card = render(finding)
    assert_spec_exact(card)
    assert card["summary"] == (
        "Check calcium and CKD-MBD before denosumab: dialysis or kidney failure on record, severe hypocalcaemia risk"
    )
    assert "Dependence on renal dialysis, ICD-10-CM Z99.2, on the problem list" in card["detail"]
    assert "Recheck renal function" not in card["detail"]
    assert "boxed warning of severe hypocalcaemia" in card["detail"]


@pytest.mark.parametrize(
    "name, present, absent",
    [
        ("Xgeva 120 mg/1.7 mL", "Denosumab 120 mg (Xgeva and its biosimilars)", "boxed"),
        ("Prolia 60 mg/mL", "boxed warning of severe hypocalcaemia", "Xgeva and its biosimilars"),
        ("Denosumab injection", "Denosumab, dose not known", "Denosumab 60 mg (Prolia"),
    ],
)
def test_the_renal_card_quotes_the_denosumab_label_that_applies(name, present, absent):
    finding = replace(DENOSUMAB, order=draft(name=name))
    detail = render(finding)["detail"]
    assert present in detail and absent not in detail


def test_the_xgeva_renal_summary_does_not_borrow_prolia_s_severe_hypocalcaemia_verdict():
    summary = render(replace(DENOSUMAB, order=draft(name="Xgeva 120 mg/1.7 mL")))["summary"]
    assert summary.startswith("Check calcium before denosumab: ") and summary.endswith(", hypocalcaemia risk")
    assert "CKD-MBD" not in summary and "severe" not in summary
    assert render(DENOSUMAB)["summary"].endswith(", severe hypocalcaemia risk")


def test_the_romosozumab_renal_card_quotes_evenity():
    result = LabResult("o1", "98979-8", "final", date(2026, 10, 2), Quantity(Decimal(22), "mL/min/{1.73_m2}"))
    finding = check_renal_function(evenity(), [result], PATIENT, TODAY, Policy())
    card = render(finding)
    assert card["summary"] == (
        "Monitor calcium with romosozumab: eGFR 22 mL/min/1.73 m² (2026-10-02) is below 30 mL/min, hypocalcaemia risk"
    )
    assert "Romosozumab (Evenity, US label 2019): with eGFR 15-29" in card["detail"]
