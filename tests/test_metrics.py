"""GET /metrics: requests, cards, FHIR calls and feedback in Prometheus format, summed over gunicorn workers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import responses
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from cds_service.metrics import fhir_outcome
from tests.conftest import FHIR_SERVER, full_prefetch, hook_request, load_fhir
from tests.test_main import ROOT, clean_env, free_port, stop, wait_for

ORDER_SIGN = "/cds-services/low-alp-order-sign"
EXAMPLE = json.loads((ROOT / "examples" / "order-sign-persistent-low-alp.json").read_text())
LOW_ALP_CARD = {"service": "low-alp-order-sign", "topic": "low-alp-antiresorptive", "indicator": "warning"}


def sample(name: str, **labels: str) -> float:
    """Return a sample's current value in this process, 0 when it has not been recorded yet."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_seen(endpoint: str, service: str, status: int) -> float:
    return sample("alp_guard_request_duration_seconds_count", endpoint=endpoint, service=service, status=str(status))


def test_a_hook_call_counts_the_request_and_its_cards(client) -> None:
    before = requests_seen("hook", "low-alp-order-sign", 200), sample("alp_guard_cards_total", **LOW_ALP_CARD)
    assert client.post(ORDER_SIGN, json=EXAMPLE).status_code == 200
    after = requests_seen("hook", "low-alp-order-sign", 200), sample("alp_guard_cards_total", **LOW_ALP_CARD)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def test_refused_calls_count_under_their_status_and_unknown_services_under_one_label(client) -> None:
    before = requests_seen("hook", "low-alp-order-sign", 400), requests_seen("hook", "unknown", 404)
    client.post(ORDER_SIGN, json={})
    client.post("/cds-services/PATIENT-4711-in-a-path", json={})
    after = requests_seen("hook", "low-alp-order-sign", 400), requests_seen("hook", "unknown", 404)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    assert "PATIENT-4711" not in client.get("/metrics").get_data(as_text=True)


def test_feedback_counts_by_the_cards_topic_and_outcome_once(client) -> None:
    (card,) = client.post(ORDER_SIGN, json=EXAMPLE).get_json()["cards"]
    labels = {"service": "low-alp-order-sign", "topic": "low-alp-antiresorptive", "outcome": "overridden"}
    before = sample("alp_guard_feedback_total", **labels)
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-24T12:01:00Z",
                "overrideReason": {"userComment": "already evaluated"},
            }
        ]
    }
    for _ in range(2):  # the repeat is stored once and counted once
        assert client.post(f"{ORDER_SIGN}/feedback", json=feedback).status_code == 200
    assert sample("alp_guard_feedback_total", **labels) - before == 1


def test_feedback_on_a_card_never_served_is_ignored_and_not_counted(client) -> None:
    labels = {"service": "low-alp-order-sign", "topic": "unknown", "outcome": "accepted"}
    before = sample("alp_guard_feedback_total", **labels)
    feedback = {
        "feedback": [
            {
                "card": "not-a-served-card",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "s"}],
                "outcomeTimestamp": "2026-11-24T12:01:00Z",
            }
        ]
    }
    response = client.post(f"{ORDER_SIGN}/feedback", json=feedback)
    assert response.get_json() == {"received": 1, "stored": 0, "ignored": 1}
    assert sample("alp_guard_feedback_total", **labels) - before == 0


def test_fhir_calls_count_by_outcome(client) -> None:
    prefetch = full_prefetch()
    del prefetch["alp"], prefetch["conditions"]
    before = {o: sample("alp_guard_fhir_request_duration_seconds_count", outcome=o) for o in ("ok", "http_error")}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR_SERVER}/Observation", json=load_fhir("alp-persistent-low.json"))
        mock.get(f"{FHIR_SERVER}/Condition", status=500)
        drafts = load_fhir("draft-orders-sandbox-alendronate.json")
        body = hook_request("order-sign", prefetch=prefetch, draft_orders=drafts, fhir_server=FHIR_SERVER)
        client.post(ORDER_SIGN, json=body)
    after = {o: sample("alp_guard_fhir_request_duration_seconds_count", outcome=o) for o in ("ok", "http_error")}
    assert (after["ok"] - before["ok"], after["http_error"] - before["http_error"]) == (1, 1)


