"""Structured JSON logs: one object per line, fields passed explicitly, never request bodies."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_CONFIGURED = False


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object with its explicit `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            # The exception type only: messages and tracebacks can carry patient data or tokens.
            entry["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else "unknown"
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Send the service's logs to stderr as JSON lines, once per process."""
    global _CONFIGURED
    logger = logging.getLogger("alp_guard")
    logger.setLevel(level)
    # urllib3 logs each request's URL at DEBUG, and FHIR search URLs carry the patient id.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    if not _CONFIGURED:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        _CONFIGURED = True


def get_logger(name: str) -> logging.Logger:
    """Return a logger under the service's namespace."""
    return logging.getLogger(f"alp_guard.{name}")
