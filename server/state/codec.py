"""JSON for what the stores outside this process keep (Redis, the journal file).

orjson handles integers only up to 64 bits, but a request may carry a bigger one (a seed, a schema's
bound, a fixture's reply) and the server accepts it: keeping it must neither turn the request into a
500 nor change the number. orjson writes (the `json` module where it refuses), and the `json`
module reads, since orjson would read such an integer back as a float.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":")).encode()


def text(value: Any) -> str:
    """`dumps` as a string (a Redis hash field or script argument)."""
    return dumps(value).decode()


def loads(data: bytes | str) -> Any:
    return json.loads(data)


def _plain(value: Any) -> Any:
    """What orjson writes natively and json does not: dataclasses, as their fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
