"""Recognise the Wilson disease pattern in acute liver failure (Korman 2008).

Sources: docs/evidence/wilson-alf.md#what-the-screen-rests-on and
docs/evidence/wilson-alf.md#the-acute-liver-failure-picture-the-gate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hooks.alp import completed_years
from hooks.findings import Caveat, Check, Criterion, Finding, Indicator, Measurement, Note, Topic
from hooks.labs import Reading, chronological, counts, number_text, read
from hooks.policy import Policy
from hooks.records import (
    Code,
    ConditionRecord,
    LabResult,
    PatientFacts,
    Quantity,
    Unreadable,
)
from hooks.units import is_inr_unit, to_mg_per_dl_bilirubin, to_u_per_l
from hooks.valuesets import (
    ALCOHOLIC_LIVER_DISEASE_ICD10CM,
    ALCOHOLIC_LIVER_DISEASE_SNOMED,
    ALCOHOLIC_LIVER_DISEASE_WORDS,
    ALP_TOTAL,
    ALT,
    AST,
    BILIRUBIN_TOTAL,
    CHRONIC_LIVER_DISEASE_ICD10CM,
    CHRONIC_LIVER_DISEASE_SNOMED,
    CHRONIC_LIVER_DISEASE_WORDS,
    ICD10CM,
    INR,
    WILSON_DISEASE_ICD10CM,
    WILSON_DISEASE_SNOMED,
    ValueSet,
)

# Proposed for children, where ALP/bilirubin < 4 is insensitive (Indian J Gastroenterol 2022; see
# docs/evidence/wilson-alf.md#age).
PAEDIATRIC_AST_ALT_CUTOFF = Decimal("1.85")

_DISCOUNTED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
# An inactive, remitted or resolved chronic liver disease does not explain the picture; any other status (active,
# recurrence, relapse, none, or one not in FHIR's list) does, as the brief's conservative reading asks.
_PAST_CLINICAL = frozenset({"inactive", "remission", "resolved"})
_KORMAN_RATIOS = frozenset({Check.ALP_BILIRUBIN_RATIO, Check.AST_ALT_RATIO})
_WILSON_DIAGNOSES = (WILSON_DISEASE_SNOMED, WILSON_DISEASE_ICD10CM)
# A bilirubin converted from µmol/L is kept to 0.01 mg/dL: finer than any lab reports it, short enough to show.
_BILIRUBIN_STEP = Decimal("0.01")
# The lab's local date of an INR drawn this morning can be a day ahead of the server's date.
_DATE_SKEW = timedelta(days=1)
_GATE_COMPARATORS = frozenset({None, ">", ">="})

Convert = Callable[[Decimal, str | None], Decimal | None]


@dataclass(frozen=True)
class LiverPanel:
    """ALP, total bilirubin, AST and ALT drawn close enough together to be read as one set."""

    alp: Reading  # U/L
    bilirubin: Reading  # mg/dL
    ast: Reading  # U/L
    alt: Reading  # U/L

    @property
    def readings(self) -> tuple[Reading, ...]:
        """Return the four readings of the set."""
        return (self.alp, self.bilirubin, self.ast, self.alt)

    @property
    def alp_bilirubin_ratio(self) -> Decimal:
        """Return ALP (U/L) divided by total bilirubin (mg/dL), Korman's direction."""
        return self.alp.value / self.bilirubin.value

    @property
    def ast_alt_ratio(self) -> Decimal:
        """Return AST divided by ALT."""
        return self.ast.value / self.alt.value


