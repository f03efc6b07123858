"""Validate a CDS Hooks 2.0 feedback request into storable events."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cds_service.limits import LimitExceeded
from cds_service.schema_check import SchemaError, first_error, is_timestamp
from cds_service.schemas import COMPONENTS, MAX_COMMENT_LENGTH, MAX_FEEDBACK_ITEMS, MAX_ID_LENGTH, ref
from cds_service.store import FeedbackEvent, IssuedCard

# The code an override reason is stored under when the card did not offer the code sent.
OTHER_REASON = "other"
OUTCOMES = frozenset(COMPONENTS["Feedback"]["properties"]["outcome"]["enum"])


class BadFeedback(ValueError):
    """The feedback cannot be stored; the message is a short reason for the 400 answer."""


def parse_feedback(body: Any) -> list[FeedbackEvent]:
    """Return the events of a feedback request, or raise BadFeedback naming the first problem (413: too many)."""
    items = body.get("feedback") if isinstance(body, dict) else None
    if isinstance(items, list) and len(items) > MAX_FEEDBACK_ITEMS:
        raise LimitExceeded(413, f"more than {MAX_FEEDBACK_ITEMS} feedback items in one request")
    if not (isinstance(items, list) and items and all(map(plainly_valid, items))):
        error = first_error(ref("FeedbackRequest"), body, COMPONENTS)
        if error is not None:
            raise BadFeedback(_reason(error))
    return [_event(item) for item in body["feedback"]]


def plainly_valid(item: Any) -> bool:
    """Tell, in a few direct checks, whether an item has one of the usual valid shapes; if not, the schema decides.

    The general schema check costs about 0.2 ms an item, most of a 100-item post's CPU. This never accepts an item
    the schema refuses (tests/test_feedback.py checks that on generated items); an unusual valid item simply takes
    the slow path.
    """
    if type(item) is not dict:
        return False
    card, when, suggestions = item.get("card"), item.get("outcomeTimestamp"), item.get("acceptedSuggestions")
    if not (type(card) is str and 0 < len(card) <= MAX_ID_LENGTH and type(when) is str and len(when) <= 40):
        return False
    if suggestions is not None and not (
        type(suggestions) is list and all(type(s) is dict and type(s.get("id")) is str for s in suggestions)
    ):
        return False
    outcome = item.get("outcome")
    if not (outcome == "overridden" or (outcome == "accepted" and suggestions)):
        return False
    override = item.get("overrideReason")
    return (override is None or _plain_override(override)) and is_timestamp(when)


def _plain_override(override: Any) -> bool:
    """Tell whether an overrideReason is a reason Coding with a code, a comment, or both, within their widths."""
    if type(override) is not dict:
        return False
    reason, comment = override.get("reason"), override.get("userComment")
    if reason is not None and not (
        type(reason) is dict
        and type(reason.get("code")) is str
        and len(reason["code"]) <= 100
        and ("system" not in reason or (type(reason["system"]) is str and len(reason["system"]) <= 300))
        and ("display" not in reason or type(reason["display"]) is str)
    ):
        return False
    if comment is not None and not (type(comment) is str and len(comment) <= MAX_COMMENT_LENGTH):
        return False
    return reason is not None or bool(comment)


def item_count(body: Any) -> int:
    """Return how many feedback items a request body holds (at most one past the cap), before it is validated."""
    items = body.get("feedback") if isinstance(body, dict) else None
    return min(len(items), MAX_FEEDBACK_ITEMS + 1) if isinstance(items, list) else 0


def screen(events: list[FeedbackEvent], issued: Mapping[str, IssuedCard]) -> list[FeedbackEvent]:
    """Keep the events on cards issued to this caller; an override code the card did not offer becomes "other"."""
    return [
        _offered_only(event, issued[event.card_uuid].override_codes) for event in events if event.card_uuid in issued
    ]


def _offered_only(event: FeedbackEvent, offered: frozenset[str] | None) -> FeedbackEvent:
    """Return the event with its override code kept only if the card offered it; else "other", the code as text."""
    code = event.override_code
    if code is None or offered is None or code in offered:
        return event
    comment = ": ".join(text for text in (code, event.user_comment) if text)
    return dataclasses.replace(event, override_code=OTHER_REASON, override_system=None, user_comment=comment)


def _event(item: dict[str, Any]) -> FeedbackEvent:
    """Return the storable event of one valid feedback item; `display` is optional in feedback."""
    override = item.get("overrideReason") or {}
    coding = override.get("reason") or {}
    accepted = tuple(suggestion["id"] for suggestion in item.get("acceptedSuggestions") or ())
    return FeedbackEvent(
        item["card"],
        item["outcome"],
        item["outcomeTimestamp"],
        accepted,
        coding.get("code"),
        coding.get("system"),
        override.get("userComment"),
    )


def _reason(error: SchemaError) -> str:
    """Name the member that breaks the feedback schema, in the 400 answer's words."""
    path, keyword = error.path, error.keyword
    if len(path) < 2:
        return "feedback must be a non-empty list"
    where, member = f"feedback[{path[1]}]", path[2:]
    if not member:
        if keyword == "then":
            return f"{where}.acceptedSuggestions is required for accepted outcomes"
        return f"{where} must be an object"
    name = member[0]
    if name == "card":
        return (
            f"{where}.card is longer than {MAX_ID_LENGTH} characters"
            if keyword == "maxLength"
            else (f"{where}.card is required")
        )
    if name == "overrideReason":
        return _override_reason(member[1:], keyword, where)
    return {
        "outcome": f"{where}.outcome must be accepted or overridden",
        "outcomeTimestamp": f"{where}.outcomeTimestamp must be an RFC 3339 date-time with a time zone",
        "acceptedSuggestions": f"{where}.acceptedSuggestions must be a list of objects with an id",
    }.get(str(name), f"{where}.{name} is malformed")


def _override_reason(inner: tuple[str | int, ...], keyword: str, where: str) -> str:
    """Name what is wrong with an overrideReason."""
    if not inner:
        return (
            f"{where}.overrideReason needs a reason or a userComment"
            if keyword == "anyOf"
            else (f"{where}.overrideReason must be an object")
        )
    if inner[0] == "userComment":
        return (
            f"{where}.overrideReason.userComment is longer than {MAX_COMMENT_LENGTH} characters"
            if (keyword == "maxLength")
            else f"{where}.overrideReason.userComment must be a string"
        )
    # The store keeps codes and systems in columns of bounded width.
    return (
        f"{where}.overrideReason.reason is too long"
        if keyword == "maxLength"
        else (f"{where}.overrideReason.reason must be a Coding with a code")
    )
