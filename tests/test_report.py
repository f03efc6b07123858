"""The governance report on a store filled through the real API: the numbers in JSON, CSV and HTML, and the CLI."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from cds_service import report
from cds_service.store import Store, cards_served, feedback
from tests.conftest import NOW, full_prefetch, hook_request, load_fhir, made_out_for, on_both_databases

ROOT = Path(__file__).resolve().parent.parent
VIEW = "/cds-services/low-alp-patient-view"
SIGN = "/cds-services/low-alp-order-sign"
SINCE = date(2026, 1, 1)
W46, W47 = datetime(2026, 11, 10, 9, tzinfo=UTC), datetime(2026, 11, 17, 9, tzinfo=UTC)
BEFORE_SINCE = datetime(2025, 12, 20, 9, tzinfo=UTC)  # ISO week 2025-W51
PATIENTS = [f"pat-{name}" for name in ("old", "a", "b", "c", "d", "e", "f")]

# What the scenario below must give, per (topic, indicator): served, accepted, overridden, no feedback, rate,
# reasons, and per week (served, accepted, overridden, no feedback).
EXPECTED = {
    ("hpp-antiresorptive", "critical"): (1, 0, 1, 0, 1.0, {None: 1}, {"2026-W48": (1, 0, 1, 0)}),
    ("low-alp-antiresorptive", "warning"): (
        2,
        1,
        1,
        0,
        0.5,
        {"specialist-advised": 1},
        {"2026-W47": (1, 0, 1, 0), "2026-W48": (1, 1, 0, 0)},
    ),
    ("low-alp-unevaluated", "info"): (
        3,
        1,
        1,
        1,
        0.5,
        {"secondary-cause": 1},
        {"2026-W46": (2, 1, 1, 0), "2026-W47": (1, 0, 0, 1)},
    ),
}


def serve(app, client, when: datetime, path: str, patient: str, **prefetch) -> dict:
    """Serve one hook call at `when` and return its single card."""
    app.extensions["alp_guard"].clock = lambda: when
    data = made_out_for(full_prefetch(**prefetch), patient)
    if path == VIEW:
        body = hook_request("patient-view", patient_id=patient, prefetch=data)
    else:
        body = hook_request(
            "order-sign",
            patient_id=patient,
            prefetch=data,
            draft_orders=made_out_for(load_fhir("draft-orders-sandbox-alendronate.json"), patient),
        )
    response = client.post(path, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    (card,) = response.get_json()["cards"]
    return card


def send_feedback(client, path: str, card: dict, outcome: str, reason: str | None = None) -> None:
    item: dict[str, Any] = {"card": card["uuid"], "outcome": outcome, "outcomeTimestamp": "2026-11-24T12:00:00Z"}
    if outcome == "accepted":
        item["acceptedSuggestions"] = [{"id": card["suggestions"][0]["uuid"]}]
    elif reason:
        item["overrideReason"] = {
            "reason": {"code": reason, "system": "http://alp-guard.org/override-reason"},
            "userComment": "PATIENT-SECRET-COMMENT",
        }
    response = client.post(f"{path}/feedback", json={"feedback": [item]})
    assert response.status_code == 200, response.get_data(as_text=True)


def fill(app, client) -> None:
    """Serve seven cards over four weeks and answer most of them, as an EHR would."""
    old = serve(app, client, BEFORE_SINCE, VIEW, "pat-old")
    send_feedback(client, VIEW, old, "overridden", "secondary-cause")  # before --since: not counted
    a = serve(app, client, W46, VIEW, "pat-a")
    send_feedback(client, VIEW, a, "overridden", "secondary-cause")
    b = serve(app, client, W46, VIEW, "pat-b")
    send_feedback(client, VIEW, b, "accepted")
    serve(app, client, W47, VIEW, "pat-c")  # no feedback
    d = serve(app, client, W47, SIGN, "pat-d")
    send_feedback(client, SIGN, d, "overridden")  # first without a reason, then the reason: the reason counts
    send_feedback(client, SIGN, d, "overridden", "specialist-advised")
    e = serve(app, client, NOW, SIGN, "pat-e", conditions="conditions-hpp.json")
    send_feedback(client, SIGN, e, "overridden")  # no reason at all
    f = serve(app, client, NOW, SIGN, "pat-f")
    send_feedback(client, SIGN, f, "accepted")


@pytest.fixture
def filled(app, client) -> Store:
    fill(app, client)
    return app.extensions["alp_guard"].store


def as_tuple(counts: dict) -> tuple:
    return counts["served"], counts["accepted"], counts["overridden"], counts["no_feedback"]


# --- numbers --------------------------------------------------------------------------------------------------------


@on_both_databases
def test_json_counts_per_topic_and_indicator(filled: Store) -> None:
    data = json.loads(report.render(report.build_report(filled.engine, SINCE, NOW), "json"))
    assert data["since"] == "2026-01-01"
    groups = {(g["topic"], g["indicator"]): g for g in data["by_topic"]}
    assert list(groups) == list(EXPECTED)  # sorted by topic, then severity
    for key, (served, accepted, overridden, no_feedback, rate, reasons, weeks) in EXPECTED.items():
        group = groups[key]
        assert as_tuple(group) == (served, accepted, overridden, no_feedback), key
        assert group["override_rate"] == rate, key
        assert {r["code"]: r["count"] for r in group["override_reasons"]} == reasons, key
        assert {w["week"]: as_tuple(w) for w in group["weeks"]} == weeks, key
    assert as_tuple(data["totals"]) == (6, 2, 3, 1)
    assert data["totals"]["override_rate"] == 0.6


@on_both_databases
def test_json_weekly_trend_runs_from_the_first_week_with_cards_to_now(filled: Store) -> None:
    data = report.build_report(filled.engine, SINCE, NOW)
    weeks = [w["week"] for w in data["weeks"]]
    # --since is 2026-01-01, but the first card after it was served in week 46: the chart starts there.
    assert weeks == ["2026-W46", "2026-W47", "2026-W48"]
    by_week = {w["week"]: as_tuple(w) for w in data["weeks"]}
    assert by_week["2026-W46"] == (2, 1, 1, 0)
    assert by_week["2026-W47"] == (2, 0, 1, 1)
    assert by_week["2026-W48"] == (2, 1, 1, 0)
    assert sum(w["served"] for w in data["weeks"]) == 6


def test_without_since_every_card_counts(filled: Store) -> None:
    data = report.build_report(filled.engine, None, NOW)
    assert as_tuple(data["totals"]) == (7, 2, 4, 1)
    unevaluated = next(g for g in data["by_topic"] if g["topic"] == "low-alp-unevaluated")
    assert {r["code"]: r["count"] for r in unevaluated["override_reasons"]} == {"secondary-cause": 2}
    assert data["weeks"][0]["week"] == "2025-W51"


def test_an_empty_store_gives_zeros(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        data = report.build_report(store.engine, SINCE, NOW)
    finally:
        store.engine.dispose()
    assert as_tuple(data["totals"]) == (0, 0, 0, 0) and data["totals"]["override_rate"] is None
    assert data["by_topic"] == []
    assert "No cards were served" in report.render(data, "html")


def test_the_latest_feedback_decides_a_cards_outcome(filled: Store, client) -> None:
    # The accepted low-ALP order card of week 48 is overridden later: it now counts as overridden.
    with filled.engine.connect() as conn:
        card_uuid = conn.execute(
            text(
                "SELECT c.card_uuid FROM cards_served c JOIN feedback f ON f.card_uuid = c.card_uuid "
                "WHERE c.topic = 'low-alp-antiresorptive' AND f.outcome = 'accepted'"
            )
        ).scalar_one()
    send_feedback(client, SIGN, {"uuid": card_uuid}, "overridden", "specialist-advised")
    data = report.build_report(filled.engine, SINCE, NOW)
    group = next(g for g in data["by_topic"] if g["topic"] == "low-alp-antiresorptive")
    assert as_tuple(group) == (2, 0, 2, 0)
    assert group["override_reasons"] == [
        {
            "system": "http://alp-guard.org/override-reason",
            "code": "specialist-advised",
            "display": "Benefit outweighs risk (specialist advised)",
            "count": 2,
        }
    ]


# --- renderings -----------------------------------------------------------------------------------------------------


def label(code: str | None) -> str:
    """Return how the report shows a reason code: the card's display text, then the code."""
    return f"{report.REASON_DISPLAYS[code]} ({code})" if code else report.NO_REASON


