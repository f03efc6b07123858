"""Durability, short version (bench/ has the long one): concurrent writes through real gunicorn workers all land."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from cds_service.store import cards_served, feedback
from tests.conftest import full_prefetch, hook_request, load_fhir
from tests.databases import DATABASES, fresh_database_url

ROOT = Path(__file__).resolve().parent.parent
FEEDBACK_POSTS = 300
CONCURRENCY = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(params=DATABASES)
def server(request, tmp_path):
    """Serve the app with gunicorn, two workers, on a fresh database of each kind; yield (base URL, DB URL)."""
    with fresh_database_url(request.param, tmp_path) as database_url:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
        env.update(
            CDS_AUTH_MODE="none",
            CDS_PORT=str(port),
            CDS_DATABASE_URL=database_url,
            GUNICORN_WORKERS="2",
            GUNICORN_THREADS="4",
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
        )
        gunicorn = Path(sys.executable).with_name("gunicorn")
        process = subprocess.Popen(
            [str(gunicorn), "--config", "gunicorn.conf.py", "cds_service.wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                    break
                except OSError:
                    assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.1)
            yield base, database_url
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_every_concurrent_feedback_post_is_stored_exactly_once(server):
    base, database_url = server
    body = hook_request(
        "order-sign", prefetch=full_prefetch(), draft_orders=load_fhir("draft-orders-sandbox-alendronate.json")
    )
    status, answer = post(f"{base}/cds-services/low-alp-order-sign", body)
    (card,) = answer["cards"]
    # Distinct events (other suggestions accepted): the same decision again, whatever its timestamp, is a repeat.
    items = [
        {
            "card": card["uuid"],
            "outcome": "accepted",
            "outcomeTimestamp": f"2026-11-24T12:00:{i // 60:02d}.{i % 60:03d}Z",
            "acceptedSuggestions": [{"id": f"suggestion-{i}"}],
        }
        for i in range(FEEDBACK_POSTS)
    ]
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(
            pool.map(lambda item: post(f"{base}/cds-services/low-alp-order-sign/feedback", {"feedback": [item]}), items)
        )
    assert {status for status, _ in answers} == {200}
    assert sum(answer["stored"] for _, answer in answers) == FEEDBACK_POSTS
    # Sent again, every one of them is a repeat: nothing new is stored.
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        repeats = list(
            pool.map(
                lambda item: post(f"{base}/cds-services/low-alp-order-sign/feedback", {"feedback": [item]}), items[:50]
            )
        )
    assert sum(answer["stored"] for _, answer in repeats) == 0
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(feedback)).scalar_one() == FEEDBACK_POSTS
            assert conn.execute(select(func.count()).select_from(cards_served)).scalar_one() == 1
    finally:
        engine.dispose()
