"""Recognise an elevated ALP substrate: pyridoxal 5'-phosphate or urine phosphoethanolamine above normal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal

from hooks.alp import years_before
from hooks.findings import Measurement
from hooks.labs import counts, most_recent, number_text, specimen_day
from hooks.policy import Policy
from hooks.records import LabResult, Quantity
from hooks.units import to_nmol_per_l_plp, unit_key
from hooks.valuesets import ALPL_GENE_TESTS, PYRIDOXAL_PHOSPHATE, URINE_PHOSPHOETHANOLAMINE

_PLP_LABEL = "Pyridoxal 5'-phosphate"
_PEA_LABEL = "Urine phosphoethanolamine"
ALPL_LABEL = "ALPL gene test"
# LOINC answers and words that report no variant found (LA6577-6 Negative, LA9634-2 Absent).
_NEGATIVE_ANSWERS = frozenset({"LA6577-6", "LA9634-2"})
_NEGATIVE_INTERPRETATIONS = frozenset({"NEG", "N", "ND"})
# Free text is read as negative only when it reports no variant and mentions none: a named variant (c./p.
# nomenclature), a pathogenic or likely pathogenic call, or one of uncertain significance all leave it unknown.
_NOT_CLEARLY_NEGATIVE = re.compile(
    r"uncertain|\bvus\b|likely pathogenic|\bc\.[\d*-]|\bp\.[a-z(]|"
    r"(?<!no )(?<!not )(?<!without )\bpathogenic variant"
)
_NEGATIVE_WORDS = (
    "negative",
    "no pathogenic",
    "not detected",
    "no variant",
    "no mutation",
    "no clinically significant",
)


def latest_workup_results(
    results: Iterable[LabResult], today: date, policy: Policy
) -> dict[str, tuple[LabResult, ...]]:
    """Return, per work-up test ("plp", "pea", "alpl"), its equally newest results that count in the window."""
    since = years_before(today, policy.lookback_years)
    groups: dict[str, list[LabResult]] = {}
    for result in results:
        group = _group(result.loinc)
        if group is not None and counts(result, policy, since):
            groups.setdefault(group, []).append(result)
    # Only the latest results of each test speak: a normal repeat overrides an older high value.
    return {group: most_recent(found) for group, found in groups.items()}


def elevated_substrates(results: Iterable[LabResult], today: date, policy: Policy) -> tuple[Measurement, ...]:
    """Return the substrates whose newest results in the window are all above normal, newest first."""
    latest = latest_workup_results(results, today, policy)
    elevated = [
        m
        for m in (
            _all_of(latest.get("plp", ()), lambda r: _elevated_plp(r, policy), lowest=True),
            _all_of(latest.get("pea", ()), _elevated_pea, lowest=True),
        )
        if m is not None
    ]
    return tuple(sorted(elevated, key=lambda m: m.effective, reverse=True))


def normal_workup(results: Iterable[LabResult], today: date, policy: Policy) -> tuple[Measurement, ...]:
    """Return the work-up whose newest results all speak against HPP: a normal PLP or PEA, a negative ALPL test."""
    latest = latest_workup_results(results, today, policy)
    found = (
        _all_of(latest.get("plp", ()), lambda r: _normal_plp(r, policy), lowest=False),
        _all_of(latest.get("pea", ()), _normal_pea, lowest=False),
        _all_of(latest.get("alpl", ()), _negative_alpl, lowest=False),
    )
    return tuple(m for m in found if m is not None)


def workup_complete(normal: Iterable[Measurement]) -> bool:
    """Tell whether the work-up has ruled HPP out as far as labs can: PLP and PEA normal, or ALPL negative."""
    groups = {_group_of(m.loinc) for m in normal}
    return {"plp", "pea"} <= groups or "alpl" in groups


def tests_done(results: Iterable[LabResult], today: date, policy: Policy) -> frozenset[str]:
    """Return which work-up tests ("plp", "pea", "alpl") have a trusted result in the window."""
    return frozenset(latest_workup_results(results, today, policy))


def is_negative_genetic_result(result: LabResult) -> bool:
    """Tell whether a genetic test result reports no variant, from its coded answer, interpretation or text."""
    if any(code.code in _NEGATIVE_ANSWERS for code in result.coded_value):
        return True
    if any(code.upper() in _NEGATIVE_INTERPRETATIONS for code in result.interpretation):
        return True
    text = (result.text_value or "").casefold()
    return any(word in text for word in _NEGATIVE_WORDS) and not _NOT_CLEARLY_NEGATIVE.search(text)


def _group_of(loinc: str) -> str:
    """Name the work-up test a LOINC code belongs to."""
    return _group(loinc) or "alpl"


def _group(loinc: str) -> str | None:
    """Name the work-up test a LOINC code belongs to, or None when it is not one."""
    if loinc in PYRIDOXAL_PHOSPHATE:
        return "plp"
    if loinc in URINE_PHOSPHOETHANOLAMINE:
        return "pea"
    return "alpl" if loinc in ALPL_GENE_TESTS else None


def _all_of(
    newest: Sequence[LabResult], verdict: Callable[[LabResult], Measurement | None], *, lowest: bool
) -> Measurement | None:
    """Return the verdict only when every equally newest result gives it: the one that claims the least.

    Results drawn at the same time that disagree (a high and a normal PLP, say) settle nothing either way.
    """
    measured = [verdict(result) for result in newest]
    if not measured or any(m is None for m in measured):
        return None
    shown = [m for m in measured if m is not None]
    return min(shown, key=lambda m: m.value) if lowest else max(shown, key=lambda m: m.value)


def _negative_alpl(result: LabResult) -> Measurement | None:
    """Return a negative ALPL gene test as work-up evidence against HPP."""
    if not is_negative_genetic_result(result):
        return None
    return Measurement(
        ALPL_LABEL, result.loinc, specimen_day(result), Decimal(0), "", None, "no pathogenic variant reported"
    )


def _normal_plp(result: LabResult, policy: Policy) -> Measurement | None:
    """Return a PLP result at or below its limit (lab range high, else the default for its unit)."""
    assert result.effective is not None
    quantity = result.quantity
    if quantity is None or quantity.comparator in (">", ">=") or _elevated_plp(result, policy) is not None:
        return None
    if to_nmol_per_l_plp(quantity.value, quantity.unit) is None:
        return None  # an unknown unit says nothing either way
    return Measurement(
        _PLP_LABEL, result.loinc, result.effective, quantity.value, quantity.unit or "", quantity.comparator, "normal"
    )


def _normal_pea(result: LabResult) -> Measurement | None:
    """Return a phosphoethanolamine result at or below its own range high, in the same unit."""
    assert result.effective is not None
    high = _range_high(result)
    quantity = result.quantity
    if quantity is None or high is None or quantity.comparator in (">", ">="):
        return None
    if unit_key(high.unit or "") != unit_key(quantity.unit or "") or quantity.value > high.value:
        return None
    return Measurement(
        _PEA_LABEL, result.loinc, result.effective, quantity.value, quantity.unit or "", quantity.comparator, "normal"
    )


def _elevated_plp(result: LabResult, policy: Policy) -> Measurement | None:
    """Return a PLP result above the lab's range high, else above the default for its unit (nmol/L or ug/L)."""
    assert result.effective is not None
    if result.quantity is None:
        return None
    value = to_nmol_per_l_plp(result.quantity.value, result.quantity.unit)
    if value is None or result.quantity.comparator in ("<", "<="):
        return None  # an unknown unit, or an upper bound, never shows an elevation
    high = _range_high(result)
    high_nmol = to_nmol_per_l_plp(high.value, high.unit) if high is not None else None
    if high_nmol is not None:
        limit, basis = high_nmol, "lab range high"
    elif result.loinc == "30552-4":
        default = to_nmol_per_l_plp(policy.plp_high_ug_per_l, "ug/L")
        assert default is not None
        limit, basis = default, f"{number_text(policy.plp_high_ug_per_l)} ug/L default"
    else:
        limit, basis = policy.plp_high_nmol_per_l, f"{number_text(policy.plp_high_nmol_per_l)} nmol/L default"
    if value <= limit:
        return None
    return Measurement(
        _PLP_LABEL,
        result.loinc,
        result.effective,
        result.quantity.value,
        result.quantity.unit or "",
        result.quantity.comparator,
        f"> {number_text(limit)} nmol/L ({basis})",
    )


def _elevated_pea(result: LabResult) -> Measurement | None:
    """Return a phosphoethanolamine result above its own range high (there is no portable default)."""
    assert result.effective is not None
    high = _range_high(result)
    if result.quantity is None or high is None or result.quantity.comparator in ("<", "<="):
        return None
    if unit_key(high.unit or "") != unit_key(result.quantity.unit or ""):
        return None  # creatinine-ratio units vary by lab; compare only like with like
    if result.quantity.value <= high.value:
        return None
    return Measurement(
        _PEA_LABEL,
        result.loinc,
        result.effective,
        result.quantity.value,
        result.quantity.unit or "",
        result.quantity.comparator,
        f"> {number_text(high.value)} {high.unit} (lab range high)",
    )


def _range_high(result: LabResult) -> Quantity | None:
    """Return the high of the result's first reference range that has one."""
    return next((r.high for r in result.reference_ranges if r.high is not None), None)
