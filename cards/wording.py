"""Put what findings carry as data into words: their criteria and caveats, and how a record shows a drug taken."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from cards.text import decimal_text, iso_date
from hooks.findings import Caveat, Check, Criterion, Finding, Note
from hooks.regimens import Regimen
from hooks.units import to_ng_per_ml_vitamin_d
from hooks.valuesets import PYRIDOXAL_PHOSPHATE, SNOMED

# How each source shows the drug taken.
SOURCE_VERBS = {
    "MedicationRequest": "prescribed",
    "MedicationStatement": "recorded as taken",
    "MedicationDispense": "dispensed",
    "MedicationAdministration": "given",
}
MET = "met"
NOT_MET = "not met"
ALF_PICTURE = "Acute liver failure picture"
B6_CAVEAT = "Vitamin B6 supplements raise pyridoxal 5'-phosphate: ask about them before reading it as HPP."
NOT_CHECKED = {
    "conditions": "the problem list (a hypophosphatasia diagnosis on record)",
    "medications": "the medication list (asfotase alfa)",
    "hppWorkup": "the HPP work-up results (pyridoxal 5'-phosphate, phosphoethanolamine)",
}
WILSON_LIKELIER = (
    "Acute liver failure with the Wilson disease pattern is present: Wilson disease is the likelier cause of "
    "the low ALP. Work it up first."
)
CERULOPLASMIN_UNRELIABLE = (
    "Ceruloplasmin is unreliable in acute liver failure: it is low in liver failure of any cause and rises as"
    " an acute-phase reactant, so neither a low nor a normal value settles the diagnosis."
)
UNREADABLE_LIVER_DISEASE = (
    "A Condition that could not be read carries a chronic or alcohol-related liver disease code: if it"
    " is current, this is acute-on-chronic liver disease, where the ratios were not validated."
)
CORRECT_FIRST = "hypocalcaemia is a contraindication; correct it before starting"
# What each label says about hypocalcaemia (docs/evidence/antiresorptive-safety.md), by ingredient or regimen.
CALCIUM_LABELS: dict[str, str] = {
    "alendronate": f"Fosamax and Fosamax Plus D, alendronate, labels revised 2/2026: {CORRECT_FIRST}.",
    "risedronate": f"Actonel and Atelvia, risedronate: {CORRECT_FIRST}.",
    "ibandronate": f"Boniva tablets and Boniva Injection, ibandronate: {CORRECT_FIRST}.",
    Regimen.ZOLEDRONIC_ACID_5MG: f"Reclast, zoledronic acid 5 mg, label updated 2023-11-30: {CORRECT_FIRST}.",
    Regimen.ZOLEDRONIC_ACID_4MG: "Zometa, zoledronic acid 4 mg: hypocalcaemia is not a contraindication, but"
    " the label's warnings ask to monitor calcium, phosphate and magnesium and to treat hypocalcaemia.",
    Regimen.ZOLEDRONIC_ACID_UNKNOWN: "Zoledronic acid, dose not known: for Reclast, 5 mg, hypocalcaemia is a"
    " contraindication; for Zometa, 4 mg, a warning: monitor and treat it.",
    Regimen.DENOSUMAB_60MG: "Prolia and its biosimilars, denosumab 60 mg: hypocalcaemia is a contraindication;"
    " pre-existing hypocalcaemia must be corrected before starting.",
    Regimen.DENOSUMAB_120MG: "Xgeva and its biosimilars, denosumab 120 mg, a contraindication since 2013:"
    " pre-existing hypocalcaemia must be corrected before starting.",
    Regimen.DENOSUMAB_UNKNOWN: "Denosumab, Prolia, Xgeva and their biosimilars: pre-existing hypocalcaemia"
    " must be corrected before starting.",
    "romosozumab": f"Evenity, romosozumab, US label 2019: {CORRECT_FIRST}.",
}
OTHER_CALCIUM = "{drug}: correct hypocalcaemia before starting; antiresorptives lower calcium further."
ALBUMIN_NOTE = "Total calcium is not corrected for albumin: confirm with albumin-corrected or ionised calcium."
EGFR_FOR_CRCL = (
    "Drug labels state their renal limits as creatinine clearance (Cockcroft-Gault); eGFR is used here as a"
    " proxy for it."
)
CRCL_FOR_EGFR = "The label states this limit as eGFR; a creatinine clearance is used here as a proxy for it."
ZOLEDRONIC_ACID_UNKNOWN = (
    "Zoledronic acid dose and indication could not be told from the order ({basis}): the stricter rule of"
    " Reclast (5 mg, contraindicated below 35 mL/min) is applied; Zometa (4 mg, oncology) has dose steps instead."
)
NO_COCKCROFT_GAULT = "Cockcroft-Gault creatinine clearance not computed: {reason}."
EVENT_UNDATED = "The date of the event is not recorded: confirm when it happened."
_INJURIES = {
    Check.BILIRUBIN_HIGH: ("total bilirubin", "mg/dL"),
    Check.AST_HIGH: ("AST", "U/L"),
    Check.ALT_HIGH: ("ALT", "U/L"),
}


def criteria_lines(finding: Finding) -> tuple[str, ...]:
    """Word the finding's criteria, each with its value, limit and verdict where it has them."""
    lines: list[str] = []
    checks = finding.checks
    for check in checks:
        line = criterion_line(check, checks)
        if line:
            lines.append(line)
    if any(
        c.what is Check.SUBSTRATE_HIGH and c.measurement and c.measurement.loinc in PYRIDOXAL_PHOSPHATE for c in checks
    ):
        lines.append(B6_CAVEAT)
    return tuple(lines)


