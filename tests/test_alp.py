"""The low-ALP rule: each limit on both sides, the persistence boundaries, and its safety properties."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hooks.alp import assess_alp, classify, judge, years_before
from hooks.findings import JudgedAlp, Pattern, UninterpretableAlp
from hooks.policy import Policy
from hooks.records import AgeBound, Code, LabResult, PatientFacts, Quantity, ReferenceRange, Unreadable

TODAY = date(2026, 11, 24)
ADULT = PatientFacts("p1", date(1961, 4, 12), "female")
UNKNOWN_AGE = PatientFacts("p1")
POLICY = Policy()
_STRENGTH = [Pattern.NONE, Pattern.SINGLE_LOW, Pattern.RECURRENT, Pattern.PERSISTENT]


def alp(
    day: date | str,
    value: float | str,
    unit: str | None = "U/L",
    *,
    lab_low=None,
    lab_low_unit="U/L",
    status="final",
    comparator=None,
    ranges=(),
) -> LabResult:
    """Return an ALP LabResult."""
    when = date.fromisoformat(day) if isinstance(day, str) else day
    if lab_low is not None:
        ranges = (ReferenceRange(Quantity(Decimal(str(lab_low)), lab_low_unit), None),)
    return LabResult(None, "6768-6", status, when, Quantity(Decimal(str(value)), unit, comparator), tuple(ranges))


def assess(*results, patient=ADULT, unreadable=(), policy=POLICY):
    return assess_alp(results, unreadable, patient, TODAY, policy)


def verdict(result: LabResult, patient=ADULT, policy=POLICY):
    return judge(result, patient, policy)


# --- one result: adults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, low", [("35", True), ("35.01", False), ("34.9", True), ("36", False)])
def test_adult_without_a_lab_range_is_low_at_or_below_35(value, low):
    assert verdict(alp("2026-03-01", value)).low is low


def test_adult_limit_is_a_policy_parameter():
    strict = dataclasses.replace(POLICY, adult_low_limit_u_per_l=Decimal(30))
    assert verdict(alp("2026-03-01", 31), policy=strict).low is False
    assert verdict(alp("2026-03-01", 30), policy=strict).low is True


@pytest.mark.parametrize("value, low", [("39.9", True), ("40", False)])
def test_adult_lab_limit_above_40_is_capped_at_40(value, low):
    result = verdict(alp("2026-03-01", value, lab_low=45))
    assert (result.low, result.limit_u_per_l) == (low, Decimal(40))
    assert "capped" in result.limit_basis


@pytest.mark.parametrize("value, low", [("37.9", True), ("38", False)])
def test_adult_lab_limit_below_40_applies_strictly(value, low):
    result = verdict(alp("2026-03-01", value, lab_low=38))
    assert (result.low, result.limit_u_per_l, result.limit_basis) == (low, Decimal(38), "lab range low")


def test_lab_limit_in_another_convertible_unit_is_converted():
    result = verdict(alp("2026-03-01", "0.6", "ukat/L", lab_low="0.65", lab_low_unit="ukat/L"))
    assert (result.value_u_per_l, result.limit_u_per_l, result.low) == (Decimal("36.0"), Decimal("39.00"), True)


@pytest.mark.parametrize("lab_low_unit", ["mg/dL", None])
def test_lab_limit_in_an_unconvertible_unit_falls_back_to_the_default(lab_low_unit):
    result = verdict(alp("2026-03-01", 38, lab_low=40, lab_low_unit=lab_low_unit))
    assert (result.low, result.limit_u_per_l) == (False, Decimal(35))


def test_unknown_birth_date_uses_the_adult_rule():
    assert verdict(alp("2026-03-01", 100), patient=UNKNOWN_AGE).low is False
    assert verdict(alp("2026-03-01", 35), patient=UNKNOWN_AGE).low is True


# --- one result: children ---------------------------------------------------------------------------------

TEEN_GIRL = PatientFacts("p2", date(2008, 6, 1), "female")


def test_the_day_before_the_18th_birthday_uses_the_child_limit():
    result = verdict(alp("2026-05-31", 40), patient=TEEN_GIRL)
    assert (result.low, result.limit_u_per_l) == (True, Decimal(45))


def test_on_the_18th_birthday_the_adult_rule_applies():
    result = verdict(alp("2026-06-01", 40), patient=TEEN_GIRL)
    assert (result.low, result.limit_u_per_l) == (False, Decimal(35))


@pytest.mark.parametrize("value, low", [("141.9", True), ("142", False)])
def test_a_six_year_old_is_judged_against_142(value, low):
    boy = PatientFacts("p3", date(2020, 5, 3), "male")
    assert verdict(alp("2026-09-16", value), patient=boy).low is low


@pytest.mark.parametrize("sex, limit", [("male", 116), ("female", 57), (None, 57), ("other", 57)])
def test_thirteen_year_olds_have_sex_specific_limits_and_unknown_sex_takes_the_lower(sex, limit):
    child = PatientFacts("p4", date(2013, 1, 10), sex)
    assert verdict(alp("2026-03-01", 80), patient=child).limit_u_per_l == Decimal(limit)


def child_range(low: int, from_years: int, to_years: int) -> tuple[ReferenceRange, ...]:
    """Return a lab reference range restricted to an age band in years."""
    return (
        ReferenceRange(
            Quantity(Decimal(low), "U/L"), None, AgeBound(Decimal(from_years), "a"), AgeBound(Decimal(to_years), "a")
        ),
    )


@pytest.mark.parametrize("value, low", [("149", True), ("150", False)])
def test_a_child_with_an_age_specific_lab_range_is_judged_against_it_without_the_adult_cap(value, low):
    boy = PatientFacts("p3", date(2020, 5, 3), "male")
    result = verdict(alp("2026-09-16", value, ranges=child_range(150, 1, 9)), patient=boy)
    assert (result.low, result.limit_u_per_l) == (low, Decimal(150))


@pytest.mark.parametrize("value, low", [("141.9", True), ("142", False)])
def test_an_adult_range_on_a_childs_result_does_not_override_the_age_and_sex_limit(value, low):
    boy = PatientFacts("p3", date(2020, 5, 3), "male")
    result = verdict(alp("2026-09-16", value, lab_low=40), patient=boy)
    assert (result.low, result.limit_u_per_l) == (low, Decimal(142))


@pytest.mark.parametrize("value, low", [("49.9", True), ("50", False)])
def test_a_teenage_girls_result_with_an_adult_range_is_judged_against_her_age_limit(value, low):
    girl = PatientFacts("p6", date(2010, 2, 1), "female")  # 16 on the day: 15-<17 y female limit 50
    result = verdict(alp("2026-06-01", value, lab_low=35), patient=girl)
    assert (result.low, result.limit_u_per_l) == (low, Decimal(50))


NEWBORN = PatientFacts("p5", date(2026, 10, 1), "female")


def test_a_newborn_under_15_days_without_a_range_is_not_judged():
    result = verdict(alp("2026-10-15", 50), patient=NEWBORN)
    assert (result.low, result.limit_u_per_l) == (None, None)


def test_a_newborn_of_15_days_is_judged_against_122():
    result = verdict(alp("2026-10-16", 100), patient=NEWBORN)
    assert (result.low, result.limit_u_per_l) == (True, Decimal(122))


def test_a_newborn_under_15_days_with_a_neonatal_lab_range_is_judged():
    neonatal = (
        ReferenceRange(Quantity(Decimal(83), "U/L"), None, AgeBound(Decimal(0), "d"), AgeBound(Decimal(14), "d")),
    )
    assert verdict(alp("2026-10-10", 70, ranges=neonatal), patient=NEWBORN).low is True


def test_a_newborn_under_15_days_with_only_a_generic_lab_range_is_not_judged():
    assert verdict(alp("2026-10-10", 70, lab_low=83), patient=NEWBORN).low is None


def test_an_age_specific_range_is_preferred_to_a_generic_one():
    ranges = (
        ReferenceRange(Quantity(Decimal(40), "U/L"), None),
        ReferenceRange(Quantity(Decimal(142), "U/L"), None, AgeBound(Decimal(1), "a"), AgeBound(Decimal(9), "a")),
    )
    boy = PatientFacts("p3", date(2020, 5, 3), "male")
    assert verdict(alp("2026-09-16", 100, ranges=ranges), patient=boy).limit_u_per_l == Decimal(142)
    assert verdict(alp("2026-09-16", 100, ranges=ranges), patient=ADULT).limit_u_per_l == Decimal(40)


def test_a_range_for_the_other_sex_is_not_used():
    ranges = (ReferenceRange(Quantity(Decimal(40), "U/L"), None, applies_to=("male",)),)
    assert verdict(alp("2026-03-01", 38, ranges=ranges), patient=ADULT).limit_u_per_l == Decimal(35)


# --- one result: what cannot be interpreted --------------------------------------------------------------


@pytest.mark.parametrize(
    "unit, reason", [("mg/dL", "unit 'mg/dL' cannot be converted to U/L"), (None, "no unit cannot be converted to U/L")]
)
def test_unconvertible_units_are_left_out_with_a_reason(unit, reason):
    assert verdict(alp("2026-03-01", 30, unit)) == UninterpretableAlp(date(2026, 3, 1), reason)


@pytest.mark.parametrize("value", ["0", "-3", "5000", "12000"])
def test_implausible_values_are_left_out(value):
    assert isinstance(verdict(alp("2026-03-01", value)), UninterpretableAlp)


def test_less_than_values_count_with_their_number():
    result = verdict(alp("2026-03-01", 5, comparator="<"))
    assert (result.low, result.value_u_per_l, result.comparator) == (True, Decimal(5), "<")


def test_greater_than_values_under_the_limit_are_not_called_low():
    assert isinstance(verdict(alp("2026-03-01", 20, comparator=">")), UninterpretableAlp)
    assert verdict(alp("2026-03-01", 60, comparator=">")).low is False


def test_a_result_without_a_date_is_left_out():
    result = LabResult(None, "6768-6", "final", None, Quantity(Decimal(20), "U/L"))
    assert verdict(result) == UninterpretableAlp(None, "no specimen date")


# --- the window -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["preliminary", "entered-in-error", "cancelled", "registered", "unknown"])
def test_unverified_results_are_never_evidence(status):
    assessment = assess(alp("2026-01-05", 20, status=status), alp("2026-06-05", 20, status=status))
    assert (assessment.pattern, assessment.results, assessment.uninterpretable) == (Pattern.NONE, (), ())


@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
def test_verified_results_count(status):
    assert assess(alp("2026-01-05", 20, status=status), alp("2026-06-05", 20)).pattern is Pattern.PERSISTENT


def test_the_window_reaches_back_exactly_five_years():
    edge = years_before(TODAY, 5)
    assert [r.effective for r in assess(alp(edge, 20)).results] == [edge]
    assert assess(alp(edge - timedelta(days=1), 20)).results == ()


def test_a_panel_repeating_the_same_value_on_the_same_day_counts_once():
    assessment = assess(alp("2026-01-05", 20), alp("2026-01-05", 20), alp("2026-02-05", 60))
    assert len(assessment.results) == 2


def test_data_absent_results_are_skipped():
    absent = dataclasses.replace(alp("2026-01-05", 20), has_data_absent_reason=True)
    assert assess(absent).results == ()


# --- the pattern ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("second, pattern", [("2026-01-31", Pattern.PERSISTENT), ("2026-01-30", Pattern.SINGLE_LOW)])
def test_lows_must_be_at_least_30_days_apart(second, pattern):
    assert assess(alp("2026-01-01", 20), alp(second, 22)).pattern is pattern


def test_exactly_half_the_months_low_is_recurrent_not_persistent():
    results = [alp("2026-01-10", 20), alp("2026-02-10", 60), alp("2026-03-10", 21), alp("2026-04-10", 60)]
    assessment = assess(*results)
    assert (assessment.pattern, assessment.months_with_results, assessment.low_months) == (Pattern.RECURRENT, 4, 2)


def test_more_than_half_the_months_low_is_persistent():
    results = [
        alp("2026-01-10", 20),
        alp("2026-02-10", 60),
        alp("2026-03-10", 21),
        alp("2026-05-10", 22),
        alp("2026-04-10", 60),
    ]
    assessment = assess(*results)
    assert (assessment.pattern, assessment.low_months) == (Pattern.PERSISTENT, 3)


def test_a_month_is_low_only_when_most_of_its_results_are():
    # March has one low and one normal result: not a low month, so 1 of 2 months is low.
    results = [alp("2026-01-10", 20), alp("2026-03-02", 21), alp("2026-03-20", 70)]
    assessment = assess(*results)
    assert (assessment.pattern, assessment.low_months, assessment.months_with_results) == (Pattern.RECURRENT, 1, 2)


def test_one_low_with_nothing_after_it_is_a_single_low():
    assessment = assess(alp("2025-05-01", 70), alp("2026-10-02", 31))
    assert (assessment.pattern, assessment.lowest.value_u_per_l) == (Pattern.SINGLE_LOW, Decimal(31))


def test_a_normal_result_after_the_low_cancels_it():
    assert assess(alp("2026-10-02", 31), alp("2026-10-20", 70)).pattern is Pattern.NONE


def test_a_normal_result_the_same_day_cancels_it():
    assert assess(alp("2026-10-02", 31), alp("2026-10-02", 70)).pattern is Pattern.NONE


def test_no_results_is_no_pattern():
    assert assess().pattern is Pattern.NONE


def test_results_are_listed_oldest_first():
    assessment = assess(alp("2026-06-01", 30), alp("2026-01-01", 31), alp("2026-03-01", 90))
    assert [r.effective.month for r in assessment.results] == [1, 3, 6]


# --- uninterpretable results never create a finding -------------------------------------------------------


def test_an_unconvertible_result_is_named_but_not_used():
    results = [alp("2026-01-10", 20), alp("2026-03-10", 21), alp("2026-04-10", 44)]
    assessment = assess(*results, alp("2026-02-10", 3, "mg/dL"))
    assert assessment.pattern is Pattern.PERSISTENT  # 2 of 3 months, the mg/dL result not counted
    assert [u.reason for u in assessment.uninterpretable] == ["unit 'mg/dL' cannot be converted to U/L"]


def test_an_uninterpretable_result_after_a_single_low_does_not_cancel_it():
    assessment = assess(alp("2026-10-02", 31), alp("2026-10-20", 3, None))
    assert assessment.pattern is Pattern.SINGLE_LOW
    assert [u.reason for u in assessment.uninterpretable] == ["no unit cannot be converted to U/L"]


def test_an_unreadable_alp_resource_is_named_and_weakens_the_pattern():
    unreadable = Unreadable(
        "Observation",
        "o9",
        "Observation failed validation: value_error",
        (Code("http://loinc.org", "6768-6"),),
        effective=date(2026, 10, 20),
    )
    assessment = assess(alp("2026-10-02", 31), unreadable=[unreadable])
    assert assessment.pattern is Pattern.NONE
    assert assessment.uninterpretable == (UninterpretableAlp(date(2026, 10, 20), "the result could not be read"),)


def test_an_unreadable_resource_in_its_own_month_weakens_a_borderline_pattern():
    results = [alp("2026-01-10", 20), alp("2026-03-10", 21), alp("2026-04-10", 70)]
    unreadable = Unreadable("Observation", "o9", "x", effective=date(2026, 2, 10), status="final")
    assert assess(*results, unreadable=[unreadable]).pattern is Pattern.RECURRENT


def test_an_unreadable_resource_entered_in_error_is_ignored():
    unreadable = Unreadable("Observation", "o9", "x", effective=date(2026, 10, 20), status="entered-in-error")
    assessment = assess(alp("2026-10-02", 31), unreadable=[unreadable])
    assert (assessment.pattern, assessment.uninterpretable) == (Pattern.SINGLE_LOW, ())


def test_an_unreadable_resource_older_than_the_window_is_ignored():
    unreadable = Unreadable("Observation", "o9", "x", effective=date(2019, 1, 1))
    assert assess(alp("2026-10-02", 31), unreadable=[unreadable]).uninterpretable == ()


# --- properties -------------------------------------------------------------------------------------------

days = st.integers(min_value=0, max_value=5 * 365 - 1).map(lambda n: TODAY - timedelta(days=n))
u_per_l = st.decimals(min_value=Decimal("1"), max_value=Decimal("400"), places=1, allow_nan=False)
series = st.lists(st.tuples(days, u_per_l), max_size=12)


def _pattern(points, shift=Decimal(0)):
    return assess(*(alp(d, v + shift) for d, v in points)).pattern


@settings(max_examples=200)
@given(u_per_l)
def test_adult_default_threshold(value):
    assert verdict(alp("2026-03-01", value)).low is (value <= 35)


@settings(max_examples=200)
@given(series, st.decimals(min_value=Decimal("0.1"), max_value=Decimal("100"), places=1))
def test_raising_every_value_never_strengthens_the_pattern(points, shift):
    assert _STRENGTH.index(_pattern(points, shift)) <= _STRENGTH.index(_pattern(points))


@settings(max_examples=200)
@given(series, st.randoms(use_true_random=False))
def test_the_order_results_arrive_in_does_not_matter(points, rnd):
    shuffled = list(points)
    rnd.shuffle(shuffled)
    assert _pattern(shuffled) is _pattern(points)


@settings(max_examples=200)
@given(series, days)
def test_an_unreadable_result_never_strengthens_the_pattern(points, day):
    results = [alp(d, v) for d, v in points]
    unreadable = [Unreadable("Observation", None, "x", effective=day, status="final")]
    assert _STRENGTH.index(assess(*results, unreadable=unreadable).pattern) <= _STRENGTH.index(assess(*results).pattern)


@settings(max_examples=200)
@given(series, days)
def test_an_unconvertible_result_changes_nothing(points, day):
    results = [alp(d, v) for d, v in points]
    assert assess(*results, alp(day, 10, "mg/dL")).pattern is assess(*results).pattern


@settings(max_examples=200)
@given(series)
def test_persistent_needs_two_lows_thirty_days_apart(points):
    assessment = assess(*(alp(d, v) for d, v in points))
    if assessment.pattern in (Pattern.PERSISTENT, Pattern.RECURRENT):
        lows = assessment.lows
        assert len(lows) >= 2 and (lows[-1].effective - lows[0].effective).days >= 30


def test_classify_ignores_unjudged_results():
    unjudged = JudgedAlp(date(2026, 1, 1), Decimal(50), None, None, "not judged", None, "6768-6")
    assert classify([unjudged], POLICY) == (Pattern.NONE, 0, 0)


@pytest.mark.parametrize("day, expected", [(date(2028, 2, 29), date(2023, 2, 28)), (TODAY, date(2021, 11, 24))])
def test_years_before(day, expected):
    assert years_before(day, 5) == expected


# --- review fixes: calendar birthdays, lab age bands, same-day order, presets, therapy marks ---------------


def test_child_bands_change_on_the_birthday_itself():
    girl = PatientFacts("p6", date(2007, 3, 2), "female")
    assert verdict(alp("2024-03-01", 47), patient=girl).limit_u_per_l == Decimal(50)  # still 16
    assert verdict(alp("2024-03-02", 47), patient=girl).limit_u_per_l == Decimal(45)  # 17 today


def test_lab_age_bands_in_months_are_compared_in_completed_months():
    ranges = (
        ReferenceRange(Quantity(Decimal(150), "U/L"), None, AgeBound(Decimal(0), "mo"), AgeBound(Decimal(6), "mo")),
        ReferenceRange(Quantity(Decimal(100), "U/L"), None, AgeBound(Decimal(6), "mo"), AgeBound(Decimal(12), "mo")),
    )
    infant = PatientFacts("p7", date(2026, 1, 15), "male")
    result = verdict(alp("2026-10-20", 120, ranges=ranges), patient=infant)  # 9 months old
    assert (result.limit_u_per_l, result.low) == (Decimal(100), False)


def test_a_normal_earlier_the_same_day_does_not_cancel_a_later_low():
    from datetime import datetime

    normal = dataclasses.replace(alp("2026-10-01", 70), instant=datetime(2026, 10, 1, 8, tzinfo=UTC))
    low = dataclasses.replace(alp("2026-10-01", 30), instant=datetime(2026, 10, 1, 9, tzinfo=UTC))
    assert assess(normal, low).pattern is Pattern.SINGLE_LOW
    later_normal = dataclasses.replace(normal, instant=datetime(2026, 10, 1, 10, tzinfo=UTC))
    assert assess(later_normal, low).pattern is Pattern.NONE


STRICT = dataclasses.replace(
    POLICY, adult_low_limit_u_per_l=Decimal(30), all_months_low=True, max_any_alp_u_per_l=Decimal(45)
)


def test_strict_policy_needs_every_month_low():
    results = [alp("2026-01-10", 20), alp("2026-02-10", 25), alp("2026-03-10", 21), alp("2026-04-10", 40)]
    assert assess(*results).pattern is Pattern.PERSISTENT
    assert assess(*results, policy=STRICT).pattern is Pattern.RECURRENT
    assert assess(*results[:3], policy=STRICT).pattern is Pattern.PERSISTENT


@pytest.mark.parametrize("highest, pattern", [("45", Pattern.PERSISTENT), ("45.1", Pattern.RECURRENT)])
def test_strict_policy_allows_no_value_above_45(highest, pattern):
    policy = dataclasses.replace(STRICT, all_months_low=False)
    results = [alp("2026-01-10", 20), alp("2026-03-10", 21), alp("2026-04-10", 22), alp("2026-05-10", highest)]
    assert assess(*results, policy=policy).pattern is pattern


def test_results_drawn_on_antiresorptive_therapy_are_marked():
    exposures = [(date(2026, 2, 1), date(2026, 6, 30))]
    assessment = assess_alp([alp("2026-01-10", 20), alp("2026-03-10", 21)], [], ADULT, TODAY, POLICY, exposures)
    assert [r.on_antiresorptive for r in assessment.results] == [False, True]


# --- transient lows: a clearly normal value later, one acute stay (issue 10 item 7) ----------------------------


@pytest.mark.parametrize("later, pattern", [("45", Pattern.PERSISTENT), ("45.01", Pattern.RECURRENT)])
def test_a_clearly_normal_adult_value_after_the_last_low_downgrades_persistent(later, pattern):
    lows = [alp("2026-01-10", 20), alp("2026-03-10", 21), alp("2026-05-10", 22)]
    assessment = assess(*lows, alp("2026-06-10", later))
    assert assessment.pattern is pattern
    assert (assessment.later_normal is not None) is (pattern is Pattern.RECURRENT)


def test_a_clearly_normal_value_before_the_lows_does_not_downgrade():
    assessment = assess(alp("2025-12-10", 80), alp("2026-01-10", 20), alp("2026-03-10", 21), alp("2026-05-10", 22))
    assert assessment.pattern is Pattern.PERSISTENT and assessment.later_normal is None


@pytest.mark.parametrize("later, downgraded", [("177.5", False), ("177.6", True)])
def test_a_childs_clearly_normal_value_is_a_quarter_above_the_age_limit(later, downgraded):
    boy = PatientFacts("p3", date(2018, 5, 3), "male")  # limit 142 U/L; 1.25 x 142 = 177.5
    lows = [alp("2026-01-10", 100), alp("2026-03-10", 101), alp("2026-05-10", 102)]
    assessment = assess(*lows, alp("2026-06-10", later), patient=boy)
    assert (assessment.later_normal is not None) is downgraded


def test_lows_confined_to_one_inpatient_stay_are_found_by_date():
    from hooks.records import EncounterRecord

    stay = EncounterRecord("enc-1", "IMP", "finished", date(2026, 1, 5), date(2026, 2, 1))
    clinic = EncounterRecord("enc-2", "AMB", "finished", date(2026, 1, 1), date(2026, 12, 31))
    lows = [alp("2026-01-10", 20), alp("2026-01-30", 21)]
    assert assess_alp(lows, [], ADULT, TODAY, POLICY, encounters=[clinic, stay]).acute_stay == stay
    later = assess_alp([*lows, alp("2026-03-01", 22)], [], ADULT, TODAY, POLICY, encounters=[stay])
    assert later.acute_stay is None
    # A result that names the stay but was drawn weeks after it is not confined to it.
    after = [dataclasses.replace(r, encounter="Encounter/enc-1", effective=date(2026, 4, 1)) for r in lows]
    assert assess_alp(after, [], ADULT, TODAY, POLICY, encounters=[stay]).acute_stay is None


@pytest.mark.parametrize("days, confined", [(30, True), (31, False)])
def test_a_stay_longer_than_30_days_is_not_an_acute_illness(days, confined):
    from hooks.records import EncounterRecord

    stay = EncounterRecord("enc-1", "IMP", "finished", date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=days))
    lows = [alp("2026-01-02", 20), alp("2026-01-20", 21)]
    assert (assess_alp(lows, [], ADULT, TODAY, POLICY, encounters=[stay]).acute_stay is not None) is confined


@pytest.mark.parametrize("status, confined", [("finished", False), ("in-progress", True)])
def test_a_stay_without_an_end_lasts_until_today_only_while_in_progress(status, confined):
    from hooks.records import EncounterRecord

    stay = EncounterRecord("enc-1", "EMER", status, date(2026, 11, 10), None)
    lows = [alp("2026-11-12", 20), alp("2026-11-20", 21)]
    assert (assess_alp(lows, [], ADULT, TODAY, POLICY, encounters=[stay]).acute_stay is not None) is confined


def test_long_term_care_is_not_an_acute_stay():
    from hooks.records import EncounterRecord

    stay = EncounterRecord("enc-1", "NONAC", "finished", date(2026, 1, 5), date(2026, 1, 20))
    lows = [alp("2026-01-10", 20), alp("2026-01-15", 21)]
    assert assess_alp(lows, [], ADULT, TODAY, POLICY, encounters=[stay]).acute_stay is None


# --- lows on antiresorptive therapy (issue 10 item 1) --------------------------------------------------------

THERAPY = [(date(2025, 6, 1), date(2026, 11, 24))]


@pytest.mark.parametrize("before, explained", [("45.01", True), ("45", False), ("36", False), ("35", False)])
def test_lows_all_on_therapy_are_explained_only_when_the_latest_pre_treatment_alp_was_clearly_normal(before, explained):
    results = [alp("2015-03-01", before), alp("2026-01-10", 20), alp("2026-03-10", 21)]
    assessment = assess_alp(results, [], ADULT, TODAY, POLICY, THERAPY)
    assert assessment.all_lows_on_therapy
    assert assessment.pre_treatment is not None and assessment.pre_treatment.effective == date(2015, 3, 1)
    assert assessment.explained_by_therapy is explained


def test_without_a_pre_treatment_alp_the_lows_are_not_explained_by_therapy():
    assessment = assess_alp([alp("2026-01-10", 20), alp("2026-03-10", 21)], [], ADULT, TODAY, POLICY, THERAPY)
    assert assessment.all_lows_on_therapy and not assessment.explained_by_therapy


def test_a_low_before_therapy_means_the_lows_are_not_explained_by_therapy():
    results = [alp("2025-03-01", 50), alp("2025-05-01", 25), alp("2026-01-10", 20), alp("2026-03-10", 21)]
    assessment = assess_alp(results, [], ADULT, TODAY, POLICY, THERAPY)
    assert not assessment.all_lows_on_therapy and not assessment.explained_by_therapy


def test_a_pre_treatment_alp_with_a_data_absent_reason_does_not_explain_the_lows():
    normal_before = alp("2015-03-01", 80)
    results = [alp("2026-01-10", 20), alp("2026-03-10", 21)]
    assert assess_alp([normal_before, *results], [], ADULT, TODAY, POLICY, THERAPY).explained_by_therapy
    absent = dataclasses.replace(normal_before, has_data_absent_reason=True)
    assessment = assess_alp([absent, *results], [], ADULT, TODAY, POLICY, THERAPY)
    assert assessment.pre_treatment is None and not assessment.explained_by_therapy


def test_of_two_pre_treatment_alps_drawn_together_the_higher_one_is_taken_whatever_the_order():
    results = [alp("2026-01-10", 20), alp("2026-03-10", 21)]
    pair = [alp("2015-03-01", 40), alp("2015-03-01", 80)]
    for before in (pair, pair[::-1]):
        pre = assess_alp([*before, *results], [], ADULT, TODAY, POLICY, THERAPY).pre_treatment
        assert pre is not None and pre.value_u_per_l == Decimal(80)
