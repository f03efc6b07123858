"""HTTP routes: discovery, hook calls, feedback and health."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, TooManyRequests
from werkzeug.wrappers import Response as ResponseBase

from cards.explanations import explanation_page
from cds_service import metrics
from cds_service.auth import Caller, Unauthorized, Verifier
from cds_service.feedback import BadFeedback, item_count, parse_feedback, screen
from cds_service.fhir_reader import Deadline, FhirReader, Unreachable
from cds_service.hook_request import BadHookRequest, HookRequest, parse_hook_request
from cds_service.limits import LimitExceeded, TokenBuckets, check_counts, load_json, read_body
from cds_service.logs import get_logger
from cds_service.network import is_listed
from cds_service.openapi import openapi_document
from cds_service.outcome import operation_outcome
from cds_service.pipeline import HookCall, Shell, run_hook
from cds_service.prefetch import DataUnavailable
from cds_service.runtime import Runtime
from cds_service.schemas import MAX_FEEDBACK_BYTES
from cds_service.services import SERVICES_BY_ID, CdsService
from hooks.findings import Topic

bp = Blueprint("cds", __name__)
log = get_logger("api")
_AUTHENTICATED = frozenset({"cds.call_service", "cds.record_feedback"})
_METRIC_ENDPOINTS = {
    "cds.call_service": "hook",
    "cds.record_feedback": "feedback",
    "cds.discovery": "discovery",
    "cds.health": "health",
    "cds.prometheus_metrics": "metrics",
    "cds.openapi": "openapi",
}


class ApiError(Exception):
    """An answer other than 200, with a short reason safe to show and to log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def runtime() -> Runtime:
    """Return the current app's Runtime."""
    return current_app.extensions["alp_guard"]


@bp.before_app_request
def start_clock() -> None:
    """Note when the request arrived: the one timer of its deadline, its log line's duration and its latency metric."""
    g.started = runtime().monotonic()


@bp.before_request
def authenticate() -> None:
    """Verify the caller's JWT on hook and feedback calls, and on discovery when protected; preflights are free."""
    settings = runtime().settings
    if settings.auth_mode == "none" or request.method == "OPTIONS":
        return
    protected = request.endpoint in _AUTHENTICATED or (
        request.endpoint == "cds.discovery" and settings.protect_discovery
    )
    if not protected:
        return
    verifier: Verifier = current_app.extensions["alp_guard.auth"]
    try:
        g.caller = verifier.verify(request.headers.get("Authorization"), _audience(settings.public_base_url))
    except Unauthorized as exc:
        log.info("unauthorized", extra={"fields": {"reason": exc.reason, "endpoint": request.endpoint, "status": 401}})
        raise ApiError(401, "unauthorized") from None


@bp.get("/cds-services")
def discovery() -> ResponseBase:
    """List the services, with an ETag of the document (it follows the configuration) and 304 when unchanged."""
    response = jsonify(runtime().settings.site.discovery_document())
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    # Revalidate every time: a restart with a new site configuration changes the document, and a 304 is cheap.
    response.headers["Cache-Control"] = "private, no-cache" if runtime().settings.protect_discovery else "no-cache"
    return response.make_conditional(request)


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    """Evaluate one hook call and answer with cards: parse, then run_hook with this call's FHIR reader."""
    rt = runtime()
    service = _service(service_id)
    with answered("hook call", service=service.id, hook_instance=None, cards=0) as record:
        body = _json_body()
        hook_request = parse_hook_request(body, service.hook, service.required_context)
        record["hook_instance"] = hook_request.hook_instance
        check_counts(body, rt.settings.max_prefetch_resources, rt.settings.max_draft_orders)
        deadline = Deadline(rt.monotonic, record.started + rt.settings.request_deadline_seconds)
        call = HookCall(
            service,
            hook_request,
            body.get("extension"),
            _fhir_reader(hook_request, deadline),
            deadline,
            rt.clock(),
            _patient_scope(hook_request),
            g.get("caller"),
        )
        shell = Shell(
            rt.store,
            rt.executor,
            rt.settings.policy,
            rt.settings.site,
            rt.new_uuid,
            _explain_url(rt.settings.public_base_url),
        )
        answer = run_hook(call, shell)
        metrics.count_cards(service.id, answer["cards"])
        record["cards"] = len(answer["cards"])
        return jsonify(answer)


