"""Secondary causes of low ALP named from the record: diagnoses by code or text, drugs taken now, low Mg or Zn."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hooks.policy import Policy
from hooks.records import Code, ConditionRecord, LabResult, MedicationOrder, Quantity, ReferenceRange
from hooks.secondary_causes import condition_cause, drug_cause, secondary_causes
from hooks.units import to_mg_per_dl_magnesium, to_ug_per_dl_zinc
from hooks.valuesets import ATC, ICD10CM, RXNORM, SNOMED

TODAY = date(2026, 11, 24)
POLICY = Policy()


def condition(*codes: Code, names=(), clinical="active", verification="confirmed") -> ConditionRecord:
    return ConditionRecord("c1", tuple(codes), tuple(names), verification, clinical)


@pytest.mark.parametrize(
    "record, kind",
    [
        (condition(Code(SNOMED, "396331005")), "coeliac disease"),
        (condition(Code(ICD10CM, "K90.0")), "coeliac disease"),
        (condition(Code(ICD10CM, "E03.9")), "hypothyroidism"),
        (condition(Code(SNOMED, "40930008")), "hypothyroidism"),
        (condition(Code(ICD10CM, "E44.0")), "malnutrition"),
        (condition(Code(ICD10CM, "E83.42")), "hypomagnesaemia"),
        (
            condition(Code("http://example.org/local", "X1"), names=["Coeliac disease (biopsy proven)"]),
            "coeliac disease",
        ),
        (condition(names=["Primary hypothyroidism"]), "hypothyroidism"),
        (condition(Code(ICD10CM, "E11.9"), names=["Type 2 diabetes"]), None),
    ],
)
def test_diagnoses_that_lower_alp_are_recognised_by_code_or_text(record, kind):
    assert condition_cause(record) == kind


@pytest.mark.parametrize(
    "clinical, verification, named",
    [
        ("active", "confirmed", True),
        (None, None, True),
        ("resolved", "confirmed", False),
        ("inactive", "confirmed", False),
        ("active", "refuted", False),
        ("active", "entered-in-error", False),
    ],
)
def test_only_current_diagnoses_are_named(clinical, verification, named):
    found = secondary_causes(
        [condition(Code(ICD10CM, "E03.9"), clinical=clinical, verification=verification)], [], [], TODAY, POLICY
    )
    assert bool(found) is named


@pytest.mark.parametrize(
    "codes, names, kind",
    [
        ((Code(RXNORM, "8640"),), (), "glucocorticoid"),
        ((Code(ATC, "H02AB06"),), (), "glucocorticoid"),
        ((Code(ATC, "C10AB05"),), (), "fibrate"),
        ((), ("Fenofibrate 145 MG Oral Tablet",), "fibrate"),
        ((Code(ATC, "G03CA03"),), (), "oestrogen"),
        ((), ("ethinyl estradiol / levonorgestrel",), "oestrogen"),
        ((), ("atorvastatin 20 MG",), None),
    ],
)
def test_drugs_that_lower_alp_are_recognised_by_rxnorm_atc_or_name(codes, names, kind):
    assert drug_cause(MedicationOrder("m1", "active", codes, names)) == kind


@pytest.mark.parametrize("status, named", [("active", True), ("stopped", False)])
def test_a_drug_is_named_only_while_it_is_taken(status, named):
    prednisone = MedicationOrder("m1", status, (Code(RXNORM, "8640"),), ("prednisone 5 MG",), authored=date(2020, 1, 1))
    found = secondary_causes([], [prednisone], [], TODAY, POLICY)
    assert [c.kind for c in found] == (["glucocorticoid"] if named else [])


def magnesium(value: str, unit: str = "mg/dL", low: str | None = None) -> LabResult:
    ranges = (ReferenceRange(Quantity(Decimal(low), unit), None),) if low else ()
    return LabResult("o1", "19123-9", "final", date(2026, 10, 1), Quantity(Decimal(value), unit), ranges)


@pytest.mark.parametrize("value, named", [("1.69", True), ("1.7", False)])
def test_magnesium_below_the_default_limit_is_named(value, named):
    found = secondary_causes([], [], [magnesium(value)], TODAY, POLICY)
    assert [c.kind for c in found] == (["low magnesium"] if named else [])


@pytest.mark.parametrize("value, named", [("1.89", True), ("1.9", False)])
def test_the_labs_own_range_low_wins_over_the_default(value, named):
    assert bool(secondary_causes([], [], [magnesium(value, low="1.9")], TODAY, POLICY)) is named


@pytest.mark.parametrize(
    "value, unit, named",
    [
        ("59.9", "ug/dL", True),
        ("60", "ug/dL", False),
        ("0.59", "ug/mL", True),
        ("9.1", "umol/L", True),
        ("9.2", "umol/L", False),
    ],
)
def test_zinc_below_60_ug_per_dl_is_named_in_any_unit(value, unit, named):
    zinc = LabResult("o2", "5763-8", "final", date(2026, 10, 1), Quantity(Decimal(value), unit))
    assert bool(secondary_causes([], [], [zinc], TODAY, POLICY)) is named


def test_a_magnesium_in_an_unknown_unit_is_not_called_low():
    assert secondary_causes([], [], [magnesium("0.1", "g/L")], TODAY, POLICY) == ()


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2))
def test_magnesium_and_zinc_conversions_agree_across_units(value):
    assert to_mg_per_dl_magnesium(value, "mmol/L") == to_mg_per_dl_magnesium(value * 2, "mEq/L")
    assert to_ug_per_dl_zinc(value, "ug/mL") == to_ug_per_dl_zinc(value * 1000, "ug/dL") / 10
