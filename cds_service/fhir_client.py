"""Read and search a CDS client's FHIR server within a deadline, without leaking PHI or the token."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy

import requests
from requests.auth import AuthBase

from cds_service.fhir_reader import (
    FhirError,
    Found,
    follow_pages,
    held_type,
    origin,
    query_type,
    searchset,
    split_entries,
    split_reference,
)
from cds_service.network import GuardedAdapter, was_blocked

__all__ = ["FhirClient", "FhirError", "HttpFhirReader"]

ACCEPT = "application/fhir+json"
_CHUNK_BYTES = 64 * 1024


class _BearerAuth(AuthBase):
    """Add the bearer token, if any, to one request."""

    def __init__(self, token: str | None) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set the Authorization header when there is a token."""
        if self._token:
            request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        """Name the class without the token."""
        return "<_BearerAuth>"


class FhirClient:
    """Fetch FHIR JSON with per-call timeouts, an overall deadline, page and size limits, on reused connections."""

    def __init__(
        self,
        timeout_seconds: float = 1.5,
        max_pages: int = 10,
        max_response_bytes: int = 20 * 1024 * 1024,
        observer: Callable[[str, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.max_pages = max_pages
        self.max_response_bytes = max_response_bytes
        self.observer = observer  # told each GET's outcome ("ok", "not found" or the FhirError reason) and seconds
        self.clock = clock  # monotonic: the deadlines passed in are instants on it
        # requests does not document Session as thread-safe; its maintainers advise one per thread.
        self._local = threading.local()

    def reader(self, base_url: str, *, token: str | None, deadline: float) -> HttpFhirReader:
        """Return the reader of one hook call: this server, this token, this deadline."""
        return HttpFhirReader(self, base_url.rstrip("/"), token, deadline)

    def search(self, base_url: str, query: str, *, token: str | None, deadline: float) -> Found:
        """Run a FHIR search and return what every result page holds."""
        resource_type = query_type(query)
        url = f"{base_url.rstrip('/')}/{query.lstrip('/')}"
        first = searchset(self._get(url, base_url, resource_type, token=token, deadline=deadline))
        return self._pages(first, url, base_url, resource_type, token=token, deadline=deadline)

    def read(self, base_url: str, reference: str, *, token: str | None, deadline: float) -> dict | None:
        """Read one resource by its `Type/id` reference; return None when the server has none."""
        resource_type, resource_id = split_reference(reference)
        url = f"{base_url.rstrip('/')}/{resource_type}/{resource_id}"
        resource = self._get(url, base_url, resource_type, token=token, deadline=deadline, missing_ok=True)
        if resource is not None and resource.get("resourceType") != resource_type:
            raise FhirError(f"FHIR server sent the wrong resource type for {resource_type}")
        return resource

    def continue_bundle(self, bundle: dict, base_url: str, *, token: str | None, deadline: float) -> Found:
        """Return what a Bundle in hand holds together with its next pages."""
        if bundle.get("resourceType") != "Bundle":
            raise FhirError("not a FHIR Bundle")
        resource_type = held_type(split_entries(bundle).matches)
        base = f"{base_url.rstrip('/')}/"
        return self._pages(bundle, base, base_url, resource_type, token=token, deadline=deadline)

    def _pages(
        self, page: dict, page_url: str, base_url: str, resource_type: str, *, token: str | None, deadline: float
    ) -> Found:
        """Collect this page's entries and the next pages', on the base URL's origin only."""

        def get_page(url: str) -> dict:
            """GET one next page."""
            return searchset(self._get(url, base_url, resource_type, token=token, deadline=deadline))

        return follow_pages(page, page_url, base_url, get_page, self.max_pages)

    def _session(self) -> requests.Session:
        """Return this thread's Session, creating it on first use."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = GuardedAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # A FHIR server's cookie would otherwise ride along on the next request's calls from this thread.
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            # No proxy (GuardedAdapter) and no ~/.netrc (explicit auth): skip reading the environment on every GET.
            session.trust_env = False
            self._local.session = session
        return session

    def _get(
        self,
        url: str,
        base_url: str,
        resource_type: str,
        *,
        token: str | None,
        deadline: float,
        missing_ok: bool = False,
    ) -> dict | None:
        """GET one FHIR JSON object as _get_once does, telling the observer how it ended and how long it took."""
        started, outcome = self.clock(), "error"
        try:
            document = self._get_once(
                url, base_url, resource_type, token=token, deadline=deadline, missing_ok=missing_ok
            )
            outcome = "ok" if document is not None else "not found"
            return document
        except FhirError as exc:
            outcome = exc.reason
            raise
        finally:
            if self.observer is not None:
                self.observer(outcome, self.clock() - started)

    def _get_once(
        self,
        url: str,
        base_url: str,
        resource_type: str,
        *,
        token: str | None,
        deadline: float,
        missing_ok: bool = False,
    ) -> dict | None:
        """GET one FHIR JSON object; return None on 404 or 410 when missing_ok."""
        remaining = deadline - self.clock()
        if remaining <= 0:
            raise FhirError("FHIR deadline passed")
        timeout = min(self.timeout_seconds, remaining)
        # An explicit auth object also keeps requests from taking credentials out of ~/.netrc.
        auth = _BearerAuth(token if origin(url) == origin(base_url) else None)
        try:
            with self._session().get(
                url,
                headers={"Accept": ACCEPT},
                auth=auth,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
            ) as response:
                status = response.status_code
                if missing_ok and status in (404, 410):
                    return None
                if 300 <= status < 400:
                    raise FhirError(f"FHIR server redirected the {resource_type} request")
                if not 200 <= status < 300:
                    raise FhirError(f"FHIR server answered {status} for {resource_type}")
                body = self._read_body(response, deadline)
        # `from None`: requests' messages carry the URL, which can hold a patient id.
        except requests.exceptions.Timeout:
            raise FhirError("FHIR server timed out") from None
        except requests.exceptions.ConnectionError as exc:
            reason = "FHIR server address not allowed" if was_blocked(exc) else "FHIR server unreachable"
            raise FhirError(reason) from None
        except requests.exceptions.RequestException:
            raise FhirError("FHIR server unreachable") from None
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise FhirError(f"FHIR server sent invalid JSON for {resource_type}") from None
        if not isinstance(document, dict):
            raise FhirError(f"FHIR server sent invalid JSON for {resource_type}")
        return document

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        """Read the streamed body, stopping at the size limit or the deadline."""
        try:
            declared = int(response.headers.get("Content-Length", "0"))
        except ValueError:
            declared = 0
        if declared > self.max_response_bytes:
            raise FhirError("FHIR response too large")
        body = bytearray()
        chunks: Iterator[bytes] = response.iter_content(_CHUNK_BYTES)
        for chunk in chunks:
            body += chunk
            if len(body) > self.max_response_bytes:
                raise FhirError("FHIR response too large")
            # The read timeout bounds each socket read, not a slowly dripping body.
            if self.clock() > deadline:
                raise FhirError("FHIR server timed out")
        return bytes(body)


@dataclass(frozen=True)
class HttpFhirReader:
    """The FhirReader of one hook call over HTTP: a FhirClient bound to the server, the token and the deadline."""

    client: FhirClient
    base: str
    token: str | None = field(repr=False)  # a repr can end up in a log line
    deadline: float

    def read(self, reference: str) -> dict | None:
        """Read one resource; None when the server has none."""
        return self.client.read(self.base, reference, token=self.token, deadline=self.deadline)

    def search(self, query: str) -> Found:
        """Run a search and follow its pages."""
        return self.client.search(self.base, query, token=self.token, deadline=self.deadline)

    def continue_search(self, bundle: dict) -> Found:
        """Follow the next pages of a Bundle in hand."""
        return self.client.continue_bundle(bundle, self.base, token=self.token, deadline=self.deadline)