@bp.post("/cds-services/<service_id>/feedback")
def record_feedback(service_id: str) -> Response:
    """Store feedback on cards this service returned."""
    service = _service(service_id)
    rt = runtime()
    with answered("feedback", service=service.id, items=0, new=0, ignored=0) as record:
        buckets, sender = _feedback_buckets(), _feedback_sender()
        wait = buckets.admit(sender) if buckets else 0
        if wait:  # refused before the body is read: a flood of posts costs next to nothing
            raise TooManyRequests(f"too much feedback from this caller; retry after {wait} s", retry_after=wait)
        body = _json_body(MAX_FEEDBACK_BYTES)
        if buckets:
            buckets.charge(sender, item_count(body) - 1)  # one item a token; admission paid the first
        events = parse_feedback(body)
        record["items"] = len(events)
        caller: Caller | None = g.get("caller")
        try:
            # Only cards this service issued to this caller (issuer and tenant in jwt mode) take feedback.
            issued = rt.store.issued_cards(
                service.id,
                (e.card_uuid for e in events),
                caller.iss if caller else None,
                caller.tenant if caller else None,
            )
            kept = screen(events, issued)
            stored = rt.store.record_feedback(
                service.id, kept, rt.clock(), {uuid: card.patient_key for uuid, card in issued.items()}
            )
        except SQLAlchemyError as exc:
            log.error("feedback not stored", extra={"fields": {"exception": type(exc).__name__}})
            raise ApiError(
                503, "feedback could not be stored: the database is unavailable; send it again later"
            ) from None
        record["new"], record["ignored"] = stored, len(events) - len(kept)
        if stored:  # an exact repeat of feedback already counted is not counted again
            # the topic, already read: no query per item
            metrics.count_feedback(service.id, kept, lambda card: card in issued and issued[card].topic or None)
        answer = {"received": len(events), "stored": stored}
        if len(kept) < len(events):
            answer["ignored"] = len(events) - len(kept)  # feedback on cards not issued here, to this caller
        return jsonify(answer)


def _feedback_buckets() -> TokenBuckets | None:
    """Return this worker's feedback rate limit, a bucket per sender, or None when CDS_FEEDBACK_ITEMS_PER_MINUTE=0."""
    per_minute = runtime().settings.feedback_items_per_minute
    if not per_minute:
        return None
    buckets = current_app.extensions.get("alp_guard.feedback_buckets")
    if buckets is None:
        buckets = current_app.extensions.setdefault("alp_guard.feedback_buckets", TokenBuckets(per_minute))
    return buckets


def _feedback_sender() -> str:
    """Name the sender a feedback limit applies to: the issuer and tenant in jwt mode, else the remote address."""
    caller: Caller | None = g.get("caller")
    if caller:
        return "\x1f".join(("jwt", caller.iss, caller.tenant or ""))
    return "address\x1f" + (request.remote_addr or "")


class _Record(dict):
    """The fields of one request's log line, and when it started (the request's one timer, set by start_clock)."""

    def __init__(self, started: float, **fields: Any) -> None:
        super().__init__(fields)
        self.started = started


@contextmanager
def answered(event: str, **fields: Any) -> Iterator[_Record]:
    """Turn the request's failures into their HTTP answers, and log one line with its status and duration."""
    clock = runtime().monotonic
    record = _Record(g.get("started", clock()), status=500, **fields)
    try:
        yield record
        record["status"] = 200
    except (BadHookRequest, BadFeedback) as exc:
        record["status"] = 400
        raise ApiError(400, str(exc)) from None
    except DataUnavailable as exc:
        record["status"] = 412
        raise ApiError(412, str(exc)) from None
    except LimitExceeded as exc:
        record["status"] = exc.status
        raise ApiError(exc.status, exc.reason) from None
    except (ApiError, HTTPException) as exc:  # malformed JSON (400), body too large (413)
        record["status"] = exc.status if isinstance(exc, ApiError) else exc.code or 500
        raise
    finally:
        log.info(event, extra={"fields": {**record, "duration_ms": round((clock() - record.started) * 1000, 1)}})


@bp.get("/cards/<topic>")
def explain_card(topic: str) -> Response:
    """Serve the page that explains a card topic: every card's `source.url` points here."""
    try:
        known = Topic(topic)
    except ValueError:
        raise ApiError(404, "no such card topic") from None
    return Response(explanation_page(known), content_type="text/html; charset=utf-8")


def _explain_url(public_base_url: str | None) -> Callable[[Topic], str]:
    """Return the absolute URL of a topic's explanation page, under the public base URL or this request's host."""
    base = (public_base_url or request.host_url).rstrip("/")
    return lambda topic: f"{base}/cards/{topic.value}"


@bp.get("/healthz")
def health() -> tuple[Response, int]:
    """Answer 200 when the service and its database are usable."""
    if runtime().store.is_usable():
        return jsonify({"status": "ok"}), 200
    return jsonify({"status": "database unavailable"}), 503


