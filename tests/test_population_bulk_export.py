"""The $export client against a loopback Bulk Data stub: SMART Backend Services, Retry-After, downloads, guards."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds_service.__main__ import main
from cds_service.population import bulk_export
from cds_service.population.bulk_export import ExportError, export, retry_after, smart_auth
from tests.population_helpers import make_population, planted

TOKEN = "stub-access-token"


class Stub:
    """A Bulk Data server: SMART configuration, token endpoint, kick-off, status (202 twice), NDJSON files."""

    def __init__(self, files: dict[str, bytes], public_key=None) -> None:
        self.files, self.public_key = files, public_key
        self.requests: list[tuple[str, str, dict]] = []
        self.polls = 0
        self.kick_off_status = 202
        self.requires_token = True
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_GET(self):  # noqa: N802
                stub.requests.append(("GET", self.path, dict(self.headers)))
                stub.get(self)

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                stub.requests.append(("POST", self.path, parse_qs(body)))
                stub.token(self, parse_qs(body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}/fhir"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def send(self, handler, status, body=b"", headers=None):
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def authorised(self, handler) -> bool:
        return self.public_key is None or handler.headers.get("Authorization") == f"Bearer {TOKEN}"

    def get(self, handler):
        path = urlsplit(handler.path).path
        if path == "/fhir/.well-known/smart-configuration":
            return self.send(handler, 200, json.dumps({"token_endpoint": f"{self.base}/token"}).encode())
        if not self.authorised(handler):
            return self.send(handler, 401)
        if path == "/fhir/$export":
            return self.send(handler, self.kick_off_status, headers={"Content-Location": f"{self.base}/status/1"})
        if path == "/fhir/status/1":
            self.polls += 1
            if self.polls < 3:
                return self.send(handler, 202, headers={"Retry-After": "2", "X-Progress": "working"})
            output = [{"type": name.split(".")[0], "url": f"{self.base}/files/{name}"} for name in sorted(self.files)]
            return self.send(
                handler,
                200,
                json.dumps(
                    {
                        "transactionTime": "2026-11-24T00:00:00Z",
                        "request": f"{self.base}/$export",
                        "requiresAccessToken": self.requires_token,
                        "output": output,
                        "error": [],
                    }
                ).encode(),
            )
        if path.startswith("/fhir/files/"):
            return self.send(
                handler, 200, self.files[path.rsplit("/", 1)[1]], headers={"Content-Type": "application/fhir+ndjson"}
            )
        return self.send(handler, 404)

    def token(self, handler, form):
        claims = jwt.decode(
            form["client_assertion"][0],
            self.public_key,
            algorithms=["RS384", "ES384"],
            audience=f"{self.base}/token",
            issuer="audit-client",
        )
        assert claims["sub"] == "audit-client" and claims["jti"]
        assert form["grant_type"] == ["client_credentials"] and form["scope"] == ["system/*.rs"]
        assert form["client_assertion_type"] == [bulk_export.ASSERTION_TYPE]
        self.send(handler, 200, json.dumps({"access_token": TOKEN, "token_type": "bearer", "expires_in": 300}).encode())

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def key_file(tmp_path: Path, key) -> Path:
    path = tmp_path / "key.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("population")
    make_population(directory, patients=80, seed=5)
    return directory


@pytest.fixture
def files(population) -> dict[str, bytes]:
    import gzip

    return {p.name[:-3]: gzip.decompress(p.read_bytes()) for p in population.glob("*.ndjson.gz")}


@pytest.mark.parametrize(
    "make_key",
    [lambda: rsa.generate_private_key(65537, 2048), lambda: ec.generate_private_key(ec.SECP384R1())],
    ids=["RS384", "ES384"],
)
def test_an_authorised_export_downloads_every_file(make_key, files, tmp_path):
    key = make_key()
    stub = Stub(files, key.public_key())
    slept: list[float] = []
    try:
        auth = smart_auth("audit-client", key_file(tmp_path, key), "key-1", "system/*.rs")
        written = export(stub.base, tmp_path / "out", since=date(2020, 1, 1), auth=auth, sleep=slept.append)
    finally:
        stub.close()
    assert sorted(p.read_bytes() for p in written) == sorted(files.values())
    assert slept == [2.0, 2.0]
    kick_off = next(r for r in stub.requests if r[1].startswith("/fhir/$export"))
    query = parse_qs(urlsplit(kick_off[1]).query)
    assert query["_since"] == ["2020-01-01T00:00:00Z"] and "Observation" in query["_type"][0].split(",")
    assert kick_off[2]["Prefer"] == "respond-async"
    header = jwt.get_unverified_header(next(r for r in stub.requests if r[0] == "POST")[2]["client_assertion"][0])
    assert header["kid"] == "key-1" and header["alg"] in ("RS384", "ES384")


def test_the_audit_command_runs_on_a_fhir_server(population, files, tmp_path):
    key = rsa.generate_private_key(65537, 2048)
    stub = Stub(files, key.public_key())
    try:
        status = main(
            [
                "audit",
                "--input",
                stub.base,
                "--output",
                str(tmp_path / "out"),
                "--today",
                "2026-11-24",
                "--client-id",
                "audit-client",
                "--private-key",
                str(key_file(tmp_path, key)),
            ]
        )
    finally:
        stub.close()
    assert status == 0
    worklist = (tmp_path / "out" / "worklist.csv").read_text()
    assert all(patient in worklist for patient in planted(population))


def test_without_credentials_no_token_is_asked_for(files, tmp_path):
    stub = Stub(files)
    try:
        export(stub.base, tmp_path / "out", sleep=lambda s: None)
    finally:
        stub.close()
    assert not any(r[0] == "POST" for r in stub.requests)
    assert all("Authorization" not in r[2] for r in stub.requests)


def test_a_refused_kick_off_is_an_error_naming_the_step(files, tmp_path):
    stub = Stub(files)
    stub.kick_off_status = 500
    try:
        with pytest.raises(ExportError, match=r"^\$export kick-off: the server answered 500$"):
            export(stub.base, tmp_path / "out", sleep=lambda s: None)
    finally:
        stub.close()


def test_a_file_over_the_size_cap_stops_the_download(files, tmp_path):
    stub = Stub(files)
    try:
        with pytest.raises(ExportError, match="larger than the size cap"):
            export(stub.base, tmp_path / "out", sleep=lambda s: None, max_file_bytes=100)
    finally:
        stub.close()


def test_an_export_that_never_finishes_gives_up(files, tmp_path):
    stub = Stub(files)
    try:
        with pytest.raises(ExportError, match="not ready after"):
            export(stub.base, tmp_path / "out", sleep=lambda s: None, max_wait_seconds=3)
    finally:
        stub.close()


def test_a_metadata_address_is_never_contacted(tmp_path):
    with pytest.raises(ExportError, match="address not allowed"):
        export("https://169.254.169.254/fhir", tmp_path, sleep=lambda s: None)


def test_plain_http_is_refused_off_loopback(tmp_path):
    with pytest.raises(ExportError, match="must be https"):
        export("http://ehr.example.org/fhir", tmp_path)


def test_the_token_is_never_sent_to_another_origin(files, tmp_path):
    key = rsa.generate_private_key(65537, 2048)
    stub = Stub(files, key.public_key())
    client = bulk_export.BulkClient(stub.base, smart_auth("audit-client", key_file(tmp_path, key), None, "system/*.rs"))
    try:
        with pytest.raises(ExportError, match="another origin"):
            client.download(
                {
                    "requiresAccessToken": True,
                    "output": [{"type": "Patient", "url": "http://localhost:1/files/Patient.ndjson"}],
                },
                tmp_path,
            )
        assert client.headers("http://localhost:1/x") == {}
    finally:
        stub.close()


def test_credentials_need_both_a_client_id_and_a_usable_key(tmp_path):
    assert smart_auth(None, None, None, "system/*.rs") is None
    with pytest.raises(ExportError, match="both"):
        smart_auth("client", None, None, "system/*.rs")
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(ExportError, match="cannot be read"):
        smart_auth("client", bad, None, "system/*.rs")
    p256 = key_file(tmp_path, ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ExportError, match="P-384"):
        smart_auth("client", p256, None, "system/*.rs")


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert retry_after("7", 1.0) == 7.0
    assert retry_after("Tue, 24 Nov 2026 12:00:30 GMT", 1.0, now) == 30.0
    assert retry_after(None, 1.5) == 1.5 and retry_after("soon", 1.5) == 1.5
