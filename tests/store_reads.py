"""Read the audit tables back, for tests: what the store wrote, as rows the tests can compare."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cds_service.store import ServedCard, Store, cards_served, feedback


def served_card(store: Store, card_uuid: str) -> ServedCard | None:
    """Return the audit record of a card, if the service served it."""
    with store.engine.connect() as conn:
        row = conn.execute(select(cards_served).where(cards_served.c.card_uuid == card_uuid)).first()
    return ServedCard(**row._mapping) if row else None


def feedback_for(store: Store, card_uuid: str) -> list[dict[str, Any]]:
    """Return the stored feedback events of a card, oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(feedback).where(feedback.c.card_uuid == card_uuid).order_by(feedback.c.id))
        return [dict(row._mapping) for row in rows]
