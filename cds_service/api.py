"""HTTP routes: discovery, hook calls, feedback and health."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from cards import render_cards
from cds_service.feedback import BadFeedback, parse_feedback
from cds_service.hook_request import BadHookRequest, parse_hook_request
from cds_service.logs import get_logger
from cds_service.prefetch import DataUnavailable, FhirAccess
from cds_service.runtime import Runtime
from cds_service.services import SERVICES_BY_ID, CdsService, HookCall, discovery_document
from cds_service.store import ServedCard

bp = Blueprint("cds", __name__)
log = get_logger("api")


class ApiError(Exception):
    """An answer other than 200, with a short reason safe to show and to log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def runtime() -> Runtime:
    """Return the current app's Runtime."""
    return current_app.extensions["alp_guard"]


@bp.get("/cds-services")
def discovery() -> Response:
    """List the services."""
    return jsonify(discovery_document())


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    """Evaluate one hook call and answer with cards."""
    started = time.monotonic()
    rt = runtime()
    service = _service(service_id)
    status, cards, hook_instance = 500, [], None
    try:
        hook_request = parse_hook_request(_json_body(), service.hook, service.required_context)
        hook_instance = hook_request.hook_instance
        access = FhirAccess(rt.fhir, hook_request.fhir_server, hook_request.access_token,
                            started + rt.settings.request_deadline_seconds)
        now = rt.clock()
        call = HookCall(hook_request, access, rt.executor, rt.settings.policy, now.date())
        findings = service.evaluate(call)
        cards = render_cards(findings, rt.new_uuid)
        rt.store.record_cards(_served(card, service, hook_request.hook_instance, now) for card in cards)
        status = 200
        return jsonify({"cards": cards})
    except BadHookRequest as exc:
        status = 400
        raise ApiError(400, str(exc)) from None
    except DataUnavailable as exc:
        status = 412
        raise ApiError(412, str(exc)) from None
    finally:
        log.info("hook call", extra={"fields": {
            "service": service.id,
            "hook_instance": hook_instance,
            "status": status,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "cards": len(cards),
        }})


@bp.post("/cds-services/<service_id>/feedback")
def record_feedback(service_id: str) -> Response:
    """Store feedback on cards this service returned."""
    service = _service(service_id)
    rt = runtime()
    try:
        events = parse_feedback(_json_body())
    except BadFeedback as exc:
        raise ApiError(400, str(exc)) from None
    stored = rt.store.record_feedback(service.id, events, rt.clock())
    log.info("feedback", extra={"fields": {"service": service.id, "items": len(events), "new": stored}})
    return jsonify({"received": len(events), "stored": stored})


@bp.get("/healthz")
def health() -> tuple[Response, int]:
    """Answer 200 when the service and its database are usable."""
    if runtime().store.is_usable():
        return jsonify({"status": "ok"}), 200
    return jsonify({"status": "database unavailable"}), 503


@bp.app_errorhandler(ApiError)
def api_error(exc: ApiError) -> tuple[Response, int]:
    """Answer with the status and reason of an ApiError."""
    return jsonify({"error": exc.reason}), exc.status


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[Response, int]:
    """Answer Werkzeug's HTTP errors (404, 405, 413 ...) as JSON."""
    return jsonify({"error": exc.description or exc.name}), exc.code or 500


@bp.app_errorhandler(Exception)
def unexpected_error(exc: Exception) -> tuple[Response, int]:
    """Answer 500 without detail; log the exception type only (messages may carry patient data)."""
    log.error("unexpected error", extra={"fields": {"exception": type(exc).__name__, "path": request.path}})
    return jsonify({"error": "internal error"}), 500


@bp.after_app_request
def allow_cross_origin(response: Response) -> Response:
    """Add CORS headers to every answer, errors and preflights included (browser clients need them)."""
    allowed = runtime().settings.cors_origins.strip()
    origin = request.headers.get("Origin")
    if allowed == "*":
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin and origin in {o.strip() for o in allowed.split(",")}:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _service(service_id: str) -> CdsService:
    """Return the service with this id, or answer 404."""
    service = SERVICES_BY_ID.get(service_id)
    if service is None:
        raise ApiError(404, "no such CDS service")
    return service


def _json_body() -> Any:
    """Return the decoded JSON body, or answer 400 (malformed) or 413 (too large)."""
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "the request body is not valid JSON") from None


def _served(card: dict, service: CdsService, hook_instance: str, now: Any) -> ServedCard:
    """Return the audit record of a card about to be served."""
    return ServedCard(
        card_uuid=card["uuid"],
        service_id=service.id,
        hook=service.hook,
        hook_instance=hook_instance,
        topic=card["source"]["topic"]["code"],
        indicator=card["indicator"],
        served_at=now,
    )
