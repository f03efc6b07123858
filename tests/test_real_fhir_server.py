"""The fetch path end to end against a real FHIR R4 server: Medplum's FhirRouter and MemoryRepository
(tests/fhir_server/) on loopback, loaded with the demo patients by examples/load_demo.py. Each demo hook request
is sent without prefetch, so the service's own searches (token lists `code=system|code,...`, `patient=`,
`_sort=-date`, `_count`) run against real FHIR search semantics rather than `responses` mocks.

Needs Node 20+ with npm; the pinned packages are installed on first use (`npm ci`, as .ci/run also does)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cds_checks import assert_response_spec_exact
from tests.test_demo_patients import DEMO, EXAMPLES, REFERENCE_DATE, load_demo

SERVER_DIR = Path(__file__).resolve().parent / "fhir_server"
INSTALL_HINT = "install the test FHIR server's packages with: cd tests/fhir_server && npm ci"
START_SECONDS = 30
# The demo is loaded as of a day far from the one its Bundles are written for: the cards must not change.
DEMO_DAY = date(2031, 6, 15)
DEMO_NOW = datetime(2031, 6, 15, 12, 0, tzinfo=UTC)


def skip_or_fail(reason: str) -> None:
    """Skip without Node, saying why; under CI (CI=true) fail instead, as tests/databases.py does."""
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason}: CI must run the real FHIR server tests, not skip them", pytrace=False)
    pytest.skip(reason)


def node_command() -> list[str]:
    """Return the node command line; Node < 22 has no global WebSocket, which @medplum/core needs."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail(f"node is not on PATH: the real FHIR server needs Node 20 or later; then {INSTALL_HINT}")
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        install_packages()
    version = subprocess.run([node, "--version"], check=False, capture_output=True, text=True, timeout=30).stdout
    major = int(version.lstrip("v").split(".")[0])
    return [node, *(["--experimental-websocket"] if major < 22 else []), "server.mjs", "0"]


