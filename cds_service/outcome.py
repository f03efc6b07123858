"""Error bodies as FHIR OperationOutcomes (CDS Hooks 3.0 ballot: services SHOULD send one with a non-2xx status)."""

from __future__ import annotations

from typing import Any

# FHIR R4 IssueType per HTTP status; anything else is a processing failure.
_ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "incomplete",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
    500: "exception",
    503: "transient",
}


def issue_type(status: int) -> str:
    """Return the FHIR IssueType code that describes an HTTP error status."""
    return _ISSUE_TYPES.get(status, "processing")


def operation_outcome(status: int, reason: str) -> dict[str, Any]:
    """Return the OperationOutcome of an error answer; `reason` is the short, PHI-free reason already logged."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": issue_type(status), "diagnostics": reason}],
    }