def check_wilson_pattern(
    labs: Sequence[LabResult],
    conditions: Sequence[ConditionRecord],
    unreadable_conditions: Sequence[Unreadable],
    patient: PatientFacts,
    today: date,
    policy: Policy,
) -> Finding | None:
    """Return the Wilson disease pattern in acute liver failure, or None when absent or Wilson is known."""
    if wilson_disease_on_record(conditions, unreadable_conditions):
        return None  # Wilson disease is already known: the screen has nothing to add
    inr = liver_failure_inr(labs, today, policy)
    # The panel must belong to the current episode: an old set plus a raised INR (e.g. warfarin) is not ALF.
    episode = today - timedelta(days=policy.wilson_inr_window_days)
    current = [r for r in labs if r.effective is not None and r.effective >= episode]
    panel = latest_liver_panel(current, policy) if inr else None
    if inr is None or panel is None or not shows_liver_injury(panel, policy):
        return None  # an INR alone (warfarin, say) with a quiet liver is not acute liver failure
    history = liver_history(conditions, unreadable_conditions, today, policy)
    if history.explained:
        return None  # acute-on-chronic liver disease: the ratios were validated in acute liver failure only
    pattern = wilson_indicator(panel, policy)
    if pattern is None:
        return None
    age = atypical_age(patient, panel.alp.effective, policy)
    indicator = pattern if age is None else lowered(pattern)
    if indicator is None:
        return None
    return Finding(
        Topic.WILSON_ALF,
        indicator,
        patient.id,
        measurements=measurements(inr, panel, policy),
        checks=(*alf_picture(inr, panel, policy), *criteria(panel, pattern, policy)),
        caveats=(*age_notes(age, policy), *history.notes, *notes(panel, patient, policy)),
    )


@dataclass(frozen=True)
class LiverHistory:
    """What the patient's Conditions say about liver disease before this illness."""

    explained: bool  # a current chronic or alcohol-related liver disease on record accounts for the picture
    notes: tuple[Note, ...] = ()


def liver_history(
    conditions: Iterable[ConditionRecord], unreadable_conditions: Iterable[Unreadable], today: date, policy: Policy
) -> LiverHistory:
    """Tell whether a chronic or alcohol-related liver disease on record explains the picture, with caveats."""
    found: list[Note] = []
    recent_since = today - timedelta(weeks=policy.wilson_recent_cirrhosis_weeks)
    for condition in conditions:
        kind = liver_disease_kind(condition.codes, condition.names)
        if kind is None or condition.verification_status in _DISCOUNTED_VERIFICATION:
            continue
        if condition.clinical_status in _PAST_CLINICAL:
            found.append(Note(Caveat.LIVER_DISEASE_PAST, subjects=(condition.clinical_status,)))
            continue
        first = min((d for d in (condition.onset, condition.recorded) if d is not None), default=None)
        if kind == "chronic" and first is not None and first >= recent_since:
            # AASLD: undiagnosed Wilson disease with cirrhosis recognised for < 26 weeks still counts as ALF.
            found.append(
                Note(Caveat.RECENT_CIRRHOSIS, values=(Decimal(policy.wilson_recent_cirrhosis_weeks),), on=first)
            )
            continue
        return LiverHistory(explained=True)
    if any(u.status not in _DISCOUNTED_VERIFICATION and liver_disease_kind(u.codes, ()) for u in unreadable_conditions):
        found.append(Note(Caveat.UNREADABLE_LIVER_DISEASE))
    return LiverHistory(explained=False, notes=tuple(dict.fromkeys(found)))


def liver_disease_kind(codes: Iterable[Code], names: Iterable[str]) -> str | None:
    """Return "alcohol" or "chronic" when codes or names show that liver disease, else None."""
    codes = tuple(codes)
    text = " ".join(names).casefold()
    if has_code(codes, ALCOHOLIC_LIVER_DISEASE_SNOMED, ALCOHOLIC_LIVER_DISEASE_ICD10CM) or any(
        word in text for word in ALCOHOLIC_LIVER_DISEASE_WORDS
    ):
        return "alcohol"
    if has_code(codes, CHRONIC_LIVER_DISEASE_SNOMED, CHRONIC_LIVER_DISEASE_ICD10CM) or any(
        word in text for word in CHRONIC_LIVER_DISEASE_WORDS
    ):
        return "chronic"
    return None


