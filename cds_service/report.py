"""The CDS governance report: per topic and indicator, cards served, accepted, overridden, why, and the weekly trend.

`python -m cds_service report --since 2026-01-01 --format html|csv|json [--output FILE|-]` reads the store named by
CDS_DATABASE_URL (default: the service's SQLite file) and writes one of three renderings of the same numbers:
JSON, CSV (one row per topic, indicator and period) or a self-contained HTML page with an inline SVG chart (no
script, stylesheet, font or image is fetched).

Counting rules, stated in every rendering:
- a card counts in the week (ISO 8601, UTC) it was served; only cards served on or after `--since` are counted;
- a card's outcome is that of its latest feedback event (accepted or overridden), whenever that was received; a card
  with no feedback is counted as "no feedback";
- the override rate is overridden / (accepted + overridden): cards without feedback are not in it (many EHRs
  send no feedback for a card that was simply closed);
- an overridden card's reason is the latest reason code sent for it (systems differ, so the system is kept).

No patient data is read: neither the patient key, nor the order, nor comments, nor hook instances.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import make_url, select
from sqlalchemy.engine import Connection, Engine

from cards import vocabulary
from cds_service.migrations import SchemaError
from cds_service.settings import SettingsError, settings_from_env
from cds_service.store import Store, cards_served, feedback

FORMATS = ("html", "csv", "json")
TITLE = "ALP Guard CDS governance report"
NO_REASON = "(no reason given)"
INDICATOR_ORDER = {"critical": 0, "warning": 1, "info": 2}
DEFINITIONS = {
    "week": "ISO 8601 week (UTC) in which the card was served",
    "served": "cards served on or after the start date",
    "accepted": "cards whose latest feedback is 'accepted'",
    "overridden": "cards whose latest feedback is 'overridden'",
    "no_feedback": "cards with no feedback at all",
    "override_rate": "overridden / (accepted + overridden); empty when no card had feedback",
    "override_reasons": "latest reason code of each overridden card, with its count",
}
CSV_COLUMNS = (
    "topic",
    "indicator",
    "period",
    "served",
    "accepted",
    "overridden",
    "no_feedback",
    "override_rate",
    "override_reasons",
)
ALL = "(all)"
# The display text of each override reason a card offers, and of "other", what feedback stores for a reason the card
# did not offer (cds_service/feedback.py).
REASON_DISPLAYS = {
    **{r.code: r.display for r in vars(vocabulary).values() if isinstance(r, vocabulary.OverrideReason)},
    "other": "Other (a reason the card did not offer)",
}
# A spreadsheet runs a cell beginning with one of these as a formula: such cells get a leading apostrophe (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Tally:
    """Counts for one group of cards."""

    served: int = 0
    accepted: int = 0
    overridden: int = 0
    reasons: Counter = field(default_factory=Counter)  # (system, code) -> overridden cards

    def add(self, outcome: str | None, reason: tuple[str | None, str | None] | None) -> None:
        self.served += 1
        if outcome == "accepted":
            self.accepted += 1
        elif outcome == "overridden":
            self.overridden += 1
            self.reasons[reason or (None, None)] += 1

    @property
    def no_feedback(self) -> int:
        return self.served - self.accepted - self.overridden

    @property
    def override_rate(self) -> float | None:
        answered = self.accepted + self.overridden
        return round(self.overridden / answered, 4) if answered else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "served": self.served,
            "accepted": self.accepted,
            "overridden": self.overridden,
            "no_feedback": self.no_feedback,
            "override_rate": self.override_rate,
            "override_reasons": [
                {
                    "system": system,
                    "code": code,
                    **({"display": REASON_DISPLAYS[code]} if code in REASON_DISPLAYS else {}),
                    "count": n,
                }
                for (system, code), n in sorted(self.reasons.items(), key=lambda kv: (-kv[1], _reason_label(kv[0])))
            ],
        }


def build_report(source: Engine | Connection, since: date | None, now: datetime) -> dict[str, Any]:
    """Return the report as plain data (the JSON rendering), read from the store's tables."""
    start = datetime.combine(since, time(), UTC) if since else None
    cards = select(cards_served.c.card_uuid, cards_served.c.topic, cards_served.c.indicator, cards_served.c.served_at)
    answers = (
        select(feedback.c.card_uuid, feedback.c.outcome, feedback.c.override_system, feedback.c.override_code)
        .join(cards_served, cards_served.c.card_uuid == feedback.c.card_uuid)
        .order_by(feedback.c.id)
    )
    if start is not None:
        cards = cards.where(cards_served.c.served_at >= start)
        answers = answers.where(cards_served.c.served_at >= start)
    with _connection(source) as conn:
        latest: dict[str, str] = {}  # card -> outcome of its latest feedback (rows come oldest first)
        reasons: dict[str, tuple[str | None, str | None]] = {}  # card -> latest override reason given
        for row in conn.execute(answers):
            if row.outcome == "overridden" and row.override_code:
                reasons[row.card_uuid] = (row.override_system, row.override_code)
            latest[row.card_uuid] = row.outcome
        groups: dict[tuple[str, str], Tally] = {}
        group_weeks: dict[tuple[str, str], dict[str, Tally]] = {}
        weeks: dict[str, Tally] = {}
        total = Tally()
        first_served: datetime | None = None
        for row in conn.execute(cards):
            outcome = latest.get(row.card_uuid)
            reason = reasons.get(row.card_uuid) if outcome == "overridden" else None
            week = iso_week(row.served_at)
            key = (row.topic, row.indicator)
            for tally in (
                total,
                groups.setdefault(key, Tally()),
                weeks.setdefault(week, Tally()),
                group_weeks.setdefault(key, {}).setdefault(week, Tally()),
            ):
                tally.add(outcome, reason)
            first_served = row.served_at if first_served is None else min(first_served, row.served_at)
    ordered = sorted(groups, key=lambda k: (k[0], INDICATOR_ORDER.get(k[1], 9), k[1]))
    # From the first week with a card (on or after --since): weeks before any card was served are no trend.
    series = week_range(first_served, max([now, *(_week_start(w) for w in weeks)])) if first_served else []
    return {
        "title": TITLE,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "since": since.isoformat() if since else None,
        "definitions": DEFINITIONS,
        "totals": total.as_dict(),
        "by_topic": [
            {
                "topic": topic,
                "indicator": indicator,
                **groups[(topic, indicator)].as_dict(),
                "weeks": [{"week": w, **t.as_dict()} for w, t in sorted(group_weeks[(topic, indicator)].items())],
            }
            for topic, indicator in ordered
        ],
        "weeks": [{"week": w, **weeks.get(w, Tally()).as_dict()} for w in series],
    }


