"""A string matching a JSON Schema `pattern`, for synthesized arguments.

Walks the parse tree of Python's own regex parser and builds an example: literals as written, a
member of a class, the minimum of a repeat, a branch. A `variant` picks other members and branches
(distinct strings for `uniqueItems`), and a length budget spends extra repeats so `minLength` can be
met inside the match rather than by padding that an anchor would refuse. Anchors and lookarounds are
skipped. Every result is checked with `re.search` (JSON Schema's semantics) and the length bounds.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from itertools import count
from typing import Any

# The parser behind `re` (private, so loaded by name; present on every Python this project supports).
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

_CATEGORY = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_WORD": "a",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_NOT_SPACE": "a",
}
_MAX_REPEAT = 64
_FALLBACKS = (
    "value",
    "a",
    "0",
    "00000",
    "A",
    "aA0",
    "abc",
    "123",
    "2024-01-01",
    "user@example.com",
    "https://example.com/",
    "",
)


_PICKS = "aA0-_ xbB1"


def _class_member(items: list[tuple[Any, Any]], variant: int) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    if negate:
        excluded = {chr(v) for op, v in items if op is sre_constants.LITERAL}
        allowed = [c for c in _PICKS if c not in excluded]
        return allowed[variant % len(allowed)] if allowed else "a"
    members: list[str] = []
    for op, value in items:
        if op is sre_constants.LITERAL:
            members.append(chr(value))
        elif op is sre_constants.RANGE:
            low, high = value
            members += [chr(c) for c in range(low, min(high, low + 25) + 1)]
        elif op is sre_constants.CATEGORY:
            members.append(_CATEGORY.get(str(value), "a"))
    return members[variant % len(members)] if members else "a"


class _Builder:
    """One example from a parse tree; `budget` counts the characters still wanted past the minimum."""

    def __init__(self, variant: int, budget: int) -> None:
        self.variant = variant
        self.budget = budget

    def build(self, tree: Any, depth: int = 0) -> str:  # the tree is the private parser's, untyped
        if depth > 50:
            raise ValueError("pattern nested too deeply")
        out: list[str] = []
        for op, value in tree:
            if op is sre_constants.LITERAL:
                out.append(chr(value))
            elif op is sre_constants.NOT_LITERAL:
                out.append("a" if chr(value) != "a" else "b")
            elif op is sre_constants.ANY:
                out.append("abc"[self.variant % 3])
            elif op is sre_constants.IN:
                out.append(_class_member(value, self.variant))
            elif op is sre_constants.CATEGORY:
                out.append(_CATEGORY.get(str(value), "a"))
            elif op in _REPEATS:
                out.append(self.repeat(value, depth))
            elif op is sre_constants.SUBPATTERN:
                out.append(self.build(value[-1], depth + 1))
            elif op is sre_constants.ATOMIC_GROUP:
                out.append(self.build(value, depth + 1))
            elif op is sre_constants.BRANCH:
                branches = value[1]
                out.append(self.build(branches[self.variant % len(branches)], depth + 1))
            # AT (anchors), ASSERT/ASSERT_NOT (lookarounds), GROUPREF: contribute nothing
        return "".join(out)

    def repeat(self, value: Any, depth: int) -> str:
        low, high, sub = value
        once = self.build(sub, depth + 1)
        times = min(low, _MAX_REPEAT)
        if once and self.budget > 0 and high > times:
            extra = min(high - times, self.budget // len(once) or 1)
            times += extra
            self.budget -= extra * len(once)
        return str(once * times)


_REPEATS = tuple(
    op
    for op in (
        sre_constants.MAX_REPEAT,
        sre_constants.MIN_REPEAT,
        getattr(sre_constants, "POSSESSIVE_REPEAT", None),
    )
    if op is not None
)


def _fit(text: str, low: int, high: int | None) -> str:
    text = text + "x" * (low - len(text))
    return text if high is None else text[:high]


def strings(pattern: str | None, low: int, high: int | None, preferred: str) -> Iterator[str]:
    """Strings of length within [low, high] that `re.search(pattern, ...)` accepts, best first.

    Endless when no pattern restricts the alphabet (distinct strings can be drawn from it). A
    pattern the parser cannot take yields only what matches among the fixed candidates."""
    if pattern is None:
        yield _fit(preferred, low, high)
        for k in count(1):
            yield _fit(f"{preferred}{k}", low, high)
            yield _fit(_word(k, max(low, 1)), low, high)
        return
    try:
        compiled = re.compile(pattern)
    except re.error:
        return
    for text in (preferred, *_FALLBACKS):
        for candidate in (_fit(text, low, high), text):
            if _ok(compiled, candidate, low, high):
                yield candidate
    try:
        tree = sre_parse.parse(pattern)
    except (re.error, RecursionError, ValueError):
        return
    for variant in range(256):
        try:
            built = _Builder(variant, 0).build(tree)
            if len(built) < low:
                built = _Builder(variant, low - len(built)).build(tree)
        except (ValueError, TypeError, IndexError, RecursionError):
            continue
        pad = max(low - len(built), 0)
        for candidate in (built, built + "x" * pad, "x" * pad + built, built[:high] if high else built):
            if _ok(compiled, candidate, low, high):
                yield candidate


def _ok(compiled: re.Pattern[str], text: str, low: int, high: int | None) -> bool:
    return len(text) >= low and (high is None or len(text) <= high) and compiled.search(text) is not None


def _word(k: int, length: int) -> str:
    """The k-th string of `length` letters and digits (k below 36**length)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    chars = []
    for _ in range(length):
        k, digit = divmod(k, len(alphabet))
        chars.append(alphabet[digit])
    return "".join(reversed(chars))
