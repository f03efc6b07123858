"""Describe the HTTP API in OpenAPI 3.1, from the schemas the service validates with and its service registry."""

from __future__ import annotations

from typing import Any

from cds_service.schemas import COMPONENTS, Schema, hook_request_schema, ref
from cds_service.services import SERVICES, CdsService
from hooks.findings import Topic

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
_SECURITY_SCHEME = "cdsHooksJwt"


def openapi_document(*, authenticate: bool, protect_discovery: bool) -> dict[str, Any]:
    """Return the OpenAPI document of a service that authenticates callers or not, and protects discovery or not."""
    paths: dict[str, Any] = {
        "/cds-services": {"get": _discovery_operation(authenticate and protect_discovery)},
    }
    # One path per service: each hook has its own request schema, so each service's contract is exact.
    for service in SERVICES:
        paths[f"/cds-services/{service.id}"] = {"post": _hook_operation(service, authenticate)}
    paths["/cds-services/{service_id}"] = {"post": _unknown_service(authenticate)}
    paths["/cds-services/{service_id}/feedback"] = {"post": _feedback_operation(authenticate)}
    paths["/healthz"] = {
        "get": _operation(
            "health",
            "Tell whether the service and its database are usable.",
            {"200": _json("Usable.", "Health"), "503": _json("The database is not usable.", "Health")},
        )
    }
    paths["/metrics"] = {
        "get": _operation(
            "metrics",
            "Expose metrics in the Prometheus text format.",
            {
                "200": {
                    "description": "Prometheus text exposition format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        )
    }
    paths["/cards/{topic}"] = {
        "get": {
            **_operation(
                "explainCard",
                "Explain a card topic (every card's source.url).",
                {
                    "200": {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}},
                    "404": _error("No such card topic."),
                },
            ),
            "parameters": [
                {
                    "name": "topic",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": [topic.value for topic in Topic]},
                }
            ],
        }
    }
    paths["/openapi.json"] = {
        "get": _operation(
            "openapi",
            "Describe this API in OpenAPI 3.1.",
            {"200": {"description": "This document.", "content": {JSON: {"schema": {"type": "object"}}}}},
        )
    }
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "ALP Guard",
            "version": "1.0.0",
            "summary": "CDS Hooks 2.0: low alkaline phosphatase and hypophosphatasia at the antiresorptive order.",
        },
        "paths": paths,
        "components": {"schemas": {**COMPONENTS, **{_request_name(s): _request_schema(s) for s in SERVICES}}},
    }
    if authenticate:
        document["components"]["securitySchemes"] = {
            _SECURITY_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A CDS Hooks 2.0 JWT signed by a trusted issuer, `aud` naming the endpoint called.",
            }
        }
    return document


def _discovery_operation(secured: bool) -> dict[str, Any]:
    """Return the discovery operation: the services, with an ETag, and 304 when If-None-Match still matches."""
    etag = {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}
    operation = _operation(
        "discovery",
        "List the CDS services.",
        {
            "200": {**_json("The services.", "Discovery"), "headers": etag},
            "304": {
                "description": "The document has not changed since the ETag sent in If-None-Match.",
                "headers": etag,
            },
        },
        secured=secured,
    )
    operation["parameters"] = [
        {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
    ]
    return operation


def _hook_operation(service: CdsService, authenticate: bool) -> dict[str, Any]:
    """Return the operation that evaluates one service's hook."""
    responses = {
        "200": _json("Cards; an empty list when there is no finding.", "CdsResponse"),
        "400": _error("Malformed JSON, or a request that breaks the schema or names another hook."),
        "412": _error("The data the rule needs could not be obtained from prefetch or the FHIR server."),
        "413": _error("The body, prefetch or draft order list is over its limit."),
        "415": _error("The body is not sent as Content-Type: application/json."),
    }
    operation = _operation(f"call_{service.id.replace('-', '_')}", service.title, responses, secured=authenticate)
    operation["description"] = service.description
    operation["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(_request_name(service))}}}
    return operation


def _unknown_service(authenticate: bool) -> dict[str, Any]:
    """Return the operation any other service id reaches: 404."""
    operation = _operation(
        "call_unknown_service",
        "Any other service id: there is no such service.",
        {"404": _error("No such CDS service.")},
        secured=authenticate,
    )
    operation["parameters"] = [
        {
            "name": "service_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[^/]+$", "not": {"enum": [s.id for s in SERVICES]}},
        }
    ]
    operation["requestBody"] = {"required": False, "content": {JSON: {"schema": {}}}}
    return operation


def _feedback_operation(authenticate: bool) -> dict[str, Any]:
    """Return the operation that stores feedback on cards; one request schema serves every service."""
    responses = {
        "200": _json("How many items were received and how many were new.", "FeedbackReceipt"),
        "400": _error("Malformed JSON, or feedback that breaks the schema."),
        "404": _error("No such CDS service."),
        "413": _error("The body or its number of items is over its limit."),
        "415": _error("The body is not sent as Content-Type: application/json."),
        "429": {
            **_error("This caller sent more feedback items than CDS_FEEDBACK_ITEMS_PER_MINUTE allows; retry later."),
            "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
        },
        "503": _error("The database cannot store the feedback now; send it again later."),
    }
    operation = _operation(
        "record_feedback", "Store feedback on cards the service returned.", responses, secured=authenticate
    )
    operation["parameters"] = [
        {
            "name": "service_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": [s.id for s in SERVICES]},
        }
    ]
    operation["requestBody"] = {"required": True, "content": {JSON: {"schema": ref("FeedbackRequest")}}}
    return operation


def _operation(operation_id: str, summary: str, responses: dict[str, Any], *, secured: bool = False) -> dict[str, Any]:
    """Return an operation, with the bearer JWT requirement and its 401 answer when `secured`."""
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "responses": dict(responses)}
    if secured:
        operation["security"] = [{_SECURITY_SCHEME: []}]
        operation["responses"]["401"] = {
            **_error("No valid JWT."),
            "headers": {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}},
        }
    return operation


def _json(description: str, component: str) -> dict[str, Any]:
    """Return a JSON response whose body is a component schema."""
    return {"description": description, "content": {JSON: {"schema": ref(component)}}}


def _error(description: str) -> dict[str, Any]:
    """Return an error response: an OperationOutcome whose issue names the reason."""
    return _json(description, "OperationOutcome")


def _request_name(service: CdsService) -> str:
    """Return the component name of a service's request schema, e.g. LowAlpOrderSignRequest."""
    return "".join(part.capitalize() for part in service.id.split("-")) + "Request"


def _request_schema(service: CdsService) -> Schema:
    """Return the request schema the service validates with."""
    return hook_request_schema(service.hook, service.required_context)
