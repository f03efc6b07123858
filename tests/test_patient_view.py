"""patient-view: an active antiresorptive despite HPP or low ALP, or persistent low ALP never worked up."""

from datetime import date
from decimal import Decimal

import pytest

from hooks.evidence import Evidence
from hooks.findings import AlpAssessment, Indicator, JudgedAlp, Pattern, Topic
from hooks.patient_view import evaluate_patient_view
from hooks.records import Code, MedicationOrder, PatientFacts
from hooks.valuesets import RXNORM

PATIENT = PatientFacts("p1", date(1961, 4, 12), "female")
LOW = JudgedAlp(date(2026, 1, 1), Decimal(28), None, Decimal(35), "adult default", True, "6768-6")


def med(status: str, code="904431") -> MedicationOrder:
    return MedicationOrder("m1", status, (Code(RXNORM, code),), ())


def view(pattern: Pattern, *, meds=(), hpp=(), workup=False):
    return evaluate_patient_view(Evidence(PATIENT, AlpAssessment(pattern, (LOW,)), tuple(hpp), workup, tuple(meds)))


def test_persistent_low_alp_on_an_active_antiresorptive_warns():
    (finding,) = view(Pattern.PERSISTENT, meds=[med("active")])
    assert (finding.topic, finding.indicator, finding.drugs, finding.order) == (
        Topic.LOW_ALP_ANTIRESORPTIVE, Indicator.WARNING, ("alendronate",), None)


def test_recurrent_low_alp_on_an_active_antiresorptive_warns():
    assert view(Pattern.RECURRENT, meds=[med("active")])[0].topic is Topic.LOW_ALP_ANTIRESORPTIVE


def test_hpp_on_an_active_antiresorptive_is_critical():
    (finding,) = view(Pattern.NONE, meds=[med("active")], hpp=["x"])
    assert (finding.topic, finding.indicator) == (Topic.HPP_ANTIRESORPTIVE, Indicator.CRITICAL)


def test_a_single_low_on_an_active_antiresorptive_says_nothing():
    assert view(Pattern.SINGLE_LOW, meds=[med("active")]) == []


@pytest.mark.parametrize("status", ["stopped", "completed", "draft", "on-hold", "entered-in-error"])
def test_inactive_antiresorptives_do_not_count_as_active(status):
    (finding,) = view(Pattern.PERSISTENT, meds=[med(status)])
    assert finding.topic is Topic.LOW_ALP_UNEVALUATED


def test_persistent_low_alp_not_worked_up_is_flagged_for_evaluation():
    (finding,) = view(Pattern.PERSISTENT)
    assert (finding.topic, finding.indicator, finding.alp.pattern) == (Topic.LOW_ALP_UNEVALUATED, Indicator.INFO, Pattern.PERSISTENT)


@pytest.mark.parametrize("kwargs", [{"hpp": ["x"]}, {"workup": True}])
def test_hpp_or_a_workup_on_file_means_it_has_been_evaluated(kwargs):
    assert view(Pattern.PERSISTENT, **kwargs) == []


@pytest.mark.parametrize("pattern", [Pattern.RECURRENT, Pattern.SINGLE_LOW, Pattern.NONE])
def test_only_persistent_low_alp_asks_for_evaluation(pattern):
    assert view(pattern) == []


def test_an_active_non_antiresorptive_changes_nothing():
    assert view(Pattern.PERSISTENT, meds=[med("active", "617310")])[0].topic is Topic.LOW_ALP_UNEVALUATED
