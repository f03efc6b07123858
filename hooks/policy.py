"""Every threshold and window the rules use, with its source; all of them configurable."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

POLICY_VERSION = "2026.11"


@dataclass(frozen=True)
class ChildLimit:
    """Lower limit of normal ALP (U/L) for an age band in completed years, by sex."""

    from_years: int
    to_years: int  # exclusive
    label: str
    male: Decimal
    female: Decimal


# Roche cobas ALP (IFCC), CALIPER intervals transferred to Roche (Estey 2013, Clin Biochem 46:1197),
# published by the University of Iowa and Mayo Clinic Laboratories (docs/evidence/alp.md#paediatric-lower-limits).
# Female 17 y uses Iowa's 45 U/L. The first band starts at 15 days: younger neonates are not judged without a lab range.
CHILD_LOWER_LIMITS: tuple[ChildLimit, ...] = (
    ChildLimit(0, 1, "15 d-<1 y", Decimal(122), Decimal(122)),
    ChildLimit(1, 10, "1-<10 y", Decimal(142), Decimal(142)),
    ChildLimit(10, 13, "10-<13 y", Decimal(129), Decimal(129)),
    ChildLimit(13, 15, "13-<15 y", Decimal(116), Decimal(57)),
    ChildLimit(15, 17, "15-<17 y", Decimal(82), Decimal(50)),
    ChildLimit(17, 19, "17-<19 y", Decimal(55), Decimal(45)),
)


@dataclass(frozen=True)
class Policy:
    """The rule's parameters; each default has its source, a note in docs/evidence/, in POLICY_SOURCES."""

    version: str = POLICY_VERSION
    # ALP: what counts as low, and as persistently low
    adult_low_limit_u_per_l: Decimal = Decimal(35)
    adult_lab_limit_cap_u_per_l: Decimal = Decimal(40)
    adult_age_years: int = 18
    neonate_unjudged_days: int = 15
    min_low_results: int = 2
    min_days_between_lows: int = 30
    low_month_fraction: Decimal = Decimal("0.5")
    all_months_low: bool = False
    max_any_alp_u_per_l: Decimal | None = None
    lookback_years: int = 5
    trusted_statuses: frozenset[str] = frozenset({"final", "amended", "corrected"})
    plausible_max_u_per_l: Decimal = Decimal(5000)
    # HPP substrates
    plp_high_nmol_per_l: Decimal = Decimal(125)
    plp_high_ug_per_l: Decimal = Decimal(50)
    # Renal function before an antiresorptive (CrCl, or eGFR as its proxy), mL/min
    renal_lookback_months: int = 12
    renal_limit_alendronate: Decimal = Decimal(35)
    renal_limit_zoledronic_acid: Decimal = Decimal(35)
    renal_limit_zoledronic_acid_oncology: Decimal = Decimal(30)
    renal_limit_risedronate: Decimal = Decimal(30)
    renal_limit_ibandronate: Decimal = Decimal(30)
    renal_limit_denosumab: Decimal = Decimal(30)
    # Cockcroft-Gault creatinine clearance, zoledronic acid 4 mg dose steps, romosozumab, dialysis
    weight_max_age_days: int = 90
    zometa_full_dose_above_crcl: Decimal = Decimal(60)
    zometa_full_dose_mg: Decimal = Decimal(4)
    zometa_step_1_min_crcl: Decimal = Decimal(50)
    zometa_step_1_dose_mg: Decimal = Decimal("3.5")
    zometa_step_2_min_crcl: Decimal = Decimal(40)
    zometa_step_2_dose_mg: Decimal = Decimal("3.3")
    zometa_step_3_dose_mg: Decimal = Decimal("3.0")
    renal_limit_romosozumab: Decimal = Decimal(30)
    romosozumab_renal_floor: Decimal = Decimal(15)
    romosozumab_cv_event_window_days: int = 365
    # Vitamin D and calcium before an antiresorptive
    vitamin_d_min_ng_per_ml: Decimal = Decimal(20)
    mineral_lookback_months: int = 12
    # Wilson disease in acute liver failure (Korman 2008)
    wilson_inr_min: Decimal = Decimal("1.5")
    wilson_inr_window_days: int = 7
    wilson_pair_window_hours: int = 48
    wilson_alp_bilirubin_ratio_max: Decimal = Decimal(4)
    wilson_ast_alt_ratio_min: Decimal = Decimal("2.2")
    wilson_low_alp_u_per_l: Decimal = Decimal(40)
    wilson_min_bilirubin_mg_per_dl: Decimal = Decimal(3)
    wilson_min_aminotransferase_u_per_l: Decimal = Decimal(120)
    wilson_typical_age_min_years: int = 3
    wilson_typical_age_max_years: int = 55
    wilson_recent_cirrhosis_weeks: int = 26
    # Antiresorptive therapy from every FHIR source
    dispense_default_supply_days: int = 30
    dispense_grace_days: int = 30
    assumed_course_days: int = 365
    denosumab_interval_days: int = 183
    zoledronic_acid_interval_days: int = 365
    ibandronate_iv_interval_days: int = 92
    romosozumab_interval_days: int = 31
    # Transient lows and secondary causes
    clearly_normal_alp_u_per_l: Decimal = Decimal(45)
    child_clearly_normal_factor: Decimal = Decimal("1.25")
    acute_encounter_classes: frozenset[str] = frozenset({"IMP", "EMER", "ACUTE", "SS"})
    acute_stay_max_days: int = 30
    magnesium_low_mg_per_dl: Decimal = Decimal("1.7")
    zinc_low_ug_per_dl: Decimal = Decimal(60)
    # Respect for the prescriber
    patient_view_snooze_days: int = 90
    order_select_repeat_at_sign: bool = False