@bp.get("/openapi.json")
def openapi() -> Response:
    """Describe the API in OpenAPI 3.1, as this instance is configured."""
    settings = runtime().settings
    return jsonify(
        openapi_document(authenticate=settings.auth_mode != "none", protect_discovery=settings.protect_discovery)
    )


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    """Expose the metrics in the Prometheus text format."""
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)


@bp.app_errorhandler(ApiError)
def api_error(exc: ApiError) -> tuple[Response, int]:
    """Answer with the status of an ApiError and an OperationOutcome naming its reason."""
    response = jsonify(operation_outcome(exc.status, exc.reason))
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response, exc.status


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[Response, int]:
    """Answer Werkzeug's HTTP errors (404, 405, 413 ...) as OperationOutcomes, keeping their headers (a 405's Allow)."""
    response = jsonify(operation_outcome(exc.code or 500, exc.description or exc.name))
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, exc.code or 500


@bp.app_errorhandler(Exception)
def unexpected_error(exc: Exception) -> tuple[Response, int]:
    """Answer 500 without detail; log the exception type only (messages may carry patient data)."""
    log.error("unexpected error", extra={"fields": {"exception": type(exc).__name__, "path": request.path}})
    return jsonify(operation_outcome(500, "internal error")), 500


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


@bp.after_app_request
def observe_request(response: Response) -> Response:
    """Count the request and its duration by endpoint, known service and status; preflights are not counted."""
    if request.method != "OPTIONS":
        service_id = (request.view_args or {}).get("service_id")
        service = service_id if isinstance(service_id, str) and service_id in SERVICES_BY_ID else ""
        service = service or ("unknown" if service_id else "")
        endpoint = _METRIC_ENDPOINTS.get(request.endpoint or "", "other")
        now = runtime().monotonic()
        seconds = now - g.get("started", now)
        metrics.observe_request(endpoint, service, response.status_code, seconds)
    return response


def _service(service_id: str) -> CdsService:
    """Return the service with this id, or answer 404."""
    service = SERVICES_BY_ID.get(service_id)
    if service is None:
        raise ApiError(404, "no such CDS service")
    return service


def _json_body(max_bytes: int | None = None) -> Any:
    """Return the decoded JSON body, or answer 415 (not JSON), 400 (malformed or too deep) or 413 (too large)."""
    if request.mimetype != "application/json":
        raise ApiError(415, "the request body must be sent as Content-Type: application/json")
    # Read here rather than by request.get_data: past the limit, a chunked body would be cut short, not refused.
    stream = request.environ["wsgi.input"] if request.content_length is None else request.stream
    if request.content_length is None and "wsgi.input_terminated" not in request.environ:
        stream = None  # a server that does not end the stream: an unbounded body cannot be read safely
    limit = min(runtime().settings.max_request_bytes, max_bytes or runtime().settings.max_request_bytes)
    raw = read_body(stream, request.content_length, limit) if stream else b""
    try:
        return load_json(raw, runtime().settings.max_json_depth)
    except ValueError:
        raise ApiError(400, "the request body is not valid JSON") from None


def _patient_scope(hook_request: HookRequest) -> str:
    """Name the patient across calls: the same id at another issuer, tenant or FHIR server is someone else."""
    caller: Caller | None = g.get("caller")
    parts = (
        caller.iss if caller else "",
        caller.tenant or "" if caller else "",
        hook_request.fhir_server or "",
        hook_request.patient_id,
    )
    return "\x1f".join(parts)


def _audience(public_base_url: str | None) -> str:
    """Return the URL the caller must name in `aud`: this endpoint under the configured public base URL."""
    # require_trust refuses jwt mode without it: the request's own URL would trust its Host header.
    assert public_base_url, "jwt mode runs only with CDS_PUBLIC_BASE_URL"
    return public_base_url.rstrip("/") + request.path


def _fhir_reader(hook_request: HookRequest, deadline: Deadline) -> FhirReader:
    """Return the call's FHIR reader: the fhirServer with its token, if named and allowed; otherwise none to ask."""
    server = hook_request.fhir_server
    if server is None:
        return Unreachable("no FHIR server")
    if not _fhir_server_allowed(server):
        return Unreachable("FHIR server not allowed")  # answer from prefetch alone
    return runtime().fhir.reader(server, token=hook_request.access_token, deadline=deadline.at)


def _fhir_server_allowed(server: str) -> bool:
    """Tell whether the configuration lets the service contact this fhirServer for this caller."""
    settings = runtime().settings
    caller: Caller | None = g.get("caller")
    allowed = (*settings.allowed_fhir_servers, *(caller.issuer.fhir_servers if caller else ()))
    if settings.auth_mode == "none" and not settings.allowed_fhir_servers:
        return True  # local development: any server, still subject to the address checks
    return is_listed(server, allowed)
