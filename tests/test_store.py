"""Tests for Store on SQLite and PostgreSQL: audit round trips, idempotent feedback, atomicity, sharing, health.

Tests taking `store` or `url` run once per database (`any_database_url`); the file-level ones are SQLite only.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

import cds_service.store as store_module
from cds_service.store import (
    SCHEMA_VERSION,
    FeedbackEvent,
    ServedCard,
    SqliteWriterGate,
    Store,
    cards_served,
    feedback,
    schema_version,
)
from hooks.suppression import PastOverride
from tests.store_reads import feedback_for, served_card

SERVED_AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RECEIVED_AT = datetime(2026, 11, 24, 20, 17, 2, tzinfo=UTC)
CARD_A = "00000000-0000-4000-8000-000000000001"
CARD_B = "00000000-0000-4000-8000-000000000002"
SUGGESTION = "00000000-0000-4000-8000-000000000003"
SUGGESTION_2 = "00000000-0000-4000-8000-000000000004"


def served(card_uuid: str, served_at: datetime = SERVED_AT, **changes: str) -> ServedCard:
    fields = {
        "service_id": "alp-guard-order-sign",
        "hook": "order-sign",
        "hook_instance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "topic": "bisphosphonate-low-alp",
        "indicator": "warning",
    }
    fields.update(changes)
    return ServedCard(card_uuid=card_uuid, served_at=served_at, **fields)


ACCEPTED = FeedbackEvent(CARD_A, "accepted", "2021-12-11T10:05:31Z", (SUGGESTION,))
OVERRIDDEN = FeedbackEvent(
    CARD_A, "overridden", "2026-11-24T20:16:41.449Z", (), "x", "http://example.org/override", "seen by endocrinology"
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.sqlite3"


@pytest.fixture
def url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    result = Store(url)
    yield result
    result.engine.dispose()


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[Store]:
    result = Store(f"sqlite:///{db_path}")
    yield result
    result.engine.dispose()


def count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# --- schema -----------------------------------------------------------------------------------------------------


def test_the_database_file_and_tables_are_created(sqlite_store: Store, db_path: Path) -> None:
    assert db_path.is_file()
    with sqlite_store.engine.connect() as conn:
        names = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert {"schema_version", "cards_served", "feedback"} <= names


def test_schema_version_holds_every_step(store: Store) -> None:
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version)).all()
    assert [tuple(r) for r in rows] == [(1,), (2,), (3,), (4,)]
    assert SCHEMA_VERSION == 4


def test_schema_version_is_written_once_when_the_store_is_opened_again(url: str, store: Store) -> None:
    again = Store(url)
    try:
        with again.engine.connect() as conn:
            assert conn.execute(
                select(schema_version.c.version).order_by(schema_version.c.version)
            ).scalars().all() == [1, 2, 3, 4]
    finally:
        again.engine.dispose()


def test_sqlite_file_uses_wal_journal_and_a_busy_timeout(sqlite_store: Store, db_path: Path) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    # WAL mode is persistent in the file itself.
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


# --- cards served -----------------------------------------------------------------------------------------------


def test_record_cards_then_served_card_round_trip(store: Store) -> None:
    a = served(CARD_A)
    b = served(CARD_B, topic="hpp-workup", indicator="info", service_id="alp-guard-patient-view", hook="patient-view")
    store.record_cards([a, b])
    got_a, got_b = served_card(store, CARD_A), served_card(store, CARD_B)
    assert got_a is not None and got_b is not None
    for got, sent in ((got_a, a), (got_b, b)):
        assert (got.card_uuid, got.service_id, got.hook, got.hook_instance, got.topic, got.indicator) == (
            sent.card_uuid,
            sent.service_id,
            sent.hook,
            sent.hook_instance,
            sent.topic,
            sent.indicator,
        )
    assert count(store, cards_served) == 2


@pytest.mark.parametrize(
    "served_at",
    [SERVED_AT, datetime(2026, 11, 24, 13, 0, tzinfo=timezone(timedelta(hours=1)))],
    ids=["utc", "plus-one-hour"],
)
def test_served_at_round_trips_as_the_same_aware_instant(store: Store, served_at: datetime) -> None:
    store.record_cards([served(CARD_A, served_at)])
    got = served_card(store, CARD_A)
    assert got is not None
    assert got.served_at.tzinfo is not None, f"served_at came back naive: {got.served_at!r}"
    assert got.served_at == SERVED_AT
    assert got == served(CARD_A, served_at)


def test_served_card_of_an_unknown_uuid_is_none(store: Store) -> None:
    store.record_cards([served(CARD_A)])
    assert served_card(store, CARD_B) is None


def test_record_cards_with_no_cards_stores_nothing(store: Store) -> None:
    store.record_cards([])
    store.record_cards(iter(()))
    assert count(store, cards_served) == 0


def test_record_cards_accepts_a_generator(store: Store) -> None:
    store.record_cards(served(u) for u in (CARD_A, CARD_B))
    assert served_card(store, CARD_B) is not None


def test_record_cards_is_atomic(store: Store) -> None:
    with pytest.raises(IntegrityError):
        store.record_cards([served(CARD_A), served(CARD_A, topic="other")])
    assert served_card(store, CARD_A) is None
    assert count(store, cards_served) == 0


def test_a_card_uuid_cannot_be_recorded_twice(store: Store) -> None:
    store.record_cards([served(CARD_A)])
    with pytest.raises(IntegrityError):
        store.record_cards([served(CARD_B), served(CARD_A)])
    assert served_card(store, CARD_B) is None  # the failing batch left nothing behind
    assert served_card(store, CARD_A).topic == "bisphosphonate-low-alp"  # type: ignore[union-attr]


# --- feedback ---------------------------------------------------------------------------------------------------


def test_record_feedback_returns_the_number_of_new_rows(store: Store) -> None:
    assert store.record_feedback("alp-guard-order-sign", [ACCEPTED, OVERRIDDEN], RECEIVED_AT) == 2
    assert count(store, feedback) == 2


def test_record_feedback_is_idempotent_for_an_identical_event(store: Store) -> None:
    assert store.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT) == 1
    assert store.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT + timedelta(minutes=1)) == 0
    rows = feedback_for(store, CARD_A)
    assert len(rows) == 1
    assert rows[0]["outcome_timestamp"] == "2021-12-11T10:05:31Z"


def test_the_event_digest_is_the_one_rows_were_stored_under() -> None:
    # Rows already in a database were deduplicated under this digest: a new computation must give the same one.
    said = ["alp-guard-order-sign", CARD_A, "overridden", "", [], "x", "http://example.org/override", None]
    expected = __import__("hashlib").sha256(json.dumps(said).encode()).hexdigest()
    assert store_module._digest("alp-guard-order-sign", OVERRIDDEN) == expected


def test_feedback_goes_in_as_short_transactions_with_the_writer_gate_let_go_between(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[str] = []
    gate = sqlite_store._writers
    assert gate is not None
    original = gate.held

    def watched():  # type: ignore[no-untyped-def]
        held.append("enter")
        return original()

    monkeypatch.setattr(gate, "held", watched)
    events = [dataclasses.replace(OVERRIDDEN, card_uuid=f"card-{i}") for i in range(45)]
    assert sqlite_store.record_feedback("alp-guard-order-sign", events, RECEIVED_AT) == 45
    assert len(held) == 3  # 20 + 20 + 5 rows, each its own transaction
    assert count(sqlite_store, feedback) == 45
    assert sqlite_store.record_feedback("alp-guard-order-sign", events, RECEIVED_AT) == 0  # all repeats


def test_a_repeat_inside_one_batch_counts_once(store: Store) -> None:
    assert store.record_feedback("alp-guard-order-sign", [ACCEPTED, ACCEPTED, OVERRIDDEN], RECEIVED_AT) == 2
    assert count(store, feedback) == 2


def test_the_same_card_and_time_with_other_details_is_kept_as_another_event(store: Store) -> None:
    store.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT)
    resent = FeedbackEvent(CARD_A, "accepted", "2021-12-11T10:05:31Z", (SUGGESTION_2,))
    assert store.record_feedback("alp-guard-order-sign", [resent], RECEIVED_AT) == 1
    stored = [json.loads(row["accepted_suggestions"]) for row in feedback_for(store, CARD_A)]
    assert stored == [[SUGGESTION], [SUGGESTION_2]]


def test_an_override_reason_sent_later_is_not_lost(store: Store) -> None:
    bare = FeedbackEvent(CARD_A, "overridden", "2021-12-11T10:05:31Z")
    reasoned = FeedbackEvent(CARD_A, "overridden", "2021-12-11T10:05:31Z", override_code="hpp-excluded")
    assert store.record_feedback("s", [bare], RECEIVED_AT) == 1
    assert store.record_feedback("s", [reasoned], RECEIVED_AT) == 1
    assert [row["override_code"] for row in feedback_for(store, CARD_A)] == [None, "hpp-excluded"]


def test_patient_keys_are_stable_keyed_hashes_shared_by_instances(store: Store, tmp_path) -> None:
    key = store.patient_key("pat-1")
    assert len(key) == 64 and "pat-1" not in key
    assert key == store.patient_key("pat-1") != store.patient_key("pat-2")
    twin = Store(store.engine.url.render_as_string(hide_password=False))  # str() would mask a password
    assert twin.patient_key("pat-1") == key


def test_overrides_of_a_patients_cards_are_listed_since_a_time(store: Store) -> None:
    key = store.patient_key("pat-1")
    store.record_cards(
        [
            ServedCard(
                CARD_A,
                "low-alp-patient-view",
                "patient-view",
                "h1",
                "low-alp-unevaluated",
                "info",
                RECEIVED_AT,
                patient_key=key,
            )
        ]
    )
    store.record_feedback(
        "low-alp-patient-view", [FeedbackEvent(CARD_A, "overridden", "2021-12-11T10:05:31Z")], RECEIVED_AT
    )
    (past,) = store.overrides(key, RECEIVED_AT - timedelta(days=1))
    assert (past.hook, past.topic, past.overridden_on) == ("patient-view", "low-alp-unevaluated", RECEIVED_AT.date())
    assert store.overrides(key, RECEIVED_AT + timedelta(days=1)) == []
    assert store.overrides(store.patient_key("pat-2"), RECEIVED_AT - timedelta(days=1)) == []


def test_the_same_card_and_outcome_at_another_time_is_a_repeat(store: Store) -> None:
    assert store.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT) == 1
    later = dataclasses.replace(ACCEPTED, outcome_timestamp="2021-12-11T10:06:00Z")
    assert store.record_feedback("alp-guard-order-sign", [later], RECEIVED_AT + timedelta(hours=1)) == 0
    assert [r["outcome_timestamp"] for r in feedback_for(store, CARD_A)] == ["2021-12-11T10:05:31Z"]


@pytest.mark.parametrize(
    "other",
    [
        FeedbackEvent(CARD_A, "accepted", "2021-12-11T10:06:00Z", ("another-suggestion",)),  # other suggestion
        FeedbackEvent(CARD_A, "overridden", "2021-12-11T10:05:31Z", (), None, None, "changed my mind"),  # outcome
    ],
    ids=["other-suggestion", "other-outcome"],
)
def test_a_different_event_for_the_same_card_is_stored(store: Store, other: FeedbackEvent) -> None:
    assert store.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT) == 1
    assert store.record_feedback("alp-guard-order-sign", [other], RECEIVED_AT) == 1
    rows = feedback_for(store, CARD_A)
    assert [(r["outcome"], r["outcome_timestamp"]) for r in rows] == [
        ("accepted", "2021-12-11T10:05:31Z"),
        (other.outcome, other.outcome_timestamp),
    ]


def test_feedback_rows_round_trip(store: Store) -> None:
    two = FeedbackEvent(CARD_B, "accepted", "2021-12-11T10:05:31Z", (SUGGESTION, SUGGESTION_2))
    store.record_feedback("alp-guard-order-sign", [ACCEPTED, OVERRIDDEN, two], RECEIVED_AT)
    accepted, overridden = feedback_for(store, CARD_A)
    assert accepted["service_id"] == "alp-guard-order-sign"
    assert accepted["card_uuid"] == CARD_A
    assert accepted["outcome"] == "accepted"
    assert json.loads(accepted["accepted_suggestions"]) == [SUGGESTION]
    assert (accepted["override_code"], accepted["override_system"], accepted["user_comment"]) == (None, None, None)
    assert overridden["outcome"] == "overridden"
    assert overridden["accepted_suggestions"] is None
    assert (overridden["override_code"], overridden["override_system"], overridden["user_comment"]) == (
        "x",
        "http://example.org/override",
        "seen by endocrinology",
    )
    assert overridden["id"] > accepted["id"]  # oldest first
    [row_b] = feedback_for(store, CARD_B)
    assert json.loads(row_b["accepted_suggestions"]) == [SUGGESTION, SUGGESTION_2]


def test_feedback_received_at_round_trips_as_an_aware_instant(store: Store) -> None:
    store.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT)
    received_at = feedback_for(store, CARD_A)[0]["received_at"]
    assert received_at.tzinfo is not None, f"received_at came back naive: {received_at!r}"
    assert received_at == RECEIVED_AT


def test_feedback_for_an_unknown_card_is_empty(store: Store) -> None:
    store.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT)
    assert feedback_for(store, CARD_B) == []


def test_record_feedback_of_no_events_is_zero(store: Store) -> None:
    assert store.record_feedback("alp-guard-order-sign", [], RECEIVED_AT) == 0
    assert count(store, feedback) == 0


def test_record_feedback_is_atomic(store: Store) -> None:
    broken = FeedbackEvent(CARD_B, None, "2021-12-11T10:05:31Z")  # type: ignore[arg-type]  # NOT NULL outcome
    with pytest.raises(IntegrityError):
        store.record_feedback("alp-guard-order-sign", [ACCEPTED, broken], RECEIVED_AT)
    assert feedback_for(store, CARD_A) == []
    assert count(store, feedback) == 0


# --- the override history ---------------------------------------------------------------------------------------

ORDER_SIGN, PATIENT_VIEW = "alp-guard-order-sign", "alp-guard-patient-view"
FEEDBACK_PATIENT_INDEX = "ix_feedback_patient_key_outcome_received_at"


def card_uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-1{n:011d}"


def overridden(card: str, minute: int = 0) -> FeedbackEvent:
    return FeedbackEvent(card, "overridden", f"2026-11-24T20:{minute:02d}:00Z")


def accepted(card: str) -> FeedbackEvent:
    return FeedbackEvent(card, "accepted", "2026-11-24T20:00:00Z", (SUGGESTION,))


def stored_patient_keys(store: Store) -> dict[tuple[str, str], str | None]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(feedback.c.service_id, feedback.c.card_uuid, feedback.c.patient_key))
        return {(r.service_id, r.card_uuid): r.patient_key for r in rows}


def test_record_feedback_gives_each_event_the_patient_of_the_card_this_service_served(store: Store) -> None:
    p1, p2 = store.patient_key("pat-1"), store.patient_key("pat-2")
    store.record_cards(
        [
            served(CARD_A, patient_key=p1),
            served(CARD_B, service_id=PATIENT_VIEW, hook="patient-view", patient_key=p2),
            served(card_uuid(1)),
        ]
    )  # served without a patient
    events = [overridden(CARD_A), accepted(CARD_B), overridden(card_uuid(1)), overridden(card_uuid(2))]
    assert store.record_feedback(ORDER_SIGN, events, RECEIVED_AT) == 4  # unknown cards' feedback is kept too
    assert store.record_feedback(PATIENT_VIEW, [accepted(CARD_B)], RECEIVED_AT) == 1
    assert stored_patient_keys(store) == {
        (ORDER_SIGN, CARD_A): p1,
        (ORDER_SIGN, CARD_B): None,  # served by the patient-view service, not this one
        (ORDER_SIGN, card_uuid(1)): None,
        (ORDER_SIGN, card_uuid(2)): None,  # never served
        (PATIENT_VIEW, CARD_B): p2,
    }


def test_record_feedback_looks_up_a_batch_of_many_cards(store: Store) -> None:
    key = store.patient_key("pat-1")
    cards = [served(card_uuid(n), patient_key=key) for n in range(2500)]  # more than one lookup's worth
    store.record_cards(cards)
    assert store.record_feedback(ORDER_SIGN, [accepted(c.card_uuid) for c in cards], RECEIVED_AT) == 2500
    assert set(stored_patient_keys(store).values()) == {key}


@pytest.fixture
def history(store: Store) -> dict[str, str]:
    """Record cards and feedback of two patients across services and times; return the patients' keys."""
    p1, p2 = store.patient_key("pat-1"), store.patient_key("pat-2")
    store.record_cards(
        [
            served(card_uuid(1), patient_key=p1, order_ref="MedicationRequest/1", fingerprint="f1"),
            served(card_uuid(2), patient_key=p1, topic="hpp-workup", indicator="info"),
            served(card_uuid(3), patient_key=p1),
            served(
                card_uuid(4),
                service_id=PATIENT_VIEW,
                hook="patient-view",
                topic="low-alp-unevaluated",
                indicator="info",
                patient_key=p1,
            ),
            served(card_uuid(5), patient_key=p2, order_ref="MedicationRequest/5"),
            served(card_uuid(6)),
        ]
    )
    earlier = RECEIVED_AT - timedelta(days=10)
    store.record_feedback(ORDER_SIGN, [overridden(card_uuid(2))], earlier)
    store.record_feedback(
        ORDER_SIGN,
        [
            overridden(card_uuid(1)),
            accepted(card_uuid(3)),
            overridden(card_uuid(4)),
            overridden(card_uuid(5)),
            overridden(card_uuid(6)),
            overridden(card_uuid(7)),
        ],
        RECEIVED_AT,
    )
    # Sent again the next day with a reason: another event (the same override again would be a repeat).
    store.record_feedback(
        ORDER_SIGN,
        [dataclasses.replace(overridden(card_uuid(1), minute=5), override_code="r1")],
        RECEIVED_AT + timedelta(days=1),
    )
    store.record_feedback(PATIENT_VIEW, [overridden(card_uuid(4))], RECEIVED_AT)
    return {"pat-1": p1, "pat-2": p2}