def iso_week(moment: datetime) -> str:
    """Return the ISO 8601 week of an instant in UTC, as 2026-W48."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def week_range(first: datetime, last: datetime) -> list[str]:
    """Return every ISO week from the one holding `first` to the one holding `last`."""
    monday = first.astimezone(UTC).date() - timedelta(days=first.astimezone(UTC).weekday())
    end = last.astimezone(UTC).date()
    result = []
    while monday <= end:
        result.append(iso_week(datetime.combine(monday, time(), UTC)))
        monday += timedelta(days=7)
    return result


# --- renderings ---------------------------------------------------------------------------------------------------


def render(report: dict[str, Any], fmt: str) -> str:
    """Return the report in `fmt`: json, csv or html."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return render_csv(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"unknown format {fmt}")


def render_csv(report: dict[str, Any]) -> str:
    """Return one CSV row per topic and indicator for the whole period ('(all)'), then one per week; totals last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a CR or LF in a cell then quotes it
    writer.writerow(CSV_COLUMNS)

    def row(topic: str, indicator: str, period: str, counts: dict[str, Any]) -> None:
        rate = counts["override_rate"]
        writer.writerow(
            [
                neutralised(cell)
                for cell in [
                    topic,
                    indicator,
                    period,
                    counts["served"],
                    counts["accepted"],
                    counts["overridden"],
                    counts["no_feedback"],
                    "" if rate is None else f"{rate:.4f}",
                    "; ".join(
                        f"{_reason_label((r['system'], r['code']))}={r['count']}" for r in counts["override_reasons"]
                    ),
                ]
            ]
        )

    for group in report["by_topic"]:
        row(group["topic"], group["indicator"], ALL, group)
        for week in group["weeks"]:
            row(group["topic"], group["indicator"], week["week"], week)
    row(ALL, ALL, ALL, report["totals"])
    for week in report["weeks"]:
        row(ALL, ALL, week["week"], week)
    return out.getvalue()


_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1d2733;max-width:72rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
.meta{color:#5a6572;margin:0 0 1.5rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}
th,td{border-bottom:1px solid #d9dee3;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#f2f4f6;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.critical{color:#a3161a;font-weight:600}.warning{color:#8a5300;font-weight:600}.info{color:#1f5f99}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:-1px}
details{margin:.25rem 0 1rem}summary{cursor:pointer;color:#1f5f99}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem;color:#3c4650}dt{font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#3c4650}
"""
_COLOURS = {"accepted": "#2e7d32", "overridden": "#c62828", "no_feedback": "#b0b8c1"}


