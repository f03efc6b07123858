"""Keep a hook call to its own patient: another patient's resources are never evidence, and never ordered for."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from cds_service.hook_request import BadHookRequest
from cds_service.logs import get_logger

log = get_logger("patient_scope")
# The patient a reference names: `Patient/<id>`, relative, absolute or versioned. Other forms (urn:uuid, a
# contained or identifier-only reference) name no id and are left to the search that fetched the resource.
_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]*)?$")


class OtherPatientOrder(BadHookRequest):
    """A draft order is for another patient than context.patientId; the message is the 400 answer's reason."""


def patient_of(resource: Mapping[str, Any]) -> str | None:
    """Return the id of the patient a resource is about, when it names one: a Patient's id, or its subject/patient."""
    if resource.get("resourceType") == "Patient":
        identity = resource.get("id")
        return identity if isinstance(identity, str) else None
    for member in ("subject", "patient"):
        reference = resource.get(member)
        if isinstance(reference, Mapping) and isinstance(reference.get("reference"), str):
            match = _PATIENT_REFERENCE.search(reference["reference"])
            if match:
                return match.group(1)
    return None


def is_other_patients(resource: Any, patient_id: str) -> bool:
    """Tell whether a resource names a patient, and that patient is not this one."""
    if not isinstance(resource, Mapping):
        return False
    named = patient_of(resource)
    return named is not None and named != patient_id


def only_this_patient(
    data: Mapping[str, Any], patient_id: str, included: Sequence[Mapping[str, Any]] = ()
) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
    """Return the data and the `_include`d entries without other patients' resources; log how many were left out.

    An included Medication names no patient and is kept: it is the drug of a resource that passed this check.
    """
    kept: dict[str, Any] = {}
    ignored: dict[str, int] = {}
    for key, value in data.items():
        if isinstance(value, list):
            kept[key] = [r for r in value if not is_other_patients(r, patient_id)]
            dropped = len(value) - len(kept[key])
        else:
            dropped = int(is_other_patients(value, patient_id))
            kept[key] = None if dropped else value
        if dropped:
            ignored[key] = dropped
    kept_included = [e for e in included if not is_other_patients(e.get("resource"), patient_id)]
    if len(kept_included) < len(included):
        ignored["_include"] = len(included) - len(kept_included)
    if ignored:
        log.warning(
            "other patients' resources ignored",
            extra={"fields": {"ignored": sum(ignored.values()), "keys": ",".join(sorted(ignored))}},
        )
    return kept, kept_included


def require_this_patient(draft_orders: list[Any], patient_id: str) -> None:
    """Refuse draft orders of which any names another patient than context.patientId."""
    if any(is_other_patients(order, patient_id) for order in draft_orders):
        log.warning("draft order for another patient refused", extra={"fields": {"status": 400}})
        raise OtherPatientOrder("context.draftOrders holds an order for another patient than context.patientId")
