"""patient-view: an active antiresorptive despite HPP or low ALP, or persistent low ALP never worked up."""

from datetime import date
from decimal import Decimal

import pytest

from cards.wording import criteria_lines, note_lines
from hooks.evidence import Evidence
from hooks.findings import (
    AlpAssessment,
    Caveat,
    Check,
    Criterion,
    Indicator,
    JudgedAlp,
    Measurement,
    Note,
    Pattern,
    Topic,
)
from hooks.patient_view import evaluate_patient_view
from hooks.policy import Policy
from hooks.records import Code, LabResult, MedicationOrder, PatientFacts, Quantity
from hooks.therapy import antiresorptive_therapies
from hooks.valuesets import RXNORM

PATIENT = PatientFacts("p1", date(1961, 4, 12), "female")
TODAY = date(2026, 11, 24)
LOW = JudgedAlp(date(2026, 1, 1), Decimal(28), None, Decimal(35), "adult default", True, "6768-6")


def med(status: str, code="904431") -> MedicationOrder:
    return MedicationOrder("m1", status, (Code(RXNORM, code),), ())


def view(pattern: Pattern, *, meds=(), hpp=(), workup=False, substrates=(), liver=()):
    evidence = Evidence(
        PATIENT,
        AlpAssessment(pattern, (LOW,)),
        tuple(hpp),
        workup,
        tuple(meds),
        substrates=tuple(substrates),
        liver_labs=tuple(liver),
        therapies=tuple(antiresorptive_therapies(meds, TODAY, Policy())),
    )
    return evaluate_patient_view(evidence, TODAY, Policy())


def test_persistent_low_alp_on_an_active_antiresorptive_warns():
    (finding,) = view(Pattern.PERSISTENT, meds=[med("active")])
    assert (finding.topic, finding.indicator, finding.drugs, finding.order) == (
        Topic.LOW_ALP_ANTIRESORPTIVE,
        Indicator.WARNING,
        ("alendronate",),
        None,
    )


def test_recurrent_low_alp_on_an_active_antiresorptive_is_info():
    (finding,) = view(Pattern.RECURRENT, meds=[med("active")])
    assert (finding.topic, finding.indicator) == (Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.INFO)


def test_hpp_on_an_active_antiresorptive_is_critical():
    (finding,) = view(Pattern.NONE, meds=[med("active")], hpp=["x"])
    assert (finding.topic, finding.indicator) == (Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL)


def test_a_single_low_on_an_active_antiresorptive_says_nothing():
    assert view(Pattern.SINGLE_LOW, meds=[med("active")]) == []


def test_an_order_on_hold_still_counts_as_therapy_in_use():
    assert view(Pattern.PERSISTENT, meds=[med("on-hold")])[0].topic is Topic.LOW_ALP_ANTIRESORPTIVE


@pytest.mark.parametrize("status", ["stopped", "completed", "draft", "entered-in-error"])
def test_inactive_antiresorptives_do_not_count_as_active(status):
    (finding,) = view(Pattern.PERSISTENT, meds=[med(status)])
    assert finding.topic is Topic.LOW_ALP_UNEVALUATED


def test_persistent_low_alp_not_worked_up_is_flagged_for_evaluation():
    (finding,) = view(Pattern.PERSISTENT)
    assert (finding.topic, finding.indicator, finding.alp.pattern) == (
        Topic.LOW_ALP_UNEVALUATED,
        Indicator.INFO,
        Pattern.PERSISTENT,
    )


@pytest.mark.parametrize("kwargs", [{"hpp": ["x"]}, {"workup": True}])
def test_hpp_or_a_workup_on_file_means_it_has_been_evaluated(kwargs):
    assert view(Pattern.PERSISTENT, **kwargs) == []


@pytest.mark.parametrize("pattern", [Pattern.RECURRENT, Pattern.SINGLE_LOW, Pattern.NONE])
def test_only_persistent_low_alp_asks_for_evaluation(pattern):
    assert view(pattern) == []


def test_an_active_non_antiresorptive_changes_nothing():
    assert view(Pattern.PERSISTENT, meds=[med("active", "617310")])[0].topic is Topic.LOW_ALP_UNEVALUATED


