"""Shared fixtures: the app on a temporary database, a fixed clock, deterministic UUIDs, FHIR fixtures."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from cds_service import create_app
from cds_service.settings import settings_from_env

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
TODAY: date = NOW.date()
FHIR_SERVER = "https://ehr.example.org/fhir"


def load_fhir(name: str) -> Any:
    """Return a fresh copy of a FHIR JSON fixture."""
    return json.loads((FIXTURES / "fhir" / name).read_text())


def counting_uuids() -> Callable[[], str]:
    """Return a UUID source that yields 00000000-0000-4000-8000-000000000001, ...2, ..."""
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(f"00000000-0000-4000-8000-{next(counter):012d}"))


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    """Return create_app overrides: a temporary SQLite database, the fixed clock, counting UUIDs."""
    return {
        "TESTING": True,
        "auth_mode": "none",  # JWT verification has its own tests (tests/test_auth.py)
        "database_url": f"sqlite:///{tmp_path / 'test.sqlite3'}",
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
        body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                     "scope": "patient/*.read", "subject": "alp-guard"}
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
        "hppWorkup": load_fhir(workup) if workup else empty,
        "safetyLabs": load_fhir(safety) if safety else empty,
        "liverPanel": load_fhir(liver) if liver else empty,
    }


__all__ = ["FHIR_SERVER", "NOW", "TODAY", "full_prefetch", "hook_request", "load_fhir", "settings_from_env"]