def listed(overrides: list[PastOverride]) -> list[tuple[Any, ...]]:
    """Return what each override says of its card and feedback (the session facts have their own test)."""
    return sorted(dataclasses.astuple(o)[:6] for o in overrides)


def test_overrides_are_the_patients_overridden_cards_since_the_time(store: Store, history: dict[str, str]) -> None:
    today, tomorrow = RECEIVED_AT.date(), RECEIVED_AT.date() + timedelta(days=1)
    assert listed(store.overrides(history["pat-1"], RECEIVED_AT)) == [  # received exactly at `since` counts
        ("order-sign", "bisphosphonate-low-alp", "MedicationRequest/1", "f1", today, "warning"),
        ("order-sign", "bisphosphonate-low-alp", "MedicationRequest/1", "f1", tomorrow, "warning"),
        # card 4 once: its override sent to the order-sign service is not the patient-view service's
        ("patient-view", "low-alp-unevaluated", None, None, today, "info"),
    ]
    assert listed(store.overrides(history["pat-2"], RECEIVED_AT)) == [
        ("order-sign", "bisphosphonate-low-alp", "MedicationRequest/5", None, today, "warning")
    ]


def test_overrides_leave_out_earlier_feedback_and_acceptances(store: Store, history: dict[str, str]) -> None:
    since = RECEIVED_AT - timedelta(days=30)
    topics = sorted(o.topic for o in store.overrides(history["pat-1"], since))
    assert topics == ["bisphosphonate-low-alp", "bisphosphonate-low-alp", "hpp-workup", "low-alp-unevaluated"]
    assert store.overrides(history["pat-1"], RECEIVED_AT + timedelta(days=2)) == []
    assert store.overrides(store.patient_key("pat-3"), since) == []


