"""Realistic patients with several findings at once, through each hook: the cards must agree with each other."""

from __future__ import annotations

from tests.cds_checks import assert_response_spec_exact
from tests.conftest import full_prefetch, hook_request, load_fhir

CKD_PATIENT = dict(
    alp="alp-persistent-low.json", workup="hpp-workup-plp.json", safety="safety-labs-ckd-low-vitamin-d.json"
)


def answer(client, hook: str, service: str, *, selections=None, **prefetch) -> list[dict]:
    patient_id = "pat-alf-1" if prefetch.get("patient") == "patient-young-female.json" else "pat-hpp-1"
    drafts = load_fhir("draft-orders-zoledronic-and-statin.json") if hook != "patient-view" else None
    body = hook_request(hook, patient_id=patient_id, prefetch=full_prefetch(**prefetch), draft_orders=drafts)
    if selections is not None:
        body["context"]["selections"] = selections
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_response_spec_exact(response.get_json())
    return response.get_json()["cards"]


def summary_of(cards: list[dict]) -> list[tuple[str, str]]:
    return [(c["source"]["topic"]["code"], c["indicator"]) for c in cards]


def removals(cards: list[dict]) -> set[str]:
    return {
        a["resourceId"] for c in cards for s in c.get("suggestions", []) for a in s["actions"] if a["type"] == "delete"
    }


def test_order_sign_zoledronic_acid_for_a_patient_with_likely_hpp_ckd_and_low_vitamin_d(client):
    cards = answer(client, "order-sign", "low-alp-order-sign", **CKD_PATIENT)
    assert summary_of(cards) == [
        ("low-alp-antiresorptive", "critical"),
        ("renal-antiresorptive", "critical"),
        ("vitamin-d-calcium-antiresorptive", "info"),
    ]
    # Every card is about the zoledronic acid order; none is about the statin, and all agree it should go.
    assert removals(cards) == {"MedicationRequest/draft-zol"}
    assert all("zoledronic acid" in c["summary"] for c in cards)
    assert "210 nmol/L" in cards[0]["detail"] and "28" in cards[1]["summary"] and "14" in cards[2]["summary"]


def test_order_select_gives_the_same_cards_for_the_selected_order_only(client):
    selected = answer(
        client, "order-select", "low-alp-order-select", selections=["MedicationRequest/draft-zol"], **CKD_PATIENT
    )
    assert summary_of(selected) == [
        ("low-alp-antiresorptive", "critical"),
        ("renal-antiresorptive", "critical"),
        ("vitamin-d-calcium-antiresorptive", "info"),
    ]
    statin_only = answer(
        client, "order-select", "low-alp-order-select", selections=["MedicationRequest/draft-ator"], **CKD_PATIENT
    )
    assert statin_only == []


def test_patient_view_in_acute_liver_failure_puts_wilson_first_and_low_alp_second(client):
    cards = answer(
        client,
        "patient-view",
        "low-alp-patient-view",
        patient="patient-young-female.json",
        alp="alp-wilson-low.json",
        liver="liver-panel-wilson.json",
    )
    assert summary_of(cards) == [("wilson-alf", "critical"), ("low-alp-unevaluated", "info")]
    # The low-ALP card defers to Wilson disease rather than suggesting hypophosphatasia first.
    assert "Wilson disease is the likelier cause" in cards[1]["detail"]
    assert "1.7" in cards[0]["summary"] and "3.0" in cards[0]["summary"]  # 205 umol/L read as 12 mg/dL


def test_patient_view_with_likely_hpp_on_no_antiresorptive(client):
    cards = answer(client, "patient-view", "low-alp-patient-view", **CKD_PATIENT)
    assert summary_of(cards) == [("hpp-likely", "warning")]