POLICY_SOURCES: Mapping[str, str] = {
    "version": "identifies the policy in the card audit; sites set their own with CDS_POLICY_FILE",
    "adult_low_limit_u_per_l": "≤35 U/L: Tornero 2020 (OJRD); between McKiernan 2014 ≤30 and Maman 2016 <40; "
    "female LLN of the Roche method (docs/evidence/alp.md#what-counts-as-low)",
    "adult_lab_limit_cap_u_per_l": "value < min(lab low, 40 U/L): a lab LLN above 40 is not 'low' in the HPP "
    "sense (Maman 2016, Alonso 2019; docs/evidence/alp.md#what-counts-as-low)",
    "adult_age_years": "18 y: paediatric intervals below (CALIPER/Roche via Iowa and Mayo; "
    "docs/evidence/alp.md#paediatric-lower-limits)",
    "neonate_unjudged_days": "0-14 d neonatal interval 83-248 U/L is too wide to judge without the lab's "
    "own range (docs/evidence/alp.md#paediatric-lower-limits)",
    "min_low_results": "≥2 low results: every published definition "
    "(docs/evidence/alp.md#persistent-recurrent-transient)",
    "min_days_between_lows": "30 d between first and last low: approximates Ng 2023 'separate months'; "
    "excludes McKiernan 2014 acute hypophosphatasemia",
    "low_month_fraction": "more than half of the months with ALP are low: Ng 2023 'persistent' "
    "(doi:10.1007/s00198-022-06597-3)",
    "all_months_low": "every month with ALP must be low: Maman 2016 (doi:10.1007/s00198-015-3346-0); strict preset",
    "max_any_alp_u_per_l": "no result above this value for 'persistent': Tornero 2020 (45 U/L); strict preset; "
    "off by default",
    "lookback_years": "5 y: HPP is lifelong; spans the clinic audits (docs/evidence/alp.md#which-results-count)",
    "trusted_statuses": "FHIR R4 ObservationStatus: verified results only (docs/evidence/alp.md#which-results-count)",
    "plausible_max_u_per_l": "plausibility guard 0 < ALP < 5000 U/L (docs/evidence/units.md#alp-activity)",
    "plp_high_nmol_per_l": "PLP above the lab's range high, else above 125 nmol/L (ARUP ULN; "
    "docs/evidence/alp.md#a-finished-work-up)",
    "plp_high_ug_per_l": "PLP above the lab's range high, else above 50 ug/L (Mayo ULN; "
    "docs/evidence/alp.md#a-finished-work-up)",
    "renal_lookback_months": "most recent CrCl or eGFR within 12 months (implementation choice; "
    "docs/evidence/antiresorptive-safety.md#renal-function)",
    "renal_limit_alendronate": "alendronate not recommended if CrCl < 35 mL/min (label; "
    "docs/evidence/antiresorptive-safety.md#renal-function)",
    "renal_limit_zoledronic_acid": "zoledronic acid (Reclast) contraindicated if CrCl < 35 mL/min "
    "(label, FDA 2011 safety update; docs/evidence/antiresorptive-safety.md#renal-function)",
    "renal_limit_zoledronic_acid_oncology": "zoledronic acid 4 mg (Zometa): not recommended if CrCl < 30 mL/min, "
    "dose reduced from 60 (Zometa label)",
    "renal_limit_risedronate": "risedronate not recommended if CrCl < 30 mL/min (label; "
    "docs/evidence/antiresorptive-safety.md#renal-function)",
    "renal_limit_ibandronate": "ibandronate not recommended if CrCl < 30 mL/min (label; "
    "docs/evidence/antiresorptive-safety.md#renal-function)",
    "renal_limit_denosumab": "denosumab: boxed warning, severe hypocalcaemia with eGFR < 30 or dialysis "
    "(Prolia label; docs/evidence/antiresorptive-safety.md#renal-function)",
    "weight_max_age_days": "a Cockcroft-Gault clearance uses a body weight measured within 90 days; older, no "
    "computation (implementation choice; the Reclast label asks for a clearance before each dose; "
    "docs/evidence/antiresorptive-safety.md)",
    "zometa_full_dose_above_crcl": "zoledronic acid 4 mg (Zometa label, renal dose table): full 4 mg above CrCl "
    "60 mL/min (docs/evidence/antiresorptive-safety.md)",
    "zometa_full_dose_mg": "zoledronic acid 4 mg: the full oncology dose "
    "(Zometa label; docs/evidence/antiresorptive-safety.md)",
    "zometa_step_1_min_crcl": "CrCl 50-60 mL/min: "
    "3.5 mg (Zometa label, renal dose table; docs/evidence/antiresorptive-safety.md)",
    "zometa_step_1_dose_mg": "3.5 mg at CrCl 50-60 mL/min (Zometa label; docs/evidence/antiresorptive-safety.md)",
    "zometa_step_2_min_crcl": "CrCl 40-49 mL/min: "
    "3.3 mg (Zometa label, renal dose table; docs/evidence/antiresorptive-safety.md)",
    "zometa_step_2_dose_mg": "3.3 mg at CrCl 40-49 mL/min (Zometa label; docs/evidence/antiresorptive-safety.md)",
    "zometa_step_3_dose_mg": "3.0 mg at CrCl 30-39 mL/min; below renal_limit_zoledronic_acid_oncology (30) not "
    "recommended (Zometa label; docs/evidence/antiresorptive-safety.md)",
    "renal_limit_romosozumab": "romosozumab: eGFR 15-29 mL/min/1.73 m2 or dialysis carries a greater risk of "
    "hypocalcaemia, monitor calcium (Evenity label; docs/evidence/antiresorptive-safety.md)",
    "romosozumab_renal_floor": "below eGFR 15 the Evenity label has no data (kidney failure); still warned, "
    "worded apart (docs/evidence/antiresorptive-safety.md)",
    "romosozumab_cv_event_window_days": "Evenity boxed warning: not to be started within a year of myocardial "
    "infarction or stroke; 365 days (docs/evidence/antiresorptive-safety.md)",
    "vitamin_d_min_ng_per_ml": "25-OH vitamin D ≥ 20 ng/mL (50 nmol/L) before an antiresorptive "
    "(Lexicomp; docs/evidence/antiresorptive-safety.md#hypocalcaemia)",
    "mineral_lookback_months": "latest vitamin D and calcium within 12 months: an implementation choice",
    "wilson_inr_min": "acute liver failure gate INR ≥ 1.5 (AASLD ALF definition; "
    "docs/evidence/wilson-alf.md#the-acute-liver-failure-picture-the-gate)",
    "wilson_inr_window_days": "INR within the last 7 days: the ALF episode is current (implementation choice)",
    "wilson_pair_window_hours": "ALP, bilirubin, AST and ALT drawn within 48 h of each other "
    "(implementation choice; Korman used admission values)",
    "wilson_alp_bilirubin_ratio_max": "ALP (U/L) / total bilirubin (mg/dL) < 4: Korman 2008 "
    "(doi:10.1002/hep.22446), sensitivity 94%, specificity 96%",
    "wilson_ast_alt_ratio_min": "AST/ALT > 2.2: Korman 2008, sensitivity 94%, specificity 86%; both: 100%/100%",
    "wilson_low_alp_u_per_l": "ALP ≤ 40 U/L is typical of Wilson ALF (AASLD guidance; "
    "docs/evidence/wilson-alf.md#what-the-screen-rests-on)",
    "wilson_min_bilirubin_mg_per_dl": "liver injury with the INR: total bilirubin ≥ 3 mg/dL (clinical jaundice), "
    "so that an INR raised by warfarin with a quiet liver is not read as liver failure (implementation choice; "
    "AASLD ALF needs hepatic injury, docs/evidence/wilson-alf.md#the-acute-liver-failure-picture-the-gate)",
    "wilson_min_aminotransferase_u_per_l": "or AST or ALT ≥ 120 U/L (3× a 40 U/L upper limit; implementation "
    "choice, same reason)",
    "wilson_typical_age_min_years": "3 y: most Wilson disease is considered between ages 3 and 55 (AASLD 2008 "
    "guideline, Roberts and Schilsky, via a secondary summary); outside that range the card is one level lower "
    "(docs/evidence/wilson-alf.md)",
    "wilson_typical_age_max_years": "55 y: same source; EASL 2012 guideline: most present between 5 and 35, about "
    "3% beyond the fourth decade (docs/evidence/wilson-alf.md)",
    "wilson_recent_cirrhosis_weeks": "26 weeks: cirrhosis or chronic liver disease first on record within this time "
    "does not rule out the pattern, since acute liver failure admits undiagnosed Wilson disease with cirrhosis "
    "recognised for < 26 weeks (AASLD ALF definition; docs/evidence/wilson-alf.md)",
    "dispense_default_supply_days": "a dispense without daysSupply covers 30 days: one 28-day cycle of weekly oral "
    "bisphosphonate dosing, rounded (implementation choice; docs/evidence/therapy.md)",
    "dispense_grace_days": "a dispense still counts for 30 days after its supply runs out: the permissible refill gap "
    "used to call oral bisphosphonate therapy persistent (implementation choice; docs/evidence/therapy.md)",
    "assumed_course_days": "a stopped order or statement without an end or supply counts for a year; bisphosphonates "
    "stay in bone for years, so this understates exposure (docs/evidence/therapy.md)",
    "denosumab_interval_days": "one denosumab dose given in clinic covers 6 months: Prolia's dosing interval "
    "(Prolia label, 2024; Xgeva's monthly dose is covered too)",
    "zoledronic_acid_interval_days": "one zoledronic acid infusion covers 12 months: Reclast's once-yearly dosing "
    "(Reclast label, 2023)",
    "ibandronate_iv_interval_days": "one intravenous ibandronate dose covers 3 months (Boniva injection label)",
    "romosozumab_interval_days": "one romosozumab dose covers a month: Evenity's monthly dosing (Evenity label, 2019)",
    "clearly_normal_alp_u_per_l": "an adult ALP above 45 U/L after the last low is clearly normal and downgrades the "
    "pattern: Tornero 2020 required no value > 45 U/L (docs/evidence/alp.md)",
    "child_clearly_normal_factor": "a child's ALP at least 1.25 times the age- and sex-specific lower limit after the "
    "last low is clearly normal (implementation choice mirroring 45/35 in adults; docs/evidence/alp.md)",
    "acute_encounter_classes": "HL7 v3 ActCode encounter classes of an acute stay (inpatient, emergency, acute, "
    "short stay; not NONAC, long-term care): lows confined to one are repeated after recovery (McKiernan 2014 "
    "acute hypophosphatasemia)",
    "acute_stay_max_days": "a stay longer than 30 days is not the acute illness that lowers ALP transiently "
    "(McKiernan 2014: resolved with recovery; implementation choice)",
    "magnesium_low_mg_per_dl": "magnesium below the lab's range low, else below 1.7 mg/dL (0.70 mmol/L; Mayo "
    "adult range 1.7-2.3 mg/dL): a secondary cause of low ALP (Saraff 2016; docs/evidence/alp.md)",
    "zinc_low_ug_per_dl": "zinc below the lab's range low, else below 60 ug/dL (0.60 ug/mL; Mayo adult range "
    "0.60-1.20 ug/mL): a secondary cause of low ALP (Saraff 2016; docs/evidence/alp.md)",
    "patient_view_snooze_days": "after an override, the same patient-view card is not shown again for 90 days "
    "(CDC opioid CDS snooze semantics; docs/evidence/alp.md#showing-a-card-again)",
    "order_select_repeat_at_sign": "false: a card overridden at order-select is not repeated at order-sign for "
    "the same draft the same day (HL7 PDDI-CDS select/sign coordination)",
}

