"""JSON serialisation in the API's byte layouts (orjson: C speed, UTF-8 output, and floats written
the way the API writes them, e.g. `-3.4121115e-6`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

# Compact JSON as in stream chunks: no spaces, non-ASCII kept as UTF-8. orjson's own defaults, so
# its function itself rather than a wrapper: it is called for every chunk of every stream.
dumps: Callable[[Any], bytes] = orjson.dumps


def body_bytes(value: Any) -> bytes:
    """A non-stream body as the API sends it: two-space indentation and a trailing newline."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def error_bytes(value: Any) -> bytes:
    """An error envelope as the API sends it: two-space indentation, no trailing newline."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


def ascii_body_bytes(value: Any) -> bytes:
    """A Responses API body as the API sends it: two-space indentation, non-ASCII escaped, no trailing
    newline (byte lengths checked against real recordings)."""
    return json.dumps(value, indent=2, ensure_ascii=True).encode()
