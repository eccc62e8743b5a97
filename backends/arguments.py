"""Deterministic JSON values that satisfy a JSON Schema, for synthesized tool-call arguments.

Covers what function schemas use in practice: type (single or list), required, properties,
additionalProperties, enum, const, nested objects and arrays (items, prefixItems, min/maxItems),
string length, numeric bounds (inclusive and exclusive, multipleOf), $ref into $defs/definitions,
anyOf/oneOf (first satisfiable branch), allOf (merged), and the `format` of common strings.
The `seed` picks among valid values so different seeds give different but valid arguments.
"""

from __future__ import annotations

import math
from typing import Any

from backends.patterns import example
from server.generation.schemas import resolve_ref

_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "hostname": "example.com",
}
_MAX_DEPTH = 24
# Sizes a schema may ask for are capped, so a request cannot make the server build huge values.
MAX_ITEMS = 1000
MAX_LENGTH = 10_000


class Synthesizer:
    """Builds one value for a schema; `$ref`s resolve against the root document."""

    def __init__(self, root: dict[str, Any], seed: int = 0) -> None:
        self.root = root
        self.seed = seed

    def value(self, schema: Any, name: str = "", depth: int = 0) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return None
        if "$ref" in schema:
            return self.value(resolve_ref(self.root, schema["$ref"]), name, depth + 1)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            options = schema["enum"]
            return options[self.seed % len(options)]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                branches = [b for b in schema[key] if not _is_null(b)] or schema[key]
                return self.value(branches[0], name, depth + 1)
        if schema.get("allOf"):
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = (
                    resolve_ref(self.root, part["$ref"])
                    if isinstance(part, dict) and "$ref" in part
                    else part
                )
                merged = _merge(merged, part if isinstance(part, dict) else {})
            return self.value(merged, name, depth + 1)
        kind = _pick_type(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind == "integer":
            return self.integer(schema)
        if kind == "number":
            return self.number(schema)
        if kind == "boolean":
            return self.seed % 2 == 0
        if kind == "null":
            return None
        return self.string(schema, name)

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties") or {}
        required = [key for key in schema.get("required", []) if isinstance(key, str)]
        strict_all = schema.get("additionalProperties") is False
        keys = list(properties) if strict_all or not required else required
        out: dict[str, Any] = {}
        for key in keys:
            out[key] = self.value(properties.get(key, {}), key, depth + 1)
        for key in required:
            if key not in out:
                extra = schema.get("additionalProperties")
                out[key] = self.value(
                    extra if isinstance(extra, dict) else {"type": "string"}, key, depth + 1
                )
        minimum = min(int(schema.get("minProperties", 0)), MAX_ITEMS)
        extra_schema = schema.get("additionalProperties")
        filler = 0
        while len(out) < minimum and extra_schema is not False:
            out[f"key{filler}"] = self.value(
                extra_schema if isinstance(extra_schema, dict) else {}, "", depth + 1
            )
            filler += 1
        return out

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", {})
        count = min(max(int(schema.get("minItems", 1)), len(prefix)), MAX_ITEMS)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        out = [self.value(part, name, depth + 1) for part in prefix[:count]]
        while len(out) < count:
            if items is False:
                break
            item = self.value(items if isinstance(items, dict) else {}, name, depth + 1)
            if schema.get("uniqueItems") and item in out:
                item = self._distinct(items, out, depth)
            out.append(item)
        return out

    def _distinct(self, items: Any, taken: list[Any], depth: int) -> Any:
        for offset in range(1, 64):
            candidate = Synthesizer(self.root, self.seed + offset).value(items, "", depth + 1)
            if candidate not in taken:
                return candidate
        return taken[-1]

    def integer(self, schema: dict[str, Any]) -> int:
        low, high = _bounds(schema, integer=True)
        value = (
            low if low is not None else (min(high, self.seed % 10) if high is not None else self.seed % 10)
        )
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and step > 0:
            value = _multiple(step, low, high, value)
        return int(value)

    def number(self, schema: dict[str, Any]) -> float | int:
        low, high = _bounds(schema, integer=False)
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and step > 0:
            value = _multiple(step, low, high, low if low is not None else 0)
            return int(value) if float(value).is_integer() else value
        if low is not None and high is not None:
            return (low + high) / 2
        if low is not None:
            return low
        if high is not None:
            return min(high, 0.5)
        return 0.5

    def string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return _FORMATS[fmt]
        text = name or "value"
        if self.seed:
            text = f"{text}{self.seed % 1000}"
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            text = example(pattern, text) or text
        minimum = min(int(schema.get("minLength", 0)), MAX_LENGTH)
        maximum = schema.get("maxLength")
        if len(text) < minimum:
            text = text + "x" * (minimum - len(text))
        if isinstance(maximum, int):
            text = text[:maximum]
        return text


def _multiple(step: float, low: float | None, high: float | None, start: float) -> float:
    """A multiple of `step` within [low, high], nearest `start`; `start` when there is none."""
    try:
        value = math.ceil(start / step) * step
        if high is not None and value > high:
            value = math.floor(high / step) * step
        if low is not None and value < low:
            return start
        return value
    except (OverflowError, ValueError):
        return start


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _pick_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        usable = [k for k in kind if k != "null"]
        return str(usable[0]) if usable else "null"
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def _bounds(schema: dict[str, Any], *, integer: bool) -> tuple[float | None, float | None]:
    low = schema.get("minimum")
    high = schema.get("maximum")
    if "exclusiveMinimum" in schema and isinstance(schema["exclusiveMinimum"], int | float):
        bump = 1 if integer else 1e-6
        low = schema["exclusiveMinimum"] + bump
    if "exclusiveMaximum" in schema and isinstance(schema["exclusiveMaximum"], int | float):
        bump = 1 if integer else 1e-6
        high = schema["exclusiveMaximum"] - bump
    if integer:
        low = math.ceil(low) if low is not None else None
        high = math.floor(high) if high is not None else None
    return low, high


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if key == "properties" and isinstance(value, dict):
            out["properties"] = {**out.get("properties", {}), **value}
        elif key == "required" and isinstance(value, list):
            out["required"] = list(dict.fromkeys([*out.get("required", []), *value]))
        else:
            out.setdefault(key, value)
    return out


def synthesize(schema: dict[str, Any] | None, seed: int = 0) -> Any:
    """A value valid under `schema` (an empty object for a tool without parameters).

    Best effort for what it cannot satisfy (`not`, `contains`, unusual patterns): the contract
    guard then reports the mismatch rather than the server failing.
    """
    if not schema:
        return {}
    try:
        return Synthesizer(schema, seed).value(schema)
    except (RecursionError, OverflowError, ValueError, TypeError):
        return {}
