"""The entry points start a real server on loopback: `python -m cds_service` and gunicorn's `cds_service.wsgi:app`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update({"CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'main.sqlite3'}", "CDS_AUTH_MODE": "none", **extra})
    return env


def wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")


def serve(command: list[str], env: dict[str, str]):
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_python_m_cds_service_serves_discovery_on_the_given_port(tmp_path):
    port = free_port()
    process = serve(
        [sys.executable, "-m", "cds_service", "--host", "127.0.0.1", "--port", str(port)], clean_env(tmp_path)
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz", process) == {"status": "ok"}
        services = wait_for(f"http://127.0.0.1:{port}/cds-services", process)["services"]
        assert {s["id"] for s in services} == {
            "low-alp-order-sign",
            "low-alp-order-select",
            "low-alp-medication-refill",
            "low-alp-patient-view",
        }
    finally:
        stop(process)


def test_the_port_can_come_from_the_environment(tmp_path):
    port = free_port()
    process = serve([sys.executable, "-m", "cds_service"], clean_env(tmp_path, CDS_PORT=str(port)))
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz", process) == {"status": "ok"}
    finally:
        stop(process)


def test_a_bad_setting_stops_start_up_with_its_name(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cds_service"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=clean_env(tmp_path, CDS_PORT="eighty"),
        timeout=60,
    )
    assert result.returncode == 2
    assert "CDS_PORT" in result.stderr


def test_gunicorn_serves_the_wsgi_app_with_the_production_config(tmp_path):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    assert gunicorn.exists(), "gunicorn is a runtime requirement"
    port = free_port()
    env = clean_env(tmp_path, CDS_PORT=str(port), GUNICORN_WORKERS="2", GUNICORN_THREADS="2")
    process = serve([str(gunicorn), "--config", "gunicorn.conf.py", "cds_service.wsgi:app"], env)
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz", process) == {"status": "ok"}
    finally:
        stop(process)


def test_jwt_mode_without_a_trusted_issuer_stops_start_up_with_its_name(tmp_path):
    env = clean_env(tmp_path)
    del env["CDS_AUTH_MODE"]  # the default is jwt
    result = subprocess.run(
        [sys.executable, "-m", "cds_service"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 2
    assert "CDS_TRUSTED_ISSUERS" in result.stderr


def test_jwt_mode_without_a_public_base_url_refuses_to_start(tmp_path):
    issuers = json.dumps({"https://ehr.example.org": {"jwks_url": "https://ehr.example.org/jwks.json"}})
    result = subprocess.run(
        [sys.executable, "-m", "cds_service"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=clean_env(tmp_path, CDS_AUTH_MODE="jwt", CDS_TRUSTED_ISSUERS=issuers),
        timeout=60,
    )
    assert result.returncode == 2 and "CDS_PUBLIC_BASE_URL: required" in result.stderr


def test_jwt_mode_serves_public_discovery_and_refuses_anonymous_hook_calls(tmp_path):
    port = free_port()
    issuers = json.dumps({"https://ehr.example.org": {"jwks_url": "http://127.0.0.1:9/jwks.json"}})
    process = serve(
        [sys.executable, "-m", "cds_service", "--port", str(port)],
        clean_env(
            tmp_path, CDS_AUTH_MODE="jwt", CDS_TRUSTED_ISSUERS=issuers, CDS_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}"
        ),
    )
    try:
        assert "services" in wait_for(f"http://127.0.0.1:{port}/cds-services", process)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/cds-services/low-alp-order-sign",
            data=b"{}",
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            urllib.request.urlopen(request, timeout=5)
            raise AssertionError("an anonymous hook call was answered")
        except urllib.error.HTTPError as error:
            assert (error.code, error.headers["WWW-Authenticate"]) == (401, "Bearer")
    finally:
        stop(process)


def test_a_read_only_database_stops_start_up_with_the_setting_named(tmp_path):
    from cds_service.store import Store

    Store(f"sqlite:///{tmp_path / 'ro.sqlite3'}").engine.dispose()  # an existing, migrated database
    url = f"sqlite:///file:{tmp_path / 'ro.sqlite3'}?mode=ro&uri=true"
    done = subprocess.run(
        [sys.executable, "-m", "cds_service", "--port", str(free_port())],
        cwd=ROOT,
        env=clean_env(tmp_path, CDS_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "configuration error: CDS_DATABASE_URL: attempt to write a readonly database (OperationalError)"
    )
    assert "Traceback" not in done.stderr


def test_an_unreachable_database_stops_start_up_with_the_setting_named(tmp_path):
    url = f"postgresql+psycopg://alp:secret-password@127.0.0.1:{free_port()}/alp"
    done = subprocess.run(
        [sys.executable, "-m", "cds_service", "--port", str(free_port())],
        cwd=ROOT,
        env=clean_env(tmp_path, CDS_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("configuration error: CDS_DATABASE_URL: ") and "refused" in last
    assert "Traceback" not in done.stderr and "secret-password" not in done.stderr
