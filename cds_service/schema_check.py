"""Check JSON against the subset of JSON Schema 2020-12 that the service's own schemas use, first error only."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Schema = Mapping[str, Any]
JsonPath = tuple[str | int, ...]

# Keywords this checker understands; tests/test_openapi.py proves the request schemas use no other.
SUPPORTED = frozenset(
    {
        "$ref",
        "type",
        "const",
        "enum",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minItems",
        "items",
        "properties",
        "required",
        "if",
        "then",
        "anyOf",
        "description",
        "title",
        "examples",
        "additionalProperties",
    }
)
_REF_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class SchemaError:
    """Where the value breaks its schema (`path` into the value) and which keyword it breaks."""

    path: JsonPath
    keyword: str


def is_timestamp(text: str) -> bool:
    """Return whether `text` is an RFC 3339 date-time with a time zone (`T`/`Z` in either case)."""
    try:
        parsed = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", text))
    except ValueError:
        return False
    return ("T" in text.upper() or " " in text) and parsed.tzinfo is not None


FORMATS: Mapping[str, Callable[[str], bool]] = {"date-time": is_timestamp}


def first_error(
    schema: Schema, value: Any, components: Mapping[str, Schema], path: JsonPath = ()
) -> SchemaError | None:
    """Return the first way `value` breaks `schema`, or None; object members are checked in declared order."""
    if "$ref" in schema:
        error = first_error(_resolve(schema["$ref"], components), value, components, path)
        if error is not None:
            return error
    for check in (_type, _value, _string, _array, _object, _conditional, _any_of):
        error = check(schema, value, components, path)
        if error is not None:
            return error
    return None


def _resolve(reference: str, components: Mapping[str, Schema]) -> Schema:
    """Return the component a local `#/components/schemas/Name` reference names."""
    if not reference.startswith(_REF_PREFIX):
        raise ValueError(f"unsupported reference {reference}")
    return components[reference[len(_REF_PREFIX) :]]


def _is_type(value: Any, name: str) -> bool:
    """Return whether a JSON value is of a JSON Schema type (booleans are not numbers)."""
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    kinds: dict[str, type | tuple[type, ...]] = {
        "object": dict,
        "array": list,
        "string": str,
        "boolean": bool,
        "null": type(None),
    }
    return isinstance(value, kinds[name])


def _type(schema: Schema, value: Any, components: Mapping[str, Schema], path: JsonPath) -> SchemaError | None:
    """Check `type`, a name or a list of names."""
    wanted = schema.get("type")
    if wanted is None:
        return None
    names = [wanted] if isinstance(wanted, str) else wanted
    return None if any(_is_type(value, name) for name in names) else SchemaError(path, "type")


def _value(schema: Schema, value: Any, components: Mapping[str, Schema], path: JsonPath) -> SchemaError | None:
    """Check `const` and `enum` (JSON equality: 1 is not true)."""
    if "const" in schema and not _equal(value, schema["const"]):
        return SchemaError(path, "const")
    if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
        return SchemaError(path, "enum")
    return None


def _equal(a: Any, b: Any) -> bool:
    """Compare JSON values, telling booleans from numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _string(schema: Schema, value: Any, components: Mapping[str, Schema], path: JsonPath) -> SchemaError | None:
    """Check `minLength`, `maxLength`, `pattern` (unanchored search) and `format` on strings."""
    if not isinstance(value, str):
        return None
    if len(value) < schema.get("minLength", 0):
        return SchemaError(path, "minLength")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return SchemaError(path, "maxLength")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        return SchemaError(path, "pattern")
    if "format" in schema and not FORMATS[schema["format"]](value):
        return SchemaError(path, "format")
    return None


def _array(schema: Schema, value: Any, components: Mapping[str, Schema], path: JsonPath) -> SchemaError | None:
    """Check `minItems` and `items` on arrays."""
    if not isinstance(value, list):
        return None
    if len(value) < schema.get("minItems", 0):
        return SchemaError(path, "minItems")
    if "items" in schema:
        for index, item in enumerate(value):
            error = first_error(schema["items"], item, components, (*path, index))
            if error is not None:
                return error
    return None


def _object(schema: Schema, value: Any, components: Mapping[str, Schema], path: JsonPath) -> SchemaError | None:
    """Check `properties` and `required` on objects, member by member in the order the schema declares."""
    if not isinstance(value, dict):
        return None
    required = schema.get("required", ())
    properties: Mapping[str, Schema] = schema.get("properties", {})
    for name, member in properties.items():
        if name in value:
            error = first_error(member, value[name], components, (*path, name))
            if error is not None:
                return error
        elif name in required:
            return SchemaError((*path, name), "required")
    for name in required:
        if name not in value:
            return SchemaError((*path, name), "required")
    extra = schema.get("additionalProperties", True)
    for name, member in value.items():
        if name not in properties and extra is not True:
            error = (
                SchemaError((*path, name), "additionalProperties")
                if extra is False
                else first_error(extra, member, components, (*path, name))
            )
            if error is not None:
                return error
    return None


def _conditional(schema: Schema, value: Any, components: Mapping[str, Schema], path: JsonPath) -> SchemaError | None:
    """Check `if`/`then`; a failing `then` is reported at the value, as the keyword `then`."""
    if "if" not in schema or first_error(schema["if"], value, components, path) is not None:
        return None
    if "then" in schema and first_error(schema["then"], value, components, path) is not None:
        return SchemaError(path, "then")
    return None


def _any_of(schema: Schema, value: Any, components: Mapping[str, Schema], path: JsonPath) -> SchemaError | None:
    """Check `anyOf`: the error of the one branch whose type fits the value, else `type` or `anyOf` at the value."""
    if "anyOf" not in schema:
        return None
    errors = [first_error(branch, value, components, path) for branch in schema["anyOf"]]
    if any(error is None for error in errors):
        return None
    # A branch rejecting the value's type says nothing; the one branch meant for this type says the most.
    fitting = [e for e in errors if e is not None and (e.path, e.keyword) != (path, "type")]
    if not fitting:
        return SchemaError(path, "type")
    return fitting[0] if len(fitting) == 1 else SchemaError(path, "anyOf")
