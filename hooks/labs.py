"""What a lab result says, decided once for every rule: whether it counts, which is newest, and its value.

A result counts when the lab stands behind it (a verified status, no dataAbsentReason) and it is dated; its value
is usable when it converts to the rule's unit (`read`). The newest results are those of the latest specimen time
(`most_recent`), and an older value never stands in for a newest one that cannot be read (`read_all`).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Decimal,
    InvalidOperation,
)

from hooks.policy import Policy
from hooks.records import LabResult, Unreadable

Convert = Callable[[Decimal, str | None], Decimal | None]

# Conversion factors are 28-digit decimals: rounding far below any lab's precision lets an exact equivalent
# (49.92 nmol/L = 20 ng/mL) compare equal to its limit.
_EXACT = Decimal("1e-9")
_SHOWN = Decimal("0.01")


@dataclass(frozen=True)
class Reading:
    """A result's value in the unit its limit is written in, with the comparator it was reported with."""

    result: LabResult
    value: Decimal
    comparator: str | None

    @property
    def effective(self) -> date:
        """Return the specimen date, which every reading of a counted result has."""
        return specimen_day(self.result)


def months_before(day: date, months: int) -> date:
    """Return the same day `months` calendar months earlier, or that month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def is_reported(result: LabResult, policy: Policy) -> bool:
    """Tell whether the lab stands behind a result: a verified status and no dataAbsentReason."""
    # A dataAbsentReason says the value is missing (haemolysed, not performed), whatever else the resource holds.
    return result.status in policy.trusted_statuses and not result.has_data_absent_reason


def counts(result: LabResult, policy: Policy, since: date | None = None) -> bool:
    """Tell whether a result is evidence: reported, dated, and drawn on or after `since` when given."""
    return is_reported(result, policy) and result.effective is not None and (since is None or result.effective >= since)


def reported_or_unknown(resource: Unreadable, policy: Policy) -> bool:
    """Tell whether an unreadable result may hold a verified value: its legible status is trusted, or unknown."""
    return resource.status is None or resource.status in policy.trusted_statuses


def recent_trusted(labs: Iterable[LabResult], codes: frozenset[str], since: date, policy: Policy) -> list[LabResult]:
    """Return the results with one of `codes` that count as evidence since `since`."""
    return [result for result in labs if result.loinc in codes and counts(result, policy, since)]


def chronological(result: LabResult) -> tuple[date, float, str]:
    """Return a total order of results by specimen time: date, then time of day, then id.

    A result without a time of day sorts before the timed ones of its day (nothing shows it later); the id
    breaks exact ties, so the order never depends on the order the server sent them in.
    """
    return (*specimen_time(result.effective, result.instant), result.id or "")


def specimen_time(day: date | None, instant: datetime | None) -> tuple[date, float]:
    """Return the sort key of a specimen time: the date, then the time of day (none sorts first in its day)."""
    assert day is not None
    return day, instant.timestamp() if instant is not None else float("-inf")


def newest_first(results: Iterable[LabResult]) -> list[LabResult]:
    """Return the results ordered newest first (see `chronological`)."""
    return sorted(results, key=chronological, reverse=True)


def most_recent(results: Sequence[LabResult]) -> tuple[LabResult, ...]:
    """Return the newest results: those of the latest day that no known time of day shows to be older."""
    if not results:
        return ()
    day = max(specimen_day(r) for r in results)
    same_day = [r for r in results if r.effective == day]
    latest = max((r.instant for r in same_day if r.instant is not None), default=None)
    # A result without a time of day cannot be placed within its day, so it counts as just as recent.
    return tuple(r for r in same_day if r.instant is None or r.instant == latest)


def read_all(results: Iterable[LabResult], convert: Convert) -> tuple[Reading, ...]:
    """Return every result converted, or nothing when one of them cannot be interpreted."""
    readings = tuple(read(result, convert) for result in results)
    # Never fall back to an older value: the newest one may have replaced it.
    return () if any(r is None for r in readings) else readings  # type: ignore[return-value]


def read(result: LabResult, convert: Convert) -> Reading | None:
    """Return a result's value converted with `convert`, or None when it has no usable value or unit."""
    quantity = result.quantity
    if quantity is None or not quantity.value.is_finite():
        return None
    value = convert(quantity.value, quantity.unit)
    if value is None or value < 0:
        return None
    return Reading(result, exact(value), quantity.comparator)


def is_below(reading: Reading, limit: Decimal) -> bool:
    """Return whether the reading is certainly below `limit`: "<x" is when x ≤ limit, ">x" never is."""
    comparator = reading.comparator or None
    if comparator is None:
        return reading.value < limit
    if comparator == "<":
        return reading.value <= limit
    if comparator == "<=":
        return reading.value < limit
    return False  # ">", ">=", or a comparator that says nothing about an upper bound


def least_alarming(readings: Sequence[Reading]) -> Reading:
    """Return the highest of equally recent readings: the one that claims the least."""
    return max(readings, key=lambda r: r.value)


def exact(value: Decimal) -> Decimal:
    """Return a converted value rounded far below lab precision, so exact equivalents compare equal."""
    return _quantize(value, _EXACT, ROUND_HALF_EVEN)


def shown_value(value: Decimal) -> Decimal:
    """Return a value to show, cut to two decimals so a value below its limit never reads as at it."""
    return _quantize(value, _SHOWN, ROUND_DOWN)


def shown_limit(value: Decimal) -> Decimal:
    """Return a limit to show, rounded up to two decimals so it never reads as at a value below it."""
    return _quantize(value, _SHOWN, ROUND_CEILING)


def number_text(value: Decimal) -> str:
    """Write a number the way a lab report does: 28, 27.5, never 28.00 or 2.8E+1."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _quantize(value: Decimal, exponent: Decimal, rounding: str) -> Decimal:
    """Return `value` rounded to `exponent`, or unchanged when it is too large to round (far from any limit)."""
    try:
        return value.quantize(exponent, rounding=rounding)
    except InvalidOperation:
        return value


def specimen_day(result: LabResult) -> date:
    """Return a result's specimen date, which `counts` has made sure of."""
    assert result.effective is not None
    return result.effective
