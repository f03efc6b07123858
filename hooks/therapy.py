"""Antiresorptive therapy as far as every FHIR source shows it: orders, statements, dispenses, administrations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from hooks.medications import antiresorptive_ingredients
from hooks.policy import Policy
from hooks.records import MedicationOrder

# Statuses under which a source shows no therapy at all (FHIR R4 value sets of each resource).
_NOT_TAKEN = {
    "MedicationRequest": frozenset({"draft", "cancelled", "entered-in-error"}),
    "MedicationStatement": frozenset({"entered-in-error", "not-taken"}),
    "MedicationDispense": frozenset({"cancelled", "entered-in-error", "declined", "preparation"}),
    "MedicationAdministration": frozenset({"not-done", "entered-in-error"}),
}
# Statuses that mean the patient is still on it today, whatever the dates say.
_ONGOING = {
    "MedicationRequest": frozenset({"active", "on-hold"}),
    "MedicationStatement": frozenset({"active", "intended", "on-hold"}),
}


@dataclass(frozen=True)
class Therapy:
    """A stretch of antiresorptive therapy and the record that shows it."""

    ingredient: str
    source: str  # MedicationRequest, MedicationStatement, MedicationDispense or MedicationAdministration
    start: date
    end: date  # the last day the record covers
    record: MedicationOrder

    def covers(self, day: date) -> bool:
        """Tell whether the patient was on this therapy on `day`."""
        return self.start <= day <= self.end


def antiresorptive_therapies(medications: Iterable[MedicationOrder], today: date, policy: Policy) -> list[Therapy]:
    """Return every stretch of antiresorptive therapy the records show, one per ingredient and record."""
    therapies = []
    for record in medications:
        if record.status in _NOT_TAKEN.get(record.source, frozenset()):
            continue
        for ingredient in antiresorptive_ingredients(record):
            period = _period(record, ingredient, today, policy)
            if period is not None:
                therapies.append(Therapy(ingredient, record.source, *period, record))
    return sorted(therapies, key=lambda t: (t.start, t.ingredient))


def in_use(therapies: Iterable[Therapy], today: date) -> list[Therapy]:
    """Return the therapies that cover today: per ingredient the record that began last, most recent first."""
    latest: dict[str, Therapy] = {}
    for therapy in therapies:
        current = latest.get(therapy.ingredient)
        if therapy.covers(today) and (current is None or therapy.start > current.start):
            latest[therapy.ingredient] = therapy
    return sorted(latest.values(), key=lambda t: t.start, reverse=True)


def _period(record: MedicationOrder, ingredient: str, today: date, policy: Policy) -> tuple[date, date] | None:
    """Return the first and last day a record shows therapy, or None when it cannot be placed in time."""
    start = record.authored
    ongoing = record.status in _ONGOING.get(record.source, frozenset())
    if start is None:
        # An active statement or order without a date still shows therapy today, though not since when.
        return (today, today) if ongoing else None
    if record.source == "MedicationDispense":
        days = record.supply_days if record.supply_days else policy.dispense_default_supply_days
        return start, start + timedelta(days=days + policy.dispense_grace_days)
    if record.source == "MedicationAdministration":
        return start, start + timedelta(days=administration_interval_days(ingredient, policy))
    if record.ends is not None:
        end = record.ends
    elif ongoing:
        end = today
    elif record.supply_days:
        end = start + timedelta(days=record.supply_days)
    else:
        # Without an end or a supply, a stopped course counts for a year: bisphosphonates stay in bone for years,
        # so this understates rather than overstates exposure.
        end = start + timedelta(days=policy.assumed_course_days)
    return start, max(end, start)


def administration_interval_days(ingredient: str, policy: Policy) -> int:
    """Return how long one dose given in clinic covers: the drug's dosing interval."""
    return {
        "denosumab": policy.denosumab_interval_days,
        "zoledronic acid": policy.zoledronic_acid_interval_days,
        "ibandronate": policy.ibandronate_iv_interval_days,
        "romosozumab": policy.romosozumab_interval_days,
    }.get(ingredient, policy.dispense_default_supply_days)


def shows_use(record: MedicationOrder) -> bool:
    """Tell whether a medication record shows the drug was (or is to be) taken at all, whatever its dates."""
    return record.status not in _NOT_TAKEN.get(record.source, frozenset())


def taken_on(record: MedicationOrder, day: date, today: date, policy: Policy) -> bool:
    """Tell whether any medication record shows the drug taken on `day` (a drug given in clinic covers a month)."""
    if record.status in _NOT_TAKEN.get(record.source, frozenset()):
        return False
    period = _period(record, "", today, policy)
    return period is not None and period[0] <= day <= period[1]
