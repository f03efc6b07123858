"""Validate an incoming CDS Hooks request body into a HookRequest, or say what is wrong with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit


# The audit stores hookInstance in a column of this width; a UUID needs 36.
MAX_ID_LENGTH = 100


class BadHookRequest(ValueError):
    """The request cannot be evaluated; the message is a short reason for the 400 answer."""


@dataclass(frozen=True)
class HookRequest:
    """The parts of a CDS Hooks request the service uses."""

    hook: str
    hook_instance: str
    patient_id: str
    context: Mapping[str, Any]
    prefetch: Mapping[str, Any] | None
    fhir_server: str | None
    access_token: str | None = field(repr=False)  # a repr can end up in a log line


def parse_hook_request(body: Any, hook: str, required_context: Mapping[str, type]) -> HookRequest:
    """Return the HookRequest in `body` for a service of `hook`, or raise BadHookRequest."""
    if not isinstance(body, dict):
        raise BadHookRequest("the request body must be a JSON object")
    sent_hook = _required_string(body, "hook")
    if sent_hook != hook:
        raise BadHookRequest(f"this service answers the {hook} hook, not {sent_hook[:40]!r}")
    hook_instance = _required_string(body, "hookInstance")
    if len(hook_instance) > MAX_ID_LENGTH:
        raise BadHookRequest(f"hookInstance is longer than {MAX_ID_LENGTH} characters")
    context = body.get("context")
    if not isinstance(context, dict):
        raise BadHookRequest("context is required and must be an object")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id.strip():
        raise BadHookRequest("context.patientId is required")
    for name, kind in required_context.items():
        if not isinstance(context.get(name), kind):
            raise BadHookRequest(f"context.{name} is required for {hook}")
    prefetch = body.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise BadHookRequest("prefetch must be an object")
    fhir_server = _fhir_server(body.get("fhirServer"))
    access_token = _access_token(body.get("fhirAuthorization"))
    if access_token is not None and fhir_server is None:
        raise BadHookRequest("fhirAuthorization requires fhirServer")
    return HookRequest(sent_hook, hook_instance, patient_id, context, prefetch, fhir_server, access_token)


def _required_string(body: Mapping[str, Any], name: str) -> str:
    """Return a required non-empty string member of the body."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadHookRequest(f"{name} is required")
    return value


def _fhir_server(value: Any) -> str | None:
    """Return the fhirServer base URL when it is an absolute http(s) URL."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadHookRequest("fhirServer must be a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadHookRequest("fhirServer must be an absolute http(s) URL")
    return value.rstrip("/")


def _access_token(value: Any) -> str | None:
    """Return the bearer token of fhirAuthorization, if one was sent."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("access_token"), str) or not value["access_token"]:
        raise BadHookRequest("fhirAuthorization.access_token is required when fhirAuthorization is sent")
    return value["access_token"]
