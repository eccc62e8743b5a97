"""JSON serialisation in the API's byte layouts."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """Compact JSON as in stream chunks: no spaces, non-ASCII kept as UTF-8."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def body_bytes(value: Any) -> bytes:
    """A non-stream body as the API sends it: two-space indentation and a trailing newline."""
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode()


def error_bytes(value: Any) -> bytes:
    """An error envelope as the API sends it: two-space indentation, no trailing newline."""
    return json.dumps(value, ensure_ascii=False, indent=2).encode()
