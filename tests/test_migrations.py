"""Versioned migrations on SQLite and PostgreSQL: fresh, legacy and older databases, failures, concurrency, refusal."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, inspect, text
from sqlalchemy.engine import Connection, Engine

from cds_service import migrations
from cds_service.migrations import LATEST_VERSION, MIGRATIONS, Migration, SchemaTooNew, current_version, migrate
from cds_service.store import (
    SCHEMA_VERSION,
    FeedbackEvent,
    ServedCard,
    Store,
    _digest,
    cards_served,
    feedback,
    metadata,
)
from tests.databases import fresh_database_url
from tests.store_reads import served_card

SERVED_AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RECEIVED_AT = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
TABLES = {"schema_version", "cards_served", "feedback", "installation", "jti_seen"}
ALL_VERSIONS = list(range(1, LATEST_VERSION + 1))
FEEDBACK_PATIENT_INDEX = "ix_feedback_patient_key_outcome_received_at"


def card(card_uuid: str = "card-1") -> ServedCard:
    return ServedCard(card_uuid, "low-alp-patient-view", "patient-view", "h1", "low-alp-unevaluated", "info", SERVED_AT)


def versions(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT version FROM schema_version ORDER BY version"))]


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


@pytest.fixture
def engine(any_database_url: str):  # type: ignore[no-untyped-def]
    """An engine on an empty database, once on SQLite and once on PostgreSQL."""
    result = create_engine(any_database_url)
    yield result
    result.dispose()


def step(version: int, apply: Callable[[Connection], Any]) -> Migration:
    return Migration(version, f"test step {version}", lambda conn: apply(conn))


def create_legacy_tables(engine: Engine) -> None:
    """Create the tables as store.py's create_all did before migrations existed: the version-1 snapshot."""
    with engine.begin() as conn:
        migrations._version_1(conn)


# --- fresh, legacy and older databases ---------------------------------------------------------------------------


