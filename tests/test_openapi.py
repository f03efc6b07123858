"""GET /openapi.json: a complete OpenAPI 3.1 description that the running app conforms to (schemathesis)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.definitions import OPENAPI_31

from cds_service import create_app
from cds_service.openapi import openapi_document
from cds_service.schema_check import SUPPORTED
from cds_service.schemas import REQUEST_COMPONENTS, hook_request_schema
from cds_service.services import SERVICES
from cds_service.settings import settings_from_env
from tests.conftest import FHIR_SERVER

EXAMPLES = Path(__file__).parent.parent / "examples"
# Valid requests may still be 412 (the data cannot be obtained) or 413 (over a configured limit).
CONFIG = SchemathesisConfig.from_str("""
[generation]
mode = "all"
# NUL cannot be stored (PostgreSQL text refuses it): any request holding one is 400 by design (tests/test_limits.py).
allow-x00 = false

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "412", "413"]

# "Any other service id": every such request is 404, and its negation, a real service id, is no invalid input.
[[operations]]
include-operation-id = "call_unknown_service"
generation.mode = "positive"
checks.positive_data_acceptance.expected-statuses = ["404"]

# Discovery answers a matching If-None-Match (generated: "*") with 304 Not Modified.
[[operations]]
include-operation-id = "discovery"
checks.positive_data_acceptance.expected-statuses = ["2xx", "304"]
""")


STORE_DIR = Path(tempfile.mkdtemp(prefix="alp-guard-openapi-"))


def _api_app() -> Any:
    """Return an app without caller authentication whose one allowed FHIR server is never reached."""
    settings = settings_from_env(
        {},  # no CDS_* variable of the environment leaks in
        auth_mode="none",  # jwt-mode 401s are covered by tests/test_auth.py
        database_url=f"sqlite:///{STORE_DIR / 'store.sqlite3'}",
        allowed_fhir_servers=FHIR_SERVER,  # generated fhirServer URLs are refused, never contacted
        request_deadline_seconds=0.2,
    )
    return create_app(settings)


# Loaded when the module is collected: schemathesis' lazy loader (from_fixture) does not work with pytest 9.
API_APP = _api_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", API_APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _stop_api_app() -> Iterator[None]:
    """Stop the app's FHIR thread pool and remove its store after this module's tests."""
    yield
    API_APP.extensions["alp_guard"].executor.shutdown(wait=True)
    API_APP.extensions["alp_guard"].store.engine.dispose()
    shutil.rmtree(STORE_DIR, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_app_conforms_to_its_openapi_document(case: Any) -> None:
    case.call_and_validate()


# --- the document itself ------------------------------------------------------------------------------------


def document(authenticate: bool = True, protect_discovery: bool = True) -> dict[str, Any]:
    return openapi_document(authenticate=authenticate, protect_discovery=protect_discovery)


def statuses(doc: dict[str, Any], path: str, method: str = "post") -> set[int]:
    return {int(code) for code in doc["paths"][path][method]["responses"]}


def test_the_document_is_openapi_3_1_and_served_as_configured(client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    served = response.get_json()
    assert served["openapi"].startswith("3.1.")
    assert served == json.loads(json.dumps(document(authenticate=False, protect_discovery=False)))
    assert "securitySchemes" not in served["components"]


@pytest.mark.parametrize("authenticate", [True, False])
def test_the_document_is_valid_against_the_openapi_3_1_meta_schema(authenticate: bool) -> None:
    validator = jsonschema_rs.validator_for(OPENAPI_31)  # the official schema, as schemathesis ships it
    assert [error.message for error in validator.iter_errors(document(authenticate, authenticate))] == []


def test_every_service_has_its_path_and_its_validating_schema() -> None:
    doc = document()
    for service in SERVICES:
        operation = doc["paths"][f"/cds-services/{service.id}"]["post"]
        name = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert doc["components"]["schemas"][name] == hook_request_schema(service.hook, service.required_context)
    feedback_ids = doc["paths"]["/cds-services/{service_id}/feedback"]["post"]["parameters"][0]["schema"]["enum"]
    assert feedback_ids == [service.id for service in SERVICES]


def test_every_status_the_service_answers_is_documented() -> None:
    doc = document()
    for service in SERVICES:
        assert statuses(doc, f"/cds-services/{service.id}") == {200, 400, 401, 412, 413, 415}
    assert statuses(doc, "/cds-services/{service_id}") == {401, 404}
    assert statuses(doc, "/cds-services/{service_id}/feedback") == {200, 400, 401, 404, 413, 415, 429, 503}
    assert statuses(doc, "/cds-services", "get") == {200, 304, 401}
    assert statuses(doc, "/healthz", "get") == {200, 503}
    assert {"/metrics", "/openapi.json"} <= set(doc["paths"])


def test_the_statuses_test_api_observes_are_documented() -> None:
    source = (Path(__file__).parent / "test_api.py").read_text()
    # `response.status_code == 412` and `(response.status_code, ...) == (404, ...)`
    observed = {
        int(code)
        for pattern in (r"status_code == (\d{3})", r"\) == \((\d{3}), ")
        for code in re.findall(pattern, source)
    }
    doc = document()
    documented = {int(code) for path in doc["paths"].values() for op in path.values() for code in op["responses"]}
    assert {200, 400, 404, 412, 413, 503} <= observed
    assert observed - {405} <= documented  # 405 answers a method no path offers


def test_without_authentication_no_operation_asks_for_a_token() -> None:
    doc = document(authenticate=False, protect_discovery=True)
    operations = [op for path in doc["paths"].values() for op in path.values()]
    assert all("security" not in op and "401" not in op["responses"] for op in operations)


def test_request_schemas_use_only_keywords_the_validator_understands() -> None:
    schemas = [*REQUEST_COMPONENTS.values(), *(hook_request_schema(s.hook, s.required_context) for s in SERVICES)]
    used = set(_keywords(schemas))
    assert used <= SUPPORTED, used - SUPPORTED


def _keywords(value: Any, parent: str = "") -> Iterator[str]:
    """Yield the schema keywords of a schema tree (member names under `properties` are not keywords)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if parent != "properties":
                yield key
            yield from _keywords(child, key if isinstance(child, dict) else "")
    elif isinstance(value, list):
        for item in value:
            yield from _keywords(item)


def _examples_with_prefetch() -> list[str]:
    """Name the example hook requests that carry their data (the rest need a FHIR server)."""
    return sorted(p.name for p in EXAMPLES.glob("*.json") if json.loads(p.read_text()).get("prefetch"))


@pytest.mark.parametrize("example", _examples_with_prefetch())
def test_the_cards_of_every_example_match_the_response_schema(client, example: str) -> None:
    body = json.loads((EXAMPLES / example).read_text())
    service = next(s for s in SERVICES if s.hook == body["hook"])
    response = client.post(f"/cds-services/{service.id}", json=body)
    assert response.status_code == 200
    schema[f"/cds-services/{service.id}"]["POST"].validate_response(response)
