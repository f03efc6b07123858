"""The demo without Docker: a FHIR server in memory, the demo patients in it, and ALP Guard, all on 127.0.0.1.

    .venv/bin/python examples/demo.py            # serves until Ctrl-C; prints the cards of every demo request
    .venv/bin/python examples/demo.py --check    # the same, then stops: exit 0 when every card is as the README says

Starts the test suite's FHIR R4 server (Medplum's, in memory: tests/fhir_server/, needs Node 20+; its packages are
installed with `npm ci` on first use) on http://127.0.0.1:8090/fhir, loads examples/fhir/ with examples/load_demo.py
(dates moved to today), starts ALP Guard (`python -m cds_service`, CDS_AUTH_MODE=none: a local demo only) on
http://127.0.0.1:8080 with its SQLite file in a temporary folder, then sends each examples/demo-*.json request with
its fhirServer pointed at the local FHIR server. Ports: --fhir-port, --port.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
ROOT = EXAMPLES.parent
SERVER_DIR = ROOT / "tests" / "fhir_server"
# The FHIR server the demo requests name (the compose stack's, as ALP Guard reaches it there), replaced when sent.
COMPOSE_FHIR_SERVER = "http://hapi:8080/fhir"
# Each demo request, its service and the cards the README promises (topic, indicator).
EXPECTED = {
    "demo-low-alp-alendronate.json": ("low-alp-order-sign", [("low-alp-antiresorptive", "warning")]),
    "demo-hpp-asfotase.json": ("low-alp-order-sign", [("hpp-antiresorptive", "critical")]),
    "demo-child-low-alp.json": ("low-alp-patient-view", [("low-alp-unevaluated", "info")]),
    "demo-denosumab-normal-alp.json": ("low-alp-order-sign", []),
    "demo-wilson-alf.json": ("low-alp-patient-view", [("wilson-alf", "critical")]),
    "demo-renal-zoledronic-acid.json": ("low-alp-order-sign", [("renal-antiresorptive", "critical")]),
}
_SPEC = importlib.util.spec_from_file_location("load_demo", EXAMPLES / "load_demo.py")
assert _SPEC is not None and _SPEC.loader is not None
load_demo = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(load_demo)


def start_fhir_server(port: int) -> subprocess.Popen:
    """Start the in-memory FHIR server on 127.0.0.1:port and wait until it listens; it stops when stdin closes."""
    node = shutil.which("node")
    if node is None:
        sys.exit("demo: Node 20 or later is needed for the in-memory FHIR server (or use `docker compose up`)")
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        npm = shutil.which("npm") or sys.exit("demo: npm is needed to install the FHIR server's packages")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SERVER_DIR, check=True)
    major = int(
        subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout[1:].split(".")[0]
    )
    command = [node, *(["--experimental-websocket"] if major < 22 else []), "server.mjs", str(port)]
    process = subprocess.Popen(
        command, cwd=SERVER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None

    def forward_lines() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=forward_lines, daemon=True).start()
    try:
        first = lines.get(timeout=60)
    except queue.Empty:
        first = ""
    if not first.startswith("listening "):
        process.kill()
        sys.exit(f"demo: the FHIR server did not start on port {port} (is the port free? --fhir-port)")
    return process


def start_alp_guard(port: int, folder: Path) -> subprocess.Popen:
    """Start ALP Guard on 127.0.0.1:port without caller authentication, its store in `folder`; wait for /healthz."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update(
        CDS_AUTH_MODE="none", CDS_LOG_LEVEL="WARNING", CDS_DATABASE_URL=f"sqlite:///{folder / 'alp_guard.sqlite3'}"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "cds_service", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"demo: ALP Guard exited (is port {port} free? --port)")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit("demo: ALP Guard did not answer within 60 s")


def demo_request(name: str, fhir: str) -> dict:
    """Return a demo request dated as of today, naming the local FHIR server."""
    body = json.loads((EXAMPLES / name).read_text())
    written_for = load_demo.reference_date(next(iter(load_demo.demo_bundles().values())))  # as the Bundles are
    shifted = load_demo.shift_dates(body, (date.today() - written_for).days)
    return {**shifted, "fhirServer": fhir}


def send_all(alp_guard: str, fhir: str) -> bool:
    """Send every demo request; print its cards; return whether each gave the cards the README promises."""
    all_as_promised = True
    for name, (service, expected) in EXPECTED.items():
        request = urllib.request.Request(
            f"{alp_guard}/cds-services/{service}",
            method="POST",
            data=json.dumps(demo_request(name, fhir)).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            cards = json.loads(response.read())["cards"]
        got = [(c["source"]["topic"]["code"], c["indicator"]) for c in cards]
        all_as_promised &= got == expected
        print(f"{name}: " + ("; ".join(f"{c['indicator']}: {c['summary']}" for c in cards) or "no card"))
    return all_as_promised


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ALP Guard's demo without Docker (loopback only).")
    parser.add_argument("--port", type=int, default=8080, help="ALP Guard's port (default 8080)")
    parser.add_argument("--fhir-port", type=int, default=8090, help="the FHIR server's port (default 8090)")
    parser.add_argument("--check", action="store_true", help="send the demo requests, check the cards, stop")
    args = parser.parse_args(argv)
    fhir, alp_guard = f"http://127.0.0.1:{args.fhir_port}/fhir", f"http://127.0.0.1:{args.port}"
    folder = Path(tempfile.mkdtemp(prefix="alp-guard-demo-"))
    fhir_server = start_fhir_server(args.fhir_port)
    service = None
    try:
        if load_demo.main(["--fhir", fhir]) != 0:
            return 1
        service = start_alp_guard(args.port, folder)
        print(f"demo: FHIR server {fhir} (demo patients loaded), ALP Guard {alp_guard}/cds-services")
        ok = send_all(alp_guard, fhir)
        if args.check:
            print("demo: every card as the README says" if ok else "demo: a card differs from the README")
            return 0 if ok else 1
        print("demo: serving until Ctrl-C")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        if service is not None:
            service.terminate()
            service.wait(timeout=15)
        fhir_server.stdin.close()  # type: ignore[union-attr]
        fhir_server.wait(timeout=15)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
