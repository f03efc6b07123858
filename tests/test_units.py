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


# --- creatinine and body weight, for Cockcroft-Gault ---------------------------------------------------------

from hooks.labs import exact  # noqa: E402
from hooks.units import to_kg, to_mg_per_dl_creatinine  # noqa: E402

positive = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2, allow_nan=False)


@pytest.mark.parametrize(
    "value, unit, mg_per_dl",
    [
        ("1", "mg/dL", "1"),
        ("88.4", "umol/L", "1"),
        ("88.4", "µmol/L", "1"),
        ("88.4", "μmol/L", "1"),
        ("0.0884", "mmol/L", "1"),
        ("176.8", "umol/L", "2"),
    ],
)
def test_creatinine_units(value, unit, mg_per_dl):
    converted = to_mg_per_dl_creatinine(Decimal(value), unit)
    assert converted is not None and exact(converted) == Decimal(mg_per_dl)


@pytest.mark.parametrize(
    "value, unit, kg",
    [
        ("70", "kg", "70"),
        ("70000", "g", "70"),
        ("1", "[lb_av]", "0.45359237"),
        ("100", "lb", "45.359237"),
    ],
)
def test_weight_units(value, unit, kg):
    assert to_kg(Decimal(value), unit) == Decimal(kg)


@pytest.mark.parametrize("unit", [None, "", "mg/L", "g/dL", "umol", "%"])
def test_creatinine_in_an_unknown_unit_is_refused(unit):
    assert to_mg_per_dl_creatinine(Decimal(1), unit) is None


@pytest.mark.parametrize("unit", [None, "", "stone", "[oz_av]", "kg/m2"])
def test_weight_in_an_unknown_unit_is_refused(unit):
    assert to_kg(Decimal(70), unit) is None


@given(positive)
def test_micromoles_and_milligrams_of_creatinine_are_equivalent(mg_per_dl):
    umol = to_mg_per_dl_creatinine(mg_per_dl * Decimal("88.4"), "umol/L")
    assert umol is not None and abs(umol - mg_per_dl) < Decimal("1e-20")


@given(positive)
def test_pounds_and_kilograms_are_equivalent(kg):
    pounds = to_kg(kg / Decimal("0.45359237"), "[lb_av]")
    assert pounds is not None and abs(pounds - kg) < Decimal("1e-20")
