"""Test helpers for trust: signing keys, JWT minting, and tiny HTTP servers on loopback (JWKS, FHIR, traps)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISS = "https://ehr.example.org"


@dataclass(frozen=True)
class SigningKey:
    """A private key, its kid, and the public JWK a JWKS would publish."""

    kid: str
    alg: str
    private: Any
    jwk: dict

    def public_pem(self) -> bytes:
        """Return the public key as PEM, what an attacker would use as an HMAC secret."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def ec_key(kid: str = "ec-384", curve: ec.EllipticCurve | None = None, alg: str = "ES384") -> SigningKey:
    """Generate an EC key (P-384 by default) with its public JWK."""
    private = ec.generate_private_key(curve or ec.SECP384R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    return SigningKey(kid, alg, private, {**jwk, "kid": kid, "use": "sig", "alg": alg})


def rsa_key(kid: str = "rsa-2048", alg: str = "RS384") -> SigningKey:
    """Generate a 2048-bit RSA key with its public JWK (without `alg`, as many JWKS publish it)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return SigningKey(kid, alg, private, {**jwk, "kid": kid, "use": "sig"})


def claims(aud: str | list[str], *, iss: str = ISS, lifetime: int = 300, **extra: Any) -> dict:
    """Return the claims of a valid CDS Hooks JWT: iss, aud, exp = iat + lifetime, iat now, a fresh jti; no sub."""
    now = int(time.time())
    payload = {"iss": iss, "aud": aud, "exp": now + lifetime, "iat": now, "jti": str(uuid.uuid4())}
    payload.update(extra)
    return {k: v for k, v in payload.items() if v is not None}


def sign(key: SigningKey, payload: dict, *, alg: str | None = None, **header: Any) -> str:
    """Sign claims with a key, the header naming its kid (overridable) and typ JWT."""
    headers = {k: v for k, v in {"kid": key.kid, "typ": "JWT", **header}.items() if v is not None}
    return jwt.encode(payload, key.private, algorithm=alg or key.alg, headers=headers)


def _b64(data: bytes) -> str:
    """Encode base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict, kid: str = "ec-384") -> str:
    """Return an `alg: none` token."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def hmac_signed(payload: dict, secret: bytes, kid: str) -> str:
    """Return an HS256 token signed with `secret` (e.g. the issuer's public key, the classic confusion attack)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def tampered(token: str, **changes: Any) -> str:
    """Return the token with its claims changed and the original signature kept."""
    head, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    return f"{head}.{_b64(json.dumps(payload).encode())}.{signature}"


@dataclass
class Recorder:
    """What a loopback server was asked, and what it answers."""

    routes: dict[str, Callable[[BaseHTTPRequestHandler], tuple[int, dict, bytes]]] = field(default_factory=dict)
    requests: list[tuple[str, dict]] = field(default_factory=list)
    url: str = ""

    def json(self, path: str, document: Any, status: int = 200, headers: dict | None = None) -> None:
        """Answer GET path with a JSON document."""
        body = json.dumps(document).encode()
        self.routes[path] = lambda _request: (status, {"Content-Type": "application/json", **(headers or {})}, body)

    def count(self, path: str | None = None) -> int:
        """Return how many requests came (for one path, query excluded)."""
        return sum(1 for p, _ in self.requests if path is None or p.split("?")[0] == path)


@contextmanager
def loopback_server() -> Iterator[Recorder]:
    """Serve a Recorder's routes on 127.0.0.1 on a free port, in a thread, for the duration of the block."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            recorder.requests.append((self.path, dict(self.headers)))
            route = recorder.routes.get(self.path.split("?")[0])
            status, headers, body = route(self) if route else (404, {}, b"{}")
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            """Stay quiet: the tests read logs."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def issuers_json(jwks_url: str, *, iss: str = ISS, **extra: Any) -> str:
    """Return a CDS_TRUSTED_ISSUERS value trusting one issuer."""
    return json.dumps({iss: {"jwks_url": jwks_url, **extra}})
