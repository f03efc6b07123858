"""Check and convert the FHIR R4 JSON datatypes the rules read, as fhir.resources would, in one pass.

Each function takes a raw JSON value (None when absent) and the element's path, and returns the value converted
(None when absent) or raises UnreadableResource naming the path, never the value. The checks are fhir.resources' own for
these elements (tests/test_extract_differential.py holds the reader against them), with the same known repairs of sloppy
clients: an object where R4 wants a list is read as a one-item list, a date-time without a zone is read as UTC
(only its calendar date is used), and elements R4 does not define are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from hooks.records import Code


class UnreadableResource(ValueError):
    """A resource that is not valid FHIR where the rules read it; the message names no patient data."""


# fhir.resources' patterns (fhir_core.types) for the primitive types read here.
_STRING = re.compile(r"[ \r\n\t\S]+")
_CODE = re.compile(r"^[^\s]+(\s[^\s]+)*$")
_ID = re.compile(r"^[A-Za-z0-9\-.]+$")
_DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_ZONE = r"(Z|([+\-])((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_DATE = re.compile(_YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?")
_DATE_TIME = re.compile(_YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T" + _TIME + _ZONE + r")?)?)?")
_INSTANT = re.compile(_YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T" + _TIME + _ZONE)
# Lax booleans, as pydantic reads them.
_BOOLEANS = {
    **dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True),
    **dict.fromkeys(("0", "off", "f", "false", "n", "no"), False),
}

_CHOICE_KEYS: dict[tuple[str, tuple[str, ...]], tuple[tuple[str, str], ...]] = {}
FhirDateTime = date | datetime | str  # a date, an aware date-time, or a partial date or leap second kept as text


class FhirQuantity(NamedTuple):
    """A Quantity (or Duration, Age, SimpleQuantity) with its elements as sent."""

    value: Decimal | None
    comparator: str | None
    unit: str | None
    system: str | None
    code: str | None


class Concept(NamedTuple):
    """A CodeableConcept's codings (those with a code) and its human names (text, then displays)."""

    codes: tuple[Code, ...]
    names: tuple[str, ...]
    first_code: str | None


NO_CONCEPT = Concept((), (), None)


def invalid(path: str, problem: str) -> UnreadableResource:
    """Return the error for one element: its path and what is wrong, without its value."""
    return UnreadableResource(f"{path}: {problem}")


def obj(value: Any, path: str) -> Mapping | None:
    """Return a JSON object (a FHIR complex element), checking its id and extensions."""
    if value is None:
        return None
    if not isinstance(value, dict):  # JSON objects: json.loads gives dicts
        raise invalid(path, "not an object")
    if "id" in value or "extension" in value:
        string(value.get("id"), path + ".id")
        for i, extension in enumerate(items(value.get("extension"), path + ".extension")):
            extension = obj(extension, f"{path}.extension[{i}]")
            if extension is None or extension.get("url") is None:
                raise invalid(f"{path}.extension[{i}].url", "missing")
            uri(extension["url"], f"{path}.extension[{i}].url")
    return value


def items(value: Any, path: str) -> Sequence:
    """Return the items of a 0..* element; a lone object counts as a one-item list."""
    if value is None:
        return ()
    if isinstance(value, dict):
        return (value,)
    if not isinstance(value, list):
        raise invalid(path, "not a list")
    if any(item is None for item in value):
        raise invalid(path, "null item")
    return value


def string(value: Any, path: str) -> str | None:
    """Return a FHIR string: at least one character."""
    if value is None or (type(value) is str and value and not value[0].isspace()):
        return value
    if not isinstance(value, str) or not _STRING.search(value):
        raise invalid(path, "not a string")
    return value


def code(value: Any, path: str) -> str | None:
    """Return a FHIR code: no leading, trailing or repeated whitespace."""
    if value is None:
        return None
    if not isinstance(value, str) or not _CODE.match(value):
        raise invalid(path, "not a code")
    return value


