"""A FHIR Bulk Data `$export` client: kick-off, polling with Retry-After, download of the NDJSON files.

With SMART Backend Services when configured: a private-key JWT client assertion (RS384 or ES384) is exchanged at
the server's token endpoint for an access token. Every request goes through the service's SSRF-guarded adapter
(no proxy, no redirect, no link-local or metadata address), with timeouts and size caps; the token is sent to the
FHIR server's origin only.
"""

from __future__ import annotations

import email.utils
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cds_service.network import GuardedAdapter, is_loopback_url, was_blocked
from cds_service.population.prefilter import PATIENT_TYPES

EXPORT_TYPES = (*PATIENT_TYPES, "Medication")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_FILE_BYTES = 64 * 1024**3
TIMEOUT_SECONDS = 30.0
CHUNK = 1 << 16


class ExportError(Exception):
    """The export could not be completed; the message names the step, never a token or patient."""


@dataclass(frozen=True)
class SmartAuth:
    """SMART Backend Services credentials: client id, private key, key id and scopes."""

    client_id: str
    private_key: Any
    algorithm: str  # RS384 or ES384
    key_id: str | None
    scope: str


def smart_auth(client_id: str | None, key_path: Path | None, key_id: str | None, scope: str) -> SmartAuth | None:
    """Return the credentials when a client id and key are configured; none when neither is."""
    if client_id is None and key_path is None:
        return None
    if not client_id or key_path is None:
        raise ExportError("SMART Backend Services needs both --client-id and --private-key")
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        raise ExportError("the private key cannot be read as an unencrypted PEM key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = "RS384"
    elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1":
        algorithm = "ES384"
    else:
        raise ExportError("the private key must be RSA (RS384) or EC P-384 (ES384)")
    return SmartAuth(client_id, key, algorithm, key_id, scope)


def client_assertion(auth: SmartAuth, token_url: str, now: float) -> str:
    """Return the signed JWT that authenticates the client at the token endpoint (valid five minutes)."""
    claims = {
        "iss": auth.client_id,
        "sub": auth.client_id,
        "aud": token_url,
        "exp": int(now) + 300,
        "jti": str(uuid.uuid4()),
    }
    headers = {"typ": "JWT", **({"kid": auth.key_id} if auth.key_id else {})}
    return jwt.encode(claims, auth.private_key, algorithm=auth.algorithm, headers=headers)


def retry_after(value: str | None, default: float, now: datetime | None = None) -> float:
    """Return the seconds a Retry-After header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def origin(url: str) -> tuple[str, str, int | None]:
    """Return a URL's scheme, host and port."""
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class BulkClient:
    """One export: a guarded session, the token (refreshed when it expires), and the steps of the protocol."""

    def __init__(
        self,
        base_url: str,
        auth: SmartAuth | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = 6 * 3600,
        max_poll_interval: float = 120.0,
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        if not base_url.startswith("https://") and not is_loopback_url(base_url):
            raise ExportError("the FHIR server must be https (plain http only on loopback)")
        self.base = base_url.rstrip("/")
        self.auth, self.sleep = auth, sleep
        self.max_wait, self.max_poll_interval, self.max_file_bytes = max_wait_seconds, max_poll_interval, max_file_bytes
        self.session = requests.Session()
        adapter = GuardedAdapter(max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.session.trust_env = False  # no proxy, no ~/.netrc credentials
        self.token: str | None = None
        self.token_expires = 0.0

    def request(self, method: str, url: str, *, step: str, **kwargs: Any) -> requests.Response:
        """Send one request without following redirects; name the step on failure."""
        try:
            return self.session.request(
                method, url, allow_redirects=False, timeout=TIMEOUT_SECONDS, stream=True, **kwargs
            )
        except requests.exceptions.Timeout:
            raise ExportError(f"{step}: the server timed out") from None
        except requests.exceptions.ConnectionError as exc:
            reason = "address not allowed" if was_blocked(exc) else "server unreachable"
            raise ExportError(f"{step}: {reason}") from None
        except requests.exceptions.RequestException:
            raise ExportError(f"{step}: request failed") from None

    def json_body(self, response: requests.Response, step: str) -> dict[str, Any]:
        """Read a capped JSON object body."""
        body = bytearray()
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > MAX_JSON_BYTES:
                raise ExportError(f"{step}: response too large")
        try:
            document = json.loads(body)
        except ValueError:
            raise ExportError(f"{step}: the server sent invalid JSON") from None
        if not isinstance(document, dict):
            raise ExportError(f"{step}: the server sent invalid JSON")
        return document

    def headers(self, url: str) -> dict[str, str]:
        """Return the Authorization header for the FHIR server's origin, fetching a token when needed."""
        if self.auth is None or origin(url) != origin(self.base):
            return {}
        if self.token is None or time.time() > self.token_expires - 30:
            self.fetch_token()
        return {"Authorization": f"Bearer {self.token}"}

    def fetch_token(self) -> None:
        """Exchange a client assertion for an access token at the server's token endpoint."""
        assert self.auth is not None
        step = "SMART configuration"
        with self.request(
            "GET", f"{self.base}/.well-known/smart-configuration", step=step, headers={"Accept": "application/json"}
        ) as response:
            if response.status_code != 200:
                raise ExportError(f"{step}: the server answered {response.status_code}")
            token_url = self.json_body(response, step).get("token_endpoint")
        if not isinstance(token_url, str) or not (token_url.startswith("https://") or is_loopback_url(token_url)):
            raise ExportError(f"{step}: no usable token_endpoint")
        step = "token request"
        form = {
            "grant_type": "client_credentials",
            "scope": self.auth.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(self.auth, token_url, time.time()),
        }
        with self.request("POST", token_url, step=step, data=form, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise ExportError(f"{step}: the server answered {response.status_code}")
            document = self.json_body(response, step)
        token = document.get("access_token")
        if not isinstance(token, str) or not token:
            raise ExportError(f"{step}: no access_token in the answer")
        expires = document.get("expires_in")
        self.token = token
        self.token_expires = time.time() + (float(expires) if isinstance(expires, (int, float)) else 300.0)

    def kick_off(self, since: date | None, types: tuple[str, ...]) -> str:
        """Start the export and return the status URL from Content-Location."""
        query = {"_type": ",".join(types), "_outputFormat": "application/fhir+ndjson"}
        if since is not None:
            query["_since"] = f"{since.isoformat()}T00:00:00Z"
        url = f"{self.base}/$export?{urlencode(query, safe=',:$')}"
        step = "$export kick-off"
        headers = {"Accept": "application/fhir+json", "Prefer": "respond-async", **self.headers(url)}
        with self.request("GET", url, step=step, headers=headers) as response:
            if response.status_code != 202:
                raise ExportError(f"{step}: the server answered {response.status_code}")
            location = response.headers.get("Content-Location")
        if not location:
            raise ExportError(f"{step}: no Content-Location in the answer")
        return urljoin(url, location)

    def wait(self, status_url: str) -> dict[str, Any]:
        """Poll the status URL, as often as Retry-After asks, until the manifest is ready."""
        step = "$export status"
        waited = 0.0
        while True:
            with self.request(
                "GET", status_url, step=step, headers={"Accept": "application/json", **self.headers(status_url)}
            ) as response:
                if response.status_code == 200:
                    return self.json_body(response, step)
                if response.status_code not in (202, 429):
                    raise ExportError(f"{step}: the server answered {response.status_code}")
                pause = min(retry_after(response.headers.get("Retry-After"), 1.0), self.max_poll_interval)
            if waited + pause > self.max_wait:
                raise ExportError(f"{step}: not ready after {int(waited)} s")
            self.sleep(pause)
            waited += pause

    def download(self, manifest: dict[str, Any], directory: Path) -> list[Path]:
        """Download every output file of the manifest as NDJSON under `directory`."""
        outputs = manifest.get("output")
        if not isinstance(outputs, list):
            raise ExportError("$export manifest: no output list")
        needs_token = bool(manifest.get("requiresAccessToken"))
        written = []
        for number, item in enumerate(outputs, start=1):
            url = item.get("url") if isinstance(item, dict) else None
            kind = item.get("type") if isinstance(item, dict) else None
            if not isinstance(url, str) or not isinstance(kind, str) or not kind.isalpha():
                raise ExportError("$export manifest: an output without a type or url")
            url = urljoin(self.base + "/", url)
            headers = {"Accept": "application/fhir+ndjson"}
            if needs_token and self.auth is not None:
                if origin(url) != origin(self.base):
                    raise ExportError("$export download: a file on another origin asks for the access token")
                headers.update(self.headers(url))
            written.append(self.save(url, directory / f"{kind}-{number}.ndjson", headers))
        return written

    def save(self, url: str, path: Path, headers: dict[str, str]) -> Path:
        """Stream one file to disk, stopping at the size cap."""
        step = "$export download"
        with self.request("GET", url, step=step, headers=headers) as response:
            if response.status_code != 200:
                raise ExportError(f"{step}: the server answered {response.status_code}")
            size = 0
            with path.open("wb") as handle:
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    if size > self.max_file_bytes:
                        raise ExportError(f"{step}: a file is larger than the size cap")
                    handle.write(chunk)
        return path


def export(
    base_url: str,
    directory: Path,
    *,
    since: date | None = None,
    auth: SmartAuth | None = None,
    types: tuple[str, ...] = EXPORT_TYPES,
    **options: Any,
) -> list[Path]:
    """Run a system-level Bulk Data export from `base_url` into `directory` and return the files written."""
    client = BulkClient(base_url, auth, **options)
    status_url = client.kick_off(since, types)
    manifest = client.wait(status_url)
    directory.mkdir(parents=True, exist_ok=True)
    return client.download(manifest, directory)
