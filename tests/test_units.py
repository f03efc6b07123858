"""ALP unit conversion: exact factors for known units, refusal for everything else."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hooks.units import alp_factor, to_u_per_l

values = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("5000"), places=3, allow_nan=False)


@pytest.mark.parametrize("unit", ["U/L", "[U]/L", "IU/L", "[IU]/L", "[iU]/L", "u/l", " U/l ", "iu/L"])
def test_enzyme_units_per_litre_are_taken_as_is(unit):
    assert to_u_per_l(Decimal("28.5"), unit) == Decimal("28.5")


@pytest.mark.parametrize("unit", ["ukat/L", "µkat/L", "μkat/L", "UKAT/L"])
def test_microkatal_per_litre_is_sixty_units(unit):
    assert to_u_per_l(Decimal("0.45"), unit) == Decimal("27.00")


def test_nanokatal_per_litre_is_six_hundredths_of_a_unit():
    assert to_u_per_l(Decimal(500), "nkat/L") == Decimal(30)


@pytest.mark.parametrize("unit", [None, "", "  ", "ug/L", "%", "mg/dL", "U/mL", "kU/L", "mmol/L", "U"])
def test_other_units_are_refused_not_guessed(unit):
    assert alp_factor(unit) is None
    assert to_u_per_l(Decimal(30), unit) is None


@given(values)
def test_microkatal_and_nanokatal_agree(value):
    assert to_u_per_l(value, "ukat/L") == to_u_per_l(value * 1000, "nkat/L")


@given(values, st.sampled_from(["U/L", "IU/L", "ukat/L", "nkat/L"]))
def test_conversion_preserves_order(value, unit):
    bigger = value + Decimal("0.001")
    assert to_u_per_l(bigger, unit) > to_u_per_l(value, unit)


@given(values)
def test_round_trip_through_microkatal(value):
    assert to_u_per_l(value, "ukat/L") / 60 == value
