"""Text for cards: numbers, dates, names, Markdown escaping and the ALP results table."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from hooks.findings import JudgedAlp, Measurement, UninterpretableAlp

ELLIPSIS = "…"

# Characters that carry Markdown meaning anywhere in a line; "|" also ends a table cell.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+!|~])")
# Text that starts like a list item or heading underline would change the block around it.
_BULLET_START = re.compile(r"^([-=])")
_ORDERED_START = re.compile(r"^(\d+)\.")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


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


def escape_markdown(text: str) -> str:
    """Make untrusted text render literally in GitHub Markdown, inside or outside a table."""
    if not text:
        return text
    text = single_line(text)
    text = "".join(_HTML.get(c, c) for c in text)
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    text = _BULLET_START.sub(r"\\\1", text)
    return _ORDERED_START.sub(r"\1\\.", text)


def bullets(lines: Iterable[str]) -> str:
    """Write lines (already Markdown) as a bulleted list."""
    return "\n".join(f"- {line}" for line in lines)


def alp_value_text(result: JudgedAlp) -> str:
    """Write an ALP value with its comparator, e.g. "<5" or "28"."""
    return (result.comparator or "") + decimal_text(result.value_u_per_l)


def low_text(low: bool | None) -> str:
    """Say whether a result was low, in the words of the table."""
    if low is None:
        return "not judged"
    return "**yes**" if low else "no"


def alp_table(results: Iterable[JudgedAlp]) -> str:
    """Tabulate the ALP results used: date, value, limit, the limit's basis and the verdict."""
    results = list(results)
    rows = [
        "| Date | ALP (U/L) | Limit (U/L) | Basis | Low? |",
        "|---|---:|---:|---|---|",
    ]
    for r in results:
        limit = decimal_text(r.limit_u_per_l) if r.limit_u_per_l is not None else "none"
        verdict = low_text(r.low) + (" (on therapy)" if r.on_antiresorptive else "")
        cells = (
            iso_date(r.effective),
            escape_markdown(r.comparator or "") + decimal_text(r.value_u_per_l),
            limit,
            escape_markdown(r.limit_basis) or "unknown",
            verdict,
        )
        rows.append("| " + " | ".join(cells) + " |")
    if any(r.on_antiresorptive for r in results):
        rows.append("\n*On therapy*: drawn during antiresorptive treatment, which itself lowers ALP.")
    return "\n".join(rows)


def measurement_table(measurements: Iterable[Measurement]) -> str:
    """Tabulate laboratory values shown as evidence: test, date, value with unit, and the limit used."""
    rows = ["| Test | Date | Value | Limit |", "|---|---|---:|---|"]
    for m in measurements:
        value = f"{escape_markdown(m.comparator or '')}{decimal_text(m.value)} {escape_markdown(m.unit)}"
        cells = (escape_markdown(m.label), iso_date(m.effective), value.strip(), escape_markdown(m.limit or ""))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def uninterpretable_lines(results: Iterable[UninterpretableAlp]) -> list[str]:
    """Describe each ALP result that was left out: its date and why."""
    return [
        f"{iso_date(r.effective) if r.effective else 'date unknown'}: not interpretable"
        f" ({escape_markdown(r.reason) or 'no reason given'})"
        for r in results
    ]
