"""FHIR datatypes read as fhir.resources reads them: known client mistakes repaired, anything else refused."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hooks.fhir_read import (
    UnreadableResource,
    boolean,
    choice,
    code,
    concept,
    date_time,
    decimal,
    fhir_date,
    instant,
    items,
    quantity,
    string,
)
from hooks.records import Code


def test_a_date_time_without_zone_keeps_its_calendar_date():
    assert date_time("2026-01-12T23:30:00", "effectiveDateTime") == datetime(2026, 1, 12, 23, 30, tzinfo=UTC)


def test_date_times_keep_their_precision_and_zone():
    assert date_time("2025-09-30", "x") == date(2025, 9, 30)
    assert date_time("2025-09", "x") == "2025-09"  # partial dates stay text, as fhir.resources keeps them
    assert date_time("2025-09-30T22:00:00-04:00", "x").date() == date(2025, 9, 30)  # type: ignore[union-attr]
    assert date_time("2016-12-31T23:59:60Z", "x") == "2016-12-31T23:59:60Z"  # a leap second


@pytest.mark.parametrize(
    "value", ["2026-01-12T23:30", "2025-02-30", "2025-13", "yesterday", "", 2025, "2025-09-30t10:00:00z"]
)
def test_what_is_not_a_date_time_is_refused(value):
    with pytest.raises(UnreadableResource, match="effectiveDateTime"):
        date_time(value, "effectiveDateTime")


def test_an_instant_needs_a_time_and_a_date_needs_none():
    assert instant("2025-10-01T08:00:00", "issued") == datetime(2025, 10, 1, 8, tzinfo=UTC)
    with pytest.raises(UnreadableResource):
        instant("2025-10-01", "issued")
    assert fhir_date("1961-04", "birthDate") == "1961-04"
    with pytest.raises(UnreadableResource):
        fhir_date("1961-04-12T00:00:00Z", "birthDate")


def test_decimals_keep_their_written_precision():
    assert [decimal(v, "value") for v in (28, 28.5, "28", 1.0, 1e-7)] == [
        Decimal(28),
        Decimal("28.5"),
        Decimal(28),
        Decimal("1.0"),
        Decimal("1E-7"),
    ]


@pytest.mark.parametrize("value", ["twenty-eight Alice", " 28", True, [28]])
def test_a_non_numeric_value_is_refused_and_the_message_has_no_patient_data(value):
    with pytest.raises(UnreadableResource) as raised:
        decimal(value, "valueQuantity.value")
    assert str(raised.value) == "valueQuantity.value: not a decimal"


def test_an_object_where_r4_wants_a_list_is_read_as_a_one_item_list():
    assert items({"code": "L"}, "interpretation") == ({"code": "L"},)
    assert concept({"coding": {"system": "http://loinc.org", "code": "6768-6"}}, "code").codes == (
        Code("http://loinc.org", "6768-6"),
    )
    with pytest.raises(UnreadableResource):
        items([None], "interpretation")


def test_codes_and_strings_are_checked_as_r4_defines_them():
    assert code("entered-in-error", "status") == "entered-in-error"
    for bad in ("", " final", "a  b", 3):
        with pytest.raises(UnreadableResource):
            code(bad, "status")
    with pytest.raises(UnreadableResource):
        string("", "display")
    assert (boolean("yes", "userSelected"), boolean(0, "userSelected")) == (True, False)
    with pytest.raises(UnreadableResource):
        boolean("perhaps", "userSelected")


def test_elements_r4_does_not_define_are_ignored():
    assert quantity({"value": 28, "unit": "U/L", "precision": "exact"}, "valueQuantity").value == Decimal(28)  # type: ignore[union-attr]


def test_two_types_of_one_choice_element_are_refused():
    assert choice({"valueQuantity": {}, "valueString": None}, "value", ("Quantity", "String")) == "Quantity"
    with pytest.raises(UnreadableResource, match=r"value\[x\]"):
        choice({"valueQuantity": {}, "valueString": "x"}, "value", ("Quantity", "String"))
    with pytest.raises(UnreadableResource, match="missing"):
        choice({}, "medication", ("CodeableConcept", "Reference"), required=True)
