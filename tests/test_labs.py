"""Reading the latest result of an analyte: calendar windows, the newest result, comparators, display."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from hooks.labs import Reading, is_below, months_before, most_recent, number_text, read_all, shown_limit, shown_value
from hooks.records import LabResult, Quantity
from hooks.units import to_ml_per_min


def lab(
    day: str, value: float | str, unit: str | None = "mL/min", *, at: str | None = None, comparator: str | None = None
) -> LabResult:
    instant = datetime.fromisoformat(f"{day}T{at}+00:00") if at else None
    return LabResult(
        f"obs-{day}-{at}-{value}",
        "2164-2",
        "final",
        date.fromisoformat(day),
        Quantity(Decimal(str(value)), unit, comparator),
        (),
        False,
        instant,
    )


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2026, 11, 24), 12, date(2025, 11, 24)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
        (date(2026, 5, 31), 15, date(2025, 2, 28)),
    ],
)
def test_months_before_counts_calendar_months_and_keeps_to_the_end_of_shorter_months(day, months, expected):
    assert months_before(day, months) == expected


def test_most_recent_keeps_untimed_results_of_the_day_and_the_latest_timed_one():
    early, late, untimed = lab("2026-10-02", 1, at="08:00"), lab("2026-10-02", 2, at="14:00"), lab("2026-10-02", 3)
    older = lab("2026-10-01", 4, at="23:00")
    assert set(most_recent([older, early, late, untimed])) == {late, untimed}
    assert most_recent([]) == ()


@pytest.mark.parametrize(
    "comparator, value, below",
    [
        (None, "29.9", True),
        (None, "30", False),
        ("<", "30", True),
        ("<", "31", False),
        ("<=", "30", False),
        ("<=", "29", True),
        (">", "20", False),
        (">=", "20", False),
    ],
)
def test_a_reading_is_below_a_limit_only_when_certainly_so(comparator, value, below):
    reading = Reading(lab("2026-10-02", value), Decimal(value), comparator)
    assert is_below(reading, Decimal(30)) is below


def test_one_uninterpretable_result_means_no_readings_at_all():
    assert read_all([lab("2026-10-02", 20), lab("2026-10-02", 25, "mg/dL")], to_ml_per_min) == ()
    assert len(read_all([lab("2026-10-02", 20), lab("2026-10-02", "0.4", "mL/s")], to_ml_per_min)) == 2


def test_display_rounding_never_makes_a_value_meet_its_limit():
    assert (shown_value(Decimal("19.999")), shown_limit(Decimal("20.001"))) == (Decimal("19.99"), Decimal("20.01"))
    assert [number_text(Decimal(v)) for v in ("28", "27.50", "28.00", "1E+1")] == ["28", "27.5", "28", "10"]


def test_a_result_counts_only_when_verified_without_a_data_absent_reason_and_dated():
    from dataclasses import replace

    from hooks.labs import counts, is_reported
    from hooks.policy import Policy

    policy, result = Policy(), lab("2026-05-01", 40)
    assert is_reported(result, policy) and counts(result, policy, date(2026, 1, 1))
    assert not is_reported(replace(result, has_data_absent_reason=True), policy)
    assert not is_reported(replace(result, status="preliminary"), policy)
    assert not counts(replace(result, effective=None), policy)
    assert not counts(result, policy, date(2026, 6, 1))


def test_results_are_ordered_newest_first_by_time_of_day_then_id_whatever_order_they_came_in():
    from dataclasses import replace

    from hooks.labs import newest_first

    untimed, morning, evening = (
        lab("2026-05-01", 1),
        lab("2026-05-01", 2, at="08:00:00"),
        lab("2026-05-01", 3, at="20:00:00"),
    )
    twin = replace(untimed, id="a-first")
    expected = [evening, morning, untimed, twin]
    assert newest_first([twin, untimed, morning, evening]) == expected
    assert newest_first([evening, untimed, twin, morning]) == expected
