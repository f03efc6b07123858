"""Elevated ALP substrates: the latest PLP or phosphoethanolamine, against the lab's range or the default."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date
from decimal import Decimal

import pytest

from hooks.policy import Policy
from hooks.records import LabResult, Quantity, ReferenceRange
from hooks.substrates import elevated_substrates

TODAY = date(2026, 11, 24)
POLICY = Policy()


def plp(
    value: str,
    unit: str = "nmol/L",
    *,
    day: date = date(2026, 10, 1),
    loinc: str = "62236-5",
    high: str | None = None,
    status: str = "final",
    comparator: str | None = None,
) -> LabResult:
    ranges = (ReferenceRange(None, Quantity(Decimal(high), unit)),) if high else ()
    return LabResult(f"plp-{day}", loinc, status, day, Quantity(Decimal(value), unit, comparator), ranges)


def pea(value: str, *, high: str | None = "48", unit: str = "nmol/mg{creat}") -> LabResult:
    ranges = (ReferenceRange(None, Quantity(Decimal(high), unit)),) if high else ()
    return LabResult("pea-1", "13789-3", "final", date(2026, 10, 1), Quantity(Decimal(value), unit), ranges)


def elevated(*results: LabResult, policy: Policy = POLICY):
    return elevated_substrates(results, TODAY, policy)


@pytest.mark.parametrize("value, is_high", [("125", False), ("125.1", True)])
def test_plp_without_a_range_is_high_above_125_nmol_per_l(value, is_high):
    assert bool(elevated(plp(value))) is is_high


@pytest.mark.parametrize("value, is_high", [("50", False), ("50.1", True)])
def test_plp_in_ug_per_l_is_high_above_50(value, is_high):
    assert bool(elevated(plp(value, "ug/L", loinc="30552-4"))) is is_high


def test_the_labs_own_range_high_wins_over_the_default():
    assert elevated(plp("110", high="100")) and not elevated(plp("110", high="130"))


def test_a_normal_repeat_overrides_an_older_high_plp():
    old_high, new_normal = plp("210", day=date(2024, 5, 1)), plp("60", day=date(2026, 10, 1))
    assert elevated(old_high, new_normal) == ()
    assert len(elevated(old_high)) == 1


@pytest.mark.parametrize(
    "result",
    [
        plp("210", "mg/dL"),
        plp("210", comparator="<"),
        plp("210", status="preliminary"),
        plp("210", day=date(2021, 1, 1)),
    ],
)
def test_unknown_units_upper_bounds_unverified_or_old_results_show_no_elevation(result):
    assert elevated(result) == ()


def test_phosphoethanolamine_needs_its_own_range_in_the_same_unit():
    assert len(elevated(pea("60"))) == 1
    assert elevated(pea("40")) == ()
    assert elevated(pea("60", high=None)) == ()


def test_an_elevated_substrate_carries_its_value_date_and_limit():
    (shown,) = elevated(plp("210"))
    assert (shown.label, shown.value, shown.unit, shown.effective) == (
        "Pyridoxal 5'-phosphate",
        Decimal(210),
        "nmol/L",
        date(2026, 10, 1),
    )
    assert shown.limit == "> 125 nmol/L (125 nmol/L default)"


def test_the_defaults_are_policy_parameters():
    policy = dataclasses.replace(POLICY, plp_high_nmol_per_l=Decimal(180))
    assert elevated(plp("170"), policy=policy) == ()


# --- a finished work-up (issue 10 item 5) --------------------------------------------------------------------


def _result(
    loinc: str, value: str | None, unit: str = "", *, high: str | None = None, coded=(), text=None, interpretation=()
):
    from hooks.records import Code, LabResult, Quantity, ReferenceRange

    ranges = (ReferenceRange(None, Quantity(Decimal(high), unit)),) if high else ()
    quantity = Quantity(Decimal(value), unit) if value is not None else None
    return LabResult(
        "w1",
        loinc,
        "final",
        date(2026, 6, 1),
        quantity,
        ranges,
        coded_value=tuple(Code("http://loinc.org", c) for c in coded),
        text_value=text,
        interpretation=tuple(interpretation),
    )


@pytest.mark.parametrize("value, normal", [("125", True), ("125.1", False)])
def test_a_plp_at_or_below_its_limit_is_normal_work_up(value, normal):
    from hooks.substrates import normal_workup

    found = normal_workup([_result("62236-5", value, "nmol/L")], date(2026, 11, 24), Policy())
    assert bool(found) is normal


@pytest.mark.parametrize("value, normal", [("30", True), ("30.1", False)])
def test_a_pea_at_or_below_its_own_range_is_normal_work_up(value, normal):
    from hooks.substrates import normal_workup

    found = normal_workup([_result("28604-7", value, "umol/g{creat}", high="30")], date(2026, 11, 24), Policy())
    assert bool(found) is normal


def test_a_pea_without_a_range_in_its_unit_says_nothing():
    from hooks.substrates import normal_workup

    assert normal_workup([_result("28604-7", "10", "umol/g{creat}")], date(2026, 11, 24), Policy()) == ()


@pytest.mark.parametrize(
    "kwargs, negative",
    [
        ({"coded": ["LA6577-6"]}, True),
        ({"coded": ["LA9634-2"]}, True),
        ({"interpretation": ["NEG"]}, True),
        ({"text": "No pathogenic variant detected in ALPL"}, True),
        ({"coded": ["LA6576-8"]}, False),
        ({"text": "Heterozygous pathogenic variant detected"}, False),
        ({}, False),
    ],
)
def test_a_negative_alpl_result_is_read_from_its_answer_interpretation_or_text(kwargs, negative):
    from hooks.substrates import is_negative_genetic_result

    assert is_negative_genetic_result(_result("77084-2", None, **kwargs)) is negative


@pytest.mark.parametrize(
    "groups, complete", [({"plp"}, False), ({"pea"}, False), ({"plp", "pea"}, True), ({"alpl"}, True)]
)
def test_the_work_up_is_complete_with_both_substrates_normal_or_a_negative_alpl_test(groups, complete):
    from hooks.findings import Measurement
    from hooks.substrates import workup_complete

    loinc = {"plp": "62236-5", "pea": "13789-3", "alpl": "77084-2"}
    measured = [Measurement(g, loinc[g], date(2026, 1, 1), Decimal(1), "") for g in groups]
    assert workup_complete(measured) is complete


@pytest.mark.parametrize(
    "text",
    [
        "Likely pathogenic variant, c.1250A>G (p.Asn417Ser), identified; deletion/duplication analysis negative",
        "Pathogenic variant c.571G>A was detected; no variant in other genes",
        "Variant of uncertain significance c.1001G>A. No pathogenic variant identified.",
    ],
)
def test_a_genetic_report_naming_any_variant_is_never_read_as_negative(text):
    from hooks.substrates import is_negative_genetic_result

    assert is_negative_genetic_result(_result("77084-2", None, text=text)) is False


def test_a_plp_with_a_data_absent_reason_is_neither_elevated_nor_done():
    from hooks.substrates import tests_done

    high = plp("210")
    assert elevated(high) and tests_done([high], TODAY, POLICY) == {"plp"}
    absent = dataclasses.replace(high, has_data_absent_reason=True)
    assert elevated(absent) == () and tests_done([absent], TODAY, POLICY) == frozenset()


@pytest.mark.parametrize("order", [0, 1])
def test_equally_recent_plps_that_disagree_settle_nothing_either_way(order):
    from hooks.substrates import normal_workup

    pair = [plp("210"), plp("60")]
    results = pair if order == 0 else pair[::-1]
    assert elevated(*results) == ()
    assert normal_workup(results, TODAY, POLICY) == ()


def test_equally_recent_plps_that_agree_show_the_one_that_claims_least():
    from hooks.substrates import normal_workup

    (shown,) = elevated(plp("210"), plp("180"))
    assert shown.value == Decimal("180")
    (normal,) = normal_workup([plp("40"), plp("60")], TODAY, POLICY)
    assert normal.value == Decimal("60")


def test_a_timed_normal_plp_does_not_outrank_an_untimed_high_one_drawn_the_same_day():
    from datetime import datetime

    timed_normal = dataclasses.replace(plp("60"), id="plp-timed", instant=datetime(2026, 10, 1, 9, tzinfo=UTC))
    assert elevated(plp("210"), timed_normal) == ()
    assert len(elevated(plp("210"), dataclasses.replace(timed_normal, effective=date(2026, 9, 30)))) == 1
