"""A failing or slow FHIR server: every fault gets a defined answer inside the deadline, never a 5xx, no leaks."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cds_service import create_app
from tests.cds_checks import error_reason
from tests.conftest import hook_request, load_fhir
from tests.fault_server import FaultyFhirServer

DEADLINE = 1.0
FAULTS = ["hang", "reset", "500", "503", "429", "invalid-json", "huge", "endless"]
SIGN = "/cds-services/low-alp-order-sign"
VIEW = "/cds-services/low-alp-patient-view"


@pytest.fixture
def fhir() -> Iterator[FaultyFhirServer]:
    bundles = {
        "Patient/pat-hpp-1": load_fhir("patient-adult-female.json"),
        "Observation": load_fhir("alp-persistent-low.json"),
        "Condition": load_fhir("conditions-none.json"),
        "MedicationRequest": load_fhir("medications-none.json"),
    }
    with FaultyFhirServer(bundles) as server:
        yield server


@pytest.fixture
def client(app_config: dict[str, Any]) -> Iterator[Any]:
    app = create_app(
        {
            **app_config,
            "request_deadline_seconds": DEADLINE,
            "fhir_timeout_seconds": 0.5,
            "fhir_max_response_bytes": 1_000_000,
            "fhir_max_pages": 5,
        }
    )
    yield app.test_client()
    app.extensions["alp_guard"].executor.shutdown(wait=False, cancel_futures=True)


def call(client: Any, fhir: FaultyFhirServer, path: str = SIGN) -> tuple[Any, float]:
    hook = "order-sign" if path == SIGN else "patient-view"
    drafts = load_fhir("draft-orders-sandbox-alendronate.json") if path == SIGN else None
    body = hook_request(hook, draft_orders=drafts, fhir_server=fhir.base, token="t")
    started = time.monotonic()
    response = client.post(path, json=body)
    return response, time.monotonic() - started


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_on_the_alp_results_is_412_inside_the_deadline(client, fhir, fault):
    fhir.faults["Observation"] = fault
    response, elapsed = call(client, fhir)
    assert response.status_code == 412
    assert "prefetch 'alp' unavailable" in error_reason(response)
    assert elapsed < DEADLINE + 0.3


@pytest.mark.parametrize("fault", ["hang", "500", "invalid-json"])
def test_a_fault_on_the_patient_is_412(client, fhir, fault):
    fhir.faults["Patient"] = fault
    response, elapsed = call(client, fhir)
    assert response.status_code == 412 and elapsed < DEADLINE + 0.3


@pytest.mark.parametrize("fault", FAULTS)
def test_without_the_problem_list_order_sign_still_warns_and_says_what_it_could_not_check(client, fhir, fault):
    fhir.faults["Condition"] = fault
    response, elapsed = call(client, fhir)
    assert response.status_code == 200 and elapsed < DEADLINE + 0.3
    (card,) = response.get_json()["cards"]
    assert card["source"]["topic"]["code"] == "low-alp-antiresorptive"
    assert "Could not be read in time, so not checked: the problem list" in card["detail"]


@pytest.mark.parametrize("kind", ["Condition", "MedicationRequest"])
def test_patient_view_makes_no_claim_it_cannot_back(client, fhir, kind):
    # "Not evaluated" needs the problem list and the medications; without one of them, no card.
    assert call(client, fhir, VIEW)[0].get_json()["cards"] != []
    fhir.faults[kind] = "500"
    response, _ = call(client, fhir, VIEW)
    assert (response.status_code, response.get_json()) == (200, {"cards": []})


def open_sockets() -> int:
    fds = os.listdir("/proc/self/fd")
    count = 0
    for fd in fds:
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def app_threads() -> int:
    return sum(t.name.startswith("fhir") for t in threading.enumerate())


def test_repeated_hangs_leak_neither_threads_nor_connections(client, fhir):
    sockets = open_sockets()
    fhir.faults["Observation"] = "hang"
    for _ in range(8):
        assert call(client, fhir)[0].status_code == 412
    # The app's FHIR workers are a bounded pool, however many calls time out.
    assert app_threads() <= client.application.extensions["alp_guard"].settings.fhir_concurrency
    fhir.release.set()  # let the server's hung handlers finish and close their side
    deadline = time.monotonic() + 5
    while open_sockets() > sockets + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    # Timed-out calls dropped their connections: nothing is left open by the client either.
    assert open_sockets() <= sockets + 2


def test_a_429_with_a_long_retry_after_is_not_waited_for(client, fhir):
    fhir.faults["Observation"] = "429"
    response, elapsed = call(client, fhir)
    assert response.status_code == 412 and elapsed < 0.5
