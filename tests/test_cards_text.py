"""Tests for cards.text: numbers, dates, names, Markdown escaping and the ALP table."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards.text import (
    alp_table,
    alp_value_text,
    decimal_text,
    escape_markdown,
    fill_name,
    iso_date,
    join_names,
    shorten,
    single_line,
    uninterpretable_lines,
)
from hooks.findings import JudgedAlp, UninterpretableAlp

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def alp(
    day: date,
    value: str,
    *,
    low: bool | None,
    limit: str | None = "35",
    comparator: str | None = None,
    basis: str = "lab range",
) -> JudgedAlp:
    """Build a judged ALP result in U/L."""
    return JudgedAlp(
        effective=day,
        value_u_per_l=Decimal(value),
        comparator=comparator,
        limit_u_per_l=Decimal(limit) if limit is not None else None,
        limit_basis=basis,
        low=low,
        loinc="6768-6",
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("28", "28"),
        ("28.0", "28"),
        ("28.00", "28"),
        ("27.5", "27.5"),
        ("27.50", "27.5"),
        ("2.8E+2", "280"),
        ("0.05", "0.05"),
        ("-0.00", "0"),
        ("100", "100"),
    ],
)
def test_decimal_text_writes_numbers_as_a_lab_report_does(value: str, text: str) -> None:
    assert decimal_text(Decimal(value)) == text


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_decimal_text_refuses_values_that_are_not_numbers(value: str) -> None:
    with pytest.raises(ValueError):
        decimal_text(Decimal(value))


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False))
def test_decimal_text_round_trips_without_exponent_or_trailing_zeros(value: Decimal) -> None:
    text = decimal_text(value)
    assert Decimal(text) == value
    assert "E" not in text.upper()
    assert not ("." in text and text.endswith("0"))
    assert not text.endswith(".")


def test_iso_date_writes_year_month_day() -> None:
    assert iso_date(date(2026, 3, 2)) == "2026-03-02"


def test_single_line_collapses_newlines_tabs_and_control_characters() -> None:
    assert single_line("  alendronate\n\tsodium\x00 70  mg ") == "alendronate sodium 70 mg"


def test_shorten_keeps_text_that_fits() -> None:
    assert shorten("alendronate", 11) == "alendronate"


def test_shorten_cuts_long_text_with_an_ellipsis_within_the_width() -> None:
    shortened = shorten("alendronate sodium", 10)
    assert len(shortened) == 10
    assert shortened == "alendrona…"


def test_shorten_refuses_a_width_below_one() -> None:
    with pytest.raises(ValueError):
        shorten("x", 0)


def test_fill_name_shortens_only_the_name_so_the_sentence_survives() -> None:
    filled = fill_name("Avoid {name} now", "x" * 300, 50)
    assert len(filled) == 50
    assert filled.startswith("Avoid x")
    assert filled.endswith("… now")


def test_fill_name_leaves_short_names_alone() -> None:
    assert fill_name("Avoid {name} now", "denosumab", 139) == "Avoid denosumab now"


@pytest.mark.parametrize(
    ("names", "prose"),
    [
        ((), ""),
        (("alendronate",), "alendronate"),
        (("alendronate", "denosumab"), "alendronate and denosumab"),
        (("alendronate", "denosumab", "zoledronic acid"), "alendronate, denosumab and zoledronic acid"),
        (("alendronate", "alendronate", "denosumab"), "alendronate and denosumab"),
        (("alendronate\n", "  ", "deno\tsumab"), "alendronate and deno sumab"),
    ],
)
def test_join_names_writes_names_as_prose(names: tuple[str, ...], prose: str) -> None:
    assert join_names(names) == prose


def test_escape_markdown_neutralises_a_table_pipe() -> None:
    assert escape_markdown("a|b") == "a/b"


def test_escape_markdown_keeps_tags_from_opening_without_html_entities() -> None:
    escaped = escape_markdown("<script>alert(1)</script>")
    assert "<script" not in escaped and "&lt;" not in escaped
    assert escaped == "< script>alert(1)< /script>"


def test_text_that_cannot_start_a_line_keeps_its_leading_comparator() -> None:
    assert escape_markdown("> 125 nmol/L (lab range high)", starts_line=False) == "> 125 nmol/L (lab range high)"
    assert escape_markdown("> 125 nmol/L (lab range high)") == "125 nmol/L (lab range high)"


def test_escape_markdown_leaves_an_entity_written_by_the_sender_as_it_is() -> None:
    assert escape_markdown("&lt;b&gt;") == "&lt;b&gt;"


@pytest.mark.parametrize(
    ("raw", "inert"),
    [
        ("*strong* _em_", "×strong× em"),
        ("10*3/uL", "10×3/uL"),
        ("[click](http://x)", "(click)(http://x)"),
        ("`code`", "'code'"),
        ("~~gone~~", "≈≈gone≈≈"),
        ("~5", "≈5"),
        ("a\\b", "a/b"),
        ("- not a list", "not a list"),
        ("1. not a list", "not a list"),
        ("# not a heading", "not a heading"),
        ("1.2 mg/dL", "1.2 mg/dL"),
        ("-5", "-5"),
        ("ALP < 35", "ALP < 35"),
    ],
)
def test_escape_markdown_makes_markup_inert_without_backslashes(raw: str, inert: str) -> None:
    assert escape_markdown(raw) == inert
    assert "\\" not in escape_markdown(raw)


@pytest.mark.parametrize(("comparator", "text"), [(None, "28"), ("<", "<5"), ("<=", "<=5")])
def test_alp_value_text_shows_the_comparator(comparator: str | None, text: str) -> None:
    value = "28" if comparator is None else "5.0"
    assert alp_value_text(alp(date(2026, 1, 1), value, low=True, comparator=comparator)) == text


def test_alp_results_are_listed_one_line_each_readable_without_table_borders() -> None:
    lines = alp_table(
        [
            alp(date(2025, 6, 1), "28.0", low=True),
            alp(date(2025, 9, 1), "41", low=False, limit="30", basis="adult default"),
        ]
    ).splitlines()
    assert lines == [
        "- 2025-06-01: **28 U/L**, low (limit 35 U/L, lab range)",
        "- 2025-09-01: 41 U/L, normal (limit 30 U/L, adult default)",
    ]


def test_alp_list_shows_comparators_therapy_and_results_that_were_not_judged() -> None:
    on_therapy = dataclasses.replace(alp(date(2025, 6, 1), "5", low=True, comparator="<"), on_antiresorptive=True)
    lines = alp_table([on_therapy, alp(date(2025, 6, 2), "90", low=None, limit=None, basis="neonate, no range")])
    assert lines.splitlines() == [
        "- 2025-06-01: **<5 U/L**, low (limit 35 U/L, lab range), drawn on antiresorptive therapy",
        "- 2025-06-02: 90 U/L, not judged (neonate, no range)",
    ]


def test_alp_list_keeps_a_hostile_basis_inert() -> None:
    (line,) = alp_table([alp(date(2025, 6, 1), "28", low=True, basis="lab | <b>range</b>")]).splitlines()
    assert "<b>" not in line and "|" not in line


def test_uninterpretable_lines_give_date_and_escaped_reason() -> None:
    lines = uninterpretable_lines(
        [
            UninterpretableAlp(date(2025, 2, 1), "unit 'mg/dL' cannot be converted to U/L"),
            UninterpretableAlp(None, "resource could not be read <x>"),
        ]
    )
    assert lines == [
        "2025-02-01: not interpretable (unit 'mg/dL' cannot be converted to U/L)",
        "date unknown: not interpretable (resource could not be read < x>)",
    ]
