"""Slow clients (issue 14): /healthz and hook latency while 50 connections dribble their headers, one line every 2 s.

Measured twice, against the production gunicorn configuration (2 workers x 8 threads) alone, and behind nginx with
the repository's nginx/alp-guard.conf.template (as docker-compose.yml runs it). Each path is measured idle first, in
the same run, and the result is the ratio of the p99 under slow clients to the idle p99. A slow client whose
connection is closed (nginx's client_header_timeout) reconnects at once, so 50 stay open throughout.

Loopback only, bounded: 20 s of slow clients per path, every request with a 10 s timeout. Debian's nginx is installed
with apt-get when missing. Usage: .venv/bin/python bench/run_slow_clients.py [--slow 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import HOST, ROOT, free_port, machine, percentile, save_result, start_server, stop_server  # noqa: E402

HOOK_PATH = "/cds-services/low-alp-order-sign"
HOOK_BODY = (ROOT / "examples" / "order-sign-persistent-low-alp.json").read_bytes()
REQUEST_TIMEOUT = 10.0


def ensure_nginx() -> str:
    """Return the nginx binary, installing Debian's package when it is missing."""
    found = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
    if not found:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return str(found)


@contextmanager
def nginx_in_front(upstream_port: int) -> Iterator[int]:
    """Run nginx on a free loopback port with the repository's template, proxying to the upstream; yield its port."""
    binary = ensure_nginx()
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="alpbench-nginx-"))
    os.chmod(folder, 0o777)  # nginx's worker (user nobody when started as root) writes its temporary files here
    template = (ROOT / "nginx" / "alp-guard.conf.template").read_text()
    server = template.replace("${ALP_GUARD_UPSTREAM}", f"{HOST}:{upstream_port}").replace(
        "${NGINX_PORT}", f"{HOST}:{port}"
    )
    (folder / "alp-guard.conf").write_text(server)
    temp = "".join(
        f"{kind}_temp_path {folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        f"events {{ worker_connections 1024; }}\n"
        f"http {{\naccess_log off;\n{temp}include {folder / 'alp-guard.conf'};\n}}\n"
    )
    process = subprocess.Popen(
        [binary, "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not request_ok(port, "GET", "/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                errors = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"nginx did not start: {errors[-2000:]}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def request_ok(port: int, method: str, path: str) -> bool:
    try:
        return timed(port, method, path) is not None
    except OSError:
        return False


def timed(port: int, method: str, path: str, body: bytes | None = None) -> float | None:
    """Return the seconds one request took on a new connection, or None when it failed or timed out."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        body = body or (HOOK_BODY if method == "POST" else None)
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return time.perf_counter() - started if response.status == 200 else None
    except OSError:
        return None
    finally:
        connection.close()


class SlowClients(threading.Thread):
    """Keep `count` connections open, each sending one more header line every 2 s and never finishing its headers."""

    def __init__(self, port: int, count: int) -> None:
        super().__init__(daemon=True)
        self.port, self.count = port, count
        self.sockets: list[socket.socket | None] = [None] * count
        self.stop = threading.Event()
        self.reconnects = 0

    def connect(self, i: int) -> None:
        try:
            sock = socket.create_connection((HOST, self.port), timeout=5)
            sock.sendall(f"POST {HOOK_PATH} HTTP/1.1\r\nHost: {HOST}\r\n".encode())
            self.sockets[i] = sock
        except OSError:
            self.sockets[i] = None

    def run(self) -> None:
        for i in range(self.count):
            self.connect(i)
        line = 0
        while not self.stop.wait(2.0):
            line += 1
            for i, sock in enumerate(self.sockets):
                try:
                    if sock is None:
                        raise OSError
                    sock.sendall(f"X-Slow-{line}: {'a' * 20}\r\n".encode())
                except OSError:
                    if sock is not None:
                        sock.close()
                    self.reconnects += 1
                    self.connect(i)  # an attacker comes back at once
        for sock in self.sockets:
            if sock is not None:
                sock.close()


def measure(port: int, seconds: float) -> dict[str, dict[str, Any]]:
    """Alternate /healthz and hook calls for `seconds`; return p50/p99 of each (failures and timeouts counted apart)."""
    samples: dict[str, list[float]] = {"healthz": [], "hook": []}
    failures = {"healthz": 0, "hook": 0}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, method, path in (("healthz", "GET", "/healthz"), ("hook", "POST", HOOK_PATH)):
            took = timed(port, method, path)
            if took is None:
                failures[name] += 1
                samples[name].append(REQUEST_TIMEOUT)  # a failure counts as the longest wait
            else:
                samples[name].append(took)
    return {
        name: {
            "n": len(values),
            "failed": failures[name],
            "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p99_ms": round(percentile(values, 99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
        }
        for name, values in samples.items()
    }


def run_path(name: str, port: int, slow: int, seconds: float) -> dict[str, Any]:
    idle = measure(port, 5)
    clients = SlowClients(port, slow)
    clients.start()
    time.sleep(3)  # every slow connection open and sending
    loaded = measure(port, seconds)
    clients.stop.set()
    clients.join(timeout=30)
    ratios = {k: round(loaded[k]["p99_ms"] / max(idle[k]["p99_ms"], 0.1), 2) for k in ("healthz", "hook")}
    print(
        f"{name:16} idle p99 healthz {idle['healthz']['p99_ms']} ms, hook {idle['hook']['p99_ms']} ms | "
        f"{slow} slow clients: healthz {loaded['healthz']['p99_ms']} ms ({loaded['healthz']['failed']} failed), "
        f"hook {loaded['hook']['p99_ms']} ms ({loaded['hook']['failed']} failed) | p99 ratios {ratios}"
    )
    return {"idle": idle, "slow_clients": loaded, "p99_ratio": ratios, "reconnects": clients.reconnects}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=50, help="slow connections (default 50)")
    parser.add_argument("--seconds", type=float, default=20, help="seconds measured under slow clients per path")
    args = parser.parse_args()
    server = start_server("slow-clients")  # the production config: 2 workers x 8 threads (gthread)
    try:
        results = {"gunicorn alone": run_path("gunicorn alone", server.port, args.slow, args.seconds)}
        with nginx_in_front(server.port) as port:
            results["nginx in front"] = run_path("nginx in front", port, args.slow, args.seconds)
    finally:
        stop_server(server)
    behind = results["nginx in front"]["p99_ratio"]
    ok = max(behind.values()) <= 2.0 and results["nginx in front"]["slow_clients"]["hook"]["failed"] == 0
    print(f"behind nginx, p99 under {args.slow} slow clients is at most 2x idle: {'PASS' if ok else 'MISS'}")
    path = save_result(
        "slow_clients",
        {
            "machine": machine(),
            "slow_connections": args.slow,
            "seconds": args.seconds,
            "results": results,
            "target_met": ok,
        },
    )
    print(f"result: {path}")


if __name__ == "__main__":
    main()
