"""Wording what findings carry as data: criteria with their verdicts, caveats with their values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cards.wording import claim, criteria_lines, note_line, note_lines, ratio_text, source_verb
from hooks.findings import Caveat, Check, Criterion, Finding, Indicator, Measurement, Note, Topic


@pytest.mark.parametrize(
    "ratio, limit, text",
    [
        ("1.6667", "4", "1.7"),
        ("3", "2.2", "3.0"),
        ("3.96", "4", "3.96"),  # "4.0" would read as not below 4
        ("3.9999", "4", "3.9999"),
        ("4", "4", "4.0"),
        ("2.21", "2.2", "2.21"),
        ("2.2", "2.2", "2.2"),
    ],
)
def test_ratio_text_never_rounds_across_the_limit(ratio, limit, text):
    assert ratio_text(Decimal(ratio), Decimal(limit)) == text


def finding(*checks: Criterion, caveats: tuple[Note, ...] = ()) -> Finding:
    return Finding(Topic.WILSON_ALF, Indicator.WARNING, "p1", checks=checks, caveats=caveats)


def test_a_ratio_is_worded_with_its_limit_and_verdict():
    met = Criterion(Check.AST_ALT_RATIO, Decimal(3), Decimal("2.2"), True)
    not_met = Criterion(Check.ALP_BILIRUBIN_RATIO, Decimal(5), Decimal(4), False)
    assert claim(met) == "AST/ALT 3.0 > 2.2"
    assert criteria_lines(finding(met, not_met)) == ("AST/ALT 3.0 > 2.2: met", "ALP/bilirubin 5.0 < 4: not met")


def test_the_liver_failure_picture_names_only_the_injuries_met():
    checks = (
        Criterion(Check.INR_HIGH, Decimal("3.1"), Decimal("1.5"), days=14),
        Criterion(Check.BILIRUBIN_HIGH, Decimal(2), Decimal(3), False),
        Criterion(Check.ALT_HIGH, Decimal(400), Decimal(120), True),
    )
    assert criteria_lines(finding(*checks)) == (
        "Acute liver failure picture: INR 3.1 ≥ 1.5 with ALT 400 U/L ≥ 120 U/L, all within the last 14 days, and"
        " no current chronic or alcohol-related liver disease on record",
    )


def test_an_elevated_plp_brings_the_vitamin_b6_caveat_and_a_pea_does_not():
    plp = Measurement("Pyridoxal 5'-phosphate", "62236-5", date(2026, 10, 1), Decimal(210), "nmol/L", limit="> 125")
    pea = Measurement("Urine phosphoethanolamine", "13789-3", date(2026, 10, 1), Decimal(60), "nmol/mg", limit="> 48")
    lines = criteria_lines(finding(Criterion(Check.SUBSTRATE_HIGH, plp.value, measurement=plp)))
    assert lines[0] == "Pyridoxal 5'-phosphate 210 nmol/L on 2026-10-01 is above normal (> 125)"
    assert lines[-1].startswith("Vitamin B6 supplements raise pyridoxal 5'-phosphate")
    assert len(criteria_lines(finding(Criterion(Check.SUBSTRATE_HIGH, pea.value, measurement=pea)))) == 1


def test_what_was_not_checked_is_named_in_one_sentence():
    note = Note(Caveat.NOT_CHECKED, subjects=("medications",))
    assert note_line(note) == "Could not be read in time, so not checked: the medication list (asfotase alfa)."


def test_caveats_are_worded_in_their_order():
    f = finding(caveats=(Note(Caveat.WILSON_LIKELIER), Note(Caveat.EGFR_FOR_CRCL)))
    assert note_lines(f)[0].startswith("Acute liver failure with the Wilson")
    assert note_lines(f)[1].startswith("Drug labels state their renal limits as creatinine clearance")


@pytest.mark.parametrize(
    "source, verb",
    [
        ("MedicationAdministration", "given"),
        ("MedicationDispense", "dispensed"),
        ("Other", "recorded"),
        (None, "recorded"),
    ],
)
def test_a_record_says_how_the_drug_was_taken(source, verb):
    assert source_verb(source) == verb