def test_a_fresh_database_gets_the_latest_version(any_database_url: str) -> None:
    store = Store(any_database_url)
    try:
        assert TABLES <= table_names(store.engine)
        assert versions(store.engine) == [v.version for v in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
        with store.engine.connect() as conn:
            assert current_version(conn) == LATEST_VERSION == SCHEMA_VERSION
        store.record_cards([card()])
        assert served_card(store, "card-1") is not None
    finally:
        store.engine.dispose()


def test_an_empty_database_is_version_0(engine: Engine) -> None:
    with engine.connect() as conn:
        assert current_version(conn) == 0


def test_opening_again_changes_nothing(any_database_url: str) -> None:
    first = Store(any_database_url)
    first.record_cards([card()])
    second = Store(any_database_url)
    try:
        assert versions(second.engine) == ALL_VERSIONS
        assert served_card(second, "card-1") is not None
    finally:
        first.engine.dispose()
        second.engine.dispose()


def test_a_database_made_before_migrations_existed_is_taken_as_version_1(engine: Engine, any_database_url) -> None:
    # What store.py did before: create_all, then one schema_version row.
    create_legacy_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
    Store(any_database_url).record_cards([card()])
    store = Store(any_database_url)
    try:
        assert versions(store.engine) == ALL_VERSIONS  # version 1 kept as it was, the later steps applied
        assert "patient_key" in columns(store.engine, "feedback")
        assert served_card(store, "card-1") is not None
    finally:
        store.engine.dispose()


def test_a_half_made_legacy_database_without_its_version_row_is_completed(engine: Engine, any_database_url) -> None:
    create_legacy_tables(engine)  # the old code stopped between create_all and the version row
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO installation (name, value) VALUES ('pseudonym_key', :v)"), {"v": "ab" * 32})
    store = Store(any_database_url)
    try:
        assert versions(store.engine) == ALL_VERSIONS
        assert store.patient_key("pat-1")  # the key already there is kept, not replaced
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT value FROM installation")).scalar_one() == "ab" * 32
    finally:
        store.engine.dispose()


def test_an_older_database_is_upgraded_step_by_step_keeping_its_data(engine: Engine, any_database_url) -> None:
    migrate(engine)
    Store(any_database_url).record_cards([card("card-1"), card("card-2")])

    def add_column(conn: Connection) -> None:
        conn.exec_driver_sql("ALTER TABLE cards_served ADD COLUMN probe VARCHAR(20)")
        conn.exec_driver_sql("UPDATE cards_served SET probe = 'upgraded'")

    def add_table(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE probe_table (id INTEGER PRIMARY KEY)")

    steps = (*MIGRATIONS, step(LATEST_VERSION + 1, add_column), step(LATEST_VERSION + 2, add_table))
    assert migrate(engine, steps) == LATEST_VERSION + 2
    assert versions(engine) == list(range(1, LATEST_VERSION + 3))
    assert "probe_table" in table_names(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT card_uuid, probe FROM cards_served ORDER BY card_uuid")).all() == [
            ("card-1", "upgraded"),
            ("card-2", "upgraded"),
        ]
    assert migrate(engine, steps) == LATEST_VERSION + 2  # nothing left to do
    assert versions(engine) == list(range(1, LATEST_VERSION + 3))


def test_a_failing_step_leaves_no_trace_and_the_version_unchanged(engine: Engine) -> None:
    migrate(engine)

    def half_then_fail(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        conn.exec_driver_sql("ALTER TABLE cards_served ADD COLUMN half VARCHAR(5)")
        raise RuntimeError("step failed half way")

    with pytest.raises(RuntimeError, match="half way"):
        migrate(engine, (*MIGRATIONS, step(LATEST_VERSION + 1, half_then_fail)))
    assert versions(engine) == list(range(1, LATEST_VERSION + 1))
    assert "half_done" not in table_names(engine)
    assert "half" not in columns(engine, "cards_served")


def test_each_step_commits_on_its_own(engine: Engine) -> None:
    def fail(conn: Connection) -> None:
        raise RuntimeError("third step fails")

    steps = (
        *MIGRATIONS,
        step(LATEST_VERSION + 1, lambda c: c.exec_driver_sql("CREATE TABLE step_two (x INTEGER)")),
        step(LATEST_VERSION + 2, fail),
    )
    with pytest.raises(RuntimeError):
        migrate(engine, steps)
    assert versions(engine)[-1] == LATEST_VERSION + 1  # the steps before the failure stay applied
    assert "step_two" in table_names(engine)


def test_steps_must_be_numbered_from_1_without_gaps(engine: Engine) -> None:
    with pytest.raises(ValueError):
        migrate(engine, (*MIGRATIONS, step(LATEST_VERSION + 2, lambda conn: None)))
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


# --- step 2: feedback.patient_key ---------------------------------------------------------------------------------

ORDER_SIGN, PATIENT_VIEW = "alp-guard-order-sign", "low-alp-patient-view"


def served_to(
    card_uuid: str,
    service_id: str,
    patient_key: str | None,
    hook: str = "order-sign",
    topic: str = "bisphosphonate-low-alp",
) -> dict[str, Any]:
    return {
        "card_uuid": card_uuid,
        "service_id": service_id,
        "hook": hook,
        "hook_instance": "h1",
        "topic": topic,
        "indicator": "warning",
        "served_at": SERVED_AT,
        "patient_key": patient_key,
    }


# Feedback stored by version 1 (service it was sent to, event), and the patient key the backfill must give it.
VERSION_1_FEEDBACK = [
    (ORDER_SIGN, FeedbackEvent("card-p1", "overridden", "2026-11-24T19:00:00Z"), "key-p1"),
    (ORDER_SIGN, FeedbackEvent("card-p1", "accepted", "2026-11-24T19:05:00Z", ("s-1",)), "key-p1"),
    (ORDER_SIGN, FeedbackEvent("card-p2", "overridden", "2026-11-24T19:10:00Z"), "key-p2"),
    (ORDER_SIGN, FeedbackEvent("card-unknown", "overridden", "2026-11-24T19:15:00Z"), None),
    # The card exists, but another service served it: its patient is not this feedback's.
    (ORDER_SIGN, FeedbackEvent("card-pv", "overridden", "2026-11-24T19:20:00Z"), None),
    (PATIENT_VIEW, FeedbackEvent("card-pv", "overridden", "2026-11-24T19:25:00Z"), "key-p1"),
    (ORDER_SIGN, FeedbackEvent("card-no-patient", "overridden", "2026-11-24T19:30:00Z"), None),
]


def make_version_1_database(engine: Engine) -> None:
    """Migrate to version 1 and store cards and feedback as version 1 did (no feedback.patient_key)."""
    assert migrate(engine, MIGRATIONS[:1]) == 1
    cards = [
        served_to("card-p1", ORDER_SIGN, "key-p1"),
        served_to("card-p2", ORDER_SIGN, "key-p2"),
        served_to("card-pv", PATIENT_VIEW, "key-p1", "patient-view", "low-alp-unevaluated"),
        served_to("card-no-patient", ORDER_SIGN, None),
    ]
    rows = [
        {
            "service_id": service_id,
            "card_uuid": e.card_uuid,
            "outcome": e.outcome,
            "outcome_timestamp": e.outcome_timestamp,
            "received_at": RECEIVED_AT,
            "event_digest": _digest(service_id, e),
        }
        for service_id, e, _ in VERSION_1_FEEDBACK
    ]
    with engine.begin() as conn:
        conn.execute(insert(cards_served), cards)
        conn.execute(insert(feedback), rows)


def feedback_patients(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT service_id, card_uuid, outcome_timestamp, patient_key FROM feedback ORDER BY id")
        )
        return [tuple(r) for r in rows]


def test_step_2_gives_existing_feedback_the_patient_of_its_card(engine: Engine) -> None:
    make_version_1_database(engine)
    assert "patient_key" not in columns(engine, "feedback")
    assert migrate(engine, MIGRATIONS[:2]) == 2
    assert versions(engine) == [1, 2]
    assert feedback_patients(engine) == [
        (service_id, e.card_uuid, e.outcome_timestamp, key) for service_id, e, key in VERSION_1_FEEDBACK
    ]


def test_step_2_indexes_feedback_by_patient_outcome_and_time(engine: Engine) -> None:
    make_version_1_database(engine)
    migrate(engine, MIGRATIONS[:2])
    indexes = {i["name"]: (i["column_names"], i["unique"]) for i in inspect(engine).get_indexes("feedback")}
    assert indexes[FEEDBACK_PATIENT_INDEX] == (["patient_key", "outcome", "received_at"], False)
    # store.py declares the same index under the same name.
    [declared] = [i for i in feedback.indexes if i.name == FEEDBACK_PATIENT_INDEX]
    assert [c.name for c in declared.columns] == ["patient_key", "outcome", "received_at"]


def test_migrating_again_after_step_2_changes_nothing(engine: Engine) -> None:
    make_version_1_database(engine)
    migrate(engine, MIGRATIONS[:2])
    before = feedback_patients(engine)
    with engine.begin() as conn:  # a row the backfill would change, were it run again
        conn.execute(text("UPDATE feedback SET patient_key = 'left-alone' WHERE card_uuid = 'card-unknown'"))
    assert migrate(engine, MIGRATIONS[:2]) == 2
    assert versions(engine) == [1, 2]
    assert feedback_patients(engine) == [
        (*row[:3], "left-alone" if row[1] == "card-unknown" else row[3]) for row in before
    ]


def test_feedback_stored_before_step_2_is_still_recognised_and_counted(engine: Engine, any_database_url) -> None:
    make_version_1_database(engine)
    store = Store(any_database_url)
    try:
        assert (
            store.record_feedback(ORDER_SIGN, [e for s, e, _ in VERSION_1_FEEDBACK if s == ORDER_SIGN], RECEIVED_AT)
            == 0
        )  # every one a repeat: the digest did not change
        assert len(feedback_patients(engine)) == len(VERSION_1_FEEDBACK)
        assert sorted((p.hook, p.topic, p.overridden_on) for p in store.overrides("key-p1", RECEIVED_AT)) == [
            ("order-sign", "bisphosphonate-low-alp", RECEIVED_AT.date()),
            ("patient-view", "low-alp-unevaluated", RECEIVED_AT.date()),
        ]
        assert [p.topic for p in store.overrides("key-p2", RECEIVED_AT)] == ["bisphosphonate-low-alp"]
    finally:
        store.engine.dispose()


# --- several workers -----------------------------------------------------------------------------------------------


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released at the same moment; return results or the exceptions raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported through the results
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_stores_starting_at_once_on_one_fresh_database(any_database_url: str) -> None:
    stores = run_together(2, lambda i: Store(any_database_url))
    try:
        assert all(isinstance(s, Store) for s in stores), stores
        assert versions(stores[0].engine) == ALL_VERSIONS
        stores[0].record_cards([card("card-1")])
        assert served_card(stores[1], "card-1") is not None
        assert stores[0].patient_key("p") == stores[1].patient_key("p")
    finally:
        for s in stores:
            if isinstance(s, Store):
                s.engine.dispose()


def test_concurrent_migrations_apply_each_step_once(any_database_url: str) -> None:
    applied: list[int] = []

    def slow_step(conn: Connection) -> None:
        applied.append(1)
        time.sleep(0.2)  # a window in which an unlocked second worker would start the same step
        conn.exec_driver_sql("CREATE TABLE slow_step (x INTEGER)")

    steps = (*MIGRATIONS, step(LATEST_VERSION + 1, slow_step))
    engines = [create_engine(any_database_url) for _ in range(3)]
    try:
        results = run_together(3, lambda i: migrate(engines[i], steps))
        assert results == [LATEST_VERSION + 1] * 3
        assert applied == [1]
        assert versions(engines[0]) == list(range(1, LATEST_VERSION + 2))
    finally:
        for e in engines:
            e.dispose()


# --- a newer database ----------------------------------------------------------------------------------------------


def test_a_database_of_a_newer_release_is_refused_and_left_alone(any_database_url: str) -> None:
    Store(any_database_url).engine.dispose()
    engine = create_engine(any_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO schema_version (version) VALUES ({LATEST_VERSION + 1})"))
        with pytest.raises(SchemaTooNew) as info:
            Store(any_database_url)
        message = str(info.value)
        assert f"version {LATEST_VERSION + 1}" in message and f"up to {LATEST_VERSION}" in message
        assert "newer release" in message
        assert versions(engine) == [*range(1, LATEST_VERSION + 1), LATEST_VERSION + 1]
    finally:
        engine.dispose()


def test_the_server_refuses_to_start_on_a_newer_database(tmp_path: Path, monkeypatch, capsys) -> None:
    from cds_service.__main__ import main

    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    Store(url).engine.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version) VALUES (999)"))
    engine.dispose()
    for name in [n for n in __import__("os").environ if n.startswith("CDS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CDS_DATABASE_URL", url)
    monkeypatch.setenv("CDS_AUTH_MODE", "none")
    assert main(["--port", "1"]) == 2  # refused before listening
    err = capsys.readouterr().err
    assert err.startswith("database error:") and "version 999" in err


# --- the same schema everywhere ------------------------------------------------------------------------------------


def schema(engine: Engine) -> dict[str, Any]:
    """Describe tables portably: column (generic type, length, nullable), primary key, indexes, unique constraints."""
    insp = inspect(engine)
    described = {}
    for table in sorted(insp.get_table_names()):
        cols = {}
        for c in insp.get_columns(table):
            generic = c["type"].as_generic()
            cols[c["name"]] = (type(generic).__name__, getattr(generic, "length", None), c["nullable"])
        described[table] = {
            "columns": cols,
            "primary_key": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
            "indexes": sorted(
                (tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
                if not i.get("duplicates_constraint")
            ),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
        }
    return described


def test_the_migrated_schema_is_identical_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    with fresh_database_url("sqlite", tmp_path) as lite_url, fresh_database_url("postgresql", tmp_path) as pg_url:
        lite, pg = Store(lite_url), Store(pg_url)
        try:
            assert schema(lite.engine) == schema(pg.engine)
            assert set(schema(pg.engine)) == TABLES
        finally:
            lite.engine.dispose()
            pg.engine.dispose()


def test_the_migrated_schema_is_the_one_store_py_queries(any_database_url: str, tmp_path: Path) -> None:
    kind = "sqlite" if any_database_url.startswith("sqlite") else "postgresql"
    with fresh_database_url(kind, tmp_path) as model_url:
        migrated, modelled = create_engine(any_database_url), create_engine(model_url)
        try:
            migrate(migrated)
            metadata.create_all(modelled)
            assert schema(migrated) == schema(modelled)
            described = schema(migrated)
            assert described["feedback"]["unique"] == [("event_digest",)]
            assert (("patient_key",), False) in described["cards_served"]["indexes"]
            assert (("patient_key", "outcome", "received_at"), False) in described["feedback"]["indexes"]
            assert (("expires_at",), False) in described["jti_seen"]["indexes"]
        finally:
            migrated.dispose()
            modelled.dispose()


def test_the_postgresql_lock_is_an_advisory_lock_held_for_the_step() -> None:
    assert 0 < migrations.ADVISORY_LOCK_KEY < 2**63


# --- step 3: cards_served.issuer, .tenant, .override_codes ----------------------------------------------------------


def test_step_3_adds_whom_a_card_was_issued_to_and_keeps_older_cards(engine: Engine) -> None:
    make_version_1_database(engine)
    migrate(engine, MIGRATIONS[:2])
    assert not {"issuer", "tenant", "override_codes"} & columns(engine, "cards_served")
    assert migrate(engine, MIGRATIONS[:3]) == 3
    assert {"issuer", "tenant", "override_codes"} <= columns(engine, "cards_served")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT card_uuid, issuer, tenant, override_codes FROM cards_served ORDER BY card_uuid")
        )
        assert [tuple(r) for r in rows] == [
            (u, None, None, None) for u in ("card-no-patient", "card-p1", "card-p2", "card-pv")
        ]
