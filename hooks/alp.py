"""Judge each ALP result against the limit for the patient's age, and classify how persistently low ALP is."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Iterable, Sequence

from hooks.findings import AlpAssessment, JudgedAlp, Pattern, UninterpretableAlp
from hooks.policy import CHILD_LOWER_LIMITS, Policy
from hooks.records import LabResult, PatientFacts, ReferenceRange, Unreadable
from hooks.units import alp_factor, to_u_per_l

_GENDERS = frozenset({"male", "female"})
_STRENGTH = {Pattern.NONE: 0, Pattern.SINGLE_LOW: 1, Pattern.RECURRENT: 2, Pattern.PERSISTENT: 3}


def assess_alp(
    results: Iterable[LabResult],
    unreadable: Iterable[Unreadable],
    patient: PatientFacts,
    today: date,
    policy: Policy,
) -> AlpAssessment:
    """Return the ALP results of the look-back window, each judged, and the pattern they form."""
    cutoff = years_before(today, policy.lookback_years)
    judged: dict[tuple[date, Decimal], JudgedAlp] = {}
    left_out: list[UninterpretableAlp] = []
    for result in results:
        if result.status not in policy.trusted_statuses or result.has_data_absent_reason:
            continue  # not a verified value: never evidence either way
        if result.effective is not None and result.effective < cutoff:
            continue
        verdict = judge(result, patient, policy)
        if isinstance(verdict, UninterpretableAlp):
            left_out.append(verdict)
        else:
            # The same value on the same day is one result repeated by a panel, counted once.
            judged.setdefault((verdict.effective, verdict.value_u_per_l), verdict)
    for resource in unreadable:
        if resource.effective is None or resource.effective >= cutoff:
            left_out.append(UninterpretableAlp(resource.effective, "the result could not be read"))
    ordered = tuple(sorted(judged.values(), key=lambda r: r.effective))
    pattern, months, low_months = classify(ordered, policy)
    # An uninterpretable result may have been normal: the pattern must hold even if it was.
    if left_out:
        cautious = classify(ordered + tuple(_as_normal(u) for u in left_out if u.effective), policy)[0]
        if _STRENGTH[cautious] < _STRENGTH[pattern]:
            pattern = cautious
    left_out.sort(key=lambda u: (u.effective is None, u.effective or date.min))
    return AlpAssessment(pattern, ordered, tuple(left_out), months, low_months)


def judge(result: LabResult, patient: PatientFacts, policy: Policy) -> JudgedAlp | UninterpretableAlp:
    """Return one result in U/L judged low or normal, or why it cannot be interpreted."""
    when = result.effective
    if when is None:
        return UninterpretableAlp(None, "no specimen date")
    quantity = result.quantity
    if quantity is None:
        return UninterpretableAlp(when, "no numeric value")
    value = to_u_per_l(quantity.value, quantity.unit)
    if value is None:
        unit = f"unit '{quantity.unit}'" if quantity.unit else "no unit"
        return UninterpretableAlp(when, f"{unit} cannot be converted to U/L")
    if not Decimal(0) < value < policy.plausible_max_u_per_l:
        return UninterpretableAlp(when, "value outside the plausible range")
    limit, strict, basis = lower_limit(result, patient, policy)
    if limit is None:
        return JudgedAlp(when, value, quantity.comparator, None, basis, None, result.loinc)
    low = value < limit if strict else value <= limit
    if low and quantity.comparator in (">", ">="):
        return UninterpretableAlp(when, f"reported as '{quantity.comparator}' a value under the limit")
    return JudgedAlp(when, value, quantity.comparator, limit, basis, low, result.loinc)


def lower_limit(result: LabResult, patient: PatientFacts, policy: Policy) -> tuple[Decimal | None, bool, str]:
    """Return the limit a value must fall below (strict) or reach (not strict), and where it comes from."""
    assert result.effective is not None
    age_days = (result.effective - patient.birth_date).days if patient.birth_date else None
    age_years = _whole_years(patient.birth_date, result.effective) if patient.birth_date else None
    lab_low = _lab_lower_limit(result.reference_ranges, age_years, patient.sex)
    if age_years is None or age_years >= policy.adult_age_years:
        if lab_low is not None:
            cap = policy.adult_lab_limit_cap_u_per_l
            if lab_low > cap:
                return cap, True, f"lab range low {_fmt(lab_low)}, capped at {_fmt(cap)}"
            return lab_low, True, "lab range low"
        return policy.adult_low_limit_u_per_l, False, f"adult default, low if ≤ {_fmt(policy.adult_low_limit_u_per_l)}"
    if lab_low is not None:
        return lab_low, True, "lab range low"
    assert age_days is not None
    if age_days < policy.neonate_unjudged_days:
        return None, True, f"under {policy.neonate_unjudged_days} days old: not judged without a lab range"
    band = next((b for b in CHILD_LOWER_LIMITS if b.from_days <= age_days < b.to_days), None)
    if band is None:
        return None, True, "age before birth: not judged"
    if patient.sex == "male":
        return band.male, True, f"child {band.label}, male"
    if patient.sex == "female":
        return band.female, True, f"child {band.label}, female"
    # Sex unknown: the lower of the two limits never calls a normal value low.
    return min(band.male, band.female), True, f"child {band.label}, sex unknown"


def classify(results: Sequence[JudgedAlp], policy: Policy) -> tuple[Pattern, int, int]:
    """Return the pattern of judged results, the number of months with results and of low months."""
    judged = sorted((r for r in results if r.low is not None), key=lambda r: r.effective)
    lows = [r.effective for r in judged if r.low]
    by_month: dict[tuple[int, int], list[bool]] = defaultdict(list)
    for r in judged:
        by_month[(r.effective.year, r.effective.month)].append(bool(r.low))
    low_months = sum(1 for verdicts in by_month.values() if 2 * sum(verdicts) > len(verdicts))
    months = len(by_month)
    if len(lows) >= policy.min_low_results and (lows[-1] - lows[0]).days >= policy.min_days_between_lows:
        if low_months > policy.low_month_fraction * months:
            return Pattern.PERSISTENT, months, low_months
        return Pattern.RECURRENT, months, low_months
    # A normal result on or after the day of the latest low cancels it: repeats are often same-day.
    if lows and not any(not r.low and r.effective >= lows[-1] for r in judged):
        return Pattern.SINGLE_LOW, months, low_months
    return Pattern.NONE, months, low_months


def years_before(day: date, years: int) -> date:
    """Return the same calendar day `years` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _as_normal(left_out: UninterpretableAlp) -> JudgedAlp:
    """Return a stand-in normal result on the day of an uninterpretable one."""
    assert left_out.effective is not None
    return JudgedAlp(left_out.effective, Decimal(0), None, None, "uninterpretable", False, "")