def overrides_by_card_join(store: Store, patient_key: str, since: datetime) -> list[PastOverride]:
    """Return the overrides as the store found them before migration 2: every card of the patient, joined."""
    query = (
        select(
            cards_served.c.hook,
            cards_served.c.topic,
            cards_served.c.order_ref,
            cards_served.c.fingerprint,
            cards_served.c.indicator,
            feedback.c.received_at,
        )
        .join(
            feedback,
            (feedback.c.card_uuid == cards_served.c.card_uuid) & (feedback.c.service_id == cards_served.c.service_id),
        )
        .where(
            cards_served.c.patient_key == patient_key,
            feedback.c.outcome == "overridden",
            feedback.c.received_at >= since,
        )
    )
    with store.engine.connect() as conn:
        return [
            PastOverride(r.hook, r.topic, r.order_ref, r.fingerprint, r.received_at.date(), r.indicator)
            for r in conn.execute(query)
        ]


@pytest.mark.parametrize("days_before", [30, 10, 0, -1, -2])
def test_overrides_are_those_the_join_over_every_card_finds(
    store: Store, history: dict[str, str], days_before: int
) -> None:
    since = RECEIVED_AT - timedelta(days=days_before)
    for key in history.values():
        assert listed(store.overrides(key, since)) == listed(overrides_by_card_join(store, key, since))


