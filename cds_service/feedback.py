"""Validate a CDS Hooks 2.0 feedback request into storable events."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from cds_service.store import FeedbackEvent

OUTCOMES = frozenset({"accepted", "overridden"})


class BadFeedback(ValueError):
    """The feedback cannot be stored; the message is a short reason for the 400 answer."""


def parse_feedback(body: Any) -> list[FeedbackEvent]:
    """Return the events of a feedback request, or raise BadFeedback naming the first problem."""
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), list) or not body["feedback"]:
        raise BadFeedback("feedback must be a non-empty list")
    return [_event(item, index) for index, item in enumerate(body["feedback"])]


def _event(item: Any, index: int) -> FeedbackEvent:
    """Return one validated feedback item."""
    where = f"feedback[{index}]"
    if not isinstance(item, dict):
        raise BadFeedback(f"{where} must be an object")
    card = item.get("card")
    if not isinstance(card, str) or not card:
        raise BadFeedback(f"{where}.card is required")
    if len(card) > 100:
        raise BadFeedback(f"{where}.card is longer than 100 characters")
    outcome = item.get("outcome")
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        raise BadFeedback(f"{where}.outcome must be accepted or overridden")
    timestamp = item.get("outcomeTimestamp")
    if not isinstance(timestamp, str) or len(timestamp) > 40 or not _is_timestamp(timestamp):
        raise BadFeedback(f"{where}.outcomeTimestamp must be an RFC 3339 date-time with a time zone")
    accepted = _accepted_suggestions(item.get("acceptedSuggestions"), where)
    if outcome == "accepted" and not accepted:
        raise BadFeedback(f"{where}.acceptedSuggestions is required for accepted outcomes")
    code, system, comment = _override_reason(item.get("overrideReason"), where)
    return FeedbackEvent(card, outcome, timestamp, accepted, code, system, comment)


def _accepted_suggestions(value: Any, where: str) -> tuple[str, ...]:
    """Return the accepted suggestion ids."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(s, dict) and isinstance(s.get("id"), str) for s in value):
        raise BadFeedback(f"{where}.acceptedSuggestions must be a list of objects with an id")
    return tuple(s["id"] for s in value)


def _override_reason(value: Any, where: str) -> tuple[str | None, str | None, str | None]:
    """Return the override reason's code, system and user comment; `display` is optional in feedback."""
    if value is None:
        return None, None, None
    if not isinstance(value, dict):
        raise BadFeedback(f"{where}.overrideReason must be an object")
    reason = value.get("reason")
    comment = value.get("userComment")
    if reason is not None and not (isinstance(reason, dict) and isinstance(reason.get("code"), str)):
        raise BadFeedback(f"{where}.overrideReason.reason must be a Coding with a code")
    if comment is not None and not isinstance(comment, str):
        raise BadFeedback(f"{where}.overrideReason.userComment must be a string")
    if reason is None and not comment:
        raise BadFeedback(f"{where}.overrideReason needs a reason or a userComment")
    system = reason.get("system") if reason else None
    system = system if isinstance(system, str) else None
    code = reason["code"] if reason else None
    # The store keeps codes and systems in columns of these widths.
    if (code and len(code) > 100) or (system and len(system) > 300):
        raise BadFeedback(f"{where}.overrideReason.reason is too long")
    return code, system, comment


def _is_timestamp(text: str) -> bool:
    """Return whether `text` is an RFC 3339 date-time with a time zone (`T`/`Z` in either case)."""
    try:
        parsed = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", text))
    except ValueError:
        return False
    return ("T" in text.upper() or " " in text) and parsed.tzinfo is not None
