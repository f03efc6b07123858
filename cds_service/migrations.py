"""Versioned schema migrations of the store: numbered steps, each applied once, in its own transaction.

`migrate(engine)` brings a database to `LATEST_VERSION`. Every step that runs is recorded as a row of
`schema_version`; the database's version is the highest row. Workers starting together are serialised by a lock
held for the whole step (SQLite: `BEGIN IMMEDIATE`, the database's write lock; PostgreSQL: a transaction-level
advisory lock), and each re-reads the version under the lock, so a step never runs twice. A database whose version
is newer than this code knows is refused with `SchemaTooNew`: old code must not write to a schema it does not know.

To change the schema, append a step (never edit one that has shipped) and change the tables in `store.py` to match;
`tests/test_migrations.py` checks that the two agree on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

# Any fixed 64-bit number; every ALP Guard process on a PostgreSQL database takes this advisory lock to migrate.
ADVISORY_LOCK_KEY = 0x414C5047554152  # "ALPGUAR" in ASCII


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this version of the code."""


class SchemaTooNew(SchemaError):
    """The database was migrated by a newer ALP Guard than this one."""


@dataclass(frozen=True)
class Migration:
    """One numbered step: `apply` changes the schema (and data) on a connection inside the step's transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _version_1(conn: Connection) -> None:
    """The schema as first shipped: card audit, feedback, installation values, JWT ids, schema version.

    A snapshot, independent of `store.py`'s tables so that later changes there cannot rewrite history. Tables that
    already exist are kept: a database made before migrations existed (by `create_all`) has exactly these tables.
    """
    snapshot = MetaData()
    Table("schema_version", snapshot, Column("version", Integer, primary_key=True))
    Table(
        "cards_served",
        snapshot,
        Column("card_uuid", String(100), primary_key=True),
        Column("service_id", String(100), nullable=False),
        Column("hook", String(40), nullable=False),
        Column("hook_instance", String(100), nullable=False),
        Column("topic", String(60), nullable=False),
        Column("indicator", String(10), nullable=False),
        Column("served_at", DateTime(timezone=True), nullable=False),
        Column("patient_key", String(64), index=True),
        Column("order_ref", String(200)),
        Column("fingerprint", String(64)),
        Column("policy_version", String(40)),
    )
    Table(
        "feedback",
        snapshot,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("service_id", String(100), nullable=False),
        Column("card_uuid", String(100), nullable=False, index=True),
        Column("outcome", String(20), nullable=False),
        Column("outcome_timestamp", String(40), nullable=False),
        Column("accepted_suggestions", Text),
        Column("override_code", String(100)),
        Column("override_system", String(300)),
        Column("user_comment", Text),
        Column("received_at", DateTime(timezone=True), nullable=False),
        Column("event_digest", String(64), nullable=False, unique=True),
    )
    Table(
        "installation",
        snapshot,
        Column("name", String(40), primary_key=True),
        Column("value", String(200), nullable=False),
    )
    Table(
        "jti_seen",
        snapshot,
        Column("iss", String(500), primary_key=True),
        Column("jti", String(255), primary_key=True),
        Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    )
    snapshot.create_all(conn, checkfirst=True)


def _version_2(conn: Connection) -> None:
    """Add feedback.patient_key, copied from each row's card and indexed, to find a patient's overrides directly.

    Declares the columns it touches itself, like version 1. No existence checks: the framework runs a step once,
    under its lock, and all or nothing (SQLite and PostgreSQL both roll DDL back).
    """
    snapshot = MetaData()
    cards = Table(
        "cards_served",
        snapshot,
        Column("card_uuid", String(100), primary_key=True),
        Column("service_id", String(100), nullable=False),
        Column("patient_key", String(64)),
    )
    feedback = Table(
        "feedback",
        snapshot,
        Column("service_id", String(100), nullable=False),
        Column("card_uuid", String(100), nullable=False),
        Column("outcome", String(20), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
        Column("patient_key", String(64)),
    )
    conn.exec_driver_sql("ALTER TABLE feedback ADD COLUMN patient_key VARCHAR(64)")
    # Only the service that served a card can attribute feedback to its patient; other feedback stays NULL.
    card_patient = (
        select(cards.c.patient_key)
        .where(cards.c.card_uuid == feedback.c.card_uuid, cards.c.service_id == feedback.c.service_id)
        .scalar_subquery()
    )
    conn.execute(update(feedback).values(patient_key=card_patient))
    Index(
        "ix_feedback_patient_key_outcome_received_at",
        feedback.c.patient_key,
        feedback.c.outcome,
        feedback.c.received_at,
    ).create(conn)


def _version_3(conn: Connection) -> None:
    """Add to cards_served the issuer and tenant the card was issued to, and the override reason codes it offered.

    All three are nullable: cards served before this step keep NULL (issued without a caller identity on record, any
    override code accepted), so feedback on them is screened as before.
    """
    for column in ("issuer VARCHAR(500)", "tenant VARCHAR(200)", "override_codes TEXT"):
        conn.exec_driver_sql(f"ALTER TABLE cards_served ADD COLUMN {column}")


def _version_4(conn: Connection) -> None:
    """Add the ordering session of each card to cards_served: its drugs and keyed hashes of encounter and user.

    All nullable: cards served before this step have no session, and an order-select override without one never
    silences an order-sign card.
    """
    conn.exec_driver_sql("ALTER TABLE cards_served ADD COLUMN drugs VARCHAR(200)")
    conn.exec_driver_sql("ALTER TABLE cards_served ADD COLUMN encounter_key VARCHAR(64)")
    conn.exec_driver_sql("ALTER TABLE cards_served ADD COLUMN user_key VARCHAR(64)")


# The steps, oldest first, numbered 1, 2, 3 … without gaps. Append only.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "card audit, feedback, installation, jti_seen, schema_version", _version_1),
    Migration(
        2, "feedback.patient_key, backfilled from cards_served, indexed with outcome and received_at", _version_2
    ),
    Migration(
        3,
        "cards_served.issuer, .tenant and .override_codes: whom a card was issued to, the reasons offered",
        _version_3,
    ),
    Migration(4, "cards_served.drugs, encounter_key and user_key: the ordering session of each card", _version_4),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """Return the database's schema version: 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(select(func.max(_schema_version.c.version))).scalar() or 0


