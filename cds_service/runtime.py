"""The long-lived parts one app instance shares across requests: store, FHIR client, thread pool, clocks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cds_service.fhir_client import FhirClient
from cds_service.settings import Settings
from cds_service.store import Store


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def random_uuid() -> str:
    """Return a new random RFC 4122 UUID."""
    return str(uuid.uuid4())


@dataclass
class Runtime:
    """What the routes need besides the request."""

    settings: Settings
    store: Store
    fhir: FhirClient
    executor: ThreadPoolExecutor
    clock: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic  # the request timer's clock: deadlines, durations, FHIR calls
    new_uuid: Callable[[], str] = field(default=random_uuid)
