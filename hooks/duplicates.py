"""Flag an antiresorptive ordered while a different one is in use, or two different ones drafted together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hooks.findings import Finding, Indicator, Topic
from hooks.medications import antiresorptive_ingredients
from hooks.records import MedicationOrder


def check_duplicate_antiresorptives(
    orders: Sequence[MedicationOrder], in_use: Mapping[str, str], patient_id: str
) -> list[Finding]:
    """Return a warning per order that adds an antiresorptive to a different one in use or drafted with it."""
    # `in_use` maps each antiresorptive ingredient the patient takes to where it was seen, e.g.
    # {"denosumab": "denosumab (administered 2026-09-01)"}. A pair of drafts is reported once, on the later one.
    findings = []
    earlier: list[tuple[str, MedicationOrder]] = []
    for order in orders:
        ingredients = antiresorptive_ingredients(order)
        if not ingredients:
            continue
        criteria = [
            f"Also in this order: {drug}"
            for drug in ingredients[1:]
            if all(different(drug, first) for first in ingredients[:1])
        ]
        criteria += [f"Already in use: {seen}" for drug, seen in in_use.items() if differs(drug, ingredients)]
        criteria += [
            f"Also being ordered: {drug}" + (f", order {other.id}" if other.id else "")
            for drug, other in earlier
            if differs(drug, ingredients)
        ]
        earlier += [(drug, order) for drug in ingredients]
        if criteria:
            others = tuple(drug for drug in in_use if differs(drug, ingredients)) + tuple(
                drug for drug, _ in earlier if differs(drug, ingredients)
            )
            findings.append(
                Finding(
                    Topic.DUPLICATE_ANTIRESORPTIVE,
                    Indicator.WARNING,
                    patient_id,
                    drugs=tuple(dict.fromkeys((*ingredients, *others))),
                    order=order,
                    criteria=tuple(dict.fromkeys(criteria)),
                )
            )
    return findings


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