def has_code(codes: Iterable[Code], snomed: ValueSet, icd10cm_categories: ValueSet) -> bool:
    """Tell whether a code is in the SNOMED set or falls under one of the ICD-10-CM categories."""
    for code in codes:
        if code.system == snomed.system and code.code in snomed:
            return True
        if code.system == ICD10CM and code.code and under_category(code.code, icd10cm_categories):
            return True
    return False


def under_category(code: str, categories: ValueSet) -> bool:
    """Tell whether an ICD-10-CM code, dotted or not, is one of the categories or beneath one."""
    bare = code.strip().upper().replace(".", "")
    return any(bare.startswith(category.replace(".", "")) for category in categories.codes)


def atypical_age(patient: PatientFacts, on: date, policy: Policy) -> int | None:
    """Return the patient's age when the set was drawn if it lies outside the usual Wilson ages, else None."""
    if patient.birth_date is None:
        return None
    age = completed_years(patient.birth_date, on)
    if policy.wilson_typical_age_min_years <= age <= policy.wilson_typical_age_max_years:
        return None
    return age


def lowered(indicator: Indicator) -> Indicator | None:
    """Return the indicator one level lower: critical to warning, warning to info, info to none."""
    return {Indicator.CRITICAL: Indicator.WARNING, Indicator.WARNING: Indicator.INFO}.get(indicator)


def age_notes(age: int | None, policy: Policy) -> tuple[Note, ...]:
    """Explain a card lowered for the patient's age, if it was."""
    if age is None:
        return ()
    low, high = policy.wilson_typical_age_min_years, policy.wilson_typical_age_max_years
    return (Note(Caveat.ATYPICAL_WILSON_AGE, values=(Decimal(age), Decimal(low), Decimal(high))),)


def alf_picture(inr: Reading, panel: LiverPanel, policy: Policy) -> tuple[Criterion, ...]:
    """Return the acute liver failure picture: the INR and the liver injury of the same current episode."""
    bilirubin_limit = policy.wilson_min_bilirubin_mg_per_dl
    aminotransferase_limit = policy.wilson_min_aminotransferase_u_per_l
    what, worst = max(((Check.AST_HIGH, panel.ast), (Check.ALT_HIGH, panel.alt)), key=lambda named: named[1].value)
    return (
        Criterion(Check.INR_HIGH, inr.value, policy.wilson_inr_min, days=policy.wilson_inr_window_days),
        Criterion(
            Check.BILIRUBIN_HIGH, panel.bilirubin.value, bilirubin_limit, panel.bilirubin.value >= bilirubin_limit
        ),
        Criterion(what, worst.value, aminotransferase_limit, worst.value >= aminotransferase_limit),
    )


def shows_liver_injury(panel: LiverPanel, policy: Policy) -> bool:
    """Return whether the set shows the liver injury that makes a raised INR acute liver failure."""
    aminotransferase = max(panel.ast.value, panel.alt.value)
    return (
        panel.bilirubin.value >= policy.wilson_min_bilirubin_mg_per_dl
        or aminotransferase >= policy.wilson_min_aminotransferase_u_per_l
    )


def wilson_disease_on_record(
    conditions: Iterable[ConditionRecord], unreadable_conditions: Iterable[Unreadable]
) -> bool:
    """Tell whether a Wilson disease diagnosis is on record and not refuted or entered in error."""
    if any(c.verification_status not in _DISCOUNTED_VERIFICATION and is_wilson_code(c.codes) for c in conditions):
        return True
    # An entry that failed validation still shows its code; count it unless its legible status discounts it.
    return any(u.status not in _DISCOUNTED_VERIFICATION and is_wilson_code(u.codes) for u in unreadable_conditions)


def is_wilson_code(codes: Iterable[Code]) -> bool:
    """Tell whether any of the codes is Wilson disease in SNOMED CT or ICD-10-CM."""
    return any(code.system == vs.system and code.code in vs for code in codes for vs in _WILSON_DIAGNOSES)