@pytest.mark.parametrize(
    "reason, outcome",
    [
        ("ok", "ok"),
        ("not found", "not_found"),
        ("error", "error"),
        ("FHIR server timed out", "timeout"),
        ("FHIR deadline passed", "timeout"),
        ("FHIR server address not allowed", "blocked"),
        ("FHIR server unreachable", "unreachable"),
        ("FHIR server answered 503 for Observation", "http_error"),
        ("FHIR server redirected the Patient request", "http_error"),
        ("FHIR response too large", "too_large"),
        ("invalid FHIR server URL", "invalid_request"),
        ("FHIR server sent invalid JSON for Condition", "invalid_response"),
    ],
)
def test_fhir_failure_reasons_fold_into_few_outcomes(reason: str, outcome: str) -> None:
    assert fhir_outcome(reason) == outcome


def test_metrics_are_served_in_the_prometheus_text_format_with_cors(client) -> None:
    client.post(ORDER_SIGN, json=EXAMPLE)
    response = client.get("/metrics", headers={"Origin": "https://ehr.example.org"})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    names = {family.name for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {
        "alp_guard_request_duration_seconds",
        "alp_guard_cards",
        "alp_guard_fhir_request_duration_seconds",
        "alp_guard_feedback",
    } <= names
    assert EXAMPLE["context"]["patientId"] not in response.get_data(as_text=True)


# --- several gunicorn workers ----------------------------------------------------------------------------------


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status


def post(url: str, body: Any) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def worker_pids(directory: Path) -> set[str]:
    """Return the pids of the processes that have written metric files."""
    return {match.group(1) for path in directory.iterdir() if (match := re.search(r"_(\d+)\.db$", path.name))}


def test_gunicorn_workers_add_up_in_one_metrics_page(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        tmp_path,
        CDS_PORT=str(port),
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # A worker is replaced after 4 requests, so these 9 (metrics pages included) need at least 2 processes.
    process = subprocess.Popen(
        [str(gunicorn), "--config", "gunicorn.conf.py", "--max-requests", "4", "cds_service.wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    health = (("endpoint", "health"), ("service", ""), ("status", "200"))
    try:
        wait_for(f"{base}/healthz", process)
        # Counted from here: on a loaded machine wait_for may have retried a slow answer the server still counted.
        before = scrape(base).get(("alp_guard_request_duration_seconds_count", health), 0)
        health_calls = sum(get(f"{base}/healthz") == 200 for _ in range(4))
        cards = sum(len(post(f"{base}{ORDER_SIGN}", EXAMPLE)["cards"]) for _ in range(2))
        samples = scrape(base)
    finally:
        stop(process)
    assert len(worker_pids(metrics_dir)) >= 2
    assert before >= 1
    assert samples[("alp_guard_request_duration_seconds_count", health)] - before == health_calls == 4
    assert samples[("alp_guard_cards_total", tuple(sorted(LOW_ALP_CARD.items())))] == cards == 2


def test_a_broken_metrics_store_never_costs_a_card(client, monkeypatch):
    from cds_service import metrics

    def broken(*args, **kwargs):
        raise FileNotFoundError("metrics directory is gone")

    monkeypatch.setattr(metrics.CARDS, "labels", broken)
    monkeypatch.setattr(metrics.REQUEST_SECONDS, "labels", broken)
    body = hook_request(
        "order-sign", prefetch=full_prefetch(), draft_orders=load_fhir("draft-orders-sandbox-alendronate.json")
    )
    response = client.post("/cds-services/low-alp-order-sign", json=body)
    assert response.status_code == 200 and len(response.get_json()["cards"]) == 1
