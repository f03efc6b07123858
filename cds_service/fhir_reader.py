"""The one seam through which a hook call reads FHIR: the FhirReader interface, Bundle pages, and an in-memory reader.

The HTTP reader (cds_service/fhir_client.py) and MemoryFhirReader below share the Bundle handling here: entries split
into matches and `_include`d resources, `next` links followed on the server's origin only, up to a page limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{0,63}")
_RESOURCE_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_FAILING_SEVERITIES = frozenset({"error", "fatal"})


class FhirError(Exception):
    """Report that FHIR data could not be obtained; the reason is a short phrase free of PHI."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Found:
    """What a search found: the matching resources, and the entries the server added by `_include`."""

    matches: list[Any] = field(default_factory=list)
    included: list[dict] = field(default_factory=list)  # Bundle entries (fullUrl and resource), not matches

    def extend(self, more: Found) -> None:
        """Add the matches and included entries of another page."""
        self.matches.extend(more.matches)
        self.included.extend(more.included)


@dataclass(frozen=True)
class Deadline:
    """The request's one timer: a monotonic clock and the instant the FHIR work must be done by."""

    clock: Callable[[], float]
    at: float

    def remaining(self) -> float:
        """Return the seconds left, negative once passed."""
        return self.at - self.clock()


class FhirReader(Protocol):
    """Read and search one FHIR server for one hook call; every failure is a FhirError with a PHI-free reason."""

    @property
    def base(self) -> str | None:
        """Return the server's base URL; None when there is no server to ask."""
        ...

    def read(self, reference: str) -> dict | None:
        """Read one resource by its `Type/id` reference; return None when the server has none."""
        ...

    def search(self, query: str) -> Found:
        """Run a search (`Type?params`) and return what every result page holds."""
        ...

    def continue_search(self, bundle: dict) -> Found:
        """Return what a Bundle in hand holds together with its next pages."""
        ...


@dataclass(frozen=True)
class Unreachable:
    """The reader of a call that has no FHIR server to ask (none named, or not allowed): every read fails."""

    reason: str
    base: str | None = None

    def read(self, reference: str) -> dict | None:
        """Fail: there is no server."""
        raise FhirError(self.reason)

    def search(self, query: str) -> Found:
        """Fail: there is no server."""
        raise FhirError(self.reason)

    def continue_search(self, bundle: dict) -> Found:
        """Fail: there is no server."""
        raise FhirError(self.reason)


class MemoryFhirReader:
    """A FHIR server in memory for tests: documents by relative URL (`Patient/p1`, a search, a page link).

    It answers the way the HTTP reader does (same Bundle handling, page limit and origin check) and records every
    URL asked, so a test can count round trips. A missing search is an empty searchset; a missing read, None.
    """

    def __init__(
        self, documents: Mapping[str, Any], base: str = "https://fhir.example.org/r4", max_pages: int = 10
    ) -> None:
        self.documents = dict(documents)
        self.base = base
        self.max_pages = max_pages
        self.requests: list[str] = []

    def read(self, reference: str) -> dict | None:
        """Return the stored resource, or None."""
        resource_type, _ = split_reference(reference)
        document = self._get(reference)
        if document is not None and document.get("resourceType") != resource_type:
            raise FhirError(f"FHIR server sent the wrong resource type for {resource_type}")
        return document

    def search(self, query: str) -> Found:
        """Return the stored searchset and its next pages."""
        url = f"{self.base}/{query.lstrip('/')}"
        first = self._get(query) or {"resourceType": "Bundle", "type": "searchset"}
        return follow_pages(searchset(first), url, self.base, self._page, self.max_pages)

    def continue_search(self, bundle: dict) -> Found:
        """Return the Bundle's entries and those of its stored next pages."""
        if bundle.get("resourceType") != "Bundle":
            raise FhirError("not a FHIR Bundle")
        return follow_pages(bundle, f"{self.base}/", self.base, self._page, self.max_pages)

    def _page(self, url: str) -> dict:
        """Return the stored page at an absolute URL on the base."""
        return searchset(self._get(url.removeprefix(self.base).lstrip("/")))

    def _get(self, relative: str) -> dict | None:
        """Record the request and return the stored document."""
        self.requests.append(relative)
        document = self.documents.get(relative)
        if isinstance(document, FhirError):
            raise document
        return document


def split_entries(bundle: dict) -> Found:
    """Return a Bundle's matches and included entries, skipping OperationOutcomes that report no error."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError("malformed FHIR Bundle")
    found = Found()
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else entry
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            # One bad entry must not sink the request; the readers report it as unreadable evidence.
            if resource is not None:
                found.matches.append(resource)
            continue
        if resource["resourceType"] == "OperationOutcome":
            if _reports_failure(resource):
                raise FhirError("FHIR server reported an error in the Bundle")
            continue
        search = entry.get("search") if isinstance(entry, dict) else None
        if isinstance(search, dict) and search.get("mode") == "include":
            found.included.append(entry)  # pulled in by _include: not a result of the search (FHIR R4 §3.1.1.5.1)
        else:
            found.matches.append(resource)
    return found


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


def follow_pages(page: dict, page_url: str, base_url: str, get_page: Callable[[str], dict], max_pages: int) -> Found:
    """Collect a search's entries from this page and the next ones, on the base URL's origin only."""
    home = origin(base_url)
    found = split_entries(page)
    pages = 1
    while (link := next_url(page)) is not None:
        if pages >= max_pages:
            raise FhirError("too many result pages")
        page_url = urljoin(page_url, link)
        if origin(page_url) != home:
            raise FhirError("FHIR next link leaves the FHIR server")
        page = get_page(page_url)
        found.extend(split_entries(page))
        pages += 1
    return found


def searchset(document: dict | None) -> dict:
    """Return the document if it is a searchset Bundle, else raise FhirError."""
    if document is None or document.get("resourceType") != "Bundle" or document.get("type") != "searchset":
        raise FhirError("FHIR server did not answer with a search Bundle")
    return document


def origin(url: str) -> tuple[str, str, int]:
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


def query_type(query: str) -> str:
    """Return the resource type a search query starts with, or raise FhirError."""
    resource_type = query.lstrip("/").split("?", 1)[0].split("/", 1)[0]
    if not _RESOURCE_TYPE.fullmatch(resource_type):
        raise FhirError("invalid FHIR search")
    return resource_type


def split_reference(reference: str) -> tuple[str, str]:
    """Split a relative `Type/id` reference, or raise FhirError."""
    resource_type, _, resource_id = reference.partition("/")
    # FHIR ids may contain dots, but "." and ".." would climb out of the resource path.
    valid_id = _RESOURCE_ID.fullmatch(resource_id) is not None and resource_id.strip(".") != ""
    if not _RESOURCE_TYPE.fullmatch(resource_type) or not valid_id:
        raise FhirError("invalid FHIR reference")
    return resource_type, resource_id


def held_type(resources: list[Any]) -> str:
    """Name the resource type a Bundle holds, for error messages."""
    for resource in resources:
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if isinstance(kind, str) and _RESOURCE_TYPE.fullmatch(kind):
            return kind
    return "Bundle"
