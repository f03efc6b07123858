"""Turn a hook request's prefetch into FHIR data, fetching what the client did not send through the FhirReader."""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from cds_service.fhir_reader import Deadline, FhirError, FhirReader, Found, next_url, split_entries

_TOKEN = re.compile(r"\{\{(.*?)\}\}")
_CONTEXT_FIELD = re.compile(r"\s*context\.([A-Za-z_][A-Za-z0-9_]*)\s*")
_REFERENCE = re.compile(r"([A-Z][A-Za-z]{0,63})/[A-Za-z0-9\-.]{1,64}")
_READY, _CONTINUE, _FETCH = "ready", "continue", "fetch"


class DataUnavailable(Exception):
    """Report that required FHIR data cannot be obtained (the service answers 412); no PHI in the reason."""


@dataclass(frozen=True)
class Gathered:
    """A call's FHIR data: per key a resource or None (reads) or the matching resources (searches)."""

    data: dict[str, Any]
    included: list[dict]  # Bundle entries the searches brought along by `_include` (referenced Medications)
    unavailable: frozenset[str]  # optional keys that could not be obtained


@dataclass(frozen=True, eq=False)
class _Fetch:
    """A FHIR call still to make, with the PHI-free label its failure is reported under."""

    key: str
    label: str
    call: Callable[[], object]


def render_template(template: str, context: Mapping[str, object]) -> str:
    """Replace each `{{context.name}}` token with the URL-quoted primitive value of that context field."""

    def substitute(match: re.Match[str]) -> str:
        """Return the quoted value for one token."""
        name = _CONTEXT_FIELD.fullmatch(match.group(1))
        if name is None or name.group(1) not in context:
            raise ValueError(f"unknown prefetch token {match.group(0)}")
        value = context[name.group(1)]
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            raise ValueError(f"prefetch token {match.group(0)} is not a primitive context field")
        return quote(text, safe="")

    return _TOKEN.sub(substitute, template)


def is_read(template: str) -> bool:
    """Tell whether a template is a `Type/id` read rather than a search."""
    return "?" not in template and template.strip("/").count("/") == 1


def gather(
    templates: Mapping[str, str],
    prefetch: Mapping[str, object] | None,
    context: Mapping[str, object],
    reader: FhirReader,
    deadline: Deadline,
    executor: concurrent.futures.Executor,
    core: Collection[str],
) -> Gathered:
    """Return every key's data from prefetch, fetching what is absent, failed or paginated in one concurrent round.

    A `core` key that cannot be obtained raises DataUnavailable; the rest are reported as unavailable so
    that the rules can drop the findings that would rest on them.
    """
    given = prefetch or {}
    results: dict[str, object] = {}
    included: list[dict] = []
    fetches: list[_Fetch] = []
    failures: dict[str, str] = {}
    for key, template in templates.items():
        state, value = _classify(template, given[key]) if key in given else (_FETCH, None)
        if state == _READY:
            if isinstance(value, Found):
                results[key] = value.matches
                included.extend(value.included)
            else:
                results[key] = value
            continue
        try:
            paginated = cast("dict", value) if state == _CONTINUE else None
            fetches.append(_plan(key, template, paginated, context, reader))
        except DataUnavailable as exc:
            failures[key] = str(exc)
    fetched, failed = _run(fetches, deadline, executor)
    for key, value in fetched.items():
        if isinstance(value, Found):
            results[key] = value.matches
            included.extend(value.included)
        elif value is None and key in core and is_read(templates[key]):  # a 404 on the patient: no such patient
            failed[key] = f"prefetch {key!r} unavailable: FHIR server has no such resource"
        else:
            results[key] = value
    failures.update(failed)
    for key in failures:
        results.pop(key, None)
    for key in templates:
        if key in failures and key in core:
            raise DataUnavailable(failures[key])
    return Gathered(results, included, frozenset(failures))


def read_references(
    references: Iterable[str], reader: FhirReader, deadline: Deadline, executor: concurrent.futures.Executor
) -> dict[str, dict]:
    """Read `Type/id` references concurrently; any that is missing or fails raises DataUnavailable."""
    fetches = []
    for reference in dict.fromkeys(references):
        match = _REFERENCE.fullmatch(reference)
        if match is None:
            raise DataUnavailable("reference unavailable: not a relative Type/id reference")
        # Name only the type: the id may identify the patient.
        fetches.append(_Fetch(reference, f"{match.group(1)} reference", _reader(reference, reader)))
    results, failures = _run(fetches, deadline, executor)
    if failures:
        raise DataUnavailable(next(iter(failures.values())))
    return cast("dict[str, dict]", results)


def _classify(template: str, value: object) -> tuple[str, object]:
    """Decide whether a prefetched value is ready to use, needs its next pages, or must be fetched anew."""
    read = is_read(template)
    if value is None:
        return _READY, None if read else []
    if not isinstance(value, dict):
        return _FETCH, None
    if read:
        return (_READY, value) if value.get("resourceType") == _read_type(template) else (_FETCH, None)
    if value.get("resourceType") != "Bundle":
        return _FETCH, None
    try:
        found = split_entries(value)
        paginated = next_url(value) is not None
    except FhirError:
        return _FETCH, None
    return (_CONTINUE, value) if paginated else (_READY, found)


def _plan(key: str, template: str, paginated: dict | None, context: Mapping[str, object], reader: FhirReader) -> _Fetch:
    """Return the FHIR call that obtains one key: continue a paginated Bundle, or read or search anew."""
    label = f"prefetch {key!r}"
    if paginated is not None:
        return _Fetch(key, label, lambda: reader.continue_search(paginated))
    try:
        query = render_template(template, context)
    except ValueError:
        raise DataUnavailable(f"{label} unavailable: the request lacks a context field") from None
    if is_read(template):
        return _Fetch(key, label, lambda: reader.read(query))
    return _Fetch(key, label, lambda: reader.search(query))


def _reader(reference: str, reader: FhirReader) -> Callable[[], object]:
    """Return a call that reads one reference and treats a missing resource as a failure."""

    def read() -> object:
        """Read the reference, raising FhirError when the server has no such resource."""
        resource = reader.read(reference)
        if resource is None:
            raise FhirError("FHIR server has no such resource")
        return resource

    return read


def _run(
    fetches: list[_Fetch], deadline: Deadline, executor: concurrent.futures.Executor
) -> tuple[dict[str, object], dict[str, str]]:
    """Run the calls concurrently until the deadline; return the results and, per failed key, the reason."""
    if not fetches:
        return {}, {}
    futures = {fetch: executor.submit(fetch.call) for fetch in fetches}
    _, pending = concurrent.futures.wait(futures.values(), timeout=max(0.0, deadline.remaining()))
    for future in pending:
        future.cancel()
    results: dict[str, object] = {}
    failures: dict[str, str] = {}
    for fetch, future in futures.items():
        if future in pending:
            failures[fetch.key] = f"{fetch.label} unavailable: FHIR deadline passed"
            continue
        try:
            results[fetch.key] = future.result()
        except FhirError as exc:
            failures[fetch.key] = f"{fetch.label} unavailable: {exc.reason}"
    return results, failures


def _read_type(template: str) -> str:
    """Return the resource type a read template names."""
    return template.strip("/").split("/", 1)[0]
