"""One hook call, start to end, without Flask: the orders, the gate, the facts, the rule, the cards, the audit.

The route parses the request and hands run_hook a FhirReader; every FHIR read of the call goes through it, in
one concurrent round (plus a read of any referenced Medication the server did not include), before the deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cards import render_cards
from cds_service.audit import record_served, respect_overrides, session_keys
from cds_service.fhir_reader import Deadline, FhirReader
from cds_service.hook_request import BadHookRequest, HookRequest
from cds_service.patient_scope import only_this_patient, require_this_patient
from cds_service.prefetch import DataUnavailable, gather, read_references
from cds_service.services import CORE_KEYS, CdsService
from cds_service.site import Site
from cds_service.store import Store
from hooks.evidence import MEDICATION_KEYS, Evidence, evidence_from_resources
from hooks.extract import index_medications, read_medication_requests, unresolved_medication_references
from hooks.findings import Topic
from hooks.policy import Policy
from hooks.records import MedicationOrder


@dataclass(frozen=True)
class HookCall:
    """One hook call as the route hands it over: the service, the parsed request, the reader and who asks."""

    service: CdsService
    request: HookRequest
    extension: Any  # the request's `extension` member: per-call card switches
    reader: FhirReader  # the only way the call reads FHIR
    deadline: Deadline  # the request's one timer
    now: datetime
    patient_scope: str  # the patient across calls: issuer, tenant, FHIR server and id
    caller: Any = None  # the verified caller (jwt mode), recorded with the cards


@dataclass(frozen=True)
class Shell:
    """What a call uses besides its request: storage, the thread pool for FHIR reads, policy, site, ids, links."""

    store: Store
    executor: Executor
    policy: Policy
    site: Site
    new_uuid: Callable[[], str]
    explain_url: Callable[[Topic], str]


def run_hook(call: HookCall, shell: Shell) -> dict[str, Any]:
    """Answer one hook call with its cards, recording them; raise BadHookRequest (400) or DataUnavailable (412)."""
    service, request, today = call.service, call.request, call.now.date()
    orders = context_orders(call, shell)
    targets = service.gate(request, orders)
    if targets is None:
        findings = []
    else:
        evidence = patient_facts(call, shell, orders)
        findings = service.evaluate(targets, evidence, today, shell.policy)
    context = request.context
    findings, patient_key = respect_overrides(
        shell.site.wanted(service, findings, call.extension),
        shell.store,
        call.patient_scope,
        service.hook,
        call.now,
        shell.policy,
        encounter_id=context.get("encounterId"),
        user_id=context.get("userId"),
    )
    cards = shell.site.present(render_cards(findings, shell.new_uuid, shell.explain_url), findings)
    session = (
        session_keys(shell.store, call.patient_scope, context.get("encounterId"), context.get("userId"))
        if patient_key
        else (None, None)
    )
    record_served(
        shell.store,
        findings,
        cards,
        service_id=service.id,
        hook=service.hook,
        hook_instance=request.hook_instance,
        now=call.now,
        patient_key=patient_key,
        policy=shell.policy,
        caller=call.caller,
        session=session,
    )
    return {"cards": cards}


def context_orders(call: HookCall, shell: Shell) -> list[MedicationOrder]:
    """Return the MedicationRequests of the hook's context Bundle (draftOrders, medications), their drugs resolved."""
    member = call.service.orders
    if member is None:
        return []
    bundle = call.request.context[member]
    raw_entries = bundle.get("entry")
    if raw_entries is not None and not isinstance(raw_entries, list):
        raise BadHookRequest(f"context.{member}.entry must be a list")
    entries = [e for e in raw_entries or () if isinstance(e, dict)]
    resources = [e["resource"] for e in entries if isinstance(e.get("resource"), dict)]
    require_this_patient(resources, call.request.patient_id)  # 400: an order for another patient
    # The drug of an order being signed must be known: a Medication the server cannot give is a 412.
    medications = _with_referenced(resources, index_medications(entries), call, shell, required=True)
    orders, _ = read_medication_requests(resources, medications)
    return orders


def patient_facts(call: HookCall, shell: Shell, orders: list[MedicationOrder]) -> Evidence:
    """Return the patient's Evidence from prefetch where the client sent it, the FHIR server otherwise."""
    request = call.request
    gathered = gather(
        shell.site.templates_for(call.service),
        request.prefetch,
        request.context,
        call.reader,
        call.deadline,
        shell.executor,
        core=CORE_KEYS,  # without the patient (age) and the ALP results nothing can be said; the rest may be missing
    )
    data, included = only_this_patient(gathered.data, request.patient_id, gathered.included)
    uses = [r for key in MEDICATION_KEYS for r in data.get(key) or () if isinstance(r, dict)]
    # The Medications the searches included; one more read only for those a server did not include (or a
    # prefetch left out). For the record, a drug's name is enough when that read fails.
    medications = _with_referenced(uses, index_medications([*included, *uses]), call, shell, required=False)
    return evidence_from_resources(
        data,
        medications,
        patient_id=request.patient_id,
        today=call.now.date(),
        policy=shell.policy,
        draft_orders=orders,
        unavailable=gathered.unavailable,
    )


def _with_referenced(
    uses: list[dict], index: Mapping[str, Any], call: HookCall, shell: Shell, *, required: bool
) -> dict[str, Any]:
    """Return `index` plus the Medications the uses reference and it lacks, read from the FHIR server concurrently."""
    missing = unresolved_medication_references(uses, index)
    if not missing:
        return dict(index)
    to_read = {reference: _server_reference(reference, call.reader.base) for reference in missing}
    try:
        read = read_references(set(to_read.values()), call.reader, call.deadline, shell.executor)
    except DataUnavailable:
        if required:
            raise
        return dict(index)
    return {**index, **{reference: read[target] for reference, target in to_read.items() if target in read}}


def _server_reference(reference: str, server: str | None) -> str:
    """Return `Type/id` for a reference to the FHIR server: relative, absolute on it, or versioned."""
    if server and reference.startswith(server.rstrip("/") + "/"):
        reference = reference[len(server.rstrip("/")) + 1 :]
    return reference.split("/_history/")[0]