def test_overrides_carry_the_ordering_session_and_whether_a_later_select_superseded_them(store: Store) -> None:
    key = store.patient_key("pat-1")
    select_card = {
        "service_id": "alp-guard-order-select",
        "hook": "order-select",
        "patient_key": key,
        "order_ref": "MedicationRequest/request-123",
        "drugs": "alendronate",
        "encounter_key": "e1",
        "user_key": "u1",
    }
    store.record_cards(
        [
            served(card_uuid(1), **select_card),
            served(card_uuid(2), SERVED_AT + timedelta(minutes=5), **select_card),
            served(card_uuid(3), SERVED_AT + timedelta(minutes=9), **{**select_card, "drugs": "denosumab"}),
        ]
    )
    store.record_feedback("alp-guard-order-select", [overridden(card_uuid(n)) for n in (1, 2, 3)], RECEIVED_AT)
    found = {(o.served_at, o.drugs): o for o in store.overrides(key, RECEIVED_AT)}
    first, second = found[(SERVED_AT, "alendronate")], found[(SERVED_AT + timedelta(minutes=5), "alendronate")]
    assert (first.encounter, first.user, first.superseded) == ("e1", "u1", True)  # shown again 5 minutes later
    assert second.superseded is False  # another drug's card does not supersede it
    assert found[(SERVED_AT + timedelta(minutes=9), "denosumab")].superseded is False
    assert first.served_at.tzinfo is not None


