"""Candidate numbers and strings for one schema node: values within the numeric bounds and
`multipleOf` (`backends/numbers.py`), strings of the right length matching `pattern`
(`backends/patterns.py`), and realistic values of common `format`s, several of each so distinct
values can be drawn. When none exists, `Unsatisfiable` names the keywords that exclude them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from fractions import Fraction
from itertools import islice
from typing import Any

from backends import numbers as numeric
from backends import patterns
from backends.synthesis import MAX_LENGTH, Unsatisfiable, place

_FORMATS: dict[str, Callable[[int], str]] = {
    "date-time": lambda k: f"2024-01-{1 + k % 28:02d}T{k // 28 % 24:02d}:00:00Z",
    "date": lambda k: f"{2024 + k // 336}-{1 + k // 28 % 12:02d}-{1 + k % 28:02d}",
    "time": lambda k: f"{k // 60 % 24:02d}:{k % 60:02d}:00Z",
    "duration": lambda k: f"P{1 + k}D",
    "email": lambda k: f"user{k or ''}@example.com",
    "uri": lambda k: f"https://example.com/{k or ''}",
    "url": lambda k: f"https://example.com/{k or ''}",
    "uuid": lambda k: f"00000000-0000-4000-8000-{k:012x}",
    "ipv4": lambda k: f"127.0.{k // 256 % 256}.{1 + k % 255}",
    "ipv6": lambda k: f"::{1 + k:x}",
    "hostname": lambda k: f"host{k}.example.com" if k else "example.com",
}
_NUMERIC = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf")
_STRING = ("minLength", "maxLength", "pattern")


def numbers(
    schema: dict[str, Any], kind: str, where: str, start: Fraction, breadth: int
) -> list[int | float]:
    found = list(islice(numeric.numbers(schema, kind == "integer", start), breadth))
    if not found:
        raise _none_of(kind, schema, where, _NUMERIC)
    return found


def strings(schema: dict[str, Any], where: str, text: str, seed: int, breadth: int) -> Iterator[str]:
    low = schema.get("minLength", 0)
    low = low if isinstance(low, int) else 0
    if low > MAX_LENGTH:
        raise Unsatisfiable(
            f"'minLength' at '{place(where)}' is {low}, longer than the strings the server builds "
            f"(at most {MAX_LENGTH})"
        )
    high = schema.get("maxLength")
    high = high if isinstance(high, int) else None
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        for k in range(breadth):
            yield _FORMATS[fmt]((seed + k) % 1_000_000)
    pattern = schema.get("pattern")
    found = list(
        islice(patterns.strings(pattern if isinstance(pattern, str) else None, low, high, text), breadth)
    )
    if not found:
        raise _none_of("string", schema, where, _STRING)
    yield from found


def _none_of(kind: str, schema: dict[str, Any], where: str, keywords: tuple[str, ...]) -> Unsatisfiable:
    named = " and ".join(f"'{k}' {json.dumps(schema[k])}" for k in keywords if k in schema)
    return Unsatisfiable(f"no {kind} at '{place(where)}' satisfies {named or 'the schema'}")
