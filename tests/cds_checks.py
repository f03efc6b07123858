"""Checks of CDS Hooks 2.0 output shared by the card and API tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest

from hooks.findings import Topic


def walk(value: Any, path: str = "card") -> Iterator[tuple[str, Any]]:
    """Yield every value in a JSON tree with its path."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from walk(child, f"{path}[{i}]")


def assert_spec_exact(card: dict) -> None:
    """Check a card against CDS Hooks 2.0 and ALP Guard's own output rules."""
    for path, value in walk(card):
        assert value is not None and value != "" and value != [] and value != {}, f"empty value at {path}"
        assert not isinstance(value, (tuple, set)), f"non-JSON container at {path}"

    assert set(card) <= {
        "uuid",
        "summary",
        "detail",
        "indicator",
        "source",
        "suggestions",
        "selectionBehavior",
        "overrideReasons",
        "links",
        "extension",
    }
    for reference in card.get("extension", {}).get("davinci-crd.associated-resource", []):
        assert set(reference) == {"reference"} and re.fullmatch(
            r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}", reference["reference"]
        )
    assert isinstance(card["summary"], str) and len(card["summary"]) < 140
    assert "\n" not in card["summary"]
    assert card["indicator"] in {"info", "warning", "critical"} and type(card["indicator"]) is str
    assert card["source"]["label"]
    topic = card["source"]["topic"]
    assert set(topic) == {"system", "code", "display"}
    assert topic["code"] in {t.value for t in Topic} and type(topic["code"]) is str

    for reason in card.get("overrideReasons", []):
        assert set(reason) - {"extension"} == {"system", "code", "display"}
        for standard in reason.get("extension", {}).values():  # the HL7 non-adherence reason, a full Coding
            assert set(standard) == {"system", "code", "display"}

    suggestions = card.get("suggestions", [])
    assert ("selectionBehavior" in card) == bool(suggestions)
    if suggestions:
        assert card["selectionBehavior"] == "any"
    uuids_seen = [card["uuid"], *(s["uuid"] for s in suggestions)]
    assert len(set(uuids_seen)) == len(uuids_seen), "uuids must be unique within a card"
    for s in suggestions:
        assert s["label"] and s["actions"]
        assert s.get("isRecommended", True) is True, "isRecommended is sent only when true"
        for action in s["actions"]:
            assert action["type"] in {"create", "update", "delete"}
            assert action["description"].strip()
            if action["type"] == "create":
                assert action["resource"]["resourceType"]
                assert "resourceId" not in action
                if action["resource"]["resourceType"] == "ServiceRequest":
                    ServiceRequest.model_validate(action["resource"])
            if action["type"] == "delete":
                assert re.fullmatch(r"MedicationRequest/[A-Za-z0-9\-.]{1,64}", action["resourceId"])
                assert "resource" not in action

    for link in card.get("links", []):
        assert set(link) == {"label", "url", "type"}
        assert link["type"] == "absolute"
        parts = urlsplit(link["url"])
        assert parts.scheme == "https" and parts.netloc


def assert_response_spec_exact(body: dict) -> None:
    """Check a whole hook response: a cards list of spec-exact cards with unique uuids."""
    assert set(body) <= {"cards", "systemActions"} and isinstance(body["cards"], list)
    for card in body["cards"]:
        assert_spec_exact(card)
    ids = [card["uuid"] for card in body["cards"]]
    ids += [s["uuid"] for card in body["cards"] for s in card.get("suggestions", [])]
    assert len(ids) == len(set(ids)), "uuids must be unique within a response"


def error_reason(response: Any) -> str:
    """Return the reason of an error answer, checking that its body is a valid FHIR OperationOutcome."""
    body = response.get_json()
    OperationOutcome.model_validate(body)
    (issue,) = body["issue"]
    assert issue["severity"] == "error" and issue["code"]
    return issue["diagnostics"]
