"""Logs are JSON lines with ids, statuses, durations and counts, never a token or anything from the patient record."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cds_service import create_app
from cds_service.logs import JsonFormatter, configure_logging
from cds_service.services import SERVICES_BY_ID
from tests.conftest import load_fhir
from tests.trust_helpers import claims, ec_key, issuers_json, loopback_server, sign

ORDER_SIGN = "/cds-services/low-alp-order-sign"
AUD = f"http://localhost{ORDER_SIGN}"

# One unique marker per kind of secret or patient data; none may reach a log line.
NAME, GIVEN = "Zqxfamily7731", "Zqxgiven4410"
BIRTH_DATE = "1931-07-19"
IDENTIFIER = "MRN-Zqx880021"
NOTE = "Zqxnote free text about the patient 4471"
DRAFT_TEXT = "Zqxdraft take with water 5529"
PATIENT_ID = "Zqxpatient-66120"
ACCESS_TOKEN = "Zqxaccess-token-901"
CLAIM = "Zqxclaim-3390"
COMMENT = "Zqxcomment-2210"
MARKERS = [NAME, GIVEN, BIRTH_DATE, IDENTIFIER, NOTE, DRAFT_TEXT, PATIENT_ID, ACCESS_TOKEN, CLAIM, COMMENT]


def patient() -> dict:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "name": [{"family": NAME, "given": [GIVEN], "text": f"{GIVEN} {NAME}"}],
        "birthDate": BIRTH_DATE,
        "gender": "female",
        "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": IDENTIFIER}],
    }


def alp_bundle() -> dict:
    bundle = load_fhir("alp-persistent-low.json")
    for entry in bundle["entry"]:
        entry["resource"]["subject"] = {"reference": f"Patient/{PATIENT_ID}", "display": NAME}
        entry["resource"]["note"] = [{"text": NOTE}]
    bundle.pop("link", None)
    return bundle


def drafts(n: int = 1) -> dict:
    bundle = load_fhir("draft-orders-sandbox-alendronate.json")
    order = bundle["entry"][0]["resource"]
    order["subject"] = {"reference": f"Patient/{PATIENT_ID}", "display": NAME}
    order["note"] = [{"text": DRAFT_TEXT}]
    order["dosageInstruction"][0]["text"] = DRAFT_TEXT
    bundle["entry"] = bundle["entry"] * n
    return bundle


@pytest.fixture
def servers() -> Iterator[Any]:
    """One loopback server: the issuer's JWKS, a FHIR server holding the marked record, and a failing one."""
    key = ec_key("ec-384")
    empty = {"resourceType": "Bundle", "type": "searchset"}
    with loopback_server() as server:
        server.json("/jwks.json", {"keys": [key.jwk]})
        server.json(f"/fhir/Patient/{PATIENT_ID}", patient())
        server.json("/fhir/Observation", alp_bundle())
        for resource in ("Condition", "MedicationRequest"):
            server.json(f"/fhir/{resource}", empty)
        failure = json.dumps(
            {
                "resourceType": "OperationOutcome",
                "issue": [
                    {"severity": "error", "code": "processing", "diagnostics": f"no access to {NAME} {IDENTIFIER}"}
                ],
            }
        )
        for path in (f"/bad/Patient/{PATIENT_ID}", "/bad/Observation", "/bad/Condition", "/bad/MedicationRequest"):
            server.routes[path] = lambda _r: (500, {"Content-Type": "application/fhir+json"}, failure.encode())
        server.key = key
        yield server


