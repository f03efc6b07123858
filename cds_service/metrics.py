"""Prometheus metrics: requests, cards, FHIR calls and feedback, summed over gunicorn workers when asked to.

Labels hold only bounded, patient-free values: service ids, endpoint names, HTTP statuses, card topics and
indicators, outcome categories.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from cds_service.logs import get_logger
from cds_service.store import FeedbackEvent

log = get_logger("metrics")
_F = TypeVar("_F", bound=Callable[..., None])


def _never_fails(record: _F) -> _F:
    """Make a metrics update unable to fail the request it describes: a lost count beats a lost card."""

    @functools.wraps(record)
    def safe(*args: Any, **kwargs: Any) -> None:
        try:
            record(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 (any failure of the metrics store, by design)
            log.warning("metrics not recorded", extra={"fields": {"exception": type(exc).__name__}})

    return safe  # type: ignore[return-value]


MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "alp_guard_request_duration_seconds",
    "Time to answer an HTTP request; the _count series counts requests.",
    ["endpoint", "service", "status"],
)
CARDS = Counter("alp_guard_cards_total", "Cards served.", ["service", "topic", "indicator"])
FHIR_SECONDS = Histogram(
    "alp_guard_fhir_request_duration_seconds",
    "Time of each call to a FHIR server; the _count series counts calls.",
    ["outcome"],
)
FEEDBACK = Counter(
    "alp_guard_feedback_total",
    "Feedback items stored, by the topic of the card they are about; override rate = overridden / all.",
    ["service", "topic", "outcome"],
)

# FhirError reasons are short fixed phrases; map them to few outcomes so labels stay bounded.
_FHIR_OUTCOMES = (
    ("timed out", "timeout"),
    ("deadline", "timeout"),
    ("address not allowed", "blocked"),
    ("unreachable", "unreachable"),
    ("answered", "http_error"),
    ("redirected", "http_error"),
    ("too large", "too_large"),
    ("invalid FHIR", "invalid_request"),
)


@_never_fails
def observe_request(endpoint: str, service: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request and its duration."""
    REQUEST_SECONDS.labels(endpoint, service, str(status)).observe(seconds)


@_never_fails
def count_cards(service: str, cards: Iterable[dict[str, Any]]) -> None:
    """Count the cards of one hook answer by topic and indicator."""
    for card in cards:
        topic = card.get("source", {}).get("topic", {}).get("code", "none")
        CARDS.labels(service, topic, card.get("indicator", "none")).inc()


@_never_fails
def count_feedback(service: str, events: Iterable[FeedbackEvent], topic_of: Callable[[str], str | None]) -> None:
    """Count feedback items by outcome and by the topic the card audit records for their card."""
    for event in events:
        FEEDBACK.labels(service, topic_of(event.card_uuid) or "unknown", event.outcome).inc()


@_never_fails
def observe_fhir_call(outcome: str, seconds: float) -> None:
    """Count one FHIR call: `ok`, `not found`, `error` or a FhirError reason, folded into a few outcomes."""
    FHIR_SECONDS.labels(fhir_outcome(outcome)).observe(seconds)


def fhir_outcome(reason: str) -> str:
    """Return the outcome category of a FHIR call's result or failure reason."""
    if reason in ("ok", "not found", "error"):
        return reason.replace(" ", "_")
    for phrase, outcome in _FHIR_OUTCOMES:
        if phrase in reason:
            return outcome
    return "invalid_response"


def exposition() -> tuple[bytes, str]:
    """Return the metrics in the Prometheus text format: every worker's when multiprocess mode is on."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
