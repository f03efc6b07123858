"""What the rules conclude: ALP assessments and the findings that become cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from hooks.records import MedicationOrder


class Pattern(str, Enum):
    """How low the ALP results in the window are, over time."""

    PERSISTENT = "persistent"
    RECURRENT = "recurrent"
    SINGLE_LOW = "single_low"
    NONE = "none"


class Topic(str, Enum):
    """The finding a card reports; sent as `source.topic.code`."""

    HPP_ANTIRESORPTIVE = "hpp-antiresorptive"
    LOW_ALP_ANTIRESORPTIVE = "low-alp-antiresorptive"
    SINGLE_LOW_ALP_ANTIRESORPTIVE = "single-low-alp-antiresorptive"
    LOW_ALP_UNEVALUATED = "low-alp-unevaluated"


class Indicator(str, Enum):
    """CDS Hooks card urgency."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class JudgedAlp:
    """One usable ALP result in U/L and the verdict against the limit that applied to it."""

    effective: date
    value_u_per_l: Decimal
    comparator: str | None
    limit_u_per_l: Decimal | None  # None when the result could not be judged (neonate without a range)
    limit_basis: str  # e.g. "lab range", "adult default", "child 1-<10 y"
    low: bool | None  # None: not judged
    loinc: str


@dataclass(frozen=True)
class UninterpretableAlp:
    """An ALP result that was left out, with the reason a prescriber can read."""

    effective: date | None
    reason: str  # e.g. "unit 'mg/dL' cannot be converted to U/L", "resource could not be read"


@dataclass(frozen=True)
class AlpAssessment:
    """The ALP results in the look-back window and the pattern they form."""

    pattern: Pattern
    results: tuple[JudgedAlp, ...]  # oldest first
    uninterpretable: tuple[UninterpretableAlp, ...] = ()
    months_with_results: int = 0
    low_months: int = 0

    @property
    def lows(self) -> tuple[JudgedAlp, ...]:
        """Return the low results, oldest first."""
        return tuple(r for r in self.results if r.low)

    @property
    def lowest(self) -> JudgedAlp | None:
        """Return the lowest low result, if any."""
        return min(self.lows, key=lambda r: r.value_u_per_l, default=None)

    @property
    def judged(self) -> tuple[JudgedAlp, ...]:
        """Return the results that were judged low or normal."""
        return tuple(r for r in self.results if r.low is not None)


@dataclass(frozen=True)
class Finding:
    """A reason to show a card: the topic, its urgency and the evidence behind it."""

    topic: Topic
    indicator: Indicator
    patient_id: str
    drugs: tuple[str, ...] = ()  # antiresorptive ingredient names involved, e.g. ("alendronate",)
    order: MedicationOrder | None = None  # the draft order the card is about (order hooks only)
    alp: AlpAssessment | None = None
    hpp_evidence: tuple[str, ...] = ()  # readable reasons HPP is on record
