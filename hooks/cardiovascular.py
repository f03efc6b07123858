"""Check a romosozumab order against a myocardial infarction or stroke in the past year (Evenity boxed warning)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from hooks.findings import Caveat, Check, Criterion, Finding, Indicator, Note, Topic
from hooks.medications import antiresorptive_ingredients
from hooks.policy import Policy
from hooks.records import Code, ConditionRecord, MedicationOrder
from hooks.valuesets import (
    ICD10CM,
    MYOCARDIAL_INFARCTION_ICD10CM_PREFIXES,
    MYOCARDIAL_INFARCTION_SNOMED,
    SNOMED,
    STROKE_ICD10CM_PREFIXES,
    STROKE_SNOMED,
)

ROMOSOZUMAB = "romosozumab"
_NOT_TRUE = frozenset({"refuted", "entered-in-error"})
_CURRENT = frozenset({"active", "recurrence", "relapse"})


def event_kind(code: Code) -> str | None:
    """Return "myocardial infarction" or "stroke" when a coding records one, else None."""
    if code.system == SNOMED:
        if code.code in MYOCARDIAL_INFARCTION_SNOMED:
            return "myocardial infarction"
        if code.code in STROKE_SNOMED:
            return "stroke"
    if code.system == ICD10CM:
        if code.code.upper().startswith(MYOCARDIAL_INFARCTION_ICD10CM_PREFIXES):
            return "myocardial infarction"
        if code.code.upper().startswith(STROKE_ICD10CM_PREFIXES):
            return "stroke"
    return None


def recent_events(conditions: Sequence[ConditionRecord], today: date, policy: Policy) -> tuple[Criterion, ...]:
    """Return each myocardial infarction or stroke dated within the window, or current and undated."""
    window = policy.romosozumab_cv_event_window_days
    found = []
    for condition in conditions:
        if condition.verification_status in _NOT_TRUE:
            continue
        coded = next(((code, kind) for code in condition.codes if (kind := event_kind(code))), None)
        if coded is None:
            continue
        code, kind = coded
        name = condition.names[0] if condition.names else (code.display or kind)
        event = Criterion(Check.RECENT_EVENT, subject=kind, name=name, coded=code, days=window)
        day, dated_by = (condition.onset, "onset") if condition.onset else (condition.recorded, "recorded")
        if day is None:
            if condition.clinical_status is None or condition.clinical_status in _CURRENT:
                found.append(event)
            continue
        days = (today - day).days
        if days <= window:  # a date ahead of today counts as recent
            found.append(dataclasses.replace(event, value=Decimal(max(days, 0)), on=day, source=dated_by))
    return tuple(dict.fromkeys(found))


def check_recent_cardiovascular_event(
    orders: Sequence[MedicationOrder],
    conditions: Sequence[ConditionRecord],
    patient_id: str,
    today: date,
    policy: Policy,
) -> list[Finding]:
    """Return a warning for each romosozumab order when an MI or stroke is on record within the past year."""
    targets = [order for order in orders if ROMOSOZUMAB in antiresorptive_ingredients(order)]
    if not targets:
        return []
    events = recent_events(conditions, today, policy)
    if not events:
        return []
    undated = any(event.on is None for event in events)
    return [
        Finding(
            Topic.ROMOSOZUMAB_CARDIOVASCULAR,
            Indicator.WARNING,
            patient_id,
            drugs=(ROMOSOZUMAB,),
            order=order,
            checks=events,
            caveats=(Note(Caveat.EVENT_UNDATED),) if undated else (),
        )
        for order in targets
    ]