@pytest.fixture
def captured(monkeypatch) -> Iterator[dict[str, Any]]:
    """Capture every log record at DEBUG (root and all loggers) and what the service's stderr handler writes."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    keep, level = Keep(logging.DEBUG), root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    stream = io.StringIO()
    configure_logging("DEBUG")  # the service's handler exists from the first app of the process on
    service_logger = logging.getLogger("alp_guard")
    swapped = [(h, h.setStream(stream)) for h in service_logger.handlers if isinstance(h, logging.StreamHandler)]
    try:
        yield {"records": records, "stream": stream}
    finally:
        for handler, old in swapped:
            handler.setStream(old)
        root.removeHandler(keep)
        root.setLevel(level)


def everything_logged(captured: dict[str, Any]) -> str:
    """Return all captured log output: each record formatted, with its arguments, fields and exception text."""
    formatter, plain = JsonFormatter(), logging.Formatter()
    parts = [captured["stream"].getvalue()]
    for record in captured["records"]:
        parts += [
            formatter.format(record),
            repr(record.args),
            repr(getattr(record, "fields", None)),
            repr(record.__dict__),
        ]
        if record.exc_info:
            parts.append(plain.formatException(record.exc_info))
    return "\n".join(parts)


def test_no_marker_reaches_any_log(app_config, servers, captured, monkeypatch, tmp_path: Path):
    fhir, bad = f"{servers.url}/fhir", f"{servers.url}/bad"
    app = create_app(
        {
            **app_config,
            "auth_mode": "jwt",
            "public_base_url": "http://localhost",
            "log_level": "DEBUG",
            "max_draft_orders": 2,
            "trusted_issuers": issuers_json(f"{servers.url}/jwks.json", fhir_servers=[fhir, bad]),
        }
    )
    client = app.test_client()
    tokens: list[str] = []

    def jwt_header(aud: str = AUD, **extra: Any) -> dict:
        tokens.append(sign(servers.key, claims(aud, sub=CLAIM, tenant=CLAIM, **extra)))
        return {"Authorization": f"Bearer {tokens[-1]}"}

    def body(server: str | None = fhir, n_drafts: int = 1) -> dict:
        return {
            "hookInstance": f"hi-{len(tokens)}",
            "hook": "order-sign",
            "fhirServer": server,
            "fhirAuthorization": {
                "access_token": ACCESS_TOKEN,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": CLAIM,
            },
            "context": {"userId": "Practitioner/p1", "patientId": PATIENT_ID, "draftOrders": drafts(n_drafts)},
            "prefetch": {"patient": patient()},
        }

    statuses = []
    try:
        # 200: the record is read from the loopback FHIR server with the access token.
        statuses.append(client.post(ORDER_SIGN, json=body(), headers=jwt_header()).status_code)
        assert servers.count(f"/fhir/Patient/{PATIENT_ID}") + servers.count("/fhir/Observation") >= 1
        assert all(
            h.get("Authorization") == f"Bearer {ACCESS_TOKEN}" for p, h in servers.requests if p.startswith("/fhir/")
        )
        # 400: incomplete request, and malformed JSON full of markers.
        incomplete = body()
        del incomplete["hookInstance"]
        statuses.append(client.post(ORDER_SIGN, json=incomplete, headers=jwt_header()).status_code)
        raw = json.dumps(body())[:-5].encode()
        statuses.append(
            client.post(ORDER_SIGN, data=raw, content_type="application/json", headers=jwt_header()).status_code
        )
        # 412: the FHIR server fails, with patient data in its error body.
        no_alp = body(bad)
        statuses.append(client.post(ORDER_SIGN, json=no_alp, headers=jwt_header()).status_code)
        # 413: too many draft orders.
        statuses.append(client.post(ORDER_SIGN, json=body(n_drafts=3), headers=jwt_header()).status_code)
        # 401: expired, tampered, replayed, garbage and missing tokens.
        now = int(time.time())
        statuses.append(
            client.post(ORDER_SIGN, json=body(), headers=jwt_header(iat=now - 900, exp=now - 600)).status_code
        )
        replay = jwt_header()
        statuses.append(client.post(ORDER_SIGN, json=body(), headers=replay).status_code)
        statuses.append(client.post(ORDER_SIGN, json=body(), headers=replay).status_code)
        statuses.append(
            client.post(ORDER_SIGN, json=body(), headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}).status_code
        )
        statuses.append(client.post(ORDER_SIGN, json=body()).status_code)
        # Feedback: stored (200), invalid (400), unauthenticated (401).
        feedback = {
            "feedback": [
                {
                    "card": PATIENT_ID,
                    "outcome": "overridden",
                    "outcomeTimestamp": "2026-11-24T12:01:00Z",
                    "overrideReason": {"userComment": COMMENT},
                }
            ]
        }
        fb_aud = f"http://localhost{ORDER_SIGN}/feedback"
        statuses.append(client.post(f"{ORDER_SIGN}/feedback", json=feedback, headers=jwt_header(fb_aud)).status_code)
        feedback["feedback"][0]["outcome"] = COMMENT
        statuses.append(client.post(f"{ORDER_SIGN}/feedback", json=feedback, headers=jwt_header(fb_aud)).status_code)
        statuses.append(client.post(f"{ORDER_SIGN}/feedback", json=feedback, headers=jwt_header()).status_code)
        # 500: an unexpected error whose message carries patient data.
        service = SERVICES_BY_ID["low-alp-order-sign"]

        def boom(call: Any) -> Any:
            raise RuntimeError(f"failed for {NAME} {PATIENT_ID} {ACCESS_TOKEN}")

        monkeypatch.setitem(SERVICES_BY_ID, service.id, dataclasses.replace(service, evaluate=boom))
        statuses.append(client.post(ORDER_SIGN, json=body(), headers=jwt_header()).status_code)
    finally:
        app.extensions["alp_guard"].executor.shutdown(wait=True)

    assert statuses == [200, 400, 400, 412, 413, 401, 200, 401, 401, 401, 200, 400, 401, 500]
    logged = everything_logged(captured)
    for secret in [*MARKERS, *tokens]:
        assert secret not in logged, f"{secret!r} was logged"
    # Neither token is stored either.
    database = b"".join(p.read_bytes() for p in tmp_path.glob("test.sqlite3*"))
    for secret in [ACCESS_TOKEN, *tokens]:
        assert secret.encode() not in database

    lines = [json.loads(line) for line in captured["stream"].getvalue().splitlines()]
    calls = [line for line in lines if line["message"] == "hook call"]
    assert [c["status"] for c in calls] == [200, 400, 400, 412, 413, 200, 500]
    assert all({"hook_instance", "service", "status", "duration_ms", "cards"} <= set(c) for c in calls)
    assert calls[0]["hook_instance"] == "hi-0" and calls[0]["service"] == "low-alp-order-sign"
    assert [f["status"] for f in lines if f["message"] == "feedback"] == [200, 400]
    assert {line["reason"] for line in lines if line["message"] == "unauthorized"} == {
        "expired token",
        "replayed token",
        "malformed token",
        "no token",
        "wrong audience",
    }


def test_the_parsed_request_and_fhir_reader_reprs_hide_the_access_token():
    from cds_service.fhir_client import FhirClient
    from cds_service.hook_request import parse_hook_request

    request = parse_hook_request(
        {
            "hook": "patient-view",
            "hookInstance": "h",
            "context": {"patientId": "p"},
            "fhirServer": "https://ehr.example.org/fhir",
            "fhirAuthorization": {"access_token": ACCESS_TOKEN},
        },
        "patient-view",
        {},
    )
    assert request.access_token == ACCESS_TOKEN and ACCESS_TOKEN not in repr(request)
    assert ACCESS_TOKEN not in repr(FhirClient().reader(request.fhir_server, token=ACCESS_TOKEN, deadline=0.0))