def liver_failure_inr(labs: Iterable[LabResult], today: date, policy: Policy) -> Reading | None:
    """Return the most recent trusted INR at or above the acute liver failure gate in the window, if any."""
    since = today - timedelta(days=policy.wilson_inr_window_days)
    gating = [
        Reading(r, r.quantity.value, r.quantity.comparator)
        for r in labs
        if r.loinc in INR
        and counts(r, policy, since)
        and r.effective is not None
        and r.effective <= today + _DATE_SKEW
        and r.quantity is not None
        and is_inr_unit(r.quantity.unit)
        and reaches(r.quantity, policy.wilson_inr_min)
    ]
    return max(gating, key=newest_first_key, default=None)


def reaches(quantity: Quantity, minimum: Decimal) -> bool:
    """Tell whether a value is surely at or above `minimum`, allowing '>' and '>=' but not '<'."""
    return quantity.comparator in _GATE_COMPARATORS and quantity.value >= minimum


def latest_liver_panel(labs: Sequence[LabResult], policy: Policy) -> LiverPanel | None:
    """Return the most recent ALP, bilirubin, AST and ALT drawn within the policy's window of each other."""
    bilirubins = readings(labs, BILIRUBIN_TOTAL, bilirubin_mg_per_dl, policy)
    asts = readings(labs, AST, to_u_per_l, policy)
    alts = readings(labs, ALT, to_u_per_l, policy)
    if not (bilirubins and asts and alts):
        return None
    for alp in readings(labs, ALP_TOTAL, to_u_per_l, policy):
        panel = LiverPanel(alp, nearest(alp, bilirubins), nearest(alp, asts), nearest(alp, alts))
        if drawn_together(panel.readings, policy.wilson_pair_window_hours):
            return panel
    return None


def readings(labs: Iterable[LabResult], value_set: ValueSet, convert: Convert, policy: Policy) -> list[Reading]:
    """Return one analyte's trusted, interpretable results converted to the rule's unit, newest first."""
    found = [
        reading
        for result in labs
        if result.loinc in value_set
        and counts(result, policy)
        and (reading := read(result, convert)) is not None
        # A '<' or '>' value has no exact ratio, and a zero none at all: both are left out.
        and reading.comparator is None
        and reading.value > 0
    ]
    return sorted(found, key=newest_first_key, reverse=True)


def bilirubin_mg_per_dl(value: Decimal, unit: str | None) -> Decimal | None:
    """Return total bilirubin in mg/dL, the unit of Korman's ratio (µmol/L ÷ 17.1), or None."""
    converted = to_mg_per_dl_bilirubin(value, unit)
    if converted is None or converted == value:
        return converted
    return converted.quantize(_BILIRUBIN_STEP, ROUND_HALF_UP)


def newest_first_key(reading: Reading) -> tuple[date, float, str]:
    """Order readings as their results are ordered (labs.chronological)."""
    return chronological(reading.result)


def nearest(anchor: Reading, candidates: Sequence[Reading]) -> Reading:
    """Return the candidate drawn nearest in time to `anchor`; the newest of equally near ones."""
    return min(candidates, key=lambda c: time_apart(anchor, c))


def time_apart(a: Reading, b: Reading) -> timedelta:
    """Return how far apart two results were drawn: by instants when both have one, else by dates."""
    if a.result.instant and b.result.instant:
        return abs(a.result.instant - b.result.instant)
    return timedelta(days=abs((a.effective - b.effective).days))


def drawn_together(panel: Iterable[Reading], hours: int) -> bool:
    """Tell whether results were surely drawn within `hours` of each other."""
    panel = list(panel)
    instants = [r.result.instant for r in panel if r.result.instant is not None]
    if len(instants) == len(panel):
        return max(instants) - min(instants) <= timedelta(hours=hours)
    days = [r.effective for r in panel]
    # Dates d days apart may have been drawn up to (d + 1) × 24 h apart.
    return (max(days) - min(days)).days <= hours // 24 - 1


