"""The limits the real API sets on a schema sent with `strict: true`, in its own words.

From the Structured Outputs guide ("Supported schemas"): every object sets `additionalProperties:
false` and lists all its properties in `required`; `allOf`, `not`, `dependentRequired`,
`dependentSchemas`, `if`, `then` and `else` are not supported; a schema has up to 5000 object
properties and 10 levels of nesting, up to 1000 enum values, and at most 120,000 characters in all
property names, definition names, enum values and const values (15,000 in one string enum of more
than 250 values). The API's messages name the place as a tuple of keys ("In context=('properties',
'ids'), 'uniqueItems' is not permitted."); those quoted from real answers are used as they are, the
size limits (whose wording was not found) follow the nesting message's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 10
MAX_PROPERTIES = 5000
MAX_ENUM_VALUES = 1000
MAX_STRING_CHARS = 120_000
LARGE_ENUM = 250
MAX_LARGE_ENUM_CHARS = 15_000
# Documented as unsupported, plus two the API is seen refusing with "is not permitted".
REFUSED = (
    "allOf",
    "not",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
    "uniqueItems",
    "propertyNames",
)
FORMATS = ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
_CHILD_MAPS = ("properties", "$defs", "definitions")
_CHILD_LISTS = ("anyOf", "oneOf", "prefixItems")
_CHILDREN = ("items", "additionalProperties", "contains")


@dataclass(slots=True)
class _Tally:
    properties: int = 0
    enum_values: int = 0
    chars: int = 0
    deepest: int = 0
    problems: list[str] = field(default_factory=list)


def strict_problem(schema: Any) -> str | None:
    """The API's reason to refuse `schema` under `strict: true`, or None."""
    if not isinstance(schema, dict):
        return None
    tally = _Tally()
    _walk(schema, (), 1 if _is_object(schema) else 0, tally)
    if tally.problems:
        return tally.problems[0]
    if tally.deepest > MAX_DEPTH:
        return f"{tally.deepest} levels of nesting exceeds limit of {MAX_DEPTH}."
    if tally.properties > MAX_PROPERTIES:
        return f"{tally.properties} object properties exceeds limit of {MAX_PROPERTIES}."
    if tally.enum_values > MAX_ENUM_VALUES:
        return f"{tally.enum_values} enum values exceeds limit of {MAX_ENUM_VALUES}."
    if tally.chars > MAX_STRING_CHARS:
        return f"{tally.chars} characters of property names, definition names, enum and const values exceeds limit of {MAX_STRING_CHARS}."
    return None


def _is_object(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in node


def _walk(node: Any, context: tuple[str, ...], depth: int, tally: _Tally) -> None:
    if not isinstance(node, dict) or tally.problems:
        return
    where = f"In context={context!r}, "
    tally.deepest = max(tally.deepest, depth)
    refused = next((key for key in REFUSED if key in node), None)
    if refused is not None:
        tally.problems.append(f"{where}'{refused}' is not permitted.")
        return
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt not in FORMATS:
        tally.problems.append(f"{where}'{fmt}' is not a valid format.")
        return
    if _is_object(node) and "$ref" not in node:
        found = node.get("properties")
        properties: dict[str, Any] = found if isinstance(found, dict) else {}
        if node.get("additionalProperties") is not False:
            tally.problems.append(
                f"{where}'additionalProperties' is required to be supplied and to be false."
            )
            return
        listed = node.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        missing = [key for key in properties if key not in required]
        if missing:
            tally.problems.append(
                f"{where}'required' is required to be supplied and to be an array including every key in "
                f"properties. Missing '{missing[0]}'."
            )
            return
        tally.properties += len(properties)
    _count_strings(node, tally)
    for key in _CHILD_MAPS:
        children = node.get(key)
        for name, child in children.items() if isinstance(children, dict) else ():
            tally.chars += len(name)
            _walk(child, (*context, key, name), _level(child, depth if key == "properties" else 0), tally)
    for key in _CHILD_LISTS:
        children = node.get(key)
        for index, child in enumerate(children if isinstance(children, list) else ()):
            _walk(child, (*context, key, str(index)), _level(child, depth), tally)
    for key in _CHILDREN:
        _walk(node.get(key), (*context, key), _level(node.get(key), depth), tally)


def _level(child: Any, depth: int) -> int:
    return depth + 1 if isinstance(child, dict) and _is_object(child) else depth


def _count_strings(node: dict[str, Any], tally: _Tally) -> None:
    enum = node.get("enum")
    if isinstance(enum, list):
        tally.enum_values += len(enum)
        strings = sum(len(v) for v in enum if isinstance(v, str))
        tally.chars += strings
        if len(enum) > LARGE_ENUM and strings > MAX_LARGE_ENUM_CHARS:
            tally.problems.append(
                f"An enum of {len(enum)} values has {strings} characters of string values, exceeding the limit "
                f"of {MAX_LARGE_ENUM_CHARS} for enums of more than {LARGE_ENUM} values."
            )
    if isinstance(node.get("const"), str):
        tally.chars += len(node["const"])