def _lab_lower_limit(ranges: Sequence[ReferenceRange], age_years: int | None, sex: str | None) -> Decimal | None:
    """Return the lab's lower limit in U/L from the range that applies to this patient, if any."""
    usable = [r for r in ranges if r.low is not None and alp_factor(r.low.unit) is not None]
    specific = [r for r in usable if _is_specific(r) and _applies(r, age_years, sex)]
    generic = [r for r in usable if not _is_specific(r)]
    chosen = (specific or generic or [None])[0]
    if chosen is None or chosen.low is None:
        return None
    return to_u_per_l(chosen.low.value, chosen.low.unit)


def _is_specific(r: ReferenceRange) -> bool:
    """Return whether a range is restricted to an age band or a sex."""
    return r.age_low_years is not None or r.age_high_years is not None or bool(_GENDERS & set(r.applies_to))


def _applies(r: ReferenceRange, age_years: int | None, sex: str | None) -> bool:
    """Return whether a restricted range applies to a patient of this age and sex."""
    genders = _GENDERS & set(r.applies_to)
    if genders and sex not in genders:
        return False
    if r.age_low_years is None and r.age_high_years is None:
        return True
    if age_years is None:
        return False
    above_low = r.age_low_years is None or age_years >= r.age_low_years
    below_high = r.age_high_years is None or age_years <= r.age_high_years
    return above_low and below_high


def _whole_years(born: date, on: date) -> int:
    """Return the age in completed years on a given day."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _fmt(value: Decimal) -> str:
    """Return a Decimal without trailing zeros."""
    return format(value.normalize(), "f")
