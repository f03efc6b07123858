"""Every threshold and window the rules use, with its source; all of them configurable."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping

POLICY_VERSION = "2026.11"


@dataclass(frozen=True)
class ChildLimit:
    """Lower limit of normal ALP (U/L) for an age band, by sex."""

    from_days: int
    to_days: int  # exclusive
    label: str
    male: Decimal
    female: Decimal


def _years(n: float) -> int:
    return round(n * 365.25)


# Roche cobas ALP (IFCC), CALIPER intervals transferred to Roche (Estey 2013, Clin Biochem 46:1197),
# published by the University of Iowa and Mayo Clinic Laboratories (clinical.md §3.4). Female 17 y uses
# Iowa's 45 U/L. Under 15 days the neonatal range is too wide to judge without the lab's own range.
CHILD_LOWER_LIMITS: tuple[ChildLimit, ...] = (
    ChildLimit(15, _years(1), "15 d-<1 y", Decimal(122), Decimal(122)),
    ChildLimit(_years(1), _years(10), "1-<10 y", Decimal(142), Decimal(142)),
    ChildLimit(_years(10), _years(13), "10-<13 y", Decimal(129), Decimal(129)),
    ChildLimit(_years(13), _years(15), "13-<15 y", Decimal(116), Decimal(57)),
    ChildLimit(_years(15), _years(17), "15-<17 y", Decimal(82), Decimal(50)),
    ChildLimit(_years(17), _years(19), "17-<19 y", Decimal(55), Decimal(45)),
)


@dataclass(frozen=True)
class Policy:
    """The rule's parameters. Defaults come from clinical.md §10.4; sources in POLICY_SOURCES."""

    adult_low_limit_u_per_l: Decimal = Decimal(35)
    adult_lab_limit_cap_u_per_l: Decimal = Decimal(40)
    adult_age_years: int = 18
    neonate_unjudged_days: int = 15
    min_low_results: int = 2
    min_days_between_lows: int = 30
    low_month_fraction: Decimal = Decimal("0.5")
    lookback_years: int = 5
    trusted_statuses: frozenset[str] = frozenset({"final", "amended", "corrected"})
    plausible_max_u_per_l: Decimal = Decimal(5000)


POLICY_SOURCES: Mapping[str, str] = {
    "adult_low_limit_u_per_l": "≤35 U/L: Tornero 2020 (OJRD); between McKiernan 2014 ≤30 and Maman 2016 <40; "
    "female LLN of the Roche method (clinical.md §3, §10.0)",
    "adult_lab_limit_cap_u_per_l": "value < min(lab low, 40 U/L): a lab LLN above 40 is not 'low' in the HPP "
    "sense (clinical.md §10.0; Maman 2016, Alonso 2019)",
    "adult_age_years": "18 y: paediatric intervals below (CALIPER/Roche via Iowa and Mayo, clinical.md §3.4)",
    "neonate_unjudged_days": "0-14 d neonatal interval 83-248 U/L is too wide to judge without the lab's "
    "own range (clinical.md §10.2)",
    "min_low_results": "≥2 low results: every study in clinical.md §3.2",
    "min_days_between_lows": "30 d between first and last low: approximates Ng 2023 'separate months'; "
    "excludes McKiernan 2014 acute hypophosphatasemia",
    "low_month_fraction": "more than half of the months with ALP are low: Ng 2023 'persistent' "
    "(doi:10.1007/s00198-022-06597-3)",
    "lookback_years": "5 y: HPP is lifelong; spans the clinic audits (clinical.md §10.0)",
    "trusted_statuses": "FHIR R4 ObservationStatus: verified results only (clinical.md §10.0)",
    "plausible_max_u_per_l": "plausibility guard 0 < ALP < 5000 U/L (clinical.md §2)",
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
}


def policy_from_overrides(overrides: Mapping[str, str], base: Policy | None = None) -> Policy:
    """Return a Policy with the named fields replaced by values parsed from text; bad ones raise PolicyError."""
    base = base or Policy()
    fields = {f.name for f in dataclasses.fields(Policy)}
    changes: dict[str, object] = {}
    for name, text in overrides.items():
        if name not in fields:
            raise PolicyError(name, "is unknown")
        current = getattr(base, name)
        try:
            if isinstance(current, frozenset):
                changes[name] = frozenset(part.strip() for part in text.split(",") if part.strip())
            elif isinstance(current, Decimal):
                changes[name] = Decimal(text)
            else:
                changes[name] = int(text)
        except (ArithmeticError, ValueError):
            raise PolicyError(name, "has an invalid value") from None
        low, high = _BOUNDS.get(name, (None, None))
        value = changes[name]
        if low is not None and isinstance(value, (int, Decimal)):
            if not (isinstance(value, int) or value.is_finite()) or not low <= value <= high:
                raise PolicyError(name, f"must be between {low} and {high}")
    return dataclasses.replace(base, **changes)
