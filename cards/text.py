"""Text for cards: numbers, dates, names, Markdown escaping and the ALP results table."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from hooks.findings import JudgedAlp, Measurement, UninterpretableAlp

ELLIPSIS = "…"

# Untrusted text is made inert by replacing what Markdown would act on, not by backslashes or HTML entities:
# EHRs with limited Markdown show those literally. "<" before a letter could open a tag, brackets a link, "|" ends a
# table cell, "*", "_", "`" and "~" start emphasis or code.
_INERT = str.maketrans({"[": "(", "]": ")", "|": "/", "*": "×", "`": "'", "~": "≈", "\\": "/", "_": " "})
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# Text that starts like a heading, quote, list item or ordered item would change the block around it.
_BLOCK_START = re.compile(r"^(?:[#>=+-]+|\d+[.)])(?=\s)")


def decimal_text(value: Decimal) -> str:
    """Write a decimal the way a lab report does: 28, 27.5, never 28.00 or 2.8E+1."""
    if not value.is_finite():
        raise ValueError(f"cannot write {value} as a number")
    if value.is_zero():
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def iso_date(day: date) -> str:
    """Write a date as ISO 8601, e.g. 2026-03-02."""
    return day.isoformat()


def single_line(text: str) -> str:
    """Collapse whitespace and control characters so that text stays on one line."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def shorten(text: str, width: int) -> str:
    """Cut text to at most width characters, marking the cut with an ellipsis."""
    if width < 1:
        raise ValueError("width must be at least 1")
    if len(text) <= width:
        return text
    return text[: width - 1].rstrip() + ELLIPSIS


def fill_name(template: str, name: str, width: int) -> str:
    """Put name into the template's `{name}`, shortening the name so the result fits width."""
    room = width - (len(template) - len("{name}"))
    return template.replace("{name}", shorten(name, max(room, 1)))


def join_names(names: Iterable[str]) -> str:
    """Join names as prose without repeats: "a", "a and b", "a, b and c"."""
    unique = list(dict.fromkeys(single_line(n) for n in names if n.strip()))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " and " + unique[-1]


@functools.lru_cache(maxsize=1024)  # a limit basis or unit recurs on every line of a card
def escape_markdown(text: str, *, starts_line: bool = True) -> str:
    """Make untrusted text inert in Markdown, in plain characters a limited renderer shows as they are."""
    if not text:
        return text
    text = single_line(text).translate(_INERT)
    text = _TAG_START.sub("< ", text)
    # Only text that may begin a line can start a heading, quote or list; a table cell or the middle of a line cannot.
    return " ".join((_BLOCK_START.sub("", text) if starts_line else text).split())


def bullets(lines: Iterable[str]) -> str:
    """Write lines (already Markdown) as a bulleted list."""
    return "\n".join(f"- {line}" for line in lines)


def alp_value_text(result: JudgedAlp) -> str:
    """Write an ALP value with its comparator, e.g. "<5" or "28"."""
    return (result.comparator or "") + decimal_text(result.value_u_per_l)


def alp_table(results: Iterable[JudgedAlp]) -> str:
    """List the ALP results used, one line each, readable with or without table rendering."""
    return "\n".join(f"- {alp_line(r)}" for r in results)


def alp_line(result: JudgedAlp) -> str:
    """Write one ALP result: "2026-01-12: **28 U/L**, low (limit 40 U/L, lab range low), on therapy"."""
    value = f"{result.comparator or ''}{decimal_text(result.value_u_per_l)} U/L"
    if result.low is None:
        verdict = f"not judged ({escape_markdown(result.limit_basis, starts_line=False) or 'no limit'})"
    else:
        limit = decimal_text(result.limit_u_per_l) if result.limit_u_per_l is not None else "none"
        verdict = (
            f"{'low' if result.low else 'normal'} (limit {limit} U/L,"
            f" {escape_markdown(result.limit_basis, starts_line=False)})"
        )
    shown = f"**{value}**" if result.low else value
    therapy = ", drawn on antiresorptive therapy" if result.on_antiresorptive else ""
    return f"{iso_date(result.effective)}: {shown}, {verdict}{therapy}"


def measurement_table(measurements: Iterable[Measurement]) -> str:
    """Tabulate laboratory values shown as evidence: test, date, value with unit, and the limit used."""
    rows = ["| Test | Date | Value | Limit |", "|---|---|---:|---|"]
    for m in measurements:
        value = f"{m.comparator or ''}{decimal_text(m.value)} {escape_markdown(m.unit, starts_line=False)}"
        cells = (
            escape_markdown(m.label, starts_line=False),
            iso_date(m.effective),
            value.strip(),
            escape_markdown(m.limit or "", starts_line=False),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def uninterpretable_lines(results: Iterable[UninterpretableAlp]) -> list[str]:
    """Describe each ALP result that was left out: its date and why."""
    return [
        f"{iso_date(r.effective) if r.effective else 'date unknown'}: not interpretable"
        f" ({escape_markdown(r.reason) or 'no reason given'})"
        for r in results
    ]
