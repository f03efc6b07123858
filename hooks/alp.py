"""Judge each ALP result against the limit for the patient's age, and classify how persistently low ALP is."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from hooks.findings import AlpAssessment, JudgedAlp, Pattern, UninterpretableAlp
from hooks.labs import counts, is_reported, number_text, reported_or_unknown, specimen_day, specimen_time
from hooks.policy import CHILD_LOWER_LIMITS, Policy
from hooks.records import EncounterRecord, LabResult, PatientFacts, ReferenceRange, Unreadable
from hooks.units import alp_factor, to_u_per_l

_GENDERS = frozenset({"male", "female"})
_STRENGTH = {Pattern.NONE: 0, Pattern.SINGLE_LOW: 1, Pattern.RECURRENT: 2, Pattern.PERSISTENT: 3}


def assess_alp(
    results: Iterable[LabResult],
    unreadable: Iterable[Unreadable],
    patient: PatientFacts,
    today: date,
    policy: Policy,
    exposures: Sequence[tuple[date, date]] = (),
    encounters: Sequence[EncounterRecord] = (),
) -> AlpAssessment:
    """Return the ALP results of the look-back window, each judged, and the pattern they form."""
    cutoff = years_before(today, policy.lookback_years)
    judged: dict[tuple[date, Decimal], JudgedAlp] = {}
    left_out: list[UninterpretableAlp] = []
    results = list(results)
    for result in results:
        if not is_reported(result, policy):
            continue  # not a verified value: never evidence either way
        if result.effective is not None and result.effective < cutoff:
            continue
        verdict = judge(result, patient, policy)
        if isinstance(verdict, UninterpretableAlp):
            left_out.append(verdict)  # not used, but named on the card
        else:
            on_therapy = any(start <= verdict.effective <= end for start, end in exposures)
            verdict = dataclasses.replace(verdict, on_antiresorptive=on_therapy)
            # The same value on the same day is one result repeated by a panel, counted once.
            judged.setdefault((verdict.effective, verdict.value_u_per_l), verdict)
    unreadable_in_window = [
        UninterpretableAlp(r.effective, "the result could not be read")
        for r in unreadable
        if reported_or_unknown(r, policy) and (r.effective is None or r.effective >= cutoff)
    ]
    ordered = tuple(sorted(judged.values(), key=_chronological))
    pattern, months, low_months = classify(ordered, policy)
    # A resource that could not be read may have held a normal value: the pattern must hold even if it did.
    dated = tuple(_as_normal(u) for u in unreadable_in_window if u.effective)
    if dated:
        cautious = classify(ordered + dated, policy)[0]
        if _STRENGTH[cautious] < _STRENGTH[pattern]:
            pattern = cautious
    left_out += unreadable_in_window
    left_out.sort(key=lambda u: (u.effective is None, u.effective or date.min))
    later_normal = clearly_normal_after_lows(ordered)
    if later_normal is not None and pattern is Pattern.PERSISTENT:
        pattern = Pattern.RECURRENT  # a clearly normal value since the last low: not persistent (Tornero 2020)
    lows = [r for r in ordered if r.low]
    return AlpAssessment(
        pattern,
        ordered,
        tuple(left_out),
        months,
        low_months,
        pre_treatment=latest_before_treatment(results, patient, policy, exposures),
        later_normal=later_normal,
        acute_stay=confining_acute_stay(lows, encounters, today, policy),
    )


def clearly_normal_after_lows(results: Sequence[JudgedAlp]) -> JudgedAlp | None:
    """Return the first clearly normal result drawn after the last low one, if any."""
    lows = [r for r in results if r.low]
    if not lows:
        return None
    return next((r for r in results if r.clearly_normal and _after(r, lows[-1])), None)


def latest_before_treatment(
    results: Iterable[LabResult], patient: PatientFacts, policy: Policy, exposures: Sequence[tuple[date, date]]
) -> JudgedAlp | None:
    """Return the latest judged ALP drawn before the first antiresorptive therapy, at any date."""
    if not exposures:
        return None
    first = min(start for start, _ in exposures)
    judged = [
        verdict
        for result in results
        if counts(result, policy)
        and specimen_day(result) < first
        and isinstance(verdict := judge(result, patient, policy), JudgedAlp)
        and verdict.low is not None
    ]
    return max(judged, key=_chronological, default=None)


def confining_acute_stay(
    lows: Sequence[JudgedAlp], encounters: Sequence[EncounterRecord], today: date, policy: Policy
) -> EncounterRecord | None:
    """Return the one short inpatient or emergency stay that every low result was drawn in, if there is one."""
    if not lows:
        return None
    for encounter in encounters:
        if encounter.class_code not in policy.acute_encounter_classes or encounter.start is None:
            continue
        if encounter.status in ("cancelled", "entered-in-error", "planned"):
            continue
        # A stay without an end lasts until today only while it is in progress; a finished one without an end is
        # taken as one day, so it never absorbs later results.
        ongoing = encounter.status in ("in-progress", "arrived", "triaged", "onleave")
        end = encounter.end or (today if ongoing else encounter.start)
        if (end - encounter.start).days > policy.acute_stay_max_days:
            continue  # a long stay (rehabilitation, long-term care) is not the acute illness that lowers ALP
        if all(encounter.start <= r.effective <= end for r in lows):
            return encounter
    return None


def _after(result: JudgedAlp, low: JudgedAlp) -> bool:
    """Tell whether a result was surely drawn after a low one: a later day, or a later time the same day."""
    if result.effective != low.effective:
        return result.effective > low.effective
    return result.instant is not None and low.instant is not None and result.instant > low.instant


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
        return JudgedAlp(
            when,
            value,
            quantity.comparator,
            None,
            basis,
            None,
            result.loinc,
            instant=result.instant,
            encounter=result.encounter,
        )
    low = value < limit if strict else value <= limit
    if low and quantity.comparator in (">", ">="):
        return UninterpretableAlp(when, f"reported as '{quantity.comparator}' a value under the limit")
    adult = patient.birth_date is None or completed_years(patient.birth_date, when) >= policy.adult_age_years
    clearly = policy.clearly_normal_alp_u_per_l if adult else limit * policy.child_clearly_normal_factor
    clearly_normal = not low and quantity.comparator not in ("<", "<=") and value > clearly
    return JudgedAlp(
        when,
        value,
        quantity.comparator,
        limit,
        basis,
        low,
        result.loinc,
        instant=result.instant,
        encounter=result.encounter,
        clearly_normal=clearly_normal,
    )


def lower_limit(result: LabResult, patient: PatientFacts, policy: Policy) -> tuple[Decimal | None, bool, str]:
    """Return the limit a value must fall below (strict) or reach (not strict), and where it comes from."""
    assert result.effective is not None
    born = patient.birth_date
    lab_low, age_specific = _lab_lower_limit(result.reference_ranges, born, result.effective, patient.sex)
    if born is None or completed_years(born, result.effective) >= policy.adult_age_years:
        if lab_low is not None:
            cap = policy.adult_lab_limit_cap_u_per_l
            if lab_low > cap:
                return cap, True, f"lab range low {number_text(lab_low)}, capped at {number_text(cap)}"
            return lab_low, True, "lab range low"
        return (
            policy.adult_low_limit_u_per_l,
            False,
            f"adult default, low if ≤ {number_text(policy.adult_low_limit_u_per_l)}",
        )
    # A child's result against a range that is not age-specific is an adult range on a child: the age- and
    # sex-specific limit wins.
    if lab_low is not None and age_specific:
        return lab_low, True, "lab range low for age"
    age_days = (result.effective - born).days
    if age_days < 0:
        return None, True, "dated before birth: not judged"
    if age_days < policy.neonate_unjudged_days:
        return None, True, f"under {policy.neonate_unjudged_days} days old: not judged without a lab range"
    years = completed_years(born, result.effective)
    band = next((b for b in CHILD_LOWER_LIMITS if b.from_years <= years < b.to_years), None)
    if band is None:
        return None, True, "no child limit for this age: not judged"
    if patient.sex == "male":
        return band.male, True, f"child {band.label}, male"
    if patient.sex == "female":
        return band.female, True, f"child {band.label}, female"
    # Sex unknown: the lower of the two limits never calls a normal value low.
    return min(band.male, band.female), True, f"child {band.label}, sex unknown"


def classify(results: Sequence[JudgedAlp], policy: Policy) -> tuple[Pattern, int, int]:
    """Return the pattern of judged results, the number of months with results and of low months."""
    judged = sorted((r for r in results if r.low is not None), key=_chronological)
    lows = [r for r in judged if r.low]
    by_month: dict[tuple[int, int], list[bool]] = defaultdict(list)
    for r in judged:
        by_month[(r.effective.year, r.effective.month)].append(bool(r.low))
    low_months = sum(1 for verdicts in by_month.values() if 2 * sum(verdicts) > len(verdicts))
    months = len(by_month)
    if (
        len(lows) >= policy.min_low_results
        and (lows[-1].effective - lows[0].effective).days >= policy.min_days_between_lows
    ):
        if _mostly_low(judged, months, low_months, policy):
            return Pattern.PERSISTENT, months, low_months
        return Pattern.RECURRENT, months, low_months
    if lows and not any(not r.low and _not_before(r, lows[-1]) for r in judged):
        return Pattern.SINGLE_LOW, months, low_months
    return Pattern.NONE, months, low_months


def _mostly_low(judged: Sequence[JudgedAlp], months: int, low_months: int, policy: Policy) -> bool:
    """Return whether the low months carry the window: a majority (Ng 2023), or all of them (Maman 2016)."""
    if policy.all_months_low and low_months < months:
        return False
    if policy.max_any_alp_u_per_l is not None and any(r.value_u_per_l > policy.max_any_alp_u_per_l for r in judged):
        return False  # Tornero 2020: no value above 45 U/L
    return low_months > policy.low_month_fraction * months


def _not_before(normal: JudgedAlp, low: JudgedAlp) -> bool:
    """Return whether a normal result came on or after a low one; same day counts unless times show otherwise."""
    if normal.effective != low.effective:
        return normal.effective > low.effective
    if normal.instant is not None and low.instant is not None:
        return normal.instant >= low.instant
    return True  # same day, order unknown: a repeat that may have cancelled it


def _chronological(result: JudgedAlp) -> tuple[date, float, Decimal]:
    """Return a sort key: the specimen time, then the value, so the latest of equal times is the highest."""
    return (*specimen_time(result.effective, result.instant), result.value_u_per_l)


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


def _lab_lower_limit(
    ranges: Sequence[ReferenceRange], born: date | None, on: date, sex: str | None
) -> tuple[Decimal | None, bool]:
    """Return the lab's lower limit in U/L from the range that applies to the patient, and if it is age-specific."""
    usable = [r for r in ranges if r.low is not None and alp_factor(r.low.unit) is not None]
    specific = [r for r in usable if _is_specific(r) and _applies(r, born, on, sex)]
    generic = [r for r in usable if not _is_specific(r)]
    chosen = next(iter(specific or generic), None)
    if chosen is None or chosen.low is None:
        return None, False
    age_specific = chosen.age_low is not None or chosen.age_high is not None
    return to_u_per_l(chosen.low.value, chosen.low.unit), age_specific


def _is_specific(r: ReferenceRange) -> bool:
    """Return whether a range is restricted to an age band or a sex."""
    return r.age_low is not None or r.age_high is not None or bool(_GENDERS & set(r.applies_to))


def _applies(r: ReferenceRange, born: date | None, on: date, sex: str | None) -> bool:
    """Return whether a restricted range applies to a patient of this age and sex."""
    genders = _GENDERS & set(r.applies_to)
    if genders and sex not in genders:
        return False
    if r.age_low is None and r.age_high is None:
        return True
    if born is None:
        return False
    above_low = r.age_low is None or completed(r.age_low.unit, born, on) >= r.age_low.value
    below_high = r.age_high is None or completed(r.age_high.unit, born, on) <= r.age_high.value
    return above_low and below_high


def completed(unit: str, born: date, on: date) -> int:
    """Return the age in completed years, months, weeks or days, as a lab writes its age bands."""
    if unit == "a":
        return completed_years(born, on)
    if unit == "mo":
        return (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    days = (on - born).days
    return days // 7 if unit == "wk" else days


def completed_years(born: date, on: date) -> int:
    """Return the age in completed years on a given day (birthday to birthday)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
