"""Objects and arrays for the synthesizer (`backends/arguments.py`): which properties to fill and
how many items to build, `uniqueItems` by drawing distinct values, `contains` by building the
first items against it, and the size caps (past them, `Unsatisfiable` names the keyword).

Rich values fill every property of a closed object (or every property when none is required) and
give an array one item; lean values keep only what is required and `minItems` items.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from backends.synthesis import MAX_ITEMS, Unsatisfiable, place

Thunk = Callable[[], Any]


class Synthesizer(Protocol):
    """What this module needs of `backends.arguments.Synthesizer` (which imports this module)."""

    def value(self, schema: Any, where: str, depth: int, lean: bool, name: str = "") -> Any: ...

    def variant(self, offset: int, breadth: int = 24) -> Synthesizer: ...

    def valid_values(self, schema: Any, where: str, depth: int, lean: bool) -> Iterator[Any]: ...


def _count(schema: dict[str, Any], key: str, default: int) -> int:
    value = schema.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _capped(schema: dict[str, Any], key: str, where: str, what: str) -> int:
    value = _count(schema, key, 0)
    if value > MAX_ITEMS:
        raise Unsatisfiable(
            f"'{key}' at '{place(where)}' is {value}, more {what} than the server builds (at most {MAX_ITEMS})"
        )
    return value


def _first_holds(first: Thunk, then: list[Thunk]) -> Iterator[Thunk]:
    """`first`, and the alternatives only if it built something: when a required part cannot be
    built, another seed or a leaner build of the same schema fails the same way, and retrying it at
    every level of a deep schema would take exponential time."""
    failed: list[Unsatisfiable] = []

    def run() -> Any:
        try:
            return first()
        except Unsatisfiable as exc:
            failed.append(exc)
            raise

    yield run
    for thunk in then:
        if failed:
            return
        yield thunk


def objects(
    synth: Synthesizer, schema: dict[str, Any], where: str, depth: int, lean: bool
) -> Iterator[Thunk]:
    then: list[Thunk] = []
    if not lean:
        then.append(lambda: _object(synth, schema, where, depth, True))
        then += [
            functools.partial(_object, synth.variant(k), schema, where, depth, False) for k in range(1, 8)
        ]
    yield from _first_holds(lambda: _object(synth, schema, where, depth, lean), then)


def _property_schema(schema: dict[str, Any], key: str) -> Any:
    properties = schema.get("properties")
    if isinstance(properties, dict) and key in properties:
        return properties[key]
    patterns = schema.get("patternProperties")
    for pattern, sub in patterns.items() if isinstance(patterns, dict) else ():
        try:
            if re.search(pattern, key):
                return sub
        except re.error:
            continue
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else {}


def _object(synth: Synthesizer, schema: dict[str, Any], where: str, depth: int, lean: bool) -> dict[str, Any]:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = (
        [k for k in schema.get("required", []) if isinstance(k, str)]
        if isinstance(schema.get("required"), list)
        else []
    )
    minimum = _capped(schema, "minProperties", where, "properties")
    closed = schema.get("additionalProperties") is False
    keys = required if lean else (list(properties) if closed or not required else required)
    keys = list(dict.fromkeys([*keys, *required]))
    out: dict[str, Any] = {}
    dependent = schema.get("dependentRequired")
    dependent = dependent if isinstance(dependent, dict) else {}
    queue = list(keys)
    while queue:
        key = queue.pop(0)
        if key in out:
            continue
        try:
            out[key] = synth.value(
                _property_schema(schema, key), f"{where}/properties/{key}", depth + 1, lean, key
            )
        except Unsatisfiable:
            if key in required:
                raise
            continue
        queue += [k for k in dependent.get(key, []) if isinstance(k, str)]
    maximum = _count(schema, "maxProperties", -1)
    for key in reversed(list(out)):
        if 0 <= maximum < len(out) and key not in required:
            del out[key]
    spare = [k for k in properties if k not in out] + ([] if closed else [f"key{i}" for i in range(minimum)])
    for key in spare:
        if len(out) >= minimum:
            break
        if key not in out:
            out[key] = synth.value(
                _property_schema(schema, key), f"{where}/properties/{key}", depth + 1, lean, key
            )
    return out


def arrays(synth: Synthesizer, schema: dict[str, Any], where: str, depth: int, lean: bool) -> Iterator[Thunk]:
    then: list[Thunk] = [] if lean else [lambda: _array(synth, schema, where, depth, True)]
    yield from _first_holds(lambda: _array(synth, schema, where, depth, lean), then)


def _array(synth: Synthesizer, schema: dict[str, Any], where: str, depth: int, lean: bool) -> list[Any]:
    prefix = schema.get("prefixItems")
    prefix = prefix if isinstance(prefix, list) else []
    items = schema.get("items", {})
    low = _capped(schema, "minItems", where, "items")
    contains = schema.get("contains")
    need = _capped(schema, "minContains", where, "items") if "minContains" in schema else 1
    need = need if contains is not None else 0
    count = max(low, need) if lean else max(_count(schema, "minItems", 1), len(prefix), need)
    high = _count(schema, "maxItems", -1)
    count = min(count, high) if high >= 0 else count
    if items is False:
        count = min(count, len(prefix))
    unique = schema.get("uniqueItems") is True
    streams: dict[str, Iterator[Any]] = {}
    out: list[Any] = []
    for index in range(count):
        sub = prefix[index] if index < len(prefix) else (items if isinstance(items, dict) else {})
        spot = f"{where}/prefixItems/{index}" if index < len(prefix) else f"{where}/items"
        if index < need:
            sub, spot = {"allOf": [sub, contains]}, f"{where}/contains"
        if not unique:
            out.append(synth.value(sub, spot, depth + 1, lean))
            continue
        key = f"{index < len(prefix) and index}:{index < need}"
        stream = streams.setdefault(key, _distinct(synth, sub, spot, depth + 1, lean, out, count))
        found = next(stream, _NONE)
        if found is _NONE:
            raise Unsatisfiable(
                f"'uniqueItems' at '{place(where)}': too few distinct values for {count} items"
            )
        out.append(found)
    return out


_NONE = object()


def _distinct(
    synth: Synthesizer, schema: Any, where: str, depth: int, lean: bool, taken: list[Any], count: int
) -> Iterator[Any]:
    """Values for `schema` unlike any in `taken` (the array built so far), drawn from the schema's
    candidates under successive seeds; given up when three seeds in a row add nothing new."""
    seen = {json.dumps(value, sort_keys=True) for value in taken}
    barren = 0
    for offset in range(max(64, 2 * count)):
        fresh = False
        wide = synth.variant(offset, breadth=max(24, 2 * count))
        for value in wide.valid_values(schema, where, depth, lean):
            text = json.dumps(value, sort_keys=True)
            if text not in seen:
                seen.add(text)
                fresh = True
                yield value
        barren = 0 if fresh else barren + 1
        if barren == 3:
            return
