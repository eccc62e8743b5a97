"""A string matching a JSON Schema `pattern`, for synthesized arguments.

Walks the parse tree of Python's own regex parser and builds the shortest example it can: literals
as written, the first member of a class, the minimum of a repeat, the first branch. Anchors and
lookarounds are skipped. The result is checked with `re.search` (JSON Schema's semantics); None when
no example was found, and the caller falls back to other candidates.
"""

from __future__ import annotations

import importlib
import re
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


def _class_member(items: list[tuple[Any, Any]]) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    if negate:
        excluded = {chr(v) for op, v in items if op is sre_constants.LITERAL}
        return next(c for c in "aA0-_ x" if c not in excluded)
    for op, value in items:
        if op is sre_constants.LITERAL:
            return chr(value)
        if op is sre_constants.RANGE:
            return chr(value[0])
        if op is sre_constants.CATEGORY:
            return _CATEGORY.get(str(value), "a")
    return "a"


def _build(tree: Any, depth: int = 0) -> str:
    if depth > 50:
        raise ValueError("pattern nested too deeply")
    out: list[str] = []
    for op, value in tree:
        if op is sre_constants.LITERAL:
            out.append(chr(value))
        elif op is sre_constants.NOT_LITERAL:
            out.append("a" if chr(value) != "a" else "b")
        elif op is sre_constants.ANY:
            out.append("a")
        elif op is sre_constants.IN:
            out.append(_class_member(value))
        elif op is sre_constants.CATEGORY:
            out.append(_CATEGORY.get(str(value), "a"))
        elif op in (
            sre_constants.MAX_REPEAT,
            sre_constants.MIN_REPEAT,
            getattr(sre_constants, "POSSESSIVE_REPEAT", None),
        ):
            low, _high, sub = value
            out.append(_build(sub, depth + 1) * min(low, _MAX_REPEAT))
        elif op is sre_constants.SUBPATTERN:
            out.append(_build(value[-1], depth + 1))
        elif op is sre_constants.ATOMIC_GROUP:
            out.append(_build(value, depth + 1))
        elif op is sre_constants.BRANCH:
            out.append(_build(value[1][0], depth + 1))
        # AT (anchors), ASSERT/ASSERT_NOT (lookarounds), GROUPREF: contribute nothing
    return "".join(out)


def example(pattern: str, preferred: str = "") -> str | None:
    """A short string `re.search(pattern, s)` accepts, or None."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None
    for candidate in (preferred, *_FALLBACKS):
        if candidate and compiled.search(candidate):
            return candidate
    try:
        built = _build(sre_parse.parse(pattern))
    except (ValueError, TypeError, IndexError, StopIteration, RecursionError):
        return None
    return built if compiled.search(built) else None
