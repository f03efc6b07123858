"""Recognise hypophosphatasia on record and an HPP work-up already on file."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from hooks.extract import normalise_text
from hooks.labs import is_reported, reported_or_unknown
from hooks.medications import is_asfotase_alfa
from hooks.policy import Policy
from hooks.records import Code, ConditionRecord, LabResult, MedicationOrder, Unreadable
from hooks.therapy import shows_use
from hooks.valuesets import (
    HPP_CONDITION_ICD10CM_UNSPECIFIC,
    HPP_CONDITION_SNOMED,
    HPP_WORKUP,
    ICD10CM,
    SNOMED,
)

_DISCOUNTED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
_HPP_WORD = re.compile(r"\bhypophosphatasia\b")
# Text that names hypophosphatasia without recording it in this patient: a relative's, or one ruled out.
_NOT_THIS_PATIENTS = re.compile(
    r"family history|\bfh\b|rule[ds]? out|\br/o\b|screening|excluded|negative for|"
    r"\bno (?:evidence of )?hypophosphatasia|\bnot hypophosphatasia"
)


def hpp_on_record(
    conditions: Iterable[ConditionRecord],
    unreadable_conditions: Iterable[Unreadable],
    medication_requests: Iterable[MedicationOrder],
) -> tuple[str, ...]:
    """Return why hypophosphatasia is on record: a diagnosis or asfotase alfa; empty when it is not."""
    evidence: list[str] = []
    for condition in conditions:
        if condition.verification_status in _DISCOUNTED_VERIFICATION:
            continue
        code = _hpp_code(condition.codes, condition.names)
        if code:
            evidence.append(f"Hypophosphatasia diagnosis on record ({code})")
    for resource in unreadable_conditions:
        # The entry failed validation, but its code and verification status are legible: count it.
        if resource.status in _DISCOUNTED_VERIFICATION:
            continue
        code = _hpp_code(resource.codes, tuple(c.display for c in resource.codes if c.display))
        if code:
            evidence.append(f"Hypophosphatasia diagnosis on record ({code}; the entry is partly unreadable)")
    for order in medication_requests:
        if order.status != "draft" and shows_use(order) and is_asfotase_alfa(order):
            when = f", {order.authored.isoformat()}" if order.authored else ""
            evidence.append(f"Asfotase alfa (Strensiq) prescribed{when}")
    return tuple(dict.fromkeys(evidence))


def workup_on_file(results: Iterable[LabResult], unreadable: Iterable[Unreadable], since: date, policy: Policy) -> bool:
    """Return whether a PLP, urine phosphoethanolamine or ALPL gene result exists since `since`."""
    for result in results:
        # An undated result may lie in the window: "not worked up" is a claim, so it counts as on file.
        if result.loinc in HPP_WORKUP and is_reported(result, policy):
            if result.effective is None or result.effective >= since:
                return True
    # An unreadable work-up result still shows the work-up was done.
    return any(
        code.code in HPP_WORKUP
        and reported_or_unknown(resource, policy)
        and (resource.effective is None or resource.effective >= since)
        for resource in unreadable
        for code in resource.codes
    )


def _hpp_code(codes: Iterable[Code], names: Iterable[str]) -> str | None:
    """Return a readable label of the HPP code among `codes`, or of a locally coded diagnosis naming it."""
    codes = tuple(codes)
    texts = [normalise_text(n) for n in names] + [normalise_text(c.display) for c in codes if c.display]
    named = any(_HPP_WORD.search(text) and not _NOT_THIS_PATIENTS.search(text) for text in texts)
    for code in codes:
        if code.system == SNOMED and code.code in HPP_CONDITION_SNOMED:
            return f"SNOMED CT {code.code}"
        if code.system == ICD10CM and code.code in HPP_CONDITION_ICD10CM_UNSPECIFIC:
            # E83.39 also covers hypophosphataemic disorders: the record must name hypophosphatasia.
            if named:
                return f"ICD-10-CM {code.code}"
    # A diagnosis coded only in a local code system (or not coded) still counts when its text names it;
    # "pseudohypophosphatasia" and "hypophosphataemia" do not match.
    return "recorded as text" if named else None
