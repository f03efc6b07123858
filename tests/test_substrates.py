"""Elevated ALP substrates: the latest PLP or phosphoethanolamine, against the lab's range or the default."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from hooks.policy import Policy
from hooks.records import LabResult, Quantity, ReferenceRange
from hooks.substrates import B6_CAVEAT, elevated_substrates, substrate_criteria

TODAY = date(2026, 11, 24)
POLICY = Policy()


def plp(value: str, unit: str = "nmol/L", *, day: date = date(2026, 10, 1), loinc: str = "62236-5",
        high: str | None = None, status: str = "final", comparator: str | None = None) -> LabResult:
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


@pytest.mark.parametrize("result", [plp("210", "mg/dL"), plp("210", comparator="<"), plp("210", status="preliminary"),
                                    plp("210", day=date(2021, 1, 1))])
def test_unknown_units_upper_bounds_unverified_or_old_results_show_no_elevation(result):
    assert elevated(result) == ()


def test_phosphoethanolamine_needs_its_own_range_in_the_same_unit():
    assert len(elevated(pea("60"))) == 1
    assert elevated(pea("40")) == ()
    assert elevated(pea("60", high=None)) == ()


def test_the_criteria_name_the_value_and_warn_about_vitamin_b6():
    lines = substrate_criteria(elevated(plp("210")))
    assert lines[0].startswith("Pyridoxal 5'-phosphate 210 nmol/L on 2026-10-01 is above normal")
    assert lines[-1] == B6_CAVEAT
    assert B6_CAVEAT not in substrate_criteria(elevated(pea("60")))


def test_the_defaults_are_policy_parameters():
    policy = dataclasses.replace(POLICY, plp_high_nmol_per_l=Decimal(180))
    assert elevated(plp("170"), policy=policy) == ()
