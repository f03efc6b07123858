"""A progress bar on a terminal (tqdm), silent in CI logs and pipes."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


class Progress:
    """Makes tqdm bars on standard error, only when it is a terminal (or when told to)."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def bar(self, **kwargs: Any) -> tqdm:
        """Return a bar (a disabled one off a terminal): counts only, never a patient."""
        return tqdm(file=sys.stderr, disable=not self.enabled, dynamic_ncols=True, **kwargs)
