"""What the rules conclude: ALP assessments and the findings that become cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING

from hooks.records import Code, EncounterRecord, MedicationOrder

if TYPE_CHECKING:
    from hooks.secondary_causes import SecondaryCause
    from hooks.therapy import Therapy


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
    HPP_LIKELY = "hpp-likely"
    RENAL_ANTIRESORPTIVE = "renal-antiresorptive"
    VITAMIN_D_CALCIUM_ANTIRESORPTIVE = "vitamin-d-calcium-antiresorptive"
    WILSON_ALF = "wilson-alf"
    LOW_ALP_ON_THERAPY = "low-alp-on-therapy"
    LOW_ALP_ACUTE_ILLNESS = "low-alp-acute-illness"
    ZOLEDRONIC_ACID_DOSE_ADJUSTMENT = "zoledronic-acid-dose-adjustment"
    ROMOSOZUMAB_CARDIOVASCULAR = "romosozumab-cardiovascular"
    DUPLICATE_ANTIRESORPTIVE = "duplicate-antiresorptive"


class Indicator(str, Enum):
    """CDS Hooks card urgency."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return the urgency as a number: info 0, warning 1, critical 2."""
        return _RANKS[self]


_RANKS = {Indicator.INFO: 0, Indicator.WARNING: 1, Indicator.CRITICAL: 2}


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
    on_antiresorptive: bool = False  # drawn during antiresorptive therapy, which lowers ALP
    instant: datetime | None = None  # specimen time of day, when known: orders same-day results
    encounter: str | None = None  # `Encounter/<id>` the specimen was drawn in, when stated
    clearly_normal: bool = False  # above the limit by a margin (adults > 45 U/L): not a borderline normal


@dataclass(frozen=True)
class UninterpretableAlp:
    """An ALP result that was left out, with the reason a prescriber can read."""

    effective: date | None
    reason: str  # e.g. "unit 'mg/dL' cannot be converted to U/L", "resource could not be read"


@dataclass(frozen=True)
class Measurement:
    """A laboratory value shown as evidence on a card, in the unit the rule compared it in."""

    label: str  # e.g. "eGFR", "Pyridoxal 5'-phosphate"
    loinc: str
    effective: date
    value: Decimal
    unit: str  # display unit, e.g. "mL/min/1.73 m²", "nmol/L"
    comparator: str | None = None
    limit: str | None = None  # readable limit it was compared with, e.g. "< 35", "> 125 (lab range high)"


@dataclass(frozen=True)
class AlpAssessment:
    """The ALP results in the look-back window and the pattern they form."""

    pattern: Pattern
    results: tuple[JudgedAlp, ...]  # oldest first
    uninterpretable: tuple[UninterpretableAlp, ...] = ()
    months_with_results: int = 0
    low_months: int = 0
    bone_specific: tuple[Measurement, ...] = ()  # supporting data only, never counted
    pre_treatment: JudgedAlp | None = None  # the latest result before the first antiresorptive, at any date
    later_normal: JudgedAlp | None = None  # a clearly normal result after the last low: the lows may be transient
    acute_stay: EncounterRecord | None = None  # the one inpatient or emergency stay every low was drawn in

    @property
    def all_lows_on_therapy(self) -> bool:
        """Tell whether every low result was drawn during antiresorptive therapy."""
        return bool(self.lows) and all(r.on_antiresorptive for r in self.lows)

    @property
    def explained_by_therapy(self) -> bool:
        """Tell whether the lows are expected from therapy: all drawn on it, and ALP clearly normal before it."""
        before = self.pre_treatment
        return self.all_lows_on_therapy and before is not None and before.clearly_normal

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


class Check(str, Enum):
    """What a criterion compares; cards/ puts each into words."""

    INR_HIGH = "inr-high"  # INR at or above the acute liver failure gate, within `days`
    BILIRUBIN_HIGH = "bilirubin-high"  # total bilirubin (mg/dL) at or above the liver injury limit
    AST_HIGH = "ast-high"  # AST (U/L) at or above the liver injury limit
    ALT_HIGH = "alt-high"  # ALT (U/L) at or above the liver injury limit
    ALP_BILIRUBIN_RATIO = "alp-bilirubin-ratio"  # Korman: met when below the limit
    AST_ALT_RATIO = "ast-alt-ratio"  # Korman: met when above the limit
    VERY_LOW_ALP = "very-low-alp"  # ALP (U/L) at or below the limit
    SUBSTRATE_HIGH = "substrate-high"  # an ALP substrate above normal: see `measurement`
    SAME_ORDER = "same-order"  # another antiresorptive (`subject`) in the same order
    IN_USE = "in-use"  # an antiresorptive (`subject`) in use, shown by `source` from `on`
    ALREADY_IN_USE = "already-in-use"  # as IN_USE, for an order that adds another antiresorptive
    ALSO_ORDERED = "also-ordered"  # another antiresorptive (`subject`) drafted with it, in order `reference`
    RECENT_EVENT = "recent-event"  # an MI or stroke (`subject`) recorded as `name` with `coded`, `value` days ago
    LOW_VITAMIN_D = "low-vitamin-d"  # 25-OH vitamin D (ng/mL) below the level to reach: see `measurement`
    LOW_CALCIUM = "low-calcium"  # calcium (mg/dL) below the lab's range low: see `measurement`
    CALCIUM_LABEL = "calcium-label"  # the label's word on hypocalcaemia for a drug or regimen (`subject`)
    DIALYSIS = "dialysis"  # dialysis or end-stage renal disease on the problem list, as `name`, by `coded` if coded
    BELOW_RENAL_LIMIT = "below-renal-limit"  # the renal measure (`measurement`) below the label's limit for `subject`
    KIDNEY_FAILURE = "kidney-failure"  # romosozumab: met below the floor (kidney failure), else severe impairment
    ZOMETA_DOSE_STEP = "zometa-dose-step"  # the measure in the band `name` of the Zometa table: `value` mg
    ORDERED_DOSE = "ordered-dose"  # the dose ordered (`value` mg, None when not stated) above the step's (`limit`)