def fhir_id(value: Any, path: str) -> str | None:
    """Return a FHIR id: letters, digits, '-' and '.'."""
    if value is None:
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise invalid(path, "not an id")
    return value


def uri(value: Any, path: str) -> str | None:
    """Return a FHIR uri (any text, as fhir.resources reads it)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(path, "not a uri")
    return value


def boolean(value: Any, path: str) -> bool | None:
    """Return a boolean, read as leniently as pydantic does (1, "yes", "false" ...)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    raise invalid(path, "not a boolean")


def integer(value: Any, path: str, minimum: int | None = None) -> int | None:
    """Return an integer (a whole float or digits in a string count), at least `minimum`."""
    if value is None:
        return None
    if isinstance(value, bool):
        number: Any = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    else:
        raise invalid(path, "not an integer")
    if minimum is not None and number < minimum:
        raise invalid(path, f"below {minimum}")
    return int(number)


def decimal(value: Any, path: str) -> Decimal | None:
    """Return a FHIR decimal from a JSON number (or a numeral in a string), keeping its written precision."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str) or not _DECIMAL.fullmatch(str(value)):
        raise invalid(path, "not a decimal")
    return Decimal(str(value))


def date_time(value: Any, path: str) -> FhirDateTime | None:
    """Return a FHIR dateTime: a date, an aware date-time (UTC when the zone is missing), or a partial date."""
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        if isinstance(value, str) and _DATE_TIME.fullmatch(value + "Z"):
            return _parsed(value + "Z", path)  # a date-time without zone (the Sandbox): its calendar date is kept
        raise invalid(path, "not a dateTime")
    return _parsed(value, path)


def instant(value: Any, path: str) -> datetime | str | None:
    """Return a FHIR instant: an aware date-time to the second (UTC when the zone is missing)."""
    if value is None:
        return None
    if isinstance(value, str) and not _INSTANT.fullmatch(value) and _INSTANT.fullmatch(value + "Z"):
        value += "Z"  # without zone, as for dateTime
    if not isinstance(value, str) or not _INSTANT.fullmatch(value):
        raise invalid(path, "not an instant")
    return _parsed(value, path)  # type: ignore[return-value]  # the pattern requires a time


def fhir_date(value: Any, path: str) -> date | str | None:
    """Return a FHIR date: a full date, or a year or year-month kept as text."""
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise invalid(path, "not a date")
    return _parsed(value, path)  # the pattern allows no time: never a datetime


def _parsed(text: str, path: str) -> FhirDateTime:
    """Return the date or aware date-time of text that matches a FHIR pattern; partial dates stay text."""
    if len(text) < 10:
        return text  # a year, or a year and month
    if text[17:19] == "60":
        return text  # a leap second, which datetime cannot hold
    try:
        # The pattern has checked the form (and that a time has its zone); this checks the calendar.
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise invalid(path, "not a calendar date") from None


def coding(value: Any, path: str) -> Mapping | None:
    """Return a checked Coding object."""
    coded = obj(value, path)
    if coded is not None:
        uri(coded.get("system"), path + ".system")
        code(coded.get("code"), path + ".code")
        string(coded.get("display"), path + ".display")
        if "version" in coded or "userSelected" in coded:
            string(coded.get("version"), path + ".version")
            boolean(coded.get("userSelected"), path + ".userSelected")
    return coded


def checked_concept(value: Any, path: str) -> None:
    """Check a CodeableConcept whose codes are read elsewhere or not at all."""
    concept_ = obj(value, path)
    if concept_ is not None:
        for c in items(concept_.get("coding"), path + ".coding"):
            coding(c, path + ".coding")
        string(concept_.get("text"), path + ".text")


def concept_codes(value: Any, path: str) -> tuple[str, ...]:
    """Return the codes of each CodeableConcept of a 0..* element (interpretation, appliesTo), checking them."""
    found: list[str] = []
    for concept_ in items(value, path):
        concept_ = obj(concept_, path)
        if concept_ is not None:
            for c in items(concept_.get("coding"), path + ".coding"):
                c = coding(c, path + ".coding")
                if c is not None and c.get("code") is not None:
                    found.append(c["code"])
            string(concept_.get("text"), path + ".text")
    return tuple(found)


def concept(value: Any, path: str) -> Concept:
    """Return a CodeableConcept's codes and names."""
    concept_ = obj(value, path)
    if concept_ is None:
        return NO_CONCEPT
    codings = [coding(c, f"{path}.coding") for c in items(concept_.get("coding"), path + ".coding")]
    text = string(concept_.get("text"), path + ".text")
    codes = tuple(
        Code(c.get("system") or "", c["code"], c.get("display")) for c in codings if c and c.get("code") is not None
    )
    names = tuple(n for n in (text, *(c.get("display") for c in codings if c)) if n)
    return Concept(codes, names, next((c.code for c in codes if c.code), None))


