"""A small threaded FHIR R4 server on loopback for the fetch-path benchmark, with a fixed added delay.

It serves one patient's resources (bench/payloads.py `records`) as searchset Bundles:

    GET /Patient/<id>
    GET /Observation?patient=<id>&code=<system|code,...>[&_count=N]     filtered by code, newest first
    GET /Condition?patient=<id>&code=<system|code,...>
    GET /MedicationRequest?patient=<id>[&_count=N][&_include=MedicationRequest:medication]
    GET /Medication/<id>                                                 with --referenced-medications
    GET /_page/<token>                                                   the next pages of a paged search

With `--referenced-medications` every medication record names its drug by reference (`Medication/<id>`), as many
EHRs' FHIR servers do, and a search with `_include=<Type>:medication` carries the referenced Medications as entries
in search mode `include` (POST /_config {"include": false} makes the server ignore `_include`, as FHIR allows).

Every answer waits `--delay-ms` before it is sent (HTTP/1.1 keep-alive, Content-Length). Searches whose results
exceed the page size (`--page-size`, or POST /_config {"page_size": N}) are split into pages chained by `next`
links. GET /_stats returns request counts per URL and the number of TCP connections accepted; POST /_reset
zeroes them. Loopback only; it stops after `--max-seconds`.

    python bench/fhir_server.py --port 8099 --delay-ms 100 --resources bench/out/payloads/resources-typical.json
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

MEDICATION_USES = ("MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration")


class State:
    def __init__(self, resources: dict, delay_s: float, page_size: int, referenced: bool = False) -> None:
        self.lock = threading.Lock()
        self.delay_s = delay_s
        self.page_size = page_size
        self.include = True
        self.requests: Counter[str] = Counter()
        self.connections = 0
        self.pages: dict[str, list[bytes]] = {}
        self.patient = resources["patient"]
        self.by_type: dict[str, list[dict]] = {
            kind: [] for kind in ("Observation", "Condition", "Encounter", *MEDICATION_USES)
        }
        for _key, value in resources.items():
            if isinstance(value, list):
                for resource in value:
                    self.by_type.setdefault(resource["resourceType"], []).append(resource)
        for key in self.by_type:
            self.by_type[key].sort(key=lambda r: r.get("effectiveDateTime", ""), reverse=True)
            # The same resource may sit in several prefetch keys: serve each once.
            self.by_type[key] = list({r["id"]: r for r in self.by_type[key]}.values())
        self.medications: dict[str, dict] = {}
        if referenced:
            for kind in MEDICATION_USES:
                self.by_type[kind] = [self.refer_to_medication(r) for r in self.by_type.get(kind, [])]

    def refer_to_medication(self, resource: dict) -> dict:
        """Return the record with its drug moved out to a Medication resource it references."""
        resource = dict(resource)
        contained = resource.pop("contained", None)
        concept = resource.pop("medicationCodeableConcept", None) or (contained[0]["code"] if contained else None)
        if concept is None:
            return resource
        medication_id = f"med-{resource['id']}"
        self.medications[medication_id] = {"resourceType": "Medication", "id": medication_id, "code": concept}
        resource["medicationReference"] = {"reference": f"Medication/{medication_id}"}
        return resource


def _codes(resource: dict) -> set[str]:
    return {f"{c.get('system')}|{c.get('code')}" for c in (resource.get("code") or {}).get("coding", [])}


def make_handler(state: State, base: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the client's
        # delayed ACK would add about 40 ms to every answer, which is the server's artefact, not the client's.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with state.lock:
                state.connections += 1

        def log_message(self, *args: object) -> None:  # quiet
            return

        def send_json(self, status: int, body: bytes, delay: bool = True) -> None:
            if delay and state.delay_s:
                time.sleep(state.delay_s)
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/_reset":
                with state.lock:
                    state.requests.clear()
                    state.connections = 0
                self.send_json(200, b"{}", delay=False)
            elif self.path == "/_config":
                with state.lock:
                    state.page_size = int(payload.get("page_size", state.page_size))
                    state.delay_s = float(payload.get("delay_ms", state.delay_s * 1000)) / 1000
                    state.include = bool(payload.get("include", state.include))
                self.send_json(200, b"{}", delay=False)
            else:
                self.send_json(404, b'{"resourceType":"OperationOutcome"}', delay=False)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/_stats":
                with state.lock:
                    stats = {"requests": dict(state.requests), "connections": state.connections}
                self.send_json(200, json.dumps(stats).encode(), delay=False)
                return
            with state.lock:
                state.requests[self.path] += 1
            parts = urlsplit(self.path)
            path = parts.path.strip("/")
            query = parse_qs(parts.query)
            if path.startswith("_page/"):
                with state.lock:
                    token, _, index = path[len("_page/") :].partition(".")
                    pages = state.pages.get(token)
                body = pages[int(index)] if pages and index.isdigit() and int(index) < len(pages) else None
                self.send_json(200 if body else 404, body or b'{"resourceType":"OperationOutcome"}')
                return
            if path == f"Patient/{state.patient['id']}":
                self.send_json(200, json.dumps(state.patient).encode())
                return
            if path.startswith("Medication/") and path[len("Medication/") :] in state.medications:
                self.send_json(200, json.dumps(state.medications[path[len("Medication/") :]]).encode())
                return
            resources = state.by_type.get(path)
            if resources is None:
                self.send_json(404, b'{"resourceType":"OperationOutcome"}')
                return
            wanted = set()
            for value in query.get("code", []):
                wanted.update(value.split(","))
            found = [r for r in resources if not wanted or _codes(r) & wanted]
            include = state.include and f"{path}:medication" in query.get("_include", [])
            self.send_json(200, self.paged(found, include))

        def included(self, resources: list[dict]) -> list[dict]:
            """Return the include entries of the Medications a page's records reference."""
            ids = dict.fromkeys(
                str(r.get("medicationReference", {}).get("reference", "")).removeprefix("Medication/")
                for r in resources
            )
            return [
                {
                    "fullUrl": f"{base}/Medication/{i}",
                    "resource": state.medications[i],
                    "search": {"mode": "include"},
                }
                for i in ids
                if i in state.medications
            ]

        def paged(self, resources: list[dict], include: bool = False) -> bytes:
            size = max(1, state.page_size)
            chunks = [resources[i : i + size] for i in range(0, len(resources), size)] or [[]]
            token = uuid.uuid4().hex
            pages = []
            for index, chunk in enumerate(chunks):
                bundle: dict = {
                    "resourceType": "Bundle",
                    "id": f"{token}-{index}",
                    "type": "searchset",
                    "total": len(resources),
                    "link": [{"relation": "self", "url": f"{base}{self.path}"}],
                    "entry": [
                        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                        for r in chunk
                    ]
                    + (self.included(chunk) if include else []),
                }
                if index + 1 < len(chunks):
                    bundle["link"].append({"relation": "next", "url": f"{base}/_page/{token}.{index + 1}"})
                pages.append(json.dumps(bundle).encode())
            if len(pages) > 1:
                with state.lock:
                    state.pages[token] = pages
            return pages[0]

    return Handler


def serve(
    port: int, resources: dict, delay_ms: float, page_size: int, max_seconds: float, referenced: bool = False
) -> None:
    state = State(resources, delay_ms / 1000, page_size, referenced)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state, f"http://127.0.0.1:{port}"))
    server.daemon_threads = True
    # Bounded: the server shuts itself down after max_seconds whatever the caller does.
    threading.Timer(max_seconds, server.shutdown).start()
    server.serve_forever(poll_interval=0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=100)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--resources", type=Path, required=True)
    parser.add_argument("--referenced-medications", action="store_true", help="drugs as referenced Medications")
    args = parser.parse_args()
    serve(
        args.port,
        json.loads(args.resources.read_text()),
        args.delay_ms,
        args.page_size,
        args.max_seconds,
        args.referenced_medications,
    )


if __name__ == "__main__":
    main()