def criterion_line(check: Criterion, checks: Sequence[Criterion] = ()) -> str:
    """Word one criterion; the liver injury criteria are part of the acute liver failure picture's line."""
    what = check.what
    if what is Check.INR_HIGH:
        return alf_picture(check, checks)
    if what in _INJURIES:
        return ""
    if what in (Check.ALP_BILIRUBIN_RATIO, Check.AST_ALT_RATIO, Check.VERY_LOW_ALP):
        return f"{claim(check)}: {MET if check.met else NOT_MET}"
    if what is Check.SUBSTRATE_HIGH:
        m = check.measurement
        assert m is not None
        return f"{m.label} {decimal_text(m.value)} {m.unit} on {iso_date(m.effective)} is above normal ({m.limit})"
    if what is Check.SAME_ORDER:
        return f"Also in this order: {check.subject}"
    if what is Check.ALSO_ORDERED:
        return f"Also being ordered: {check.subject}" + (f", order {check.reference}" if check.reference else "")
    if what in (Check.IN_USE, Check.ALREADY_IN_USE):
        assert check.on is not None
        seen = f"{check.subject} ({source_verb(check.source)} {iso_date(check.on)})"
        return f"{'In use' if what is Check.IN_USE else 'Already in use'}: {seen}"
    if what is Check.RECENT_EVENT:
        return f"{event_claim(check)}: " + (
            f"{check.source} {iso_date(check.on)}, {coded_name(check)}"
            if check.on is not None
            else f"current on the problem list as {coded_name(check)}"
        )
    if what is Check.LOW_VITAMIN_D:
        assert check.limit is not None
        return (
            f"{measured_claim(check)} is below {decimal_text(check.limit)} ng/mL"
            f" ({decimal_text(in_nmol_per_l(check.limit))} nmol/L), the level to reach before an antiresorptive"
        )
    if what is Check.LOW_CALCIUM:
        assert check.limit is not None
        return f"{measured_claim(check)} is below the lab's reference range (low {decimal_text(check.limit)} mg/dL)"
    if what is Check.DIALYSIS:
        code = f", {system_name(check.coded.system)} {check.coded.code}," if check.coded else ", by its text,"
        return f"{check.name or 'Dialysis or end-stage renal disease'}{code} on the problem list"
    if what is Check.BELOW_RENAL_LIMIT:
        assert check.limit is not None
        line = (
            f"{measured_claim(check)} is below the labelled limit of {decimal_text(check.limit)} mL/min"
            f" for {check.subject}"
        )
        severity = next((c for c in checks if c.what is Check.KIDNEY_FAILURE and c.subject == check.subject), None)
        if severity is not None:
            line += (
                "; below 15: kidney failure, beyond the label's data"
                if severity.met
                else "; 15-29 is the label's severe renal impairment"
            )
        return line
    if what is Check.KIDNEY_FAILURE:
        return ""  # part of the line of the limit it qualifies
    if what is Check.ZOMETA_DOSE_STEP:
        assert check.value is not None
        return (
            f"{measured_claim(check)} is in the {check.name} step of the Zometa renal dose table:"
            f" {mg_text(check.value)} mg"
        )
    if what is Check.ORDERED_DOSE:
        assert check.limit is not None
        if check.value is None:
            return "The order states no dose in mg"
        return f"Ordered dose {decimal_text(check.value)} mg is above {mg_text(check.limit)} mg"
    if what is Check.CALCIUM_LABEL:
        key = check.subject or ""
        return CALCIUM_LABELS.get(key) or OTHER_CALCIUM.format(drug=key.capitalize())
    raise ValueError(f"no wording for {what}")