PRESETS: Mapping[str, Mapping[str, Any]] = {
    "default": {},
    # Maman 2016 (every month low), Tornero 2020 (no value above 45 U/L), McKiernan/Ng (30 U/L).
    "strict": {"adult_low_limit_u_per_l": Decimal(30), "all_months_low": True, "max_any_alp_u_per_l": Decimal(45)},
    # Maman 2016 and Alonso 2019: < 40 / ≤ 40 U/L.
    "sensitive": {"adult_low_limit_u_per_l": Decimal(40)},
}


class PolicyError(ValueError):
    """A policy parameter is unknown or out of range; `parameter` names it."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"policy parameter {parameter!r} {problem}")
        self.parameter = parameter


# Bounds a value must respect to keep the rule meaningful (inclusive).
_BOUNDS: Mapping[str, tuple[Decimal, Decimal]] = {
    "adult_low_limit_u_per_l": (Decimal(1), Decimal(200)),
    "adult_lab_limit_cap_u_per_l": (Decimal(1), Decimal(200)),
    "adult_age_years": (Decimal(1), Decimal(25)),
    "neonate_unjudged_days": (Decimal(0), Decimal(365)),
    "min_low_results": (Decimal(1), Decimal(100)),
    "min_days_between_lows": (Decimal(0), Decimal(3650)),
    "low_month_fraction": (Decimal(0), Decimal("0.99")),
    "lookback_years": (Decimal(1), Decimal(100)),
    "plausible_max_u_per_l": (Decimal(100), Decimal(1_000_000)),
    "max_any_alp_u_per_l": (Decimal(1), Decimal(500)),
    "plp_high_nmol_per_l": (Decimal(1), Decimal(10_000)),
    "plp_high_ug_per_l": (Decimal(1), Decimal(10_000)),
    "renal_lookback_months": (Decimal(1), Decimal(120)),
    "renal_limit_alendronate": (Decimal(0), Decimal(200)),
    "renal_limit_zoledronic_acid": (Decimal(0), Decimal(200)),
    "renal_limit_zoledronic_acid_oncology": (Decimal(0), Decimal(200)),
    "renal_limit_risedronate": (Decimal(0), Decimal(200)),
    "renal_limit_ibandronate": (Decimal(0), Decimal(200)),
    "renal_limit_denosumab": (Decimal(0), Decimal(200)),
    "vitamin_d_min_ng_per_ml": (Decimal(0), Decimal(200)),
    "weight_max_age_days": (Decimal(1), Decimal(3650)),
    "zometa_full_dose_above_crcl": (Decimal(0), Decimal(200)),
    "zometa_full_dose_mg": (Decimal(0), Decimal(10)),
    "zometa_step_1_min_crcl": (Decimal(0), Decimal(200)),
    "zometa_step_1_dose_mg": (Decimal(0), Decimal(10)),
    "zometa_step_2_min_crcl": (Decimal(0), Decimal(200)),
    "zometa_step_2_dose_mg": (Decimal(0), Decimal(10)),
    "zometa_step_3_dose_mg": (Decimal(0), Decimal(10)),
    "renal_limit_romosozumab": (Decimal(0), Decimal(200)),
    "romosozumab_renal_floor": (Decimal(0), Decimal(200)),
    "romosozumab_cv_event_window_days": (Decimal(1), Decimal(3650)),
    "mineral_lookback_months": (Decimal(1), Decimal(120)),
    "wilson_inr_min": (Decimal(1), Decimal(10)),
    "wilson_inr_window_days": (Decimal(1), Decimal(90)),
    "wilson_pair_window_hours": (Decimal(1), Decimal(720)),
    "wilson_alp_bilirubin_ratio_max": (Decimal(0), Decimal(100)),
    "wilson_ast_alt_ratio_min": (Decimal(0), Decimal(100)),
    "wilson_low_alp_u_per_l": (Decimal(1), Decimal(500)),
    "wilson_min_bilirubin_mg_per_dl": (Decimal(0), Decimal(50)),
    "wilson_min_aminotransferase_u_per_l": (Decimal(0), Decimal(10_000)),
    "wilson_typical_age_min_years": (Decimal(0), Decimal(120)),
    "wilson_typical_age_max_years": (Decimal(0), Decimal(120)),
    "wilson_recent_cirrhosis_weeks": (Decimal(0), Decimal(520)),
    "patient_view_snooze_days": (Decimal(0), Decimal(3650)),
    "dispense_default_supply_days": (Decimal(1), Decimal(366)),
    "dispense_grace_days": (Decimal(0), Decimal(366)),
    "assumed_course_days": (Decimal(1), Decimal(3650)),
    "denosumab_interval_days": (Decimal(1), Decimal(366)),
    "zoledronic_acid_interval_days": (Decimal(1), Decimal(731)),
    "ibandronate_iv_interval_days": (Decimal(1), Decimal(366)),
    "romosozumab_interval_days": (Decimal(1), Decimal(366)),
    "clearly_normal_alp_u_per_l": (Decimal(1), Decimal(500)),
    "acute_stay_max_days": (Decimal(1), Decimal(365)),
    "child_clearly_normal_factor": (Decimal(1), Decimal(5)),
    "magnesium_low_mg_per_dl": (Decimal(0), Decimal(10)),
    "zinc_low_ug_per_dl": (Decimal(0), Decimal(500)),
}


def policy_from_overrides(overrides: Mapping[str, object], base: Policy | None = None) -> Policy:
    """Return a Policy with the named fields replaced (from text or JSON values); bad ones raise PolicyError."""
    base = base or Policy()
    fields = {f.name for f in dataclasses.fields(Policy)}
    changes: dict[str, Any] = {}
    for name, raw in overrides.items():
        if name not in fields:
            raise PolicyError(name, "is unknown")
        value = _parse(name, raw, getattr(Policy(), name), name == "max_any_alp_u_per_l")
        bounds = _BOUNDS.get(name)
        if bounds is not None and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            low, high = bounds
            if not (isinstance(value, int) or value.is_finite()) or not low <= value <= high:
                raise PolicyError(name, f"must be between {low} and {high}")
        changes[name] = value
    return dataclasses.replace(base, **changes)


def policy_from_document(document: object, preset: str | None = None) -> Policy:
    """Return the Policy a site's policy document describes: an optional preset, then parameters on top."""
    if not isinstance(document, Mapping):
        raise PolicyError("document", "must be a JSON object of parameter names and values")
    parameters = dict(document)
    named = parameters.pop("preset", None)
    if named is not None and not isinstance(named, str):
        raise PolicyError("preset", "must be a preset name")
    return policy_from_overrides(parameters, preset_policy(preset or named or "default"))


def preset_policy(name: str) -> Policy:
    """Return one of the named presets: default, strict or sensitive."""
    if name not in PRESETS:
        raise PolicyError("preset", f"must be one of {', '.join(PRESETS)}")
    return dataclasses.replace(Policy(), **PRESETS[name])


def _parse(name: str, raw: object, default: object, optional: bool) -> object:
    """Return `raw` (text, or a JSON value from a policy file) as the type of the parameter."""
    if optional and (raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "none", "off"))):
        return None
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
        if isinstance(default, frozenset):
            parts = raw if isinstance(raw, list) else str(raw).split(",")
            return frozenset(str(part).strip() for part in parts if str(part).strip())
        if isinstance(default, Decimal) or optional:
            if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
                raise ValueError(raw)
            return Decimal(repr(raw) if isinstance(raw, float) else str(raw))
        if isinstance(default, int):
            if isinstance(raw, bool) or (isinstance(raw, str) and not raw.strip().lstrip("-").isdigit()):
                raise ValueError(raw)
            return int(raw)  # type: ignore[call-overload]
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError(raw)
        return raw.strip()
    except (ArithmeticError, ValueError, TypeError):
        raise PolicyError(name, "has an invalid value") from None
