"""Read and search a CDS client's FHIR server within a deadline, without leaking PHI or the token."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase

from cds_service.network import GuardedAdapter, was_blocked

ACCEPT = "application/fhir+json"
_CHUNK_BYTES = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{0,63}")
_RESOURCE_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_FAILING_SEVERITIES = frozenset({"error", "fatal"})


class FhirError(Exception):
    """Report that FHIR data could not be obtained; the reason is a short phrase free of PHI."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def _origin(url: str) -> tuple[str, str, int]:
    """Return the scheme, host and port of an http(s) URL, or raise FhirError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FhirError("invalid FHIR server URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise FhirError("invalid FHIR server URL")
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def entry_resources(bundle: dict) -> list[dict]:
    """Return the resources of a Bundle's entries, skipping OperationOutcomes that report no error."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError("malformed FHIR Bundle")
    resources = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else entry
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            # One bad entry must not sink the request; the readers report it as unreadable evidence.
            if resource is not None:
                resources.append(resource)
            continue
        if resource["resourceType"] == "OperationOutcome":
            if _reports_failure(resource):
                raise FhirError("FHIR server reported an error in the Bundle")
            continue
        resources.append(resource)
    return resources


def _reports_failure(outcome: dict) -> bool:
    """Tell whether an OperationOutcome has an issue of severity error or fatal."""
    issues = outcome.get("issue")
    if not isinstance(issues, list):
        return True  # an outcome we cannot read is no evidence of success
    return any(not isinstance(i, dict) or i.get("severity") in _FAILING_SEVERITIES for i in issues)


def next_url(bundle: dict) -> str | None:
    """Return the Bundle's `next` link URL, if it has one."""
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if isinstance(url, str) and url:
                return url
            raise FhirError("malformed FHIR Bundle")
    return None


class FhirClient:
    """Fetch FHIR JSON with per-call timeouts, an overall deadline, page and size limits."""

    def __init__(
        self,
        timeout_seconds: float = 1.5,
        max_pages: int = 10,
        max_response_bytes: int = 20 * 1024 * 1024,
        observer: Callable[[str, float], None] | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.max_pages = max_pages
        self.max_response_bytes = max_response_bytes
        self.observer = observer  # told each GET's outcome ("ok", "not found" or the FhirError reason) and seconds
        # requests does not document Session as thread-safe; its maintainers advise one per thread.
        self._local = threading.local()

    def search(self, base_url: str, query: str, *, token: str | None, deadline: float) -> list[dict]:
        """Run a FHIR search and return the resources of every result page."""
        resource_type = _query_type(query)
        url = f"{base_url.rstrip('/')}/{query.lstrip('/')}"
        first = _searchset(self._get(url, base_url, resource_type, token=token, deadline=deadline))
        return self._pages(first, url, base_url, resource_type, token=token, deadline=deadline)

    def read(self, base_url: str, reference: str, *, token: str | None, deadline: float) -> dict | None:
        """Read one resource by its `Type/id` reference; return None when the server has none."""
        resource_type, resource_id = _split_reference(reference)
        url = f"{base_url.rstrip('/')}/{resource_type}/{resource_id}"
        resource = self._get(url, base_url, resource_type, token=token, deadline=deadline, missing_ok=True)
        if resource is not None and resource.get("resourceType") != resource_type:
            raise FhirError(f"FHIR server sent the wrong resource type for {resource_type}")
        return resource

    def continue_bundle(self, bundle: dict, base_url: str, *, token: str | None, deadline: float) -> list[dict]:
        """Return the resources of a Bundle in hand together with those of its next pages."""
        if bundle.get("resourceType") != "Bundle":
            raise FhirError("not a FHIR Bundle")
        base = f"{base_url.rstrip('/')}/"
        return self._pages(bundle, base, base_url, None, token=token, deadline=deadline)

    def _pages(
        self,
        page: dict,
        page_url: str,
        base_url: str,
        resource_type: str | None,
        *,
        token: str | None,
        deadline: float,
    ) -> list[dict]:
        """Collect entry resources from this page and the next ones, on the base URL's origin only."""
        home = _origin(base_url)
        resources = entry_resources(page)
        if resource_type is None:
            resource_type = _held_type(resources)
        pages = 1
        while (link := next_url(page)) is not None:
            if pages >= self.max_pages:
                raise FhirError("too many result pages")
            page_url = urljoin(page_url, link)
            if _origin(page_url) != home:
                raise FhirError("FHIR next link leaves the FHIR server")
            page = _searchset(self._get(page_url, base_url, resource_type, token=token, deadline=deadline))
            resources.extend(entry_resources(page))
            pages += 1
        return resources

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
        started, outcome = time.perf_counter(), "error"  # not monotonic(): tests count the deadline's clock reads
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
                self.observer(outcome, time.perf_counter() - started)

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
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FhirError("FHIR deadline passed")
        timeout = min(self.timeout_seconds, remaining)
        # An explicit auth object also keeps requests from taking credentials out of ~/.netrc.
        auth = _BearerAuth(token if _origin(url) == _origin(base_url) else None)
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
            if time.monotonic() > deadline:
                raise FhirError("FHIR server timed out")
        return bytes(body)


def _query_type(query: str) -> str:
    """Return the resource type a search query starts with, or raise FhirError."""
    resource_type = query.lstrip("/").split("?", 1)[0].split("/", 1)[0]
    if not _RESOURCE_TYPE.fullmatch(resource_type):
        raise FhirError("invalid FHIR search")
    return resource_type


def _split_reference(reference: str) -> tuple[str, str]:
    """Split a relative `Type/id` reference, or raise FhirError."""
    resource_type, _, resource_id = reference.partition("/")
    # FHIR ids may contain dots, but "." and ".." would climb out of the resource path.
    valid_id = _RESOURCE_ID.fullmatch(resource_id) is not None and resource_id.strip(".") != ""
    if not _RESOURCE_TYPE.fullmatch(resource_type) or not valid_id:
        raise FhirError("invalid FHIR reference")
    return resource_type, resource_id


def _searchset(document: dict | None) -> dict:
    """Return the document if it is a searchset Bundle, else raise FhirError."""
    if document is None or document.get("resourceType") != "Bundle" or document.get("type") != "searchset":
        raise FhirError("FHIR server did not answer with a search Bundle")
    return document


def _held_type(resources: list[dict]) -> str:
    """Name the resource type a Bundle holds, for error messages."""
    for resource in resources:
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if isinstance(kind, str) and _RESOURCE_TYPE.fullmatch(kind):
            return kind
    return "Bundle"