def statements_run(store: Store, call: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Return the SQL statements and parameters `call` sends to the database."""
    sent: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return sent


def query_plan(store: Store, statement: str, parameters: Any) -> str:
    """Return the database's plan for a statement, as text."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return "\n".join(r.detail for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
        conn.exec_driver_sql("ANALYZE cards_served")  # the statistics PostgreSQL plans by, fresh
        conn.exec_driver_sql("ANALYZE feedback")
        return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))


def test_overrides_read_the_patients_feedback_by_index_not_every_card(store: Store) -> None:
    key, other = store.patient_key("pat-1"), store.patient_key("pat-2")
    cards = [served(card_uuid(n), patient_key=key if n % 10 else other) for n in range(2000)]
    store.record_cards(cards)
    store.record_feedback(ORDER_SIGN, [accepted(c.card_uuid) for c in cards], RECEIVED_AT)
    store.record_feedback(ORDER_SIGN, [overridden(card_uuid(n)) for n in (1, 2, 3)], RECEIVED_AT)
    since = RECEIVED_AT - timedelta(days=1)
    [(statement, parameters)] = statements_run(store, lambda: store.overrides(key, since))
    assert len(store.overrides(key, since)) == 3
    plan = query_plan(store, statement, parameters)
    # One range of the index, from the patient's key on, then each card by its primary key; no table read whole.
    if store.engine.dialect.name == "sqlite":
        assert plan.splitlines() == [
            f"SEARCH feedback USING INDEX {FEEDBACK_PATIENT_INDEX} (patient_key=? AND outcome=? AND received_at>?)",
            "SEARCH cards_served USING INDEX sqlite_autoindex_cards_served_1 (card_uuid=?)",
            # whether an order-select card was shown again later: the patient's cards, by their index
            "CORRELATED SCALAR SUBQUERY 1",
            "SEARCH later USING INDEX ix_cards_served_patient_key (patient_key=?)",
        ], plan
    else:
        assert f"Index Scan using {FEEDBACK_PATIENT_INDEX} on feedback" in plan, plan
        assert "Index Cond: (((patient_key)::text = " in plan, plan  # a range, not the whole index
        assert "Index Scan using cards_served_pkey on cards_served" in plan, plan
        assert "Seq Scan" not in plan, plan


