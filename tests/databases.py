"""Fresh, empty test databases: a SQLite file, or a PostgreSQL schema of its own on the CI database.

PostgreSQL is found through ALP_GUARD_TEST_POSTGRES_URL (a SQLAlchemy URL such as
`postgresql+psycopg://alp_guard_test:alp_guard_test@127.0.0.1:5432/alp_guard_test`; `.ci/run` exports it). Not a
`CDS_` name on purpose: the service refuses unknown `CDS_` variables at start-up. When it is unset, PostgreSQL tests
are skipped, except under CI (CI=true), where they fail: CI must never skip them silently.

Each test gets its own schema (`search_path` set through the URL), dropped afterwards with every connection the
test left open, so tests never see each other's rows and a run leaves nothing behind.
"""

from __future__ import annotations

import atexit
import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Engine

POSTGRES_URL_VARIABLE = "ALP_GUARD_TEST_POSTGRES_URL"
DATABASES = ("sqlite", "postgresql")


def postgres_url() -> str:
    """Return the test server's URL, or skip (fail under CI) when there is none."""
    url = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    if url:
        return url
    message = f"PostgreSQL tests need {POSTGRES_URL_VARIABLE} (a postgresql+psycopg:// URL; .ci/run sets it)"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{message}: CI must run them, not skip them", pytrace=False)
    pytest.skip(message)


@contextmanager
def fresh_database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database of `kind` ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    if kind != "postgresql":
        raise ValueError(kind)
    base = make_url(postgres_url())
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine(base.render_as_string(hide_password=False))
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
        # `options` reaches libpq: every connection of the test sees only its own schema. application_name lets
        # the teardown find the connections the test's engines still hold.
        url = base.update_query_dict({"options": f"-csearch_path={name}", "application_name": name})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE application_name = '{name}' AND pid <> pg_backend_pid()"
            )
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@functools.cache
def _admin_engine(url: str) -> Engine:
    """Return one engine for the whole run to create and drop the schemas (a connection kept open saves time)."""
    engine = create_engine(url, pool_size=1, max_overflow=2)
    atexit.register(engine.dispose)
    return engine


__all__ = ["DATABASES", "POSTGRES_URL_VARIABLE", "fresh_database_url", "postgres_url"]