def test_override_reasons_carry_their_display_text(filled: Store) -> None:
    data = report.build_report(filled.engine, SINCE, NOW)
    reasons = [r for g in data["by_topic"] for r in g["override_reasons"] if r["code"] == "secondary-cause"]
    assert reasons and all(r["display"] == "Low ALP explained by a secondary cause" for r in reasons)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(tmp_path: Path, start: str) -> None:
    store = Store(f"sqlite:///{tmp_path / 'formula.sqlite3'}")
    try:
        code = f'{start}HYPERLINK("https://evil.example","x")'
        with store.engine.begin() as conn:  # rows as an older release or another writer may have left them
            conn.execute(
                cards_served.insert().values(
                    card_uuid="c1",
                    service_id="s",
                    hook="order-sign",
                    hook_instance="h",
                    topic=f"{start}SUM(1+1)",
                    indicator="warning",
                    served_at=NOW,
                )
            )
            conn.execute(
                feedback.insert().values(
                    service_id="s",
                    card_uuid="c1",
                    outcome="overridden",
                    outcome_timestamp="2026-11-24T12:00:00Z",
                    override_code=code,
                    received_at=NOW,
                    event_digest="d1",
                )
            )
        rendered = report.render(report.build_report(store.engine, None, NOW), "csv")
        rows = list(csv.reader(io.StringIO(rendered, newline="")))
    finally:
        store.engine.dispose()
    cells = [cell for row in rows[1:] for cell in row]
    assert f"'{start}SUM(1+1)" in cells and f"'{code}=1" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_csv_rows_hold_the_same_numbers(filled: Store) -> None:
    rows = list(csv.DictReader(io.StringIO(report.render(report.build_report(filled.engine, SINCE, NOW), "csv"))))
    assert tuple(rows[0]) == report.CSV_COLUMNS
    index = {(r["topic"], r["indicator"], r["period"]): r for r in rows}
    for (topic, indicator), (served, accepted, overridden, no_feedback, rate, reasons, weeks) in EXPECTED.items():
        row = index[(topic, indicator, "(all)")]
        assert (int(row["served"]), int(row["accepted"]), int(row["overridden"]), int(row["no_feedback"])) == (
            served,
            accepted,
            overridden,
            no_feedback,
        )
        assert float(row["override_rate"]) == rate
        expected_reasons = "; ".join(f"{label(code)}={n}" for code, n in reasons.items())
        assert row["override_reasons"] == expected_reasons
        for week, counts in weeks.items():
            w = index[(topic, indicator, week)]
            assert tuple(int(w[k]) for k in ("served", "accepted", "overridden", "no_feedback")) == counts
    total = index[("(all)", "(all)", "(all)")]
    assert (total["served"], total["accepted"], total["overridden"], total["override_rate"]) == (
        "6",
        "2",
        "3",
        "0.6000",
    )
    assert ("(all)", "(all)", "2026-W10") not in index  # before the first week with a card


