"""An embeddings answer as a fixture reply: one vector per input, in input order, whether the
upstream wrote them as float lists or as base64 (little-endian float32, which replay writes back
exactly)."""

from __future__ import annotations

import base64
import struct
from typing import Any


def reply(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `embedding` reply and the notes for people (the answer's model and usage); raises
    `ValueError`/`KeyError` on a body that is not an embeddings list."""
    data = sorted(body["data"], key=lambda item: int(item["index"]))
    vectors = [_vector(item["embedding"]) for item in data]
    if not vectors:
        raise ValueError("an embeddings answer without vectors")
    info = {name: body[name] for name in ("model", "usage") if body.get(name) is not None}
    return {"embedding": vectors}, info


def _vector(value: Any) -> list[float]:
    if isinstance(value, str):
        raw = base64.b64decode(value)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    if not isinstance(value, list):
        raise ValueError(f"an embedding of type {type(value).__name__}")
    return [float(v) for v in value]