def event_claim(check: Criterion) -> str:
    """Name a cardiovascular event and how long ago it was, e.g. "Stroke 182 days ago"."""
    kind = (check.subject or "").capitalize()
    return f"{kind} {decimal_text(check.value)} days ago" if check.value is not None else f"{kind}, date unknown"


def coded_name(check: Criterion) -> str:
    """Name a Condition as recorded, with the code that matched, e.g. "Stroke, ICD-10-CM I63.9"."""
    assert check.coded is not None
    return f"{check.name}, {system_name(check.coded.system)} {check.coded.code}"


def system_name(system: str) -> str:
    """Name a code system briefly."""
    return "SNOMED CT" if system == SNOMED else "ICD-10-CM"


def mg_text(dose: Decimal) -> str:
    """Write a dose as the label does, with one decimal: 3.0 mg, 3.3 mg."""
    return f"{dose:.1f}"


def measured_claim(check: Criterion) -> str:
    """Write a measured value as the criterion shows it, e.g. "Calcium 8.61 mg/dL"."""
    m = check.measurement
    assert m is not None
    return f"{m.label} {m.comparator or ''}{decimal_text(m.value)} {m.unit}"


def in_nmol_per_l(ng_per_ml: Decimal) -> Decimal:
    """Return a vitamin D level in whole nmol/L, as guidelines quote it (20 ng/mL = 50 nmol/L)."""
    one_nmol_per_l = to_ng_per_ml_vitamin_d(Decimal(1), "nmol/L")
    assert one_nmol_per_l is not None
    return (ng_per_ml / one_nmol_per_l).quantize(Decimal(1))


def claim(check: Criterion) -> str:
    """Word what a ratio or value criterion compares, without its verdict, e.g. "AST/ALT 3.0 > 2.2"."""
    assert check.value is not None and check.limit is not None
    limit = decimal_text(check.limit)
    if check.what is Check.ALP_BILIRUBIN_RATIO:
        return f"ALP/bilirubin {ratio_text(check.value, check.limit)} < {limit}"
    if check.what is Check.AST_ALT_RATIO:
        return f"AST/ALT {ratio_text(check.value, check.limit)} > {limit}"
    if check.what is Check.VERY_LOW_ALP:
        return f"ALP {decimal_text(check.value)} U/L ≤ {limit} U/L"
    raise ValueError(f"no claim for {check.what}")


def alf_picture(inr: Criterion, checks: Iterable[Criterion]) -> str:
    """Word the acute liver failure picture: the INR and the liver injury met with it."""
    assert inr.value is not None and inr.limit is not None
    injuries = []
    for check in checks:
        if check.what in _INJURIES and check.met:
            assert check.value is not None and check.limit is not None
            name, unit = _INJURIES[check.what]
            injuries.append(f"{name} {decimal_text(check.value)} {unit} ≥ {decimal_text(check.limit)} {unit}")
    return (
        f"{ALF_PICTURE}: INR {decimal_text(inr.value)} ≥ {decimal_text(inr.limit)} with"
        f" {' and '.join(injuries)}, all within the last {inr.days} days, and no current"
        " chronic or alcohol-related liver disease on record"
    )


def note_lines(finding: Finding) -> tuple[str, ...]:
    """Word the finding's caveats."""
    return tuple(note_line(note) for note in finding.caveats)


