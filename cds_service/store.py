"""Durable storage for the audit of cards served and the feedback on them (SQLAlchemy Core)."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Select

from cds_service.migrations import LATEST_VERSION, migrate
from hooks.suppression import PastOverride

# The schema these tables describe; cds_service/migrations.py creates and upgrades it.
SCHEMA_VERSION = LATEST_VERSION


class UtcDateTime(TypeDecorator):
    """A timestamp stored in UTC and read back time-zone aware, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be time-zone aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
)

cards_served = Table(
    "cards_served",
    metadata,
    Column("card_uuid", String(100), primary_key=True),
    Column("service_id", String(100), nullable=False),
    Column("hook", String(40), nullable=False),
    Column("hook_instance", String(100), nullable=False),
    Column("topic", String(60), nullable=False),
    Column("indicator", String(10), nullable=False),
    Column("served_at", UtcDateTime(), nullable=False),
    # A keyed hash of the patient id, never the id itself: enough to recognise the patient again.
    Column("patient_key", String(64), index=True),
    Column("order_ref", String(200)),
    Column("fingerprint", String(64)),
    Column("policy_version", String(40)),
    # Added by migration 3: the caller the card was issued to (jwt mode; NULL without authentication) and the
    # override reason codes the card offered, comma-separated, so that feedback can be held to them.
    Column("issuer", String(500)),
    Column("tenant", String(200)),
    Column("override_codes", Text),
    # The ordering session (migration 4): the card's drugs, and keyed hashes of the encounter and user of the call.
    Column("drugs", String(200)),
    Column("encounter_key", String(64)),
    Column("user_key", String(64)),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(100), nullable=False),
    Column("card_uuid", String(100), nullable=False, index=True),
    Column("outcome", String(20), nullable=False),
    Column("outcome_timestamp", String(40), nullable=False),
    Column("accepted_suggestions", Text),  # JSON list of suggestion uuids
    Column("override_code", String(100)),
    Column("override_system", String(300)),
    Column("user_comment", Text),
    Column("received_at", UtcDateTime(), nullable=False),
    # The same feedback sent twice is one event (clients may repeat it); a different reason is another event.
    Column("event_digest", String(64), nullable=False, unique=True),
    # The patient of the card, when this service served it: a patient's overrides are then one index range, however
    # many cards the patient was served. Last, where migration 2 added it.
    Column("patient_key", String(64)),
    Index("ix_feedback_patient_key_outcome_received_at", "patient_key", "outcome", "received_at"),
)

# Per-installation values shared by every worker and replica, such as the patient pseudonym key.
installation = Table(
    "installation",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)