def render_html(report: dict[str, Any]) -> str:
    """Return a single self-contained HTML page: summary, chart of the weekly trend, tables by topic."""
    e = html.escape
    totals = report["totals"]
    since = report["since"] or "the first card recorded"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(TITLE)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(TITLE)}</h1>",
        f'<p class="meta">Cards served since {e(since)}; generated {e(report["generated_at"])}. '
        "No patient data: counts only.</p>",
        "<h2>Totals</h2>",
        _counts_table([("All topics", "", totals)], totals_row=False),
        "<h2>Cards by week</h2>",
        '<p class="legend">'
        + "".join(
            f'<span style="background:{colour}"></span>{e(name.replace("_", " "))}' for name, colour in _COLOURS.items()
        )
        + "</p>",
        weekly_chart(report["weeks"]),
        "<h2>By topic and indicator</h2>",
    ]
    if report["by_topic"]:
        parts.append(_counts_table([(g["topic"], g["indicator"], g) for g in report["by_topic"]], totals_row=False))
        for group in report["by_topic"]:
            label = f"{group['topic']} ({group['indicator']})"
            rows = [(w["week"], "", w) for w in group["weeks"]]
            parts.append(
                f"<details><summary>Weekly trend: {e(label)}</summary>"
                f"{_counts_table(rows, totals_row=False, first='week')}</details>"
            )
    else:
        parts.append("<p>No cards were served in this period.</p>")
    parts.append("<h2>Definitions</h2><dl>")
    parts.extend(f"<dt>{e(k.replace('_', ' '))}</dt><dd>{e(v)}</dd>" for k, v in report["definitions"].items())
    parts.append("</dl></body></html>\n")
    return "\n".join(parts)


def _counts_table(rows: Sequence[tuple[str, str, dict[str, Any]]], *, totals_row: bool, first: str = "topic") -> str:
    e = html.escape
    second = "" if first == "week" else "<th>indicator</th>"
    head = (
        f"<table><thead><tr><th>{first}</th>{second}<th>served</th><th>accepted</th><th>overridden</th>"
        "<th>no feedback</th><th>override rate</th><th>override reasons</th></tr></thead><tbody>"
    )
    body = []
    for name, indicator, c in rows:
        rate = "–" if c["override_rate"] is None else f"{c['override_rate'] * 100:.1f}%"
        reasons = (
            ", ".join(
                f'<span title="{e(r["system"] or "no system")}">{e(_reason_label((r["system"], r["code"])))}</span>'
                f" × {r['count']}"
                for r in c["override_reasons"]
            )
            or "–"
        )
        attrs = f' data-{first}="{e(name)}"' + (f' data-indicator="{e(indicator)}"' if first != "week" else "")
        cells = f"<td>{e(name)}</td>" + (f'<td class="{e(indicator)}">{e(indicator)}</td>' if first != "week" else "")
        body.append(
            f'<tr{attrs}>{cells}<td class="n served">{c["served"]}</td><td class="n accepted">{c["accepted"]}</td>'
            f'<td class="n overridden">{c["overridden"]}</td><td class="n no-feedback">{c["no_feedback"]}</td>'
            f'<td class="n rate">{rate}</td><td class="reasons">{reasons}</td></tr>'
        )
    return head + "".join(body) + "</tbody></table>"