def migrate(engine: Engine, steps: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the steps the database lacks, each in one locked transaction; return the version reached.

    Raises SchemaTooNew when the database is at a version above the last step.
    """
    _check_steps(steps)
    latest = steps[-1].version
    with engine.connect() as conn:  # fast path, no lock: every worker after the first finds nothing to do
        version = current_version(conn)
        conn.rollback()
    _refuse_newer(version, latest)
    for step in steps:
        if step.version <= version:
            continue
        with engine.connect() as conn:
            _begin_locked(conn)
            try:
                version = current_version(conn)  # another worker may have got here first
                _refuse_newer(version, latest)
                if version < step.version:
                    step.apply(conn)
                    conn.execute(_schema_version.insert().values(version=step.version))
                    version = step.version
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
    return version


def _begin_locked(conn: Connection) -> None:
    """Begin a transaction that no other migrating process can run beside."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        # pysqlite opens no transaction of its own before DDL; this one takes the write lock at once, and waits
        # (busy timeout) while another process holds it.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
    else:
        raise SchemaError(f"unsupported database {dialect}")


def _refuse_newer(version: int, latest: int) -> None:
    if version > latest:
        raise SchemaTooNew(
            f"the database schema is at version {version}, but this ALP Guard knows versions up to {latest}: "
            "it was migrated by a newer release. Run that release (or newer), or point CDS_DATABASE_URL at "
            "another database; this one is left untouched."
        )


def _check_steps(steps: Sequence[Migration]) -> None:
    if [s.version for s in steps] != list(range(1, len(steps) + 1)):
        raise ValueError("migrations must be numbered 1, 2, 3 … in order")


_schema_version = Table("schema_version", MetaData(), Column("version", Integer, primary_key=True))
