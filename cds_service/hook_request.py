"""Validate an incoming CDS Hooks request body into a HookRequest, or say what is wrong with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cds_service.schema_check import SchemaError, first_error
from cds_service.schemas import COMPONENTS, MAX_ID_LENGTH, hook_request_schema


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
    error = first_error(hook_request_schema(hook, required_context), body, COMPONENTS)
    if error is not None:
        raise BadHookRequest(_reason(error, body, hook))
    context = body["context"]
    server, authorization = body.get("fhirServer"), body.get("fhirAuthorization")
    return HookRequest(
        body["hook"],
        body["hookInstance"],
        context["patientId"],
        context,
        body.get("prefetch"),
        server.rstrip("/") if server is not None else None,
        authorization["access_token"] if authorization is not None else None,
    )


def _reason(error: SchemaError, body: Any, hook: str) -> str:
    """Name the member that breaks the request schema, in the 400 answer's words."""
    if not error.path:
        return (
            "fhirAuthorization requires fhirServer"
            if error.keyword == "then"
            else ("the request body must be a JSON object")
        )
    member, inner = error.path[0], error.path[1:]
    if member == "hook":
        sent = body.get("hook")
        if error.keyword == "const" and isinstance(sent, str) and sent.strip():
            return f"this service answers the {hook} hook, not {sent[:40]!r}"
        return "hook is required"
    if member == "hookInstance":
        too_long = error.keyword == "maxLength"
        return f"hookInstance is longer than {MAX_ID_LENGTH} characters" if too_long else "hookInstance is required"
    if member == "context" and inner:
        name = ".".join(str(part) for part in inner if isinstance(part, str))
        if inner == ("patientId",):
            return "context.patientId is required"
        return f"context.{name} is required for {hook}" if len(inner) == 1 else f"context.{name} is malformed"
    return {
        "context": "context is required and must be an object",
        "prefetch": "prefetch must be an object",
        "fhirServer": "fhirServer must be a URL"
        if error.keyword == "type"
        else ("fhirServer must be an absolute http(s) URL"),
        "fhirAuthorization": "fhirAuthorization.access_token is required when fhirAuthorization is sent",
        "extension": "extension must be an object, and its org.alp-guard.configuration values true or false",
    }.get(str(member), f"{member} is malformed")