def weekly_chart(weeks: Sequence[dict[str, Any]]) -> str:
    """Return an inline SVG of stacked weekly bars: accepted, overridden and no feedback, adding up to served."""
    if not weeks:
        return "<p>No cards were served in this period.</p>"
    width, height, left, right, top, bottom = 960, 280, 48, 12, 12, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(w["served"] for w in weeks) or 1
    step = _nice_step(peak)
    ceiling = step * math.ceil(peak / step)
    slot = plot_w / len(weeks)
    bar = max(1.0, slot * 0.75)
    label_every = max(1, math.ceil(len(weeks) / 16))
    e = html.escape
    out = [
        f'<svg role="img" aria-label="Cards served per week" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet">'
    ]
    tick = 0
    while tick <= ceiling:
        y = top + plot_h - plot_h * tick / ceiling
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7eb"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
        tick += step
    for i, week in enumerate(weeks):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        tip = (
            f"{week['week']}: {week['served']} served, {week['accepted']} accepted, "
            f"{week['overridden']} overridden, {week['no_feedback']} no feedback"
            + ("" if week["override_rate"] is None else f", override rate {week['override_rate'] * 100:.1f}%")
        )
        out.append(f'<g data-week="{e(week["week"])}" data-served="{week["served"]}"><title>{e(tip)}</title>')
        for name, colour in _COLOURS.items():
            h = plot_h * week[name] / ceiling
            if h > 0:
                y -= h
                out.append(
                    f'<rect class="{name}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}"/>'
                )
        out.append("</g>")
        if (len(weeks) - 1 - i) % label_every == 0:  # counted back from the latest week, which is always named
            lx, ly = left + i * slot + slot / 2, top + plot_h + 10
            out.append(
                f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="end" '
                f'transform="rotate(-45 {lx:.1f} {ly:.1f})">{e(week["week"])}</text>'
            )
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#5a6572"/>')
    out.append("</svg>")
    return "".join(out)


def _nice_step(peak: int) -> int:
    """Return a gridline step (1, 2, 5, 10, 20, 50 …) giving at most about five lines up to `peak`."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if peak / (factor * magnitude) <= 5:
                return factor * magnitude
        magnitude *= 10


def _reason_label(reason: tuple[str | None, str | None]) -> str:
    """Return a reason as shown: its display text and code, the code alone when unknown, or "(no reason given)"."""
    code = reason[1]
    if not code:
        return NO_REASON
    return f"{REASON_DISPLAYS[code]} ({code})" if code in REASON_DISPLAYS else code


def neutralised(cell: Any) -> Any:
    """Return a CSV cell a spreadsheet will show as text: a leading apostrophe before a formula's first character."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell


def _week_start(week: str) -> datetime:
    year, number = week.split("-W")
    return datetime.combine(date.fromisocalendar(int(year), int(number), 1), time(), UTC)


class _connection:
    """Use a given connection as is, or open one from an engine."""

    def __init__(self, source: Engine | Connection) -> None:
        self.source = source
        self.conn: Connection | None = None

    def __enter__(self) -> Connection:
        if isinstance(self.source, Connection):
            return self.source
        self.conn = self.source.connect()
        return self.conn

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.conn.close()


# --- command line ---------------------------------------------------------------------------------------------


def main(argv: Iterable[str] | None = None, *, now: datetime | None = None) -> int:
    """`python -m cds_service report`: write the report; 0 on success, 2 on a usage or database error."""
    parser = argparse.ArgumentParser(
        prog="python -m cds_service report",
        description="Write the CDS governance report from the store (CDS_DATABASE_URL, else the service's SQLite "
        "file): per topic and indicator, cards served, accepted, overridden, override reasons, "
        "and the trend by ISO week. No patient data.",
    )
    parser.add_argument(
        "--since",
        type=_date,
        help="count cards served on or after this date (YYYY-MM-DD, UTC); default: every card recorded",
    )
    parser.add_argument("--format", choices=FORMATS, default="html", help="html (default), csv or json")
    parser.add_argument(
        "--output",
        help="file to write, - for standard output (default: alp-guard-report-<date>.<format> in your home directory)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        url = settings_from_env().database_url or _default_database_url()
        _require_existing(url)
        store = Store(url, check_writable=False)  # reading only
    except (SettingsError, SchemaError, FileNotFoundError) as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    try:
        text = render(build_report(store.engine, args.since, now or datetime.now(UTC)), args.format)
    finally:
        store.engine.dispose()
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    # By default outside the working copy: a report left in the repository would be one `git add -A` from committed.
    path = args.output or os.path.join(
        os.path.expanduser("~"), f"alp-guard-report-{(now or datetime.now(UTC)).date().isoformat()}.{args.format}"
    )
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    print(f"report: written to {path}", file=sys.stderr)
    return 0


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _default_database_url() -> str:
    """Return the service's default SQLite file, in the Flask instance folder, as the app factory chooses it."""
    from flask import Flask

    instance = Flask("cds_service", instance_relative_config=True).instance_path
    return f"sqlite:///{os.path.join(instance, 'alp_guard.sqlite3')}"


def _require_existing(url: str) -> None:
    """Refuse to report on a SQLite file that does not exist (it would be created empty)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        if not os.path.exists(parsed.database):
            raise FileNotFoundError(f"no database at {parsed.database} (set CDS_DATABASE_URL)")
