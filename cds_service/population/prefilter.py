"""Which patients the rule must see: a generous test on each raw NDJSON line, shared by both engines.

Every patient-view finding rests on a total-ALP result that is low, on HPP on record (a diagnosis, or asfotase
alfa), or on liver failure (an INR at the Wilson gate). So a patient is a candidate when one of their resources
could be one of these: an ALP result that could be low (for any age, under any lab range), an HPP diagnosis (by
code or text), an asfotase alfa record, an INR at or above the gate, or any antiresorptive record (two different
antiresorptives in use are a finding of their own, duplicate therapy, with no ALP at all). The tests are
deliberately wider than the rule (codes matched without their system, names anywhere in the line, any non-ASCII
text or JSON escape that Unicode normalisation could turn into a name): the rule, not the filter, decides.
Only the regular expressions and unit lists live here, so that DuckDB's RE2 and Spark's Java regex read the same
patterns; tests/test_population_duckdb_engine.py checks the filter against the rule run on every patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hooks.evidence import ALP_LABS, LIVER_LABS, SAFETY_LABS, WORKUP_LABS
from hooks.policy import CHILD_LOWER_LIMITS, Policy
from hooks.valuesets import (
    ALP_TOTAL,
    ANTIRESORPTIVE_ATC_CODES,
    ANTIRESORPTIVE_ATC_PREFIXES,
    ANTIRESORPTIVES,
    ASFOTASE_ALFA_ATC,
    ASFOTASE_NAMES,
    HPP_CONDITION_ICD10CM_UNSPECIFIC,
    HPP_CONDITION_SNOMED,
    INR,
)

# The resource types the audit reads; everything else in the export is counted and skipped.
PATIENT_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationDispense",
    "MedicationAdministration",
    "Encounter",
)
MEDICATION_USE_TYPES = ("MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration")


def _code_pattern(codes: frozenset[str] | set[str]) -> str:
    """Return a pattern matching a JSON member `"code": "<one of codes>"`."""
    return r'"code"\s*:\s*"(?:' + "|".join(re.escape(c) for c in sorted(codes)) + ')"'


_RXNORM = {code for drug in ANTIRESORPTIVES for code in drug.rxnorm}
_ATC = {code for drug in ANTIRESORPTIVES for code in drug.atc} | set(ANTIRESORPTIVE_ATC_CODES)
_NAMES = sorted({name for drug in ANTIRESORPTIVES for name in drug.names})
# Non-ASCII text or a JSON escape: the rule's Unicode normalisation could make a name of it.
_ODD_TEXT = (r"[^\x00-\x7f]", r"\\u")


def _any_of(*patterns: str) -> str:
    """Return a case-insensitive pattern matching any of these."""
    return "(?i)(?:" + "|".join(patterns) + ")"


ALP_CODE = _code_pattern(ALP_TOTAL.codes)
INR_CODE = _code_pattern(INR.codes)
# A Condition whose code or text could be hypophosphatasia (the rule also reads a locally coded one by its text).
HPP_CODE = _any_of(
    _code_pattern(HPP_CONDITION_SNOMED.codes | HPP_CONDITION_ICD10CM_UNSPECIFIC.codes), r"hypophosphatasia", *_ODD_TEXT
)
# Observations the rule reads at all; others are left in the file.
OBSERVATION_CODE = _code_pattern(
    frozenset().union(*(v.codes for v in (*ALP_LABS, *SAFETY_LABS, *LIVER_LABS, *WORKUP_LABS)))
)
ASFOTASE = _any_of(
    _code_pattern(set(ASFOTASE_ALFA_ATC.codes)),
    r"\b(?:" + "|".join(re.escape(n) for n in ASFOTASE_NAMES) + ")",
    *_ODD_TEXT,
)
ANTIRESORPTIVE = _any_of(
    _code_pattern(_RXNORM | _ATC),
    r'"code"\s*:\s*"(?:' + "|".join(ANTIRESORPTIVE_ATC_PREFIXES) + ")",
    r"\b(?:" + "|".join(re.escape(n) for n in _NAMES) + ")",
    *_ODD_TEXT,
)
MICRO_KATAL = ("ukat/l", "\u00b5kat/l", "\u03bckat/l")
UNIT_FACTORS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("u/l", "[u]/l", "iu/l", "[iu]/l"), 1.0),
    (MICRO_KATAL, 60.0),
    (("nkat/l",), 0.06),
)
KATAL_IN_RANGE = "(?i)kat/"


def unit_factor_sql(unit_expr: str) -> str:
    """Return a SQL CASE turning a unit (lower-cased, trimmed) into its factor to U/L, NULL when unknown."""
    cases = " ".join(
        f"WHEN lower(trim({unit_expr})) IN ({', '.join(repr(u) for u in units)}) THEN {factor}"
        for units, factor in UNIT_FACTORS
    )
    return f"CASE {cases} END"


@dataclass(frozen=True)
class Thresholds:
    """The prefilter's limits, from the policy: never below what the rule could call low."""

    adult_alp_u_per_l: float  # an adult's result at or under this may be low
    child_alp_u_per_l: float  # a child's, unless the lab's range is higher
    inr: float
    adult_age_years: int  # a result drawn in a year at most this many years after birth may be a child's


def thresholds(policy: Policy) -> Thresholds:
    """Return the prefilter's limits for this policy."""
    adult = max(policy.adult_low_limit_u_per_l, policy.adult_lab_limit_cap_u_per_l)
    child = max(max(c.male, c.female) for c in CHILD_LOWER_LIMITS)
    return Thresholds(float(adult), float(child), float(policy.wilson_inr_min), policy.adult_age_years)
