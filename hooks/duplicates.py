"""Flag two different antiresorptives at once: ordered while another is in use, drafted together, or both in use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hooks.findings import Check, Criterion, Finding, Indicator, Topic
from hooks.medications import antiresorptive_ingredients
from hooks.records import MedicationOrder
from hooks.therapy import Therapy


def check_duplicate_antiresorptives(
    orders: Sequence[MedicationOrder], in_use: Iterable[Therapy], patient_id: str
) -> list[Finding]:
    """Return a warning per order that adds an antiresorptive to a different one in use or drafted with it."""
    # A pair of drafts is reported once, on the later one.
    seen = latest_per_drug(in_use)
    findings = []
    earlier: list[tuple[str, MedicationOrder]] = []
    for order in orders:
        ingredients = antiresorptive_ingredients(order)
        if not ingredients:
            continue
        checks = [
            Criterion(Check.SAME_ORDER, subject=drug)
            for drug in ingredients[1:]
            if all(different(drug, first) for first in ingredients[:1])
        ]
        checks += [in_use_check(Check.ALREADY_IN_USE, t) for t in seen if differs(t.ingredient, ingredients)]
        checks += [
            Criterion(Check.ALSO_ORDERED, subject=drug, reference=other.id)
            for drug, other in earlier
            if differs(drug, ingredients)
        ]
        earlier += [(drug, order) for drug in ingredients]
        if checks:
            others = tuple(t.ingredient for t in seen if differs(t.ingredient, ingredients)) + tuple(
                drug for drug, _ in earlier if differs(drug, ingredients)
            )
            findings.append(
                Finding(
                    Topic.DUPLICATE_ANTIRESORPTIVE,
                    Indicator.WARNING,
                    patient_id,
                    drugs=tuple(dict.fromkeys((*ingredients, *others))),
                    order=order,
                    checks=tuple(dict.fromkeys(checks)),
                )
            )
    return findings


def check_duplicate_therapy(in_use: Iterable[Therapy], patient_id: str) -> list[Finding]:
    """Return a warning when two different antiresorptives are in use at once."""
    seen = latest_per_drug(in_use)
    if len(seen) < 2:
        return []
    return [
        Finding(
            Topic.DUPLICATE_ANTIRESORPTIVE,
            Indicator.WARNING,
            patient_id,
            drugs=tuple(t.ingredient for t in seen),
            checks=tuple(in_use_check(Check.IN_USE, t) for t in seen),
        )
    ]


def latest_per_drug(therapies: Iterable[Therapy]) -> tuple[Therapy, ...]:
    """Return one therapy per ingredient, the last listed, in the order the ingredients first appear."""
    return tuple({t.ingredient: t for t in therapies}.values())


def in_use_check(what: Check, therapy: Therapy) -> Criterion:
    """Return the criterion that an antiresorptive is in use, with the record that shows it."""
    return Criterion(what, subject=therapy.ingredient, on=therapy.start, source=therapy.source)


NOT_BISPHOSPHONATES = frozenset({"denosumab", "romosozumab"})


def different(a: str, b: str) -> bool:
    """Return whether two ingredients are different drugs; an unnamed bisphosphonate may be any bisphosphonate."""
    if a == b:
        return False
    if "bisphosphonate" in (a, b):
        return bool({a, b} & NOT_BISPHOSPHONATES)
    return True


def differs(drug: str, ingredients: Sequence[str]) -> bool:
    """Return whether `drug` differs from every ingredient of an order."""
    return all(different(drug, own) for own in ingredients)
