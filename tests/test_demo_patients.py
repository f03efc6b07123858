"""The demo patients (examples/fhir/) and their hook requests (examples/demo-*.json) are well formed, and the
loader (examples/load_demo.py) moves their dates to today. The cards each one gives, fetched from a real FHIR
server, are asserted in tests/test_real_fhir_server.py from the table below."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# examples/ is not a package: the loader is a script, imported from its file.
_SPEC = importlib.util.spec_from_file_location("load_demo", EXAMPLES / "load_demo.py")
load_demo = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(load_demo)

# examples/demo-<name>.json -> (service, its Bundle in examples/fhir/, the cards it must give)
DEMO = {
    "demo-low-alp-alendronate.json": (
        "low-alp-order-sign",
        "low-alp-alendronate.json",
        [("low-alp-antiresorptive", "warning")],
    ),
    "demo-hpp-asfotase.json": ("low-alp-order-sign", "hpp-asfotase.json", [("hpp-antiresorptive", "critical")]),
    "demo-child-low-alp.json": ("low-alp-patient-view", "child-low-alp.json", [("low-alp-unevaluated", "info")]),
    "demo-denosumab-normal-alp.json": ("low-alp-order-sign", "denosumab-normal-alp.json", []),
    "demo-wilson-alf.json": ("low-alp-patient-view", "wilson-alf.json", [("wilson-alf", "critical")]),
    "demo-renal-zoledronic-acid.json": (
        "low-alp-order-sign",
        "renal-zoledronic-acid.json",
        [("renal-antiresorptive", "critical")],
    ),
}
# The docker-compose HAPI server as the ALP Guard container reaches it (docker-compose.yml).
COMPOSE_FHIR_SERVER = "http://hapi:8080/fhir"
REFERENCE_DATE = date(2026, 11, 24)
BUNDLES = load_demo.demo_bundles()


def demo_request(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def patient_of(bundle: dict) -> dict:
    (patient,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    return patient


def test_every_demo_request_and_every_bundle_is_in_the_table():
    assert {p.name for p in EXAMPLES.glob("demo-*.json")} == set(DEMO)
    assert set(BUNDLES) == {bundle for _, bundle, _ in DEMO.values()}


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_a_bundle_is_a_transaction_of_puts_with_stable_ids(name):
    bundle = BUNDLES[name]
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    assert load_demo.reference_date(bundle) == REFERENCE_DATE
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["request"] == {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
        assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", entry["fullUrl"])
        assert (
            re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", resource["id"]) and not resource["id"].isdigit()
        )  # HAPI: not numeric


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_every_reference_in_a_bundle_resolves_inside_it(name):
    bundle = BUNDLES[name]
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    text = json.dumps(bundle)
    references = re.findall(r'"reference": "([^"]+)"', text)
    assert references and all(reference in full_urls for reference in references)
    patient = patient_of(bundle)
    (patient_url,) = [e["fullUrl"] for e in bundle["entry"] if e["resource"] is patient]
    assert all(
        e["resource"].get("subject", {"reference": patient_url})["reference"] == patient_url for e in bundle["entry"]
    )


def test_resource_ids_are_unique_across_the_demo():
    keys = [entry["request"]["url"] for bundle in BUNDLES.values() for entry in bundle["entry"]]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_nothing_in_a_bundle_is_dated_after_its_reference_date(name):
    dates = re.findall(r'"(\d{4}-\d{2}-\d{2})[T"]', json.dumps(BUNDLES[name]["entry"]))
    assert dates and max(date.fromisoformat(d) for d in dates) < REFERENCE_DATE


@pytest.mark.parametrize("name", sorted(DEMO))
def test_a_demo_request_fetches_its_patient_from_the_compose_fhir_server(name):
    service, bundle_name, _ = DEMO[name]
    body = demo_request(name)
    assert "prefetch" not in body and body["fhirServer"] == COMPOSE_FHIR_SERVER
    assert body["hook"] == service.removeprefix("low-alp-")
    patient_id = body["context"]["patientId"]
    assert patient_id == patient_of(BUNDLES[bundle_name])["id"]
    for entry in body["context"].get("draftOrders", {}).get("entry", []):
        assert entry["resource"]["subject"]["reference"] == f"Patient/{patient_id}"
        assert entry["resource"]["status"] == "draft"


def test_shift_dates_moves_full_dates_and_date_times_and_keeps_time_and_zone():
    shifted = load_demo.shift_dates(
        {
            "birthDate": "1958-03-14",
            "effectiveDateTime": "2026-11-23T07:10:00Z",
            "issued": "2026-02-28T16:05:00.123+01:00",
            "list": ["2024-02-29T08:30"],
        },
        1,
    )
    assert shifted == {
        "birthDate": "1958-03-15",
        "effectiveDateTime": "2026-11-24T07:10:00Z",
        "issued": "2026-03-01T16:05:00.123+01:00",
        "list": ["2024-03-01T08:30"],
    }


def test_shift_dates_leaves_partial_dates_and_other_strings_alone():
    value = {
        "onset": "2019",
        "month": "2019-03",
        "code": "6768-6",
        "text": "2026-11-24 was a Tuesday",
        "value": 20,
        "flag": True,
    }
    assert load_demo.shift_dates(value, 400) == value


def test_dated_as_of_keeps_the_intervals_and_ages_of_the_record():
    bundle = BUNDLES["child-low-alp.json"]
    moved = load_demo.dated_as_of(bundle, date(2031, 6, 15))
    assert load_demo.reference_date(moved) == date(2031, 6, 15)
    days = (date(2031, 6, 15) - REFERENCE_DATE).days
    before = [date.fromisoformat(d) for d in re.findall(r'"(\d{4}-\d{2}-\d{2})', json.dumps(bundle))]
    after = [date.fromisoformat(d) for d in re.findall(r'"(\d{4}-\d{2}-\d{2})', json.dumps(moved))]
    assert [(a - b).days for a, b in zip(after, before, strict=False)] == [days] * len(before)
    assert bundle["timestamp"] == "2026-11-24T12:00:00Z"  # the original is not changed


def test_the_loader_stops_with_a_clear_message_when_no_server_answers():
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "load_demo.py"), "--fhir", "http://127.0.0.1:9/fhir", "--today", "2027-01-01"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "load_demo: cannot reach http://127.0.0.1:9/fhir" in result.stderr