# --- several workers --------------------------------------------------------------------------------------------


def test_two_stores_on_one_file_see_each_others_writes(url: str, store: Store) -> None:
    other = Store(url)
    try:
        store.record_cards([served(CARD_A)])
        assert served_card(other, CARD_A) is not None
        other.record_cards([served(CARD_B)])
        assert served_card(store, CARD_B) is not None

        assert other.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT) == 1
        assert [r["outcome"] for r in feedback_for(store, CARD_A)] == ["accepted"]
        # The repeat sent to the other worker is recognised as well.
        assert store.record_feedback("alp-guard-order-sign", [ACCEPTED], RECEIVED_AT) == 0
        with pytest.raises(IntegrityError):
            other.record_cards([served(CARD_A)])
    finally:
        other.engine.dispose()


# --- health -----------------------------------------------------------------------------------------------------


def test_is_usable_on_a_working_database(store: Store) -> None:
    assert store.is_usable() is True


def test_is_usable_is_false_once_the_file_is_replaced_by_a_directory(sqlite_store: Store, db_path: Path) -> None:
    store = sqlite_store
    store.record_cards([served(CARD_A)])
    assert store.is_usable() is True
    store.engine.dispose()
    for leftover in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        if leftover.exists():
            leftover.unlink()
    db_path.mkdir()
    try:
        assert store.is_usable() is False
    finally:
        shutil.rmtree(db_path)


