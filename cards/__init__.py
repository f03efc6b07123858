"""Pure card building: findings in, CDS Hooks 2.0 card JSON out."""

from cards.low_alp import render_card, render_cards

__all__ = ["render_card", "render_cards"]
