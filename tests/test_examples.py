"""Each example request in examples/ produces the cards the README promises."""

import json
from pathlib import Path

import pytest

from tests.cds_checks import assert_response_spec_exact

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPECTED = {
    "order-sign-persistent-low-alp.json": ("low-alp-order-sign", [("low-alp-antiresorptive", "warning")]),
    "order-sign-hpp-on-record.json": (
        "low-alp-order-sign",
        [("hpp-antiresorptive", "critical")] * 2 + [("duplicate-antiresorptive", "warning")],
    ),
    "order-sign-no-antiresorptive.json": ("low-alp-order-sign", []),
    "medication-refill-persistent-low-alp.json": ("low-alp-medication-refill", [("low-alp-antiresorptive", "warning")]),
    "patient-view-low-alp-not-evaluated.json": ("low-alp-patient-view", [("low-alp-unevaluated", "info")]),
    "patient-view-on-alendronate.json": ("low-alp-patient-view", [("low-alp-antiresorptive", "warning")]),
}


def test_every_example_is_covered():
    from tests.test_demo_patients import DEMO  # demo-*.json: their cards, fetched, in tests/test_real_fhir_server.py

    assert {p.name for p in EXAMPLES.glob("*.json")} == (
        set(EXPECTED) | {"order-sign-fetch-from-fhir-server.json", "sandbox-jwks.json"} | set(DEMO)
    )


def test_the_sandbox_key_set_holds_only_its_public_signing_key():
    import jwt

    (key,) = json.loads((EXAMPLES / "sandbox-jwks.json").read_text())["keys"]
    assert key["kid"] == "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f" and key["alg"] == "ES384" and "d" not in key
    assert jwt.PyJWK(key, algorithm="ES384").key.curve.name == "secp384r1"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_gives_the_expected_cards(client, name):
    service, expected = EXPECTED[name]
    response = client.post(
        f"/cds-services/{service}", data=(EXAMPLES / name).read_bytes(), content_type="application/json"
    )
    assert response.status_code == 200
    assert_response_spec_exact(response.get_json())
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in response.get_json()["cards"]] == expected


def test_the_fetch_example_without_a_reachable_server_is_412(client, monkeypatch):
    body = json.loads((EXAMPLES / "order-sign-fetch-from-fhir-server.json").read_text())
    body["fhirServer"] = "http://127.0.0.1:9/fhir"  # discard port: nothing listens there
    assert client.post("/cds-services/low-alp-order-sign", json=body).status_code == 412
