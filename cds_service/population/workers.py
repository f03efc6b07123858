"""The rule over many patients: worker processes review patient groups in chunks, and the results come back in order.

The workers are forked before the engine starts its threads (a fork copies only the forking thread), so they start
at once with the rule already imported. A bounded number of chunks is in flight: memory stays that of a few chunks
whatever the population.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from types import TracebackType
from typing import Any

from cds_service.population.results import PatientResult, review_lines
from hooks.policy import Policy

Group = tuple[str, list[str]]  # a patient id and the patient's NDJSON lines
CHUNK_LINES = 500  # lines a chunk holds at least (a patient's group is never split): small enough to share evenly
CHUNKS_PER_WORKER = 3  # chunks in flight for each worker

# A worker's state: the audit's date and policy (from the fork), and the medications of the audit it last served.
_state: dict[str, Any] = {}


def default_workers() -> int:
    """Return the number of worker processes to use: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def chunks(groups: Iterable[Group], max_lines: int | None = None) -> Iterator[list[Group]]:
    """Yield lists of whole patient groups of about `max_lines` (default CHUNK_LINES) lines each, in order."""
    max_lines = max_lines or CHUNK_LINES
    chunk: list[Group] = []
    size = 0
    for group in groups:
        chunk.append(group)
        size += len(group[1])
        if size >= max_lines:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _start_worker(today: date, policy: Policy) -> None:
    """Keep the audit's date and policy in the worker."""
    _state.update(today=today, policy=policy, medications_key=None, medications={})


def _review_chunk(key: int, medications: str, chunk: list[Group]) -> list[PatientResult]:
    """Review each patient of a chunk (runs in a worker); the medications file is read once per audit."""
    if _state["medications_key"] != key:
        _state.update(medications_key=key, medications=pickle.loads(Path(medications).read_bytes()))
    today, policy, known = _state["today"], _state["policy"], _state["medications"]
    return [review_lines(patient, lines, known, today, policy) for patient, lines in chunk]


class RulePool:
    """Applies the rule to patient groups, in `workers` processes (in this one when `workers` is 1)."""

    def __init__(self, workers: int, today: date, policy: Policy) -> None:
        self.today, self.policy = today, policy
        forkable = "fork" in multiprocessing.get_all_start_methods()
        self.workers = workers if forkable else 1
        self._pool: Pool | None = None
        if self.workers > 1:
            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(self.workers, initializer=_start_worker, initargs=(today, policy))
        self._audits = 0

    def review(self, groups: Iterable[Group], medications: Mapping[str, Mapping[str, Any]]) -> Iterator[PatientResult]:
        """Yield each group's result, in the groups' order."""
        if self._pool is None:
            for patient, lines in groups:
                yield review_lines(patient, lines, medications, self.today, self.policy)
            return
        # The Medications referenced go through a file each worker reads once, not with every chunk.
        self._audits += 1
        with tempfile.TemporaryDirectory(prefix="alp-guard-rule-") as work:
            shared = Path(work) / "medications.pickle"
            shared.write_bytes(pickle.dumps(dict(medications), protocol=pickle.HIGHEST_PROTOCOL))
            pending: deque[AsyncResult[list[PatientResult]]] = deque()
            for chunk in chunks(groups):
                pending.append(self._pool.apply_async(_review_chunk, (self._audits, str(shared), chunk)))
                if len(pending) >= CHUNKS_PER_WORKER * self.workers:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()

    def __enter__(self) -> RulePool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._pool is not None:
            if kind is None:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()
