"""The normalized request and its key: what replay matching and the request journal compare.

A request body is normalized by dropping its volatile fields (ones that do not change what the model
answers, listed in `VOLATILE_FIELDS`, plus any a backend is told to ignore) and by writing integral
numbers as integers (`1.0` and `1` are the same temperature). Its key is the first 16 hex digits of
the SHA-256 of its canonical JSON (sorted keys, compact, UTF-8). Secrets are scrubbed from the
normalized request *before* it is keyed, so a recording made with scrubbed text still matches the
same request sent again.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from difflib import SequenceMatcher
from itertools import accumulate
from typing import Any

import orjson

# Fields that do not change the answer: who is asking, how the answer is delivered, storage and
# caching hints, and the tier it is billed at.
VOLATILE_FIELDS = frozenset(
    {
        "user",
        "metadata",
        "stream",
        "stream_options",
        "store",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "service_tier",
    }
)
KEY_LENGTH = 16
REDACTED = "<scrubbed>"
# Always scrubbed: OpenAI-style secret keys.
DEFAULT_SCRUB_PATTERNS = (r"sk-[A-Za-z0-9_-]{16,}",)
MIN_LITERAL = 8  # shorter literal secrets are not scrubbed: they would blank out ordinary words


def _canon(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _canon(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canon(item) for item in value]
    return value


def normalize(body: Mapping[str, Any], ignore: Iterable[str] = ()) -> dict[str, Any]:
    """The body without volatile (and `ignore`d) top-level fields, integral numbers as integers."""
    drop = VOLATILE_FIELDS.union(ignore) if ignore else VOLATILE_FIELDS
    return {key: _canon(value) for key, value in body.items() if key not in drop}


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def digest(value: Any, length: int = KEY_LENGTH) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()[:length]


def request_key(normalized: Mapping[str, Any]) -> str:
    """The key of a normalized request."""
    return digest(normalized)


# The lists whose entries count one by one: chat's messages, a Responses request's input items.
LISTS = ("messages", "input")


def field_digests(normalized: Mapping[str, Any]) -> dict[str, str]:
    """A short digest per top-level field, and per message (`messages[3]`, `input[3]`): what a
    changed request is compared by, field by field, without writing its text anywhere."""
    return {name: digest(value, 8) for name, value in _fields(normalized).items()}


def differing(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    """The names whose digests differ between two `field_digests` results (present in one only too)."""
    return [name for name in sorted(set(a) | set(b), key=_field_order) if a.get(name) != b.get(name)]


def distance(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[int, float]:
    """How far apart two normalized requests are: how many fields differ (each message or input item
    counts as one, as in `field_digests`), then how much, summed over those fields, each from 0 to 1 (numbers by
    their relative difference, anything else by the similarity of its JSON text)."""
    fields_a, fields_b = _fields(a), _fields(b)
    gaps = []
    for name in set(fields_a) | set(fields_b):
        if name not in fields_a or name not in fields_b:
            gaps.append(1.0)
        elif canonical(fields_a[name]) != canonical(fields_b[name]):
            gaps.append(_gap(fields_a[name], fields_b[name]))
    return len(gaps), sum(gaps)


def _fields(normalized: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in normalized.items():
        if key in LISTS and isinstance(value, list):
            out.update({f"{key}[{i}]": message for i, message in enumerate(value)})
        else:
            out[key] = value
    return out


def _gap(a: Any, b: Any) -> float:
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    if numbers:
        return float(abs(a - b) / (abs(a) + abs(b) or 1))
    text_a, text_b = canonical(a).decode(), canonical(b).decode()
    matcher = SequenceMatcher(None, text_a, text_b, autojunk=False)
    # ratio() is quadratic in the worst case; long texts are compared by their characters only.
    return 1.0 - (matcher.ratio() if len(text_a) + len(text_b) <= 4000 else matcher.quick_ratio())


def _field_order(name: str) -> tuple[str, int]:
    if name.endswith("]") and "[" in name:
        base, _, index = name[:-1].partition("[")
        if base in LISTS and index.isdigit():
            return (base, int(index))
    return (name, -1)


class Scrubber:
    """Replaces secrets in every string of a JSON value: literal keys (8 characters or longer) and
    regular expressions, with `<scrubbed>`."""

    def __init__(self, literals: Iterable[str | None] = (), patterns: Iterable[str] = ()) -> None:
        kept = {s for s in literals if s and len(s) >= MIN_LITERAL}
        self.literals = tuple(sorted(kept, key=len, reverse=True))
        self.patterns = tuple(re.compile(p) for p in (*DEFAULT_SCRUB_PATTERNS, *patterns))

    def with_literals(self, *literals: str | None) -> Scrubber:
        more = [s for s in literals if s and len(s) >= MIN_LITERAL and s not in self.literals]
        if not more:
            return self
        scrubber = Scrubber.__new__(Scrubber)
        scrubber.literals = tuple(sorted({*self.literals, *more}, key=len, reverse=True))
        scrubber.patterns = self.patterns
        return scrubber

    def text(self, text: str) -> str:
        for literal in self.literals:
            if literal in text:
                text = text.replace(literal, REDACTED)
        for pattern in self.patterns:
            text = pattern.sub(REDACTED, text)
        return text

    def groups(self, pieces: Sequence[str]) -> list[range]:
        """Runs of consecutive pieces to join so that no secret is split across two of them (a
        streamed secret arrives in several chunks, none of which matches on its own)."""
        joined = "".join(pieces)
        spans = [m.span() for pattern in self.patterns for m in pattern.finditer(joined)]
        for literal in self.literals:
            start = joined.find(literal)
            while start >= 0:
                spans.append((start, start + len(literal)))
                start = joined.find(literal, start + 1)
        ends = list(accumulate(len(piece) for piece in pieces))
        glued = [False] * len(pieces)  # glued[i]: piece i is joined with piece i + 1
        for start, end in spans:
            if end > start:
                for i in range(bisect_right(ends, start), bisect_right(ends, end - 1)):
                    glued[i] = True
        out: list[range] = []
        first = 0
        for i in range(len(pieces)):
            if not glued[i]:
                out.append(range(first, i + 1))
                first = i + 1
        return out

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value