def alf_patient_view(client, **prefetch) -> list[dict]:
    """Return the patient-view cards for patient pat-alf-1 in acute liver failure (INR 3.1, the Wilson set)."""
    body = hook_request(
        "patient-view",
        patient_id="pat-alf-1",
        prefetch=full_prefetch(alp="alp-wilson-low.json", liver="liver-panel-wilson.json", **prefetch),
    )
    response = client.post("/cds-services/low-alp-patient-view", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_response_spec_exact(response.get_json())
    return response.get_json()["cards"]


# --- order-time safety checks, end to end over HTTP ---------------------------------------------------------


def order_sign(client, drafts: str, **prefetch) -> list[dict]:
    body = hook_request(
        "order-sign",
        patient_id="pat-hpp-1",
        prefetch=full_prefetch(alp="alp-normal.json", **prefetch),
        draft_orders=load_fhir(drafts),
    )
    response = client.post("/cds-services/low-alp-order-sign", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_response_spec_exact(response.get_json())
    return response.get_json()["cards"]


def test_patient_view_in_liver_failure_with_cirrhosis_on_record_gives_no_wilson_card(client):
    cards = alf_patient_view(client, patient="patient-young-female.json", conditions="conditions-cirrhosis.json")
    assert "wilson-alf" not in [code for code, _ in summary_of(cards)]


def test_patient_view_in_liver_failure_at_60_gives_a_wilson_warning_not_critical(client):
    cards = alf_patient_view(client, patient="patient-older-female-alf.json")
    (wilson,) = [c for c in cards if c["source"]["topic"]["code"] == "wilson-alf"]
    assert wilson["indicator"] == "warning"
    assert wilson["summary"].startswith("Consider the Wilson disease work-up") and "atypical age" in wilson["summary"]
    assert "Age 60, outside 3-55 years" in wilson["detail"]


def test_a_4_mg_zoledronic_acid_order_with_crcl_45_gets_the_dose_step_card(client):
    cards = order_sign(client, "draft-orders-zometa-4mg.json", safety="safety-labs-crcl-45.json")
    assert summary_of(cards) == [("zoledronic-acid-dose-adjustment", "warning")]
    assert cards[0]["summary"].startswith("Reduce zoledronic acid to 3.3 mg: Creatinine clearance 45 mL/min")
    assert "Ordered dose 4 mg is above 3.3 mg" in cards[0]["detail"]


def test_romosozumab_six_months_after_a_myocardial_infarction_gets_a_warning(client):
    cards = order_sign(client, "draft-orders-romosozumab.json", conditions="conditions-mi-6-months.json")
    assert summary_of(cards) == [("romosozumab-cardiovascular", "warning")]
    assert cards[0]["summary"] == (
        "Do not start romosozumab: Myocardial infarction 184 days ago (Evenity boxed warning)"
    )
    assert removals(cards) == {"MedicationRequest/draft-romo"}


def test_alendronate_with_low_calcium_gets_a_warning_citing_fosamax(client):
    cards = order_sign(client, "draft-orders-sandbox-alendronate.json", safety="safety-labs-low-calcium.json")
    assert summary_of(cards) == [("vitamin-d-calcium-antiresorptive", "warning")]
    assert "Calcium 7.9 mg/dL" in cards[0]["summary"]
    assert "Fosamax and Fosamax Plus D" in cards[0]["detail"]


def test_a_cockcroft_gault_clearance_from_fhir_creatinine_and_weight_decides_the_zometa_dose(client):
    # Born 1961-04-12, female: 65 y; creatinine 115 umol/L (1.30 mg/dL); weight 143 lb (64.86 kg) -> 44.14 mL/min.
    cards = order_sign(client, "draft-orders-zometa-4mg.json", safety="safety-labs-creatinine-weight.json")
    assert summary_of(cards) == [("zoledronic-acid-dose-adjustment", "warning")]
    assert cards[0]["summary"].startswith(
        "Reduce zoledronic acid to 3.3 mg: Cockcroft-Gault CrCl 44.14 mL/min (2026-11-02)"
    )
    assert "weight 64.86 kg on 2026-10-15, age 65, female" in cards[0]["detail"]
    assert "eGFR" not in cards[0]["summary"]
