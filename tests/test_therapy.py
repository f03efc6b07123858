"""Antiresorptive therapy from every FHIR source: each source's period on both sides of its limit."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from hooks.policy import Policy
from hooks.records import Code, MedicationOrder
from hooks.therapy import antiresorptive_therapies, in_use, taken_on
from hooks.valuesets import RXNORM

TODAY = date(2026, 11, 24)
POLICY = Policy()
ALENDRONATE = (Code(RXNORM, "904431"),)
DENOSUMAB = (Code(RXNORM, "993452"),)
ZOLEDRONIC = (Code(RXNORM, "705824"),)
IBANDRONATE_IV = (Code(RXNORM, "904952"),)


def record(
    source: str, status: str, codes=ALENDRONATE, *, start: date | None = None, ends=None, supply=None
) -> MedicationOrder:
    return MedicationOrder("m1", status, codes, (), authored=start, ends=ends, supply_days=supply, source=source)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.mark.parametrize(
    "status, used",
    [
        ("active", True),
        ("on-hold", True),
        ("intended", True),
        ("completed", False),
        ("entered-in-error", False),
        ("not-taken", False),
    ],
)
def test_a_medication_statement_counts_while_active_intended_or_on_hold(status, used):
    therapies = antiresorptive_therapies([record("MedicationStatement", status, start=ago(400))], TODAY, POLICY)
    assert bool(in_use(therapies, TODAY)) is used


@pytest.mark.parametrize("days_ago, used", [(58, True), (59, False)])
def test_a_dispense_covers_its_days_supply_and_the_grace_period(days_ago, used):
    # 28 days' supply + 30 days' grace: handed over 58 days ago still covers today.
    dispense = record("MedicationDispense", "completed", start=ago(days_ago), supply=28)
    assert bool(in_use(antiresorptive_therapies([dispense], TODAY, POLICY), TODAY)) is used


@pytest.mark.parametrize("status", ["cancelled", "declined", "entered-in-error"])
def test_a_dispense_that_never_happened_shows_no_therapy(status):
    assert (
        antiresorptive_therapies([record("MedicationDispense", status, start=ago(3), supply=28)], TODAY, POLICY) == []
    )


def test_a_dispense_without_days_supply_covers_the_default_supply():
    dispense = record("MedicationDispense", "completed", start=ago(60))
    (therapy,) = antiresorptive_therapies([dispense], TODAY, POLICY)
    assert therapy.end == ago(60) + timedelta(days=POLICY.dispense_default_supply_days + POLICY.dispense_grace_days)


@pytest.mark.parametrize("codes, interval", [(DENOSUMAB, 183), (ZOLEDRONIC, 365), (IBANDRONATE_IV, 92)])
@pytest.mark.parametrize("extra, used", [(0, True), (1, False)])
def test_an_administration_covers_the_drugs_dosing_interval(codes, interval, extra, used):
    given = record("MedicationAdministration", "completed", codes, start=ago(interval + extra))
    assert bool(in_use(antiresorptive_therapies([given], TODAY, POLICY), TODAY)) is used


def test_an_administration_not_done_shows_no_therapy():
    assert (
        antiresorptive_therapies(
            [record("MedicationAdministration", "not-done", DENOSUMAB, start=ago(10))], TODAY, POLICY
        )
        == []
    )


@pytest.mark.parametrize("status, end", [("active", TODAY), ("stopped", ago(400) + timedelta(days=365))])
def test_an_order_runs_to_today_while_active_and_a_year_when_stopped_without_an_end(status, end):
    (therapy,) = antiresorptive_therapies([record("MedicationRequest", status, start=ago(400))], TODAY, POLICY)
    assert therapy.end == end


def test_an_active_statement_without_a_date_still_shows_therapy_today():
    (therapy,) = antiresorptive_therapies([record("MedicationStatement", "active")], TODAY, POLICY)
    assert (therapy.start, therapy.end) == (TODAY, TODAY)


def test_in_use_keeps_the_latest_record_of_each_ingredient():
    older = record("MedicationDispense", "completed", start=ago(20), supply=28)
    newer = dataclasses.replace(older, id="m2", authored=ago(5))
    (therapy,) = in_use(antiresorptive_therapies([older, newer], TODAY, POLICY), TODAY)
    assert therapy.record.id == "m2"


def test_drugs_that_are_not_antiresorptives_show_no_antiresorptive_therapy():
    statin = record("MedicationRequest", "active", (Code(RXNORM, "617312"),), start=ago(30))
    assert antiresorptive_therapies([statin], TODAY, POLICY) == []


@pytest.mark.parametrize("days_ago, taken", [(30, True), (31, False)])
def test_any_drug_given_in_clinic_counts_as_taken_for_a_month(days_ago, taken):
    given = record("MedicationAdministration", "completed", (), start=ago(days_ago))
    assert taken_on(given, TODAY, TODAY, POLICY) is taken