def test_is_usable_is_false_when_the_directory_of_the_file_is_gone(tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    folder.mkdir()
    store = Store(f"sqlite:///{folder / 'audit.sqlite3'}")
    try:
        assert store.is_usable() is True
        store.engine.dispose()
        shutil.rmtree(folder)
        assert store.is_usable() is False
    finally:
        store.engine.dispose()


# --- one SQLite writer at a time ----------------------------------------------------------------------------------


def test_a_sqlite_store_keeps_its_writer_lock_beside_the_database(sqlite_store: Store, db_path: Path) -> None:
    sqlite_store.record_cards([served(CARD_A)])
    assert Path(f"{db_path}-writers.lock").exists()


def test_writers_of_two_processes_take_turns_and_the_next_goes_as_soon_as_the_first_is_done(db_path: Path) -> None:
    # Two gates on one file stand for two worker processes: flock locks belong to the open file.
    first, second = SqliteWriterGate(f"{db_path}-writers.lock"), SqliteWriterGate(f"{db_path}-writers.lock")
    wrote: list[str] = []
    started = threading.Event()

    def write_second() -> None:
        started.set()
        with second.held():
            wrote.append("second")

    with first.held():
        writer = threading.Thread(target=write_second)
        writer.start()
        started.wait(5)
        writer.join(0.2)
        assert wrote == [] and writer.is_alive()  # waiting for the first
        wrote.append("first")
    writer.join(5)
    assert wrote == ["first", "second"]


def test_a_writer_goes_ahead_without_the_gate_once_the_wait_is_over(db_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "WRITER_WAIT_SECONDS", 0.05)
    store = Store(f"sqlite:///{db_path}")
    try:
        with SqliteWriterGate(f"{db_path}-writers.lock").held():  # another process stuck holding the gate
            store.record_cards([served(CARD_A)])  # SQLite's own locking decides, and the file is free
        assert served_card(store, CARD_A) is not None
    finally:
        store.engine.dispose()


def test_a_gate_that_cannot_make_its_lock_file_never_fails_the_write(tmp_path: Path) -> None:
    gate = SqliteWriterGate(str(tmp_path / "gone" / "db.sqlite3-writers.lock"))
    with gate.held():
        entered = True
    assert entered


def test_threads_of_one_worker_all_write(sqlite_store: Store) -> None:
    def write(thread: int) -> None:
        for i in range(25):
            sqlite_store.record_cards([served(f"00000000-0000-4000-8000-{thread:04d}{i:08d}")])

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert count(sqlite_store, cards_served) == 200


def test_an_in_memory_sqlite_store_writes_without_a_lock_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    memory = Store("sqlite://")
    try:
        memory.record_cards([served(CARD_A)])
        assert served_card(memory, CARD_A) is not None
    finally:
        memory.engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_a_file_system_without_locks_never_fails_the_write(db_path: Path, monkeypatch) -> None:
    def no_locks(descriptor: int, operation: int) -> None:
        raise OSError(37, "No locks available")  # ENOLCK, as on some network file systems

    monkeypatch.setattr(store_module.fcntl, "flock", no_locks)
    store = Store(f"sqlite:///{db_path}")
    try:
        store.record_cards([served(CARD_A)])
        assert served_card(store, CARD_A) is not None
    finally:
        store.engine.dispose()