def install_packages() -> None:
    """Install the pinned packages once, as pip installs the Python ones: the lockfile fixes every version."""
    npm = shutil.which("npm")
    if npm is None:
        skip_or_fail(f"npm is not on PATH: the real FHIR server needs Node 20 or later with npm; then {INSTALL_HINT}")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=SERVER_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"npm ci failed in tests/fhir_server ({done.stderr.strip()[-300:]}); {INSTALL_HINT}")


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[str]:
    """Start the Medplum server on a free loopback port, load the demo into it; yield its base URL."""
    command = node_command()
    # stderr to a file, not a pipe: a chatty server can never block on it
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(
            command, cwd=SERVER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
        try:
            try:
                first = lines.get(timeout=START_SECONDS)
            except queue.Empty:
                first = ""
            if not first.startswith("listening "):
                process.kill()
                process.wait()
                errors.seek(0)
                pytest.fail(
                    f"the test FHIR server did not start within {START_SECONDS} s: {first!r} {errors.read()[-2000:]}"
                )
            base = f"http://127.0.0.1:{int(first.split()[1])}/fhir"
            load = subprocess.run(
                [sys.executable, str(EXAMPLES / "load_demo.py"), "--fhir", base, "--today", DEMO_DAY.isoformat()],
                check=False,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert load.returncode == 0, load.stderr
            yield base
        finally:
            process.stdin.close()  # the server exits when its stdin closes
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The app of conftest, on the day the demo was loaded for (auth mode none: any FHIR server is allowed)."""
    return {**app_config, "clock": lambda: DEMO_NOW}


def fhir_get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def demo_call(name: str, base: str) -> dict[str, Any]:
    """Return the demo request dated as of the demo day, aimed at the test server."""
    body = load_demo.shift_dates(json.loads((EXAMPLES / name).read_text()), (DEMO_DAY - REFERENCE_DATE).days)
    return {**body, "fhirServer": base}


@pytest.mark.parametrize("name", sorted(DEMO))
def test_a_demo_patient_fetched_from_a_real_fhir_server_gives_its_cards(client, fhir_server, name):
    service, _, expected = DEMO[name]
    response = client.post(f"/cds-services/{service}", json=demo_call(name, fhir_server))
    assert response.status_code == 200, response.get_json()
    assert_response_spec_exact(response.get_json())
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]] == expected


def test_the_cards_cite_the_results_read_from_the_server(client, fhir_server):
    response = client.post(
        "/cds-services/low-alp-order-sign", json=demo_call("demo-low-alp-alendronate.json", fhir_server)
    )
    (card,) = response.get_json()["cards"]
    assert "27" in card["summary"]  # the lowest of the five low results
    for day in ("2029-12-22", "2031-02-15", "2031-05-16"):  # 540, 120 and 30 days before, as written
        assert day in card["detail"]


def test_the_service_searches_are_answered_with_real_search_semantics(fhir_server):
    from cds_service.services import ALP, SAFETY_LAB_RESULTS

    def search(template: str, patient: str) -> list[dict[str, Any]]:
        bundle = fhir_get(f"{fhir_server}/{template.replace('{{context.patientId}}', patient)}")
        return [e["resource"] for e in bundle.get("entry", [])]

    alp = search(ALP, "demo-low-alp")
    assert [o["valueQuantity"]["value"] for o in alp] == [30, 27, 31, 33, 29, 46]  # _sort=-date, only ALP
    assert {o["subject"]["reference"] for o in alp} == {"Patient/demo-low-alp"}  # urn:uuid resolved on load
    labs = [
        (o["code"]["coding"][0]["code"], o["valueQuantity"]["value"]) for o in search(SAFETY_LAB_RESULTS, "demo-renal")
    ]
    assert sorted(labs[:3]) == [("17861-6", 9.1), ("62292-8", 31), ("98979-8", 28)]  # same draw, newest
    assert labs[3:] == [("98979-8", 31)]  # the older eGFR last; the ALP results are not in this search
    assert search(ALP.replace("_count=100", "_count=2"), "demo-low-alp")[:2] == alp[:2]


def test_loading_again_updates_the_same_resources(fhir_server):
    def counts() -> dict[str, int]:
        return {
            kind: len(fhir_get(f"{fhir_server}/{kind}?_count=1000").get("entry", []))
            for kind in ("Patient", "Observation", "Condition", "MedicationRequest")
        }

    before = counts()
    assert load_demo.main(["--fhir", fhir_server, "--today", DEMO_DAY.isoformat()]) == 0
    assert counts() == before
    assert before["Patient"] == len(DEMO)


def test_the_server_serves_a_capability_statement_for_r4(fhir_server):
    assert fhir_get(f"{fhir_server}/metadata")["fhirVersion"] == "4.0.1"


# What the README's "Demo with Docker" promises in the CDS Hooks Sandbox: the card on opening each patient, and
# the card on signing the drug the Sandbox's own medication list offers for that patient (it has no IV drugs).
SANDBOX_PATIENT_VIEW = {
    "demo-low-alp": [("low-alp-unevaluated", "info")],
    "demo-hpp": [],
    "demo-child": [("low-alp-unevaluated", "info")],
    "demo-denosumab": [],
    "demo-wilson": [("wilson-alf", "critical")],
    "demo-renal": [],
}
SANDBOX_ALENDRONATE_SIGN = {
    "demo-low-alp": [("low-alp-antiresorptive", "warning")],
    "demo-hpp": [("hpp-antiresorptive", "critical")],
    # Alendronate while denosumab is in use: two antiresorptives at once, or a switch whose denosumab order must end.
    "demo-denosumab": [("duplicate-antiresorptive", "warning")],
    "demo-renal": [("renal-antiresorptive", "warning")],
}


def sandbox_call(hook: str, patient_id: str, base: str, draft_orders: dict[str, Any] | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"patientId": patient_id, "userId": "Practitioner/COREPRACTITIONER1"}
    if draft_orders is not None:
        context["draftOrders"] = draft_orders
    return {
        "hookInstance": "d1f0c3a2-5b4e-4c6d-8e7f-9a0b1c2d3e4f",
        "hook": hook,
        "fhirServer": base,
        "context": context,
    }


@pytest.mark.parametrize("patient_id", sorted(SANDBOX_PATIENT_VIEW))
def test_opening_a_demo_patient_in_the_sandbox_gives_the_readme_card(client, fhir_server, patient_id):
    response = client.post(
        "/cds-services/low-alp-patient-view", json=sandbox_call("patient-view", patient_id, fhir_server)
    )
    assert response.status_code == 200
    cards = [(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]]
    assert cards == SANDBOX_PATIENT_VIEW[patient_id]


@pytest.mark.parametrize("patient_id", sorted(SANDBOX_ALENDRONATE_SIGN))
def test_signing_the_sandbox_alendronate_for_a_demo_patient_gives_the_readme_card(client, fhir_server, patient_id):
    drafts = json.loads(
        (Path(__file__).parent / "fixtures" / "fhir" / "draft-orders-sandbox-alendronate.json").read_text()
    )
    for entry in drafts["entry"]:
        entry["resource"]["subject"] = {"reference": f"Patient/{patient_id}"}
    body = sandbox_call("order-sign", patient_id, fhir_server, drafts)
    response = client.post("/cds-services/low-alp-order-sign", json=body)
    assert response.status_code == 200
    cards = [(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]]
    assert cards == SANDBOX_ALENDRONATE_SIGN[patient_id]


def test_without_node_the_tests_skip_with_the_reason_but_fail_under_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="node is not on PATH"):
        node_command()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the real FHIR server tests"):
        node_command()


def test_the_demo_without_docker_serves_the_readme_cards(tmp_path):
    from tests.test_main import free_port

    node_command()  # skips without Node (fails under CI), installs the server's packages when missing
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "demo.py"),
            "--check",
            "--port",
            str(free_port()),
            "--fhir-port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "demo: every card as the README says"
    assert "demo-renal-zoledronic-acid.json: critical:" in done.stdout


# medication-refill 0.1.0 as an EHR sends it for a pharmacy or portal request: no user, no prefetch; the patient's
# record is searched on the real server. A refill is checked as the same drug ordered would be.
@pytest.mark.parametrize(
    "name", ["demo-low-alp-alendronate.json", "demo-renal-zoledronic-acid.json", "demo-denosumab-normal-alp.json"]
)
def test_a_refill_without_a_user_is_checked_against_the_real_server(client, fhir_server, name):
    order = demo_call(name, fhir_server)
    drafts = order["context"]["draftOrders"]
    for entry in drafts["entry"]:
        entry["resource"].update(id="active-rx-1", status="active")  # the prescription being refilled
    body = {
        "hookInstance": order["hookInstance"],
        "hook": "medication-refill",
        "fhirServer": fhir_server,
        "context": {"patientId": order["context"]["patientId"], "medications": drafts},
    }
    response = client.post("/cds-services/low-alp-medication-refill", json=body)
    assert response.status_code == 200, response.get_json()
    assert_response_spec_exact(response.get_json())
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]] == DEMO[name][2]


# A site whose EHR wants category=laboratory on Observation searches and no _sort: the same cards, the searches
# run on the real server with the site's parameters.
@pytest.mark.parametrize("name", sorted(DEMO))
def test_a_site_with_laboratory_category_and_no_sort_gives_the_same_cards(app_config, fhir_server, tmp_path, name):
    from cds_service import create_app

    site = tmp_path / "site.json"
    site.write_text(json.dumps({"prefetch_parameters": {"Observation": {"category": "laboratory", "_sort": None}}}))
    app = create_app({**app_config, "site_file": str(site)})
    try:
        service, _, expected = DEMO[name]
        response = app.test_client().post(f"/cds-services/{service}", json=demo_call(name, fhir_server))
    finally:
        app.extensions["alp_guard"].executor.shutdown(wait=True)
    assert response.status_code == 200, response.get_json()
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]] == expected


def fhir_put(base: str, resource: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{base}/{resource['resourceType']}/{resource['id']}",
        method="PUT",
        data=json.dumps(resource).encode(),
        headers={"Content-Type": "application/fhir+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
# Therapy recorded only where EHRs keep it outside orders: given in clinic, dispensed, or reported by the patient.
THERAPY_ELSEWHERE = {
    "MedicationAdministration": {
        "status": "completed",
        "effectiveDateTime": "{day-60}",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "1114085", "display": "zoledronic acid"}],
            "text": "Zoledronic acid 5 MG/100ML Injection",
        },
    },
    "MedicationDispense": {
        "status": "completed",
        "whenHandedOver": "{day-10}",
        "daysSupply": {"value": 28, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "904431", "display": "Alendronic acid 70 MG Oral Tablet"}]
        },
    },
    "MedicationStatement": {
        "status": "active",
        "effectivePeriod": {"start": "{day-200}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "905024", "display": "risedronate 35 MG Oral Tablet"}]
        },
    },
}


@pytest.mark.parametrize("kind", sorted(THERAPY_ELSEWHERE))
def test_therapy_recorded_outside_orders_is_fetched_from_the_real_server(client, fhir_server, kind):
    """The demo patient with low ALP, her therapy recorded only as a `kind`: patient-view reads it from the server."""
    patient_id = f"demo-elsewhere-{kind.lower()}"
    source = "demo-low-alp"
    fhir_put(fhir_server, {**fhir_get(f"{fhir_server}/Patient/{source}"), "id": patient_id})
    for entry in fhir_get(f"{fhir_server}/Observation?patient={source}&_count=100").get("entry", []):
        observation = entry["resource"]
        fhir_put(
            fhir_server,
            {
                **observation,
                "id": observation["id"].replace(source, patient_id),
                "subject": {"reference": f"Patient/{patient_id}"},
            },
        )
    record = json.loads(
        json.dumps(THERAPY_ELSEWHERE[kind])
        .replace("{day-60}", (DEMO_DAY - timedelta(days=60)).isoformat())
        .replace("{day-10}", (DEMO_DAY - timedelta(days=10)).isoformat())
        .replace("{day-200}", (DEMO_DAY - timedelta(days=200)).isoformat())
    )
    fhir_put(
        fhir_server,
        {
            "resourceType": kind,
            "id": f"{patient_id}-therapy",
            **record,
            "subject": {"reference": f"Patient/{patient_id}"},
        },
    )
    body = sandbox_call("patient-view", patient_id, fhir_server)
    response = client.post("/cds-services/low-alp-patient-view", json=body)
    assert response.status_code == 200, response.get_json()
    cards = [(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]]
    # On an antiresorptive despite persistently low ALP: the warning, not the "not evaluated" note.
    assert cards == [("low-alp-antiresorptive", "warning")]


def test_a_referenced_medication_comes_with_the_search_and_gives_the_card(client, fhir_server):
    """An order naming its drug by reference: the server includes the Medication, the card knows the drug."""
    from cds_service.prefetch import render_template
    from cds_service.services import MEDICATIONS

    patient_id, source = "demo-referenced-drug", "demo-low-alp"
    fhir_put(fhir_server, {**fhir_get(f"{fhir_server}/Patient/{source}"), "id": patient_id})
    for entry in fhir_get(f"{fhir_server}/Observation?patient={source}&_count=100").get("entry", []):
        observation = entry["resource"]
        fhir_put(
            fhir_server,
            {
                **observation,
                "id": observation["id"].replace(source, patient_id),
                "subject": {"reference": f"Patient/{patient_id}"},
            },
        )
    alendronate = THERAPY_ELSEWHERE["MedicationDispense"]["medicationCodeableConcept"]
    fhir_put(fhir_server, {"resourceType": "Medication", "id": f"{patient_id}-drug", "code": alendronate})
    fhir_put(
        fhir_server,
        {
            "resourceType": "MedicationRequest",
            "id": f"{patient_id}-order",
            "status": "active",
            "intent": "order",
            "authoredOn": (DEMO_DAY - timedelta(days=30)).isoformat(),
            "medicationReference": {"reference": f"Medication/{patient_id}-drug"},
            "subject": {"reference": f"Patient/{patient_id}"},
        },
    )
    found = fhir_get(f"{fhir_server}/{render_template(MEDICATIONS, {'patientId': patient_id})}")
    modes = sorted((e["resource"]["resourceType"], e["search"]["mode"]) for e in found["entry"])
    assert modes == [("Medication", "include"), ("MedicationRequest", "match")]  # the server honours _include

    response = client.post(
        "/cds-services/low-alp-patient-view", json=sandbox_call("patient-view", patient_id, fhir_server)
    )
    assert response.status_code == 200, response.get_json()
    cards = [(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]]
    assert cards == [("low-alp-antiresorptive", "warning")]  # on alendronate despite low ALP: the drug was known