# Every JWT id accepted, until the token expires: a second use is a replay, whichever worker or replica sees it.
jti_seen = Table(
    "jti_seen",
    metadata,
    Column("iss", String(500), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
)


@dataclass(frozen=True)
class ServedCard:
    """One card as recorded in the audit."""

    card_uuid: str
    service_id: str
    hook: str
    hook_instance: str
    topic: str
    indicator: str
    served_at: datetime
    patient_key: str | None = None
    order_ref: str | None = None
    fingerprint: str | None = None
    policy_version: str | None = None
    issuer: str | None = None
    tenant: str | None = None
    override_codes: str | None = None  # comma-separated codes of the card's overrideReasons
    drugs: str | None = None
    encounter_key: str | None = None
    user_key: str | None = None


@dataclass(frozen=True)
class IssuedCard:
    """What feedback needs to know of a card this service issued: its patient and the override codes it offered."""

    patient_key: str | None
    override_codes: frozenset[str] | None  # None: served before the codes were recorded
    topic: str = ""


@dataclass(frozen=True)
class FeedbackEvent:
    """One validated feedback item."""

    card_uuid: str
    outcome: str
    outcome_timestamp: str
    accepted_suggestions: tuple[str, ...] = ()
    override_code: str | None = None
    override_system: str | None = None
    user_comment: str | None = None


# Feedback rows per write transaction: a 100-item post with full comments held the write lock for up to 27 ms in one
# transaction, against 6 ms for a hook call's audit; 20 rows keep each hold near the audit's.
FEEDBACK_WRITE_CHUNK = 20
_YIELD_SECONDS = 0.001

# As long as SQLite's busy timeout: past it, the writer goes ahead and SQLite's own locking decides, as before.
WRITER_WAIT_SECONDS = 5.0
_WRITER_POLL_SECONDS = 0.0005


class SqliteWriterGate:
    """Let one writer at a time at a SQLite file, handing over the moment the previous one has committed.

    A SQLite writer that finds the file locked sleeps in growing steps, up to 100 ms a step; under load that alone
    put the p99 of hook calls at one second. A lock shared by the threads of a process, and an flock on a file
    beside the database shared by the processes, hand over at once instead.
    """

    def __init__(self, lock_path: str | None) -> None:
        self._threads = threading.Lock()
        self._lock_path = lock_path

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the gate for one write transaction, or go on without it after WRITER_WAIT_SECONDS."""
        deadline = time.monotonic() + WRITER_WAIT_SECONDS
        if not self._threads.acquire(timeout=WRITER_WAIT_SECONDS):
            yield
            return
        try:
            with self._file_locked(deadline):
                yield
        finally:
            self._threads.release()

    @contextmanager
    def _file_locked(self, deadline: float) -> Iterator[None]:
        """Hold the flock shared with the other processes until the deadline, polling: flock has no timeout."""
        if self._lock_path is None:
            yield
            return
        try:
            descriptor: int | None = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            descriptor = None  # the gate only spares waiting: SQLite's own locking still keeps the file whole
        try:
            while descriptor is not None:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(_WRITER_POLL_SECONDS)  # only one thread a process polls: it holds the thread lock
                except OSError:
                    break  # no locks on this file system (ENOLCK): go on as SQLite alone would
            yield  # the lock goes with the descriptor, closed below
        finally:
            if descriptor is not None:
                os.close(descriptor)


class Store:
    """The service's database: created or migrated on first use, shared by every worker through the URL."""

    def __init__(self, database_url: str, *, check_writable: bool = True) -> None:
        self.engine: Engine = create_engine(database_url, future=True)
        self._key: bytes | None = None
        self._writers: SqliteWriterGate | None = None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _tune_sqlite)
            database = self.engine.url.database
            on_disk = bool(database) and database != ":memory:" and not str(database).startswith("file:")
            self._writers = SqliteWriterGate(f"{database}-writers.lock" if on_disk else None)
        try:
            # Raises migrations.SchemaTooNew for a database migrated by a newer release.
            migrate(self.engine)
            if check_writable:  # a read-only database would otherwise fail only at the first card served
                self._probe_write()
        except BaseException:
            self.engine.dispose()
            raise

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """Open a write transaction, one writer at a time on SQLite."""
        if self._writers is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._writers.held(), self.engine.begin() as conn:
            yield conn

    def record_cards(self, cards: Iterable[ServedCard]) -> None:
        """Record the cards served for one hook call, all or none."""
        rows = [vars(card) for card in cards]
        if rows:
            with self._writing() as conn:
                conn.execute(insert(cards_served), rows)

    def record_feedback(
        self,
        service_id: str,
        events: Iterable[FeedbackEvent],
        received_at: datetime,
        patients: dict[str, str | None] | None = None,
    ) -> int:
        """Store feedback events, ignoring repeats; return how many were new.

        `patients` gives each card's patient key (from `issued_cards`); without it they are looked up here. The
        lookup runs before any write, and the rows go in as short transactions of FEEDBACK_WRITE_CHUNK rows, one
        statement each, with the writer gate let go in between: a hook call that records its cards waits for one
        chunk at most, not for a whole 100-item post. A failure part-way keeps the chunks already written; the
        same request sent again stores only the rest, since repeats are recognised.
        """
        batch = list(events)
        if not batch:
            return 0
        if patients is None:
            with self.engine.connect() as conn:
                patients = _card_patients(conn, service_id, {e.card_uuid for e in batch})
        rows = list(
            {
                row["event_digest"]: row
                for row in (_feedback_row(service_id, e, received_at, patients.get(e.card_uuid)) for e in batch)
            }.values()
        )
        stored = 0
        for start in range(0, len(rows), FEEDBACK_WRITE_CHUNK):
            if start:
                time.sleep(_YIELD_SECONDS)  # let a waiting writer, a hook call's audit, take the gate first
            with self._writing() as conn:  # one executemany: the lock is held for the insert alone
                stored += conn.execute(self._insert_new_feedback(), rows[start : start + FEEDBACK_WRITE_CHUNK]).rowcount
        return stored

    def issued_cards(
        self, service_id: str, card_uuids: Iterable[str], issuer: str | None, tenant: str | None
    ) -> dict[str, IssuedCard]:
        """Return the cards among these that this service issued to this issuer and tenant (None: no caller)."""
        uuids = sorted(set(card_uuids))
        found: dict[str, IssuedCard] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(uuids), _LOOKUP_CHUNK):
                query = select(
                    cards_served.c.card_uuid,
                    cards_served.c.patient_key,
                    cards_served.c.override_codes,
                    cards_served.c.issuer,
                    cards_served.c.tenant,
                    cards_served.c.topic,
                ).where(
                    cards_served.c.card_uuid.in_(uuids[start : start + _LOOKUP_CHUNK]),
                    cards_served.c.service_id == service_id,
                )
                for row in conn.execute(query):
                    if (row.issuer, row.tenant) != (issuer, tenant):
                        continue
                    codes = (
                        None if row.override_codes is None else frozenset(filter(None, row.override_codes.split(",")))
                    )
                    found[row.card_uuid] = IssuedCard(row.patient_key, codes, row.topic)
        return found

    def remember_jti(self, iss: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """Record a token id until it expires; return False when it was already recorded (a replay)."""
        with self._writing() as conn:
            conn.execute(delete(jti_seen).where(jti_seen.c.expires_at < now))
            row = {"iss": iss, "jti": jti, "expires_at": expires_at}
            # SQLAlchemy keeps an INSERT's rowcount only when asked (with PostgreSQL it is -1 otherwise).
            statement = (
                self._dialect().insert(jti_seen).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
            )
            return conn.execute(statement, row).rowcount == 1

    def patient_key(self, patient_id: str) -> str:
        """Return the keyed hash that stands for a patient id in the audit (HMAC-SHA256, installation key)."""
        return hmac.new(self._pseudonym_key(), patient_id.encode(), hashlib.sha256).hexdigest()

    def overrides(self, patient_key: str, since: datetime) -> list[PastOverride]:
        """Return the overrides of this patient's cards received since `since`."""
        with self.engine.connect() as conn:
            return [
                PastOverride(
                    r.hook,
                    r.topic,
                    r.order_ref,
                    r.fingerprint,
                    r.received_at.date(),
                    r.indicator,
                    _utc(r.served_at),
                    r.drugs,
                    r.encounter_key,
                    r.user_key,
                    bool(r.superseded),
                )
                for r in conn.execute(_overrides_query(patient_key, since))
            ]

    def _pseudonym_key(self) -> bytes:
        """Return the installation's secret key, creating it once for every worker and replica."""
        if self._key is None:
            with self._writing() as conn:
                conn.execute(
                    self._dialect().insert(installation).on_conflict_do_nothing(),
                    {"name": "pseudonym_key", "value": secrets.token_hex(32)},
                )
                query = select(installation.c.value).where(installation.c.name == "pseudonym_key")
                self._key = bytes.fromhex(conn.execute(query).scalar_one())
        return self._key

    def is_usable(self) -> bool:
        """Return whether the database answers a query and accepts a write."""
        try:
            self._probe_write()
            return True
        except SQLAlchemyError:
            return False

    def _probe_write(self) -> None:
        """Write a row and roll it back; raise SQLAlchemyError when the database cannot be written."""
        with self._writers.held() if self._writers else _nothing():
            with self.engine.connect() as conn:
                try:
                    conn.execute(insert(installation).values(name=_PROBE, value=""))
                finally:
                    conn.rollback()

    def _insert_new_feedback(self):
        """Return an INSERT that skips a row equal to one already stored; its rowcount says whether it added one."""
        return (
            self._dialect()
            .insert(feedback)
            .on_conflict_do_nothing(index_elements=["event_digest"])
            .execution_options(preserve_rowcount=True)
        )

    def _dialect(self):
        """Return the SQLAlchemy dialect module whose INSERT knows ON CONFLICT DO NOTHING."""
        dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(self.engine.dialect.name)
        if dialect is None:
            raise RuntimeError(f"unsupported database {self.engine.dialect.name}")
        return dialect


def database_reason(exc: BaseException) -> str:
    """Return why the database cannot be used, in one line: the driver's first line, never the URL's password."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return f"{first} ({type(cause).__name__})" if first else type(cause).__name__


_PROBE = "write-probe"  # an installation row that is never committed


@contextmanager
def _nothing() -> Iterator[None]:
    """Hold nothing (PostgreSQL needs no writer gate)."""
    yield


# Bound parameters per lookup: far below SQLite's (32,766) and PostgreSQL's (65,535) limits on one statement.
_LOOKUP_CHUNK = 1000


def _card_patients(conn: Connection, service_id: str, card_uuids: set[str]) -> dict[str, str | None]:
    """Return the patient key of each of these cards that this service served."""
    uuids = sorted(card_uuids)
    found: dict[str, str | None] = {}
    for start in range(0, len(uuids), _LOOKUP_CHUNK):
        query = select(cards_served.c.card_uuid, cards_served.c.patient_key).where(
            cards_served.c.card_uuid.in_(uuids[start : start + _LOOKUP_CHUNK]), cards_served.c.service_id == service_id
        )
        found.update((r.card_uuid, r.patient_key) for r in conn.execute(query))
    return found


def _feedback_row(service_id: str, event: FeedbackEvent, received_at: datetime, patient_key: str | None) -> dict:
    """Return the `feedback` row of one event."""
    return {
        "service_id": service_id,
        "card_uuid": event.card_uuid,
        "outcome": event.outcome,
        "outcome_timestamp": event.outcome_timestamp,
        "accepted_suggestions": json.dumps(list(event.accepted_suggestions)) if event.accepted_suggestions else None,
        "override_code": event.override_code,
        "override_system": event.override_system,
        "user_comment": event.user_comment,
        "received_at": received_at,
        "event_digest": _digest(service_id, event),
        "patient_key": patient_key,
    }


def _overrides_query(patient_key: str, since: datetime) -> Select:
    """Return the query of a patient's overrides since a time: an index range of feedback, each card by its key."""
    later = cards_served.alias("later")
    # The same card shown again at order-select after the overridden one: the override belongs to an earlier session.
    superseded = (
        select(later.c.card_uuid)
        .where(
            later.c.patient_key == cards_served.c.patient_key,
            later.c.service_id == cards_served.c.service_id,
            later.c.hook == "order-select",
            cards_served.c.hook == "order-select",
            later.c.topic == cards_served.c.topic,
            later.c.drugs == cards_served.c.drugs,
            later.c.served_at > cards_served.c.served_at,
        )
        .exists()
    )
    return (
        select(
            cards_served.c.hook,
            cards_served.c.topic,
            cards_served.c.order_ref,
            cards_served.c.fingerprint,
            cards_served.c.indicator,
            feedback.c.received_at,
            cards_served.c.served_at,
            cards_served.c.drugs,
            cards_served.c.encounter_key,
            cards_served.c.user_key,
            superseded.label("superseded"),
        )
        .select_from(feedback)
        # Only feedback sent to the service that served the card counts.
        .join(
            cards_served,
            (cards_served.c.card_uuid == feedback.c.card_uuid) & (cards_served.c.service_id == feedback.c.service_id),
        )
        .where(
            feedback.c.patient_key == patient_key, feedback.c.outcome == "overridden", feedback.c.received_at >= since
        )
    )


def _utc(value: datetime | None) -> datetime | None:
    """Return a timestamp as UTC-aware whatever the database returned (a column expression skips UtcDateTime)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _digest(service_id: str, event: FeedbackEvent) -> str:
    """Return a digest of what a feedback item decides about its card, to recognise a repeat.

    The card, the outcome, the suggestions accepted and the override reason code decide; the timestamp and the
    comment do not. The same decision sent again, at another time or with other words, is one event: otherwise
    anyone could grow a patient's override history, which every hook call for that patient reads, without bound.
    """
    said = dataclasses.replace(event, outcome_timestamp="", user_comment=None)
    # The fields one level deep (astuple copied them recursively, 0.3 ms an item); the same JSON, the same digest.
    fields = [getattr(said, field.name) for field in dataclasses.fields(said)]
    return hashlib.sha256(json.dumps([service_id, *fields]).encode()).hexdigest()


def _tune_sqlite(dbapi_connection, _record) -> None:
    """Let several workers share one SQLite file: WAL journal and a busy timeout."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    # Turning a new file to WAL needs it alone for a moment, and SQLite refuses at once rather than wait when
    # workers open the file together: try again, as long as the busy timeout would have waited.
    deadline = time.monotonic() + 5
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    cursor.close()
