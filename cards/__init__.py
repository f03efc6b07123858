"""Pure card building: findings in, CDS Hooks 2.0 card JSON out."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cards import low_alp, safety, wilson
from cards.spec import Json
from hooks.findings import Finding, Topic

NewUuid = Callable[[], str]

CARD_FOR_TOPIC: dict[Topic, Callable[[Finding, NewUuid], Json]] = {
    **low_alp.CARD_FOR_TOPIC,
    **safety.CARD_FOR_TOPIC,
    **wilson.CARD_FOR_TOPIC,
}


ExplainUrl = Callable[[Topic], str]


def render_card(finding: Finding, new_uuid: NewUuid, explain_url: ExplainUrl | None = None) -> Json:
    """Render the card that reports this finding; `explain_url` gives the page that explains its topic."""
    rendered = CARD_FOR_TOPIC[finding.topic](finding, new_uuid)
    if explain_url is not None:
        rendered["source"] = {**rendered["source"], "url": explain_url(finding.topic)}
    return rendered


def render_cards(findings: Iterable[Finding], new_uuid: NewUuid, explain_url: ExplainUrl | None = None) -> list[Json]:
    """Render one card per finding, in order."""
    return [render_card(f, new_uuid, explain_url) for f in findings]


__all__ = ["CARD_FOR_TOPIC", "render_card", "render_cards"]
