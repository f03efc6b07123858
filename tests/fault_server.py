"""A FHIR server on loopback that misbehaves on demand: hangs, resets, errors, junk, huge bodies, endless pages."""

from __future__ import annotations

import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CHUNK = b" " * 65536


class _Server(ThreadingHTTPServer):
    """A threading server with room in its listen queue: a hook's queries all connect at once."""

    request_queue_size = 64


class FaultyFhirServer:
    """Serve searchset Bundles per resource type, or the fault set for that type."""

    def __init__(self, bundles: dict[str, Any]) -> None:
        self.bundles = bundles  # resource type (or "Patient/<id>") -> JSON to serve
        self.faults: dict[str, str] = {}  # resource type -> fault name
        self.release = threading.Event()  # ends every hang
        self.requests = 0
        handler = _handler(self)
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultyFhirServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _handler(server: FaultyFhirServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            server.requests += 1
            parts = urlsplit(self.path)
            path = parts.path.removeprefix("/fhir/")
            kind = path.split("/")[0]
            fault = server.faults.get(kind)
            if fault == "hang":
                server.release.wait(timeout=30)
                return
            if fault == "reset":
                # SO_LINGER 0: close with a TCP RST instead of a clean shutdown.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                return
            if fault in ("500", "503"):
                return self._send(int(fault), {"resourceType": "OperationOutcome", "issue": []})
            if fault == "429":
                return self._send(429, {"resourceType": "OperationOutcome", "issue": []}, {"Retry-After": "3600"})
            if fault == "invalid-json":
                return self._raw(200, b'{"resourceType": "Bundle", "entry": [')
            if fault == "huge":
                return self._huge(50 * 1024 * 1024)
            if fault == "endless":
                page = int(parse_qs(parts.query).get("page", ["0"])[0])
                return self._send(200, _page(server.base, kind, page))
            self._send(200, server.bundles.get(path, server.bundles.get(kind, _page(server.base, kind, -1))))

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            self._raw(status, json.dumps(body).encode(), headers)

        def _raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass  # the client hung up: that is what some tests provoke

        def _huge(self, size: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                for _ in range(size // len(CHUNK)):
                    self.wfile.write(CHUNK)
            except OSError:
                pass  # the client stopped reading at its size cap

    return Handler


def _page(base: str, kind: str, page: int) -> dict[str, Any]:
    """Return an empty searchset page; a non-negative page number links to the next one, forever."""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    if page >= 0:
        bundle["link"] = [{"relation": "next", "url": f"{base}/{kind}?page={page + 1}"}]
    return bundle