@dataclass(frozen=True)
class Criterion:
    """One thing a finding was judged on: what, the value found, the limit it was held to, and whether it was met."""

    what: Check
    value: Decimal | None = None
    limit: Decimal | None = None
    met: bool = True
    subject: str | None = None  # the drug it concerns
    on: date | None = None
    source: str | None = None  # what shows it: a resource type (MedicationAdministration ...), "onset", "recorded"
    reference: str | None = None  # the id of the order it concerns
    days: int | None = None  # the window it was looked for in
    measurement: Measurement | None = None  # the value as the card shows it
    name: str | None = None  # the record's own name for it (a Condition's text)
    coded: Code | None = None  # the coding that matched


class Caveat(str, Enum):
    """A caveat a prescriber must read with a finding; cards/ puts each into words."""

    NOT_CHECKED = "not-checked"  # `subjects`: the prefetch keys that could not be read in time
    WILSON_LIKELIER = "wilson-likelier"  # acute liver failure with the Wilson pattern explains a low ALP better
    ATYPICAL_WILSON_AGE = "atypical-wilson-age"  # `values`: the age, the usual range's low and high
    LIVER_DISEASE_PAST = "liver-disease-past"  # `subjects`: the clinical status it is recorded with
    RECENT_CIRRHOSIS = "recent-cirrhosis"  # `on`: first on record; `values`: the weeks it counts as recent
    UNREADABLE_LIVER_DISEASE = "unreadable-liver-disease"  # an unreadable Condition carries such a code
    BILIRUBIN_CONVERTED = "bilirubin-converted"  # `values`: µmol/L as sent, mg/dL as compared
    PAEDIATRIC_RATIOS = "paediatric-ratios"  # `values`: adult age, paediatric AST/ALT cut-off, this AST/ALT
    CERULOPLASMIN_UNRELIABLE = "ceruloplasmin-unreliable"
    EVENT_UNDATED = "event-undated"  # a cardiovascular event on record without a date
    CONVERTED = "converted"  # `values`: as reported; `subjects`: label, comparator, unit reported, unit shown
    CALCIUM_NOT_ALBUMIN_CORRECTED = "calcium-not-albumin-corrected"
    EGFR_FOR_CRCL = "egfr-for-crcl"  # eGFR stands in for the label's creatinine clearance
    CRCL_FOR_EGFR = "crcl-for-egfr"  # a creatinine clearance stands in for the label's eGFR
    ZOLEDRONIC_ACID_UNKNOWN = "zoledronic-acid-unknown"  # `subjects`: why the regimen could not be told
    NO_COCKCROFT_GAULT = "no-cockcroft-gault"  # `subjects`: why it was not computed (clearance.py words it)
    RENAL_MEASURE = "renal-measure"  # `subjects`: how the measure was obtained (clearance.py words it)


@dataclass(frozen=True)
class Note:
    """A caveat with the values it names."""

    caveat: Caveat
    values: tuple[Decimal, ...] = ()
    subjects: tuple[str, ...] = ()
    on: date | None = None


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
    measurements: tuple[Measurement, ...] = ()  # the values behind the finding (substrates, eGFR, INR ...)
    checks: tuple[Criterion, ...] = ()  # what the finding was judged on, as data
    caveats: tuple[Note, ...] = ()  # what a prescriber must read with it, as data
    therapies: tuple[Therapy, ...] = ()  # the antiresorptive therapy in use, with the record that shows it
    continuing: bool = False  # the ordered drug has been given before: stopping it is not the same as not starting
    normal_workup: tuple[
        Measurement, ...
    ] = ()  # work-up results that speak against HPP (normal PLP/PEA, ALPL negative)
    tests_done: frozenset[str] = frozenset()  # work-up tests already on file: "plp", "pea", "alpl"
    secondary_causes: tuple[SecondaryCause, ...] = ()  # other causes of low ALP on the record
    paediatric: bool = False  # the patient is a child: paediatric wording, no adult statistics
    variant_figure_applies: bool = False  # the "about half carry an ALPL variant" criteria are met
    prior_denosumab: bool = False  # denosumab was given or recorded before: stopping or lapsing it risks rebound
