"""The embeddings body in the API's byte layout.

A recording of the real API (alexrudall/ruby-openai,
spec/fixtures/cassettes/text-embedding-ada-002_embeddings_the_food_was_delicious_and_the_waiter_.yml)
shows two-space indentation, a final newline, one float per line, and each float as the shortest
decimal that reads back as the same float32, never in exponent form (`-0.000028388287`,
`0.00006039639`), as Go's and Rust's float32 formatting write it (so a whole number has no `.0`). orjson would write float64s, and small ones as `2.8388287e-5`, so the body is
written here. With `encoding_format: base64` each vector is its little-endian float32 bytes in
base64, which the SDKs decode.
"""

from __future__ import annotations

import base64
import math
import struct
import sys
from array import array
from collections.abc import Sequence
from decimal import Decimal

import orjson

from server.embeddings.plan import EmbeddingPlan

FLOAT32_TINY = 1.1754943508222875e-38  # the smallest normal float32


def as_float32(x: float) -> float:
    value: float = struct.unpack("<f", struct.pack("<f", x))[0]
    return value


def float32_text(values: Sequence[float]) -> list[str]:
    """Each value as float32, written as the shortest decimal that reads back as that float32."""
    out: list[str] = []
    append = out.append
    frexp, ldexp, copysign = math.frexp, math.ldexp, math.copysign
    for x in array("f", values).tolist():
        if not x:
            append("-0" if copysign(1.0, x) < 0 else "0")
            continue
        # A decimal nearer to x than half a float32 step reads back as x. Most need 8 digits, some
        # 7, a few 6 or 9 (fewer than 6 show once repr drops the trailing zeros).
        half_step = ldexp(1.0, frexp(x)[1] - 25)
        near = float(f"{x:.8g}")
        if abs(x) < FLOAT32_TINY:  # subnormal: fewer bits, so possibly far fewer digits
            near = next(float(f"{x:.{d}g}") for d in range(1, 10) if as_float32(float(f"{x:.{d}g}")) == x)
        elif abs(near - x) < half_step:
            seven = float(f"{x:.7g}")
            if abs(seven - x) < half_step:
                six = float(f"{x:.6g}")
                near = six if abs(six - x) < half_step else seven
        else:
            near = float(f"{x:.9g}")
        text = repr(near)
        if "e" in text:
            text = format(Decimal(text), "f")
        append(text.removesuffix(".0"))
    return out


def base64_vector(values: Sequence[float]) -> str:
    floats = array("f", values)
    if sys.byteorder == "big":
        floats.byteswap()
    return base64.b64encode(floats.tobytes()).decode("ascii")


def _embedding(index: int, vector: Sequence[float], encoding: str) -> str:
    if encoding == "base64":
        value = '"' + base64_vector(vector) + '"'
    else:
        value = "[\n        " + ",\n        ".join(float32_text(vector)) + "\n      ]"
    return (
        f'    {{\n      "object": "embedding",\n      "index": {index},\n      "embedding": {value}\n    }}'
    )


def body_bytes(plan: EmbeddingPlan, vectors: Sequence[Sequence[float]]) -> bytes:
    data = ",\n".join(_embedding(i, vector, plan.encoding) for i, vector in enumerate(vectors))
    tokens = plan.prompt_tokens
    return (
        '{\n  "object": "list",\n  "data": [\n'
        + data
        + '\n  ],\n  "model": '
        + orjson.dumps(plan.model).decode()
        + f',\n  "usage": {{\n    "prompt_tokens": {tokens},\n    "total_tokens": {tokens}\n  }}\n}}\n'
    ).encode()