PLP = Measurement("Pyridoxal 5'-phosphate", "62236-5", date(2026, 10, 1), Decimal(210), "nmol/L", limit="> 125")


def test_persistent_low_alp_with_an_elevated_substrate_is_hpp_likely():
    (finding,) = view(Pattern.PERSISTENT, workup=True, substrates=[PLP])
    assert (finding.topic, finding.indicator, finding.measurements) == (Topic.HPP_LIKELY, Indicator.WARNING, (PLP,))
    assert finding.checks == (Criterion(Check.SUBSTRATE_HIGH, Decimal(210), measurement=PLP),)
    assert "above normal" in criteria_lines(finding)[0]


def test_an_elevated_substrate_makes_an_active_antiresorptive_critical():
    (finding,) = view(Pattern.RECURRENT, meds=[med("active")], workup=True, substrates=[PLP])
    assert (finding.topic, finding.indicator) == (Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.CRITICAL)


def test_hpp_on_record_is_never_hpp_likely():
    assert view(Pattern.PERSISTENT, hpp=["x"], workup=True, substrates=[PLP]) == []


def wilson_labs(day=date(2026, 11, 23)):
    def lab(loinc, value, unit):
        return LabResult(loinc, loinc, "final", day, Quantity(Decimal(value), unit))

    return [
        lab("6301-6", "3.1", "{INR}"),
        lab("6768-6", "20", "U/L"),
        lab("1975-2", "12", "mg/dL"),
        lab("1920-8", "180", "U/L"),
        lab("1742-6", "60", "U/L"),
    ]


def test_the_wilson_pattern_comes_first_and_low_alp_cards_defer_to_it():
    findings = view(Pattern.PERSISTENT, liver=wilson_labs())  # at 65 the classic pattern is a warning (age)
    assert [(f.topic, f.indicator) for f in findings] == [
        (Topic.WILSON_ALF, Indicator.WARNING),
        (Topic.LOW_ALP_UNEVALUATED, Indicator.INFO),
    ]
    assert findings[1].caveats == (Note(Caveat.WILSON_LIKELIER),)
    assert "Wilson disease is the likelier cause" in note_lines(findings[1])[0]


def test_an_hpp_diagnosis_on_record_stays_critical_beside_the_wilson_pattern():
    findings = view(Pattern.NONE, meds=[med("active")], hpp=["x"], liver=wilson_labs())  # 65: warning (age)
    assert [(f.topic, f.indicator) for f in findings] == [
        (Topic.WILSON_ALF, Indicator.WARNING),
        (Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL),
    ]


@pytest.mark.parametrize(
    "missing, expected",
    [
        ({"medications"}, []),
        ({"conditions"}, []),
        ({"hppWorkup"}, []),
        ({"safetyLabs"}, [Topic.LOW_ALP_UNEVALUATED]),
    ],
)
def test_a_claim_needs_the_data_it_rests_on(missing, expected):
    evidence = Evidence(
        PATIENT, AlpAssessment(Pattern.PERSISTENT, (LOW,)), (), False, (), unavailable=frozenset(missing)
    )
    assert [f.topic for f in evaluate_patient_view(evidence, TODAY, Policy())] == expected


def test_two_different_antiresorptives_in_use_are_a_duplicate_naming_each_record():
    denosumab = MedicationOrder("m1", "active", (Code(RXNORM, "993449"),), ("Prolia",), authored=date(2026, 6, 1))
    alendronate = MedicationOrder("m2", "active", (Code(RXNORM, "904431"),), (), authored=date(2026, 9, 1))
    findings = view(Pattern.NONE, meds=[denosumab, alendronate])
    (duplicate,) = [f for f in findings if f.topic is Topic.DUPLICATE_ANTIRESORPTIVE]
    assert duplicate.drugs == ("alendronate", "denosumab")  # most recent first
    assert [(c.what, c.subject, c.source, c.on) for c in duplicate.checks] == [
        (Check.IN_USE, "alendronate", "MedicationRequest", date(2026, 9, 1)),
        (Check.IN_USE, "denosumab", "MedicationRequest", date(2026, 6, 1)),
    ]
    assert criteria_lines(duplicate) == (
        "In use: alendronate (prescribed 2026-09-01)",
        "In use: denosumab (prescribed 2026-06-01)",
    )