def wilson_indicator(panel: LiverPanel, policy: Policy) -> Indicator | None:
    """Grade the set: both Korman criteria critical, one a warning, neither but a very low ALP info."""
    met = alp_bilirubin_met(panel, policy) + ast_alt_met(panel, policy)
    if met == 2:
        return Indicator.CRITICAL
    if met == 1:
        return Indicator.WARNING
    if panel.alp.value <= policy.wilson_low_alp_u_per_l:
        return Indicator.INFO
    return None


def alp_bilirubin_met(panel: LiverPanel, policy: Policy) -> bool:
    """Tell whether ALP/bilirubin is below Korman's limit."""
    return panel.alp_bilirubin_ratio < policy.wilson_alp_bilirubin_ratio_max


def ast_alt_met(panel: LiverPanel, policy: Policy) -> bool:
    """Tell whether AST/ALT is above Korman's limit."""
    return panel.ast_alt_ratio > policy.wilson_ast_alt_ratio_min


def criteria(panel: LiverPanel, indicator: Indicator, policy: Policy) -> tuple[Criterion, ...]:
    """Return Korman's two ratios with their limits and verdicts, and the very low ALP when it alone decides."""
    stated = [
        Criterion(
            Check.ALP_BILIRUBIN_RATIO,
            panel.alp_bilirubin_ratio,
            policy.wilson_alp_bilirubin_ratio_max,
            alp_bilirubin_met(panel, policy),
        ),
        Criterion(
            Check.AST_ALT_RATIO, panel.ast_alt_ratio, policy.wilson_ast_alt_ratio_min, ast_alt_met(panel, policy)
        ),
    ]
    if indicator is Indicator.INFO:
        stated.append(Criterion(Check.VERY_LOW_ALP, panel.alp.value, policy.wilson_low_alp_u_per_l))
    return tuple(stated)


def korman_met(finding: Finding) -> tuple[Criterion, ...]:
    """Return the Korman ratio criteria the finding met."""
    return tuple(c for c in finding.checks if c.what in _KORMAN_RATIOS and c.met)


def lowered_for_age(finding: Finding) -> bool:
    """Tell whether the finding stands one level below its ratios, which only the patient's age does."""
    met = len(korman_met(finding))
    return (met, finding.indicator) in {(2, Indicator.WARNING), (1, Indicator.INFO)}


def measurements(inr: Reading, panel: LiverPanel, policy: Policy) -> tuple[Measurement, ...]:
    """Return the INR and the set, each in the unit the rule compared it in."""
    return (
        measurement("INR", inr, "", limit=f"≥ {number_text(policy.wilson_inr_min)}"),
        measurement("ALP", panel.alp, "U/L"),
        measurement("Total bilirubin", panel.bilirubin, "mg/dL"),
        measurement("AST", panel.ast, "U/L"),
        measurement("ALT", panel.alt, "U/L"),
    )


def measurement(label: str, reading: Reading, unit: str, limit: str | None = None) -> Measurement:
    """Show one reading as card evidence."""
    return Measurement(label, reading.result.loinc, reading.effective, reading.value, unit, reading.comparator, limit)


def notes(panel: LiverPanel, patient: PatientFacts, policy: Policy) -> tuple[Note, ...]:
    """Return the caveats: a converted bilirubin, a child's lower sensitivity, ceruloplasmin in ALF."""
    found = []
    sent = panel.bilirubin.result.quantity
    if sent is not None and sent.value != panel.bilirubin.value:
        # Only µmol/L is converted, so the card names that unit rather than echoing the lab's spelling.
        found.append(Note(Caveat.BILIRUBIN_CONVERTED, values=(sent.value, panel.bilirubin.value)))
    if patient.birth_date and completed_years(patient.birth_date, panel.alp.effective) < policy.adult_age_years:
        found.append(
            Note(
                Caveat.PAEDIATRIC_RATIOS,
                values=(Decimal(policy.adult_age_years), PAEDIATRIC_AST_ALT_CUTOFF, panel.ast_alt_ratio),
            )
        )
    found.append(Note(Caveat.CERULOPLASMIN_UNRELIABLE))
    return tuple(found)
