"""The low-ALP rule for orders and charts: each grade on both sides of what decides it (issue 10)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from hooks.evidence import Evidence
from hooks.findings import AlpAssessment, Indicator, JudgedAlp, Measurement, Pattern, Topic
from hooks.low_alp import finding_for_order, findings_for_chart
from hooks.policy import Policy
from hooks.records import Code, EncounterRecord, MedicationOrder, PatientFacts
from hooks.secondary_causes import SecondaryCause
from hooks.therapy import antiresorptive_therapies
from hooks.valuesets import RXNORM

TODAY = date(2026, 11, 24)
POLICY = Policy()
ADULT = PatientFacts("p1", date(1961, 4, 12), "female")
CHILD = PatientFacts("p2", date(2016, 4, 12), "male")
ALENDRONATE_DRAFT = MedicationOrder("draft-1", "draft", (Code(RXNORM, "904431"),), ("alendronate 70 MG",))
DENOSUMAB_DRAFT = MedicationOrder("draft-2", "draft", (Code(RXNORM, "993452"),), ("Prolia",))
DENOSUMAB_GIVEN = MedicationOrder(
    "adm-1",
    "completed",
    (Code(RXNORM, "993452"),),
    ("Prolia",),
    authored=TODAY - timedelta(days=170),
    source="MedicationAdministration",
)


def low(day: str, value: str = "28", *, on_therapy: bool = False) -> JudgedAlp:
    return JudgedAlp(
        date.fromisoformat(day), Decimal(value), None, Decimal(35), "adult default", True, "6768-6", on_therapy
    )


def normal(day: str, value: str = "44") -> JudgedAlp:
    return JudgedAlp(
        date.fromisoformat(day),
        Decimal(value),
        None,
        Decimal(35),
        "adult default",
        False,
        "6768-6",
        clearly_normal=Decimal(value) > 45,
    )


PERSISTENT = AlpAssessment(
    Pattern.PERSISTENT,
    (low("2026-01-10"), low("2026-04-10"), normal("2026-06-10"), low("2026-09-10")),
    months_with_results=4,
    low_months=3,
)


def evidence(alp=PERSISTENT, *, patient=ADULT, meds=(), **changes) -> Evidence:
    base = Evidence(
        patient, alp, (), False, tuple(meds), therapies=tuple(antiresorptive_therapies(meds, TODAY, POLICY))
    )
    return dataclasses.replace(base, **changes)


def order_finding(draft=ALENDRONATE_DRAFT, **kwargs):
    return finding_for_order(draft, evidence(**kwargs), TODAY, POLICY)


def test_persistent_low_alp_is_a_warning_for_an_order():
    found = order_finding()
    assert (found.topic, found.indicator) == (Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING)


def test_recurrent_low_alp_alone_is_info():
    found = order_finding(alp=dataclasses.replace(PERSISTENT, pattern=Pattern.RECURRENT))
    assert (found.topic, found.indicator) == (Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.INFO)


def test_an_elevated_substrate_makes_it_critical_even_on_therapy():
    plp = Measurement("Pyridoxal 5'-phosphate", "62236-5", date(2026, 10, 1), Decimal(210), "nmol/L")
    on_therapy = dataclasses.replace(
        PERSISTENT,
        pre_treatment=normal("2015-01-01", "60"),
        results=tuple(dataclasses.replace(r, on_antiresorptive=True) for r in PERSISTENT.results),
    )
    assert order_finding(alp=on_therapy, substrates=(plp,)).indicator is Indicator.CRITICAL


@pytest.mark.parametrize(
    "before, topic",
    [("46", Topic.LOW_ALP_ON_THERAPY), ("45", Topic.LOW_ALP_ANTIRESORPTIVE), ("35", Topic.LOW_ALP_ANTIRESORPTIVE)],
)
def test_lows_on_therapy_after_a_clearly_normal_pre_treatment_alp_are_info(before, topic):
    pre = JudgedAlp(
        date(2015, 1, 1),
        Decimal(before),
        None,
        Decimal(35),
        "adult default",
        Decimal(before) <= 35,
        "6768-6",
        clearly_normal=Decimal(before) > 45,
    )
    on_therapy = dataclasses.replace(
        PERSISTENT,
        pre_treatment=pre,
        results=tuple(dataclasses.replace(r, on_antiresorptive=bool(r.low)) for r in PERSISTENT.results),
    )
    found = order_finding(alp=on_therapy)
    assert found.topic is topic
    assert found.indicator is (Indicator.INFO if topic is Topic.LOW_ALP_ON_THERAPY else Indicator.WARNING)


def test_lows_confined_to_one_acute_stay_ask_for_a_repeat():
    stay = EncounterRecord("e1", "IMP", "finished", date(2026, 1, 1), date(2026, 12, 1))
    found = order_finding(alp=dataclasses.replace(PERSISTENT, acute_stay=stay))
    assert (found.topic, found.indicator) == (Topic.LOW_ALP_ACUTE_ILLNESS, Indicator.INFO)


@pytest.mark.parametrize(
    "labels, indicator", [(("plp",), Indicator.WARNING), (("plp", "pea"), Indicator.INFO), (("alpl",), Indicator.INFO)]
)
def test_a_complete_normal_workup_lowers_the_card_to_info(labels, indicator):
    loinc = {"plp": "62236-5", "pea": "13789-3", "alpl": "77084-2"}
    normal_workup = tuple(Measurement(name, loinc[name], date(2026, 5, 1), Decimal(1), "x") for name in labels)
    assert order_finding(normal_workup=normal_workup).indicator is indicator


def test_a_denosumab_order_for_a_patient_already_given_it_is_continuing():
    assert order_finding(DENOSUMAB_DRAFT, meds=[DENOSUMAB_GIVEN]).continuing is True
    assert order_finding(DENOSUMAB_DRAFT).continuing is False


def test_hpp_on_record_is_critical_for_an_order():
    found = order_finding(hpp=("Hypophosphatasia diagnosis on record (SNOMED CT 360792001)",))
    assert (found.topic, found.indicator) == (Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL)


@pytest.mark.parametrize(
    "patient, causes, applies",
    [(ADULT, (), True), (CHILD, (), False), (ADULT, (SecondaryCause("hypothyroidism", "Hypothyroidism"),), False)],
)
def test_the_variant_figure_applies_only_to_adults_without_a_secondary_cause(patient, causes, applies):
    found = order_finding(patient=patient, secondary_causes=causes)
    assert found.variant_figure_applies is applies and found.paediatric is (patient is CHILD)


def test_a_clearly_normal_value_anywhere_withholds_the_variant_figure():
    alp = dataclasses.replace(PERSISTENT, results=(*PERSISTENT.results, normal("2026-10-10", "46")))
    assert order_finding(alp=alp).variant_figure_applies is False


def test_a_chart_with_denosumab_given_in_clinic_and_low_alp_names_the_administration():
    (found,) = findings_for_chart(evidence(meds=[DENOSUMAB_GIVEN]), TODAY, POLICY)
    assert found.topic is Topic.LOW_ALP_ANTIRESORPTIVE and found.drugs == ("denosumab",)
    assert [t.source for t in found.therapies] == ["MedicationAdministration"] and found.continuing


def test_a_chart_with_past_therapy_only_and_a_normal_pre_treatment_alp_is_on_therapy_info():
    past = MedicationOrder(
        "m1", "completed", (Code(RXNORM, "904431"),), (), authored=date(2024, 1, 1), ends=date(2026, 10, 1)
    )
    pre = normal("2015-01-01", "60")
    alp = dataclasses.replace(
        PERSISTENT,
        pre_treatment=pre,
        results=tuple(dataclasses.replace(r, on_antiresorptive=bool(r.low)) for r in PERSISTENT.results),
    )
    (found,) = findings_for_chart(evidence(alp, meds=[past]), TODAY, POLICY)
    assert (found.topic, found.indicator) == (Topic.LOW_ALP_ON_THERAPY, Indicator.INFO)


def test_an_undated_or_idless_earlier_denosumab_record_makes_the_order_a_continuation():
    undated = MedicationOrder(None, "completed", (Code(RXNORM, "993452"),), ("Prolia",), source="MedicationStatement")
    found = order_finding(dataclasses.replace(DENOSUMAB_DRAFT, id=None), meds=[undated])
    assert found.continuing and found.prior_denosumab


def test_a_bisphosphonate_after_denosumab_knows_denosumab_came_before():
    lapsed = dataclasses.replace(DENOSUMAB_GIVEN, authored=TODAY - timedelta(days=200))
    found = order_finding(meds=[lapsed])
    assert found.prior_denosumab and not found.continuing and found.drugs == ("alendronate",)


def test_a_chart_after_denosumab_lapsed_carries_it_to_the_card():
    lapsed = dataclasses.replace(DENOSUMAB_GIVEN, authored=TODAY - timedelta(days=200))
    (found,) = findings_for_chart(evidence(meds=[lapsed]), TODAY, POLICY)
    assert found.topic is Topic.LOW_ALP_UNEVALUATED and found.prior_denosumab


def test_beside_the_wilson_pattern_a_low_alp_finding_drops_to_info_and_names_wilson_disease():
    from hooks.findings import Caveat, Finding, Note
    from hooks.low_alp import defer_to_wilson

    likely = Finding(Topic.HPP_LIKELY, Indicator.WARNING, "p1")
    assert defer_to_wilson(likely) == likely  # a raised substrate is not explained by liver failure
    hpp = Finding(Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL, "p1")
    assert defer_to_wilson(hpp) == hpp
    warning = Finding(Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING, "p1")
    assert defer_to_wilson(warning).indicator is Indicator.INFO
    assert defer_to_wilson(warning).caveats == (Note(Caveat.WILSON_LIKELIER),)
    critical = Finding(Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.CRITICAL, "p1")  # rests on a raised substrate
    assert defer_to_wilson(critical).indicator is Indicator.CRITICAL