def test_html_is_one_self_contained_file_with_the_numbers_and_a_chart(filled: Store) -> None:
    page = report.render(report.build_report(filled.engine, SINCE, NOW), "html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # Nothing is fetched: no script, no external stylesheet, font, image or link. The only URLs are the override
    # reasons' code systems, shown as tooltips.
    assert not re.search(r"<script|<link|<img|<iframe|<object|<embed|@import|url\(|src=|href=", page, re.I)
    assert not re.search(r"https?://", re.sub(r' title="[^"]*"', "", page))
    for (topic, indicator), (served, accepted, overridden, no_feedback, rate, reasons, _) in EXPECTED.items():
        row = re.search(rf'<tr data-topic="{topic}" data-indicator="{indicator}">(.*?)</tr>', page).group(1)
        cells = dict(re.findall(r'<td class="n ([a-z-]+)">([^<]*)</td>', row))
        assert cells == {
            "served": str(served),
            "accepted": str(accepted),
            "overridden": str(overridden),
            "no-feedback": str(no_feedback),
            "rate": f"{rate * 100:.1f}%",
        }
        for code, n in reasons.items():
            assert f"{html.escape(label(code))}</span> × {n}" in row.replace("&nbsp;", " ")
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    bars = dict(re.findall(r'<g data-week="([^"]+)" data-served="(\d+)">', svg))
    assert len(bars) == 3 and bars["2026-W46"] == bars["2026-W47"] == bars["2026-W48"] == "2"
    assert sum(map(int, bars.values())) == 6
    assert svg.count('class="overridden"') == 3  # one stacked segment per week with an override


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_no_patient_data_in_any_format(filled: Store, fmt: str) -> None:
    with filled.engine.connect() as conn:
        secrets = [r[0] for r in conn.execute(text("SELECT patient_key FROM cards_served"))]
        secrets += [r[0] for r in conn.execute(text("SELECT card_uuid FROM cards_served"))]
        secrets += [r[0] for r in conn.execute(text("SELECT hook_instance FROM cards_served"))]
    out = report.render(report.build_report(filled.engine, None, NOW), fmt)
    for secret in [*secrets, *PATIENTS, "PATIENT-SECRET-COMMENT", "MedicationRequest/"]:
        assert secret not in out


# --- command line ---------------------------------------------------------------------------------------------------


def run_cli(tmp_path: Path, *args: str, database: Path | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")} | extra_env
    if database is not None:
        env["CDS_DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run(
        [sys.executable, "-m", "cds_service", "report", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_end_to_end_on_a_sqlite_file(filled: Store, tmp_path: Path) -> None:
    database = Path(filled.engine.url.database)
    out = tmp_path / "report"
    out.mkdir()
    for fmt in ("html", "csv"):
        result = run_cli(
            tmp_path, "--since", "2026-01-01", "--format", fmt, "--output", str(out / f"r.{fmt}"), database=database
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
    # Without --output it goes to a dated file in the home directory, outside the working copy.
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli(tmp_path, "--format", "csv", database=database, HOME=str(home))
    assert result.returncode == 0, result.stderr
    (written,) = home.iterdir()
    assert re.fullmatch(r"alp-guard-report-\d{4}-\d{2}-\d{2}\.csv", written.name)
    assert result.stderr.strip() == f"report: written to {written}" and result.stdout == ""
    # With --output - the report goes to standard output.
    result = run_cli(tmp_path, "--since", "2026-01-01", "--format", "json", "--output", "-", database=database)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert as_tuple(data["totals"]) == (6, 2, 3, 1)
    assert {(g["topic"], g["indicator"]): as_tuple(g) for g in data["by_topic"]} == {
        key: expected[:4] for key, expected in EXPECTED.items()
    }
    rows = list(csv.DictReader((out / "r.csv").open(encoding="utf-8")))
    assert [r["served"] for r in rows if r["period"] == "(all)"] == ["1", "2", "3", "6"]
    page = (out / "r.html").read_text(encoding="utf-8")
    assert "<svg" in page and 'data-topic="low-alp-unevaluated"' in page


def test_cli_refuses_a_missing_database_and_a_bad_date(tmp_path: Path, monkeypatch, capsys) -> None:
    missing = tmp_path / "nothing-here.sqlite3"
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{missing}")
    assert report.main(["--format", "json"]) == 2
    assert "no database at" in capsys.readouterr().err
    assert not missing.exists()
    with pytest.raises(SystemExit) as exit_:
        report.main(["--since", "2026-13-01"])
    assert exit_.value.code == 2 and "not a date" in capsys.readouterr().err


def test_cli_refuses_a_database_of_a_newer_release(tmp_path: Path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    Store(url).engine.dispose()
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version) VALUES (99)"))
    engine.dispose()
    monkeypatch.setenv("CDS_DATABASE_URL", url)
    assert report.main(["--format", "json"]) == 2
    assert "version 99" in capsys.readouterr().err


def test_report_is_dispatched_without_touching_the_server_options(monkeypatch, tmp_path: Path, capsys) -> None:
    from cds_service.__main__ import main

    store = Store(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    store.engine.dispose()
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'r.sqlite3'}")
    assert main(["report", "--format", "csv", "--output", "-"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == ",".join(report.CSV_COLUMNS)