def note_line(note: Note) -> str:
    """Word one caveat with the values it names."""
    caveat, values = note.caveat, note.values
    if caveat is Caveat.NOT_CHECKED:
        missing = [NOT_CHECKED.get(key, key) for key in note.subjects]
        return f"Could not be read in time, so not checked: {'; '.join(missing)}."
    if caveat is Caveat.WILSON_LIKELIER:
        return WILSON_LIKELIER
    if caveat is Caveat.CERULOPLASMIN_UNRELIABLE:
        return CERULOPLASMIN_UNRELIABLE
    if caveat is Caveat.UNREADABLE_LIVER_DISEASE:
        return UNREADABLE_LIVER_DISEASE
    if caveat is Caveat.ATYPICAL_WILSON_AGE:
        age, low, high = (decimal_text(v) for v in values)
        return (
            f"Age {age}, outside {low}-{high} years, where most Wilson disease presents (AASLD 2008; EASL 2012:"
            " mostly 5-35, about 3% after the fourth decade): this card is one level lower than the pattern alone."
            " Age alone does not exclude Wilson disease."
        )
    if caveat is Caveat.LIVER_DISEASE_PAST:
        return (
            f"A chronic or alcohol-related liver disease is on record as {note.subjects[0]}: it was"
            " not taken to explain this picture."
        )
    if caveat is Caveat.RECENT_CIRRHOSIS:
        assert note.on is not None
        return (
            f"Cirrhosis or chronic liver disease first on record {iso_date(note.on)}, within"
            f" {decimal_text(values[0])} weeks: Wilson disease often presents as acute liver"
            " failure on a cirrhosis not known before, so this does not rule the pattern out."
        )
    if caveat is Caveat.BILIRUBIN_CONVERTED:
        sent, converted = values
        return (
            f"Total bilirubin {decimal_text(sent)} µmol/L was converted to {decimal_text(converted)}"
            " mg/dL (÷ 17.1): the ALP/bilirubin ratio is defined in mg/dL."
        )
    if caveat is Caveat.PAEDIATRIC_RATIOS:
        adult, cutoff, ratio = values
        return (
            f"Under {decimal_text(adult)}: the ratios are less sensitive in children, whose ALP is"
            " physiologically high (ALP/bilirubin < 4: sensitivity 32.5% in a paediatric cohort, Indian J"
            f" Gastroenterol 2022); an AST/ALT cut-off of {decimal_text(cutoff)} has been proposed"
            f" (this patient: {ratio_text(ratio, cutoff)})."
        )
    if caveat is Caveat.EGFR_FOR_CRCL:
        return EGFR_FOR_CRCL
    if caveat is Caveat.CRCL_FOR_EGFR:
        return CRCL_FOR_EGFR
    if caveat is Caveat.ZOLEDRONIC_ACID_UNKNOWN:
        return ZOLEDRONIC_ACID_UNKNOWN.format(basis=note.subjects[0])
    if caveat is Caveat.NO_COCKCROFT_GAULT:
        return NO_COCKCROFT_GAULT.format(reason=note.subjects[0])
    if caveat is Caveat.RENAL_MEASURE:
        return note.subjects[0]
    if caveat is Caveat.EVENT_UNDATED:
        return EVENT_UNDATED
    if caveat is Caveat.CALCIUM_NOT_ALBUMIN_CORRECTED:
        return ALBUMIN_NOTE
    if caveat is Caveat.CONVERTED:
        label, comparator, unit, shown_unit = note.subjects
        return f"{label} reported as {comparator}{decimal_text(values[0])} {unit}, shown converted to {shown_unit}."
    raise ValueError(f"no wording for {caveat}")


def source_verb(source: str | None) -> str:
    """Say how a kind of record shows a drug taken: prescribed, dispensed, given, recorded as taken."""
    return SOURCE_VERBS.get(source or "", "recorded")


def ratio_text(ratio: Decimal, limit: Decimal) -> str:
    """Write a ratio to one decimal, or more when rounding would put it on the other side of `limit`."""
    for places in range(1, 7):
        rounded = ratio.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if (rounded < limit, rounded > limit) == (ratio < limit, ratio > limit):
            return format(rounded, "f")
    return format(ratio, "f")