def quantity(value: Any, path: str) -> FhirQuantity | None:
    """Return a Quantity's elements."""
    quantity_ = obj(value, path)
    if quantity_ is None:
        return None
    number = quantity_.get("value")
    return FhirQuantity(
        Decimal(str(number)) if type(number) is int else decimal(number, path + ".value"),
        code(quantity_.get("comparator"), path + ".comparator"),
        string(quantity_.get("unit"), path + ".unit"),
        uri(quantity_.get("system"), path + ".system"),
        code(quantity_.get("code"), path + ".code"),
    )


def period(value: Any, path: str) -> tuple[FhirDateTime | None, FhirDateTime | None]:
    """Return a Period's start and end."""
    period_ = obj(value, path)
    if period_ is None:
        return None, None
    return date_time(period_.get("start"), path + ".start"), date_time(period_.get("end"), path + ".end")


def range_(value: Any, path: str) -> tuple[FhirQuantity | None, FhirQuantity | None]:
    """Return a Range's low and high."""
    range_value = obj(value, path)
    if range_value is None:
        return None, None
    return quantity(range_value.get("low"), path + ".low"), quantity(range_value.get("high"), path + ".high")


def reference(value: Any, path: str) -> Mapping | None:
    """Return a checked Reference object."""
    reference_ = obj(value, path)
    if reference_ is not None:
        string(reference_.get("reference"), path + ".reference")
        uri(reference_.get("type"), path + ".type")
        string(reference_.get("display"), path + ".display")
        identifier = obj(reference_.get("identifier"), path + ".identifier")
        if identifier is not None:
            code(identifier.get("use"), path + ".identifier.use")
            checked_concept(identifier.get("type"), path + ".identifier.type")
            uri(identifier.get("system"), path + ".identifier.system")
            string(identifier.get("value"), path + ".identifier.value")
            period(identifier.get("period"), path + ".identifier.period")
    return reference_


def ratio(value: Any, path: str) -> None:
    """Check a Ratio."""
    ratio_ = obj(value, path)
    if ratio_ is not None:
        quantity(ratio_.get("numerator"), path + ".numerator")
        quantity(ratio_.get("denominator"), path + ".denominator")


def choice(resource: Mapping, stem: str, kinds: tuple[str, ...], *, required: bool = False) -> str | None:
    """Return which of the element's types `stem[x]` is present; two at once is not FHIR."""
    keys = _CHOICE_KEYS.get((stem, kinds))
    if keys is None:  # the element names of each choice are spelled once, not on every read
        keys = _CHOICE_KEYS.setdefault((stem, kinds), tuple((kind, stem + kind) for kind in kinds))
    present = [kind for kind, key in keys if resource.get(key) is not None]
    if len(present) > 1:
        raise invalid(stem + "[x]", "more than one type")
    if required and not present:
        raise invalid(stem + "[x]", "missing")
    return present[0] if present else None


def present(resource: Mapping, name: str) -> None:
    """Check that a complex element R4 requires is there (fhir.resources lets it be null)."""
    if name not in resource:
        raise invalid(name, "missing")


def required(value: Any, path: str) -> Any:
    """Return a primitive value R4 requires, or raise."""
    if value is None:
        raise invalid(path, "missing")
    return value
