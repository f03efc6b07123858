"""Shared fixtures: the app on a temporary database, a fixed clock, deterministic UUIDs, FHIR fixtures."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cds_service import create_app
from cds_service.settings import settings_from_env
from tests.databases import DATABASES, fresh_database_url

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TODAY: date = NOW.date()
FHIR_SERVER = "https://ehr.example.org/fhir"


def load_fhir(name: str) -> Any:
    """Return a fresh copy of a FHIR JSON fixture."""
    return json.loads((FIXTURES / "fhir" / name).read_text())


def counting_uuids() -> Callable[[], str]:
    """Return a UUID source that yields 00000000-0000-4000-8000-000000000001, ...2, ..."""
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(f"00000000-0000-4000-8000-{next(counter):012d}"))


# Runs a test that uses `database_url` (or the app) once on SQLite and once on PostgreSQL (tests/databases.py).
on_both_databases = pytest.mark.parametrize("database_url", DATABASES, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of the test's empty database: a SQLite file, or PostgreSQL under `on_both_databases`."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    with fresh_database_url(kind, tmp_path) as url:
        yield url


@pytest.fixture(params=DATABASES)
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty database, once per database kind: store-level tests run on SQLite and PostgreSQL."""
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def app_config(database_url: str) -> dict[str, Any]:
    """Return create_app overrides: a temporary database (SQLite unless parametrized), a fixed clock, counting UUIDs."""
    return {
        "TESTING": True,
        "auth_mode": "none",  # JWT verification has its own tests (tests/test_auth.py)
        "database_url": database_url,
        "clock": lambda: NOW,
        "new_uuid": counting_uuids(),
    }


@pytest.fixture
def app(app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Return an app built from a clean environment (no CDS_* variables leak in)."""
    for name in list(__import__("os").environ):
        if name.startswith("CDS_"):
            monkeypatch.delenv(name)
    application = create_app(app_config)
    yield application
    application.extensions["alp_guard"].executor.shutdown(wait=True)


@pytest.fixture
def client(app: Any) -> Any:
    """Return a test client of the app."""
    return app.test_client()


def hook_request(
    hook: str,
    *,
    patient_id: str = "pat-hpp-1",
    prefetch: dict[str, Any] | None = None,
    draft_orders: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """Return a CDS Hooks request body for `hook`."""
    context: dict[str, Any] = {"userId": "Practitioner/prac-1", "patientId": patient_id}
    if draft_orders is not None:
        context["draftOrders"] = copy.deepcopy(draft_orders)
    body: dict[str, Any] = {"hookInstance": str(uuid.uuid4()), "hook": hook, "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
    if token is not None:
        body["fhirAuthorization"] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "alp-guard",
        }
    return body


def full_prefetch(
    *,
    patient: str = "patient-adult-female.json",
    alp: str = "alp-persistent-low.json",
    conditions: str = "conditions-none.json",
    medications: str = "medications-none.json",
    workup: str | None = None,
    safety: str | None = None,
    liver: str | None = None,
) -> dict[str, Any]:
    """Return a prefetch object with every key the services declare, from fixture files."""
    empty = {"resourceType": "Bundle", "type": "searchset"}
    return {
        "patient": load_fhir(patient),
        "alp": load_fhir(alp),
        "conditions": load_fhir(conditions),
        "medications": load_fhir(medications),
        "medicationStatements": empty,
        "medicationDispenses": empty,
        "medicationAdministrations": empty,
        "encounters": empty,
        "hppWorkup": load_fhir(workup) if workup else empty,
        "safetyLabs": load_fhir(safety) if safety else empty,
        "liverPanel": load_fhir(liver) if liver else empty,
    }


__all__ = [
    "FHIR_SERVER",
    "NOW",
    "TODAY",
    "full_prefetch",
    "hook_request",
    "load_fhir",
    "on_both_databases",
    "settings_from_env",
]


def made_out_for(value: Any, patient_id: str) -> Any:
    """Return prefetch data or draft orders as if about this patient: the Patient's id and every patient reference."""
    value = copy.deepcopy(value)
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if item.get("resourceType") == "Patient":
                item["id"] = patient_id
            for member in ("subject", "patient"):
                if isinstance(item.get(member), dict) and str(item[member].get("reference", "")).startswith("Patient/"):
                    item[member] = {**item[member], "reference": f"Patient/{patient_id}"}
            stack.extend(item.values())
    return value
