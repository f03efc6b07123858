"""Overrides are respected across calls, and a failing audit never costs a card (through the HTTP API)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.conftest import NOW, full_prefetch, hook_request, load_fhir, made_out_for, on_both_databases

# Every test here runs on SQLite and on PostgreSQL (the override history and the feedback are in the store).
pytestmark = on_both_databases

VIEW = "/cds-services/low-alp-patient-view"
SELECT = "/cds-services/low-alp-order-select"
SIGN = "/cds-services/low-alp-order-sign"


def cards(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["cards"]


def override(client, service: str, card: dict) -> None:
    body = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-24T12:00:00Z",
                "overrideReason": {"reason": {"code": "secondary-cause"}},
            }
        ]
    }
    assert client.post(f"{service}/feedback", json=body).status_code == 200


def patient_view(client, patient_id="pat-hpp-1", **prefetch):
    prefetch_data = made_out_for(full_prefetch(**prefetch), patient_id)
    return client.post(VIEW, json=hook_request("patient-view", patient_id=patient_id, prefetch=prefetch_data))


def order(client, path, *, encounter=None, user="Practitioner/COREPRACTITIONER1", **prefetch):
    """Send a Sandbox-shaped order hook: its draft is always MedicationRequest/request-123, no encounter by default."""
    body = hook_request(
        "order-select" if path == SELECT else "order-sign",
        prefetch=full_prefetch(**prefetch),
        draft_orders=load_fhir("draft-orders-sandbox-alendronate.json"),
    )
    body["context"]["userId"] = user
    if encounter is not None:
        body["context"]["encounterId"] = encounter
    if path == SELECT:
        body["context"]["selections"] = ["MedicationRequest/request-123"]
    return client.post(path, json=body)


def at(app, minutes: int) -> None:
    """Move the app's clock to `minutes` after the fixed test time."""
    app.extensions["alp_guard"].clock = lambda: NOW + timedelta(minutes=minutes)


def test_an_overridden_patient_view_card_is_not_shown_again_for_that_patient(client):
    (card,) = cards(patient_view(client))
    override(client, VIEW, card)
    assert cards(patient_view(client)) == []
    assert len(cards(patient_view(client, patient_id="someone-else"))) == 1


def test_critical_cards_are_shown_again_after_an_override(client):
    prefetch = dict(medications="medications-active-alendronate.json", conditions="conditions-hpp.json")
    (card,) = cards(patient_view(client, **prefetch))
    assert card["indicator"] == "critical"
    override(client, VIEW, card)
    assert len(cards(patient_view(client, **prefetch))) == 1


def test_an_order_select_override_is_not_repeated_at_order_sign(client):
    (card,) = cards(order(client, SELECT))
    override(client, SELECT, card)
    assert cards(order(client, SIGN)) == []


def test_a_later_session_with_the_reused_draft_id_is_warned_again(app, client):
    (card,) = cards(order(client, SELECT))
    override(client, SELECT, card)
    at(app, 10)
    assert cards(order(client, SIGN)) == []  # the same session: select, override, sign
    at(app, 120)
    assert len(cards(order(client, SIGN))) == 1  # request-123 again, two hours on: another session


def test_a_new_selection_starts_a_new_session(app, client):
    (card,) = cards(order(client, SELECT))
    override(client, SELECT, card)
    at(app, 5)
    assert len(cards(order(client, SELECT))) == 1  # the order is selected again and the card shown, not overridden
    at(app, 6)
    assert len(cards(order(client, SIGN))) == 1


@pytest.mark.parametrize(
    "sign_as", [dict(encounter="Encounter/enc-2"), dict(user="Practitioner/other"), dict(encounter=None)]
)
def test_an_override_in_one_encounter_or_by_one_user_does_not_silence_another(app, client, sign_as):
    (card,) = cards(order(client, SELECT, encounter="Encounter/enc-1"))
    override(client, SELECT, card)
    assert len(cards(order(client, SIGN, **{"encounter": "Encounter/enc-1", **sign_as}))) == 1
    assert cards(order(client, SIGN, encounter="Encounter/enc-1")) == []  # the same encounter and user


def test_the_audit_records_the_session_without_identifiers(app, client):
    cards(order(client, SELECT, encounter="Encounter/enc-1"))
    with app.extensions["alp_guard"].store.engine.connect() as conn:
        (row,) = conn.execute(text("SELECT drugs, encounter_key, user_key FROM cards_served")).all()
    assert row[0] == "alendronate" and len(row[1]) == len(row[2]) == 64
    assert "enc-1" not in row[1] and "COREPRACTITIONER1" not in row[2]


def test_order_sign_shows_the_card_again_when_the_finding_changed(client):
    (card,) = cards(order(client, SELECT))
    override(client, SELECT, card)
    assert len(cards(order(client, SIGN, alp="alp-recurrent-low.json"))) == 1


def test_the_audit_records_the_patient_only_as_a_keyed_hash(app, client):
    (card,) = cards(patient_view(client))
    store = app.extensions["alp_guard"].store
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT patient_key, fingerprint, policy_version FROM cards_served")).one()
    # No issuer or tenant (auth mode none) and no fhirServer: the scope is the patient id alone.
    assert row.patient_key == store.patient_key("\x1f\x1f\x1fpat-hpp-1") and "pat-hpp-1" not in row.patient_key
    assert row.fingerprint and row.policy_version == "2026.11"


def test_the_same_patient_id_on_another_fhir_server_is_another_patient(client):
    def view(server):
        body = hook_request("patient-view", prefetch=full_prefetch(), fhir_server=server)
        return cards(client.post(VIEW, json=body))

    (card,) = view("https://hospital-a.example/fhir")
    override(client, VIEW, card)
    assert view("https://hospital-a.example/fhir") == []
    assert len(view("https://hospital-b.example/fhir")) == 1


def test_a_new_finding_of_another_topic_is_shown_despite_the_snooze(client):
    (card,) = cards(patient_view(client))
    assert card["indicator"] == "info"
    override(client, VIEW, card)
    worse = cards(patient_view(client, workup="hpp-workup-plp.json"))  # substrate now elevated: hpp-likely
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in worse] == [("hpp-likely", "warning")]


def test_feedback_sent_to_another_service_does_not_count_as_an_override(client):
    (card,) = cards(patient_view(client))
    override(client, SIGN, card)
    assert len(cards(patient_view(client))) == 1


@pytest.mark.parametrize("broken", ["record_cards", "overrides"])
def test_a_failing_database_never_costs_the_card(app, client, monkeypatch, broken):
    from sqlalchemy.exc import OperationalError

    def fail(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(app.extensions["alp_guard"].store, broken, fail)
    (card,) = cards(patient_view(client))
    assert card["source"]["topic"]["code"] == "low-alp-unevaluated"
