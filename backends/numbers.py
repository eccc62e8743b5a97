"""Numbers inside a JSON Schema's numeric bounds and `multipleOf`, in exact arithmetic.

A float step cannot be trusted to multiply: 3 * 0.1 is 0.30000000000000004, which is no multiple of
0.1 in decimal. So bounds and steps become Fractions of the decimal text they were written as, the
value is chosen as k * step, and it is emitted as an int when integral, else as the float whose
shortest repr is exactly that decimal (values that do not round-trip are skipped).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from itertools import count
from typing import Any

from server.generation.schemas import exact


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def bounds(schema: dict[str, Any]) -> tuple[Fraction | None, bool, Fraction | None, bool]:
    """(low, low is open, high, high is open), the tighter of the inclusive and exclusive bounds."""
    low: Fraction | None = None
    high: Fraction | None = None
    low_open = high_open = False
    if _number(schema.get("minimum")):
        low = exact(schema["minimum"])
    if _number(schema.get("exclusiveMinimum")):
        bound = exact(schema["exclusiveMinimum"])
        if low is None or bound >= low:
            low, low_open = bound, True
    if _number(schema.get("maximum")):
        high = exact(schema["maximum"])
    if _number(schema.get("exclusiveMaximum")):
        bound = exact(schema["exclusiveMaximum"])
        if high is None or bound <= high:
            high, high_open = bound, True
    return low, low_open, high, high_open


def emit(value: Fraction) -> int | float | None:
    """The JSON number for `value`, or None when no float's decimal text is exactly it."""
    if value.denominator == 1:
        return int(value)
    try:
        out = float(value)
    except OverflowError:
        return None
    return out if math.isfinite(out) and exact(out) == value else None


def _step(schema: dict[str, Any], integer: bool) -> Fraction | None:
    step = schema.get("multipleOf")
    fraction = exact(step) if isinstance(step, int | float) and _number(step) and step > 0 else None
    if integer:
        # The integers among the multiples of p/q (in lowest terms) are the multiples of p.
        return Fraction(fraction.numerator) if fraction is not None else Fraction(1)
    return fraction


def numbers(schema: dict[str, Any], integer: bool, start: Fraction) -> Iterator[int | float]:
    """Values within the bounds and multiples of the step, nearest `start` first (endless where the
    range allows, so distinct values can be drawn from it); nothing when none exists."""
    low, low_open, high, high_open = bounds(schema)
    step = _step(schema, integer)
    if step is None:
        yield from _dense(low, low_open, high, high_open, start)
        return
    first = None if low is None else math.ceil(low / step)
    if first is not None and low_open and first * step == low:
        first += 1
    last = None if high is None else math.floor(high / step)
    if last is not None and high_open and last * step == high:
        last -= 1
    if first is not None and last is not None and first > last:
        return
    target = round(start / step)
    target = max(target, first) if first is not None else target
    target = min(target, last) if last is not None else target
    for offset in count():
        inside = False
        for k in (target + offset, target - offset) if offset else (target,):
            if (first is None or k >= first) and (last is None or k <= last):
                inside = True
                value = emit(k * step)
                if value is not None:
                    yield value
        if not inside:
            return


def _dense(
    low: Fraction | None, low_open: bool, high: Fraction | None, high_open: bool, start: Fraction
) -> Iterator[int | float]:
    """Reals in an interval: `start` clamped inside, then points spreading out from it."""

    def inside(value: Fraction) -> bool:
        above = low is None or value > low or (value == low and not low_open)
        below = high is None or value < high or (value == high and not high_open)
        return above and below

    if low is not None and high is not None and (low > high or (low == high and (low_open or high_open))):
        return
    if inside(start):
        first = start
    elif low is not None and start <= low:
        first = (
            low
            if not low_open
            else (low + min(Fraction(1), (high - low) / 2) if high is not None else low + 1)
        )
    else:
        assert high is not None  # start is above the interval, so it has a top
        first = (
            high
            if not high_open
            else (high - min(Fraction(1), (high - low) / 2) if low is not None else high - 1)
        )
    seen: set[Fraction] = set()
    for candidate in _spread(first, low, high):
        if inside(candidate) and candidate not in seen:
            seen.add(candidate)
            value = emit(candidate)
            if value is not None:
                yield value


def _spread(first: Fraction, low: Fraction | None, high: Fraction | None) -> Iterator[Fraction]:
    yield first
    for k in range(1, 1000):
        yield first + k
        yield first - k
    if low is not None and high is not None:
        for depth in range(1, 40):  # halving the interval: ever finer points, finitely many per level
            parts = 2**depth
            for j in range(1, parts, 2):
                yield low + (high - low) * j / parts
                if j > 64:
                    break
