"""CDS Hooks 2.0 card members, built so that they always meet the specification."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from cards.text import shorten, single_line

# The spec asks for a "<140-character summary".
SUMMARY_MAX_CHARS = 139
INDICATORS = frozenset({"info", "warning", "critical"})
SELECTION_BEHAVIORS = frozenset({"at-most-one", "any"})
_RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}\Z")

Json = dict[str, Any]


def coding(system: str, code: str, display: str | None = None) -> Json:
    """Build a Coding; system and code are required."""
    if not system or not code:
        raise ValueError("a Coding needs a system and a code")
    return _without_empty(system=system, code=code, display=display)


def source(label: str, *, topic: Json | None = None, url: str | None = None) -> Json:
    """Build a card source with a readable label and an optional topic Coding."""
    if not label.strip():
        raise ValueError("a source needs a label")
    if url is not None:
        _require_absolute_url(url)
    return _without_empty(label=label, url=url, topic=topic)


def link(label: str, url: str) -> Json:
    """Build an absolute link to a page a prescriber can open in a browser."""
    if not label.strip():
        raise ValueError("a link needs a label")
    _require_absolute_url(url)
    return {"label": label, "url": url, "type": "absolute"}


def action_create(description: str, resource: Mapping[str, Any]) -> Json:
    """Build an action that proposes creating a new FHIR resource."""
    if not resource.get("resourceType"):
        raise ValueError("a create action needs a resource with a resourceType")
    return {"type": "create", "description": _required_text(description), "resource": dict(resource)}


def is_relative_reference(reference: str | None) -> bool:
    """Tell whether reference has the form `Type/id` with a valid FHIR id."""
    return bool(reference and _RELATIVE_REFERENCE.match(reference))


def action_delete(description: str, resource_id: str) -> Json:
    """Build an action that proposes deleting the resource at a relative reference."""
    if not is_relative_reference(resource_id):
        raise ValueError(f"a delete action needs a relative reference like Type/id, not {resource_id!r}")
    return {"type": "delete", "description": _required_text(description), "resourceId": resource_id}


def suggestion(label: str, actions: Iterable[Json], *, uuid: str, recommended: bool = False) -> Json:
    """Build a suggestion: a labelled set of actions the prescriber can accept at once."""
    actions = list(actions)
    if not actions:
        raise ValueError("a suggestion needs at least one action")
    return _without_empty(
        label=_required_text(label),
        uuid=_required_text(uuid),
        isRecommended=True if recommended else None,
        actions=actions,
    )


def card(
    *,
    uuid: str,
    summary: str,
    indicator: str,
    source: Json,
    detail: str | None = None,
    suggestions: Iterable[Json] = (),
    selection_behavior: str = "any",
    override_reasons: Iterable[Json] = (),
    links: Iterable[Json] = (),
) -> Json:
    """Build a card, shortening the summary to fit and leaving out empty members."""
    indicator = _plain(indicator)
    if indicator not in INDICATORS:
        raise ValueError(f"indicator must be one of {sorted(INDICATORS)}, not {indicator!r}")
    if not source.get("label"):
        raise ValueError("a card needs a source with a label")
    suggestions = list(suggestions)
    override_reasons = list(override_reasons)
    _require_unique_uuids(uuid, suggestions)
    _require_displays(override_reasons)
    if suggestions:
        _require_selection_behavior(selection_behavior, suggestions)
    return _without_empty(
        uuid=uuid,
        summary=shorten(_required_text(single_line(summary)), SUMMARY_MAX_CHARS),
        detail=detail.strip() if detail else None,
        indicator=indicator,
        source=source,
        suggestions=suggestions,
        selectionBehavior=selection_behavior if suggestions else None,
        overrideReasons=override_reasons,
        links=list(links),
    )


def _require_unique_uuids(card_uuid: str, suggestions: list[Json]) -> None:
    """Refuse a card or suggestion without a uuid, or a uuid used twice."""
    uuids = [card_uuid, *(s.get("uuid") for s in suggestions)]
    if not all(uuids):
        raise ValueError("every card and suggestion needs a uuid, for feedback")
    if len(set(uuids)) != len(uuids):
        raise ValueError("uuids within a card must be unique")


def _require_displays(override_reasons: list[Json]) -> None:
    """Refuse an override reason that a client could not show."""
    for reason in override_reasons:
        if not (reason.get("system") and reason.get("code") and reason.get("display")):
            raise ValueError(f"an override reason needs system, code and display: {reason!r}")


def _require_selection_behavior(behavior: str, suggestions: list[Json]) -> None:
    """Refuse an unknown selection behaviour or several recommendations where only one may be taken."""
    if behavior not in SELECTION_BEHAVIORS:
        raise ValueError(f"selectionBehavior must be one of {sorted(SELECTION_BEHAVIORS)}")
    recommended = sum(1 for s in suggestions if s.get("isRecommended"))
    if behavior == "at-most-one" and recommended > 1:
        raise ValueError("at most one suggestion may be recommended when at most one can be chosen")


def _require_absolute_url(url: str) -> None:
    """Refuse a URL a browser could not open on its own."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an absolute http(s) URL, not {url!r}")


def _required_text(text: str) -> str:
    """Return text, refusing it when blank."""
    if not text or not text.strip():
        raise ValueError("this text is required")
    return text


def _plain(value: str) -> str:
    """Return the plain string behind an enum member, so JSON carries the value itself."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def _without_empty(**members: Any) -> Json:
    """Keep the members that carry something; the spec wants absent, not null or empty."""
    return {k: v for k, v in members.items() if v is not None and v != "" and v != [] and v != {}}
