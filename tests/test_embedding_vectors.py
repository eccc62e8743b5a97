"""The deterministic embedding vectors (server/generation/embedding.py) and their float32 text
(server/embeddings/render.py).

Proven: vectors are unit length, the same for the same text in a fresh cache, shortened by taking
their leading coordinates; each float's text is the shortest decimal that reads back as the same
float32, in positional notation.
"""

from __future__ import annotations

import math
import struct

from hypothesis import given
from hypothesis import strategies as st

from server.embeddings.render import float32_text
from server.generation import embedding
from server.generation.tokens import Tokenizer

TOKENIZER = Tokenizer.named("cl100k_base")


def vector(text: str, dimensions: int = 1536, salt: str = "text-embedding-3-small") -> list[float]:
    return embedding.embed(TOKENIZER.encode(text), TOKENIZER, text, dimensions, salt)


def as_float32(x: float) -> float:
    value: float = struct.unpack("<f", struct.pack("<f", x))[0]
    return value


def test_vectors_are_unit_length_and_survive_a_cold_cache() -> None:
    first = vector("Deterministic vectors, please.")
    embedding._feature_lanes.cache_clear()
    assert vector("Deterministic vectors, please.") == first
    assert math.isclose(math.fsum(v * v for v in first), 1.0)
    assert len({round(v, 7) for v in first}) > 1400  # dense and continuous, not a few hashed buckets


def test_a_shorter_vector_is_the_leading_coordinates_rescaled() -> None:
    full = vector("shorten me", 3072)
    short = vector("shorten me", 64)
    norm = math.sqrt(math.fsum(v * v for v in full[:64]))
    assert all(
        math.isclose(a, b / norm, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(short, full, strict=False)
    )


def test_models_and_word_order_give_different_vectors() -> None:
    assert vector("dog bites man") != vector("dog bites man", salt="text-embedding-ada-002")
    near = sum(a * b for a, b in zip(vector("dog bites man"), vector("man bites dog"), strict=True))
    assert 0.8 < near < 1.0


# Components of unit vectors: whole numbers past 2**24 (which positional notation cannot shorten)
# never occur in a vector, so they are outside what this property claims.
@given(st.floats(min_value=-1e6, max_value=1e6, width=32))
def test_float_text_is_the_shortest_positional_decimal_of_the_float32(x: float) -> None:
    (text,) = float32_text([x])
    assert "e" not in text
    assert as_float32(float(text)) == x
    significant = text.lstrip("-").replace(".", "").strip("0")
    if len(significant) > 1:
        # No decimal with one significant digit fewer reads back as the same float32.
        assert as_float32(float(f"{x:.{len(significant) - 2}e}")) != x


def test_whole_numbers_and_zeros_are_written_as_go_and_rust_write_float32() -> None:
    assert float32_text([1.0, 0.0, -0.0, 0.1, 0.000028388287]) == ["1", "0", "-0", "0.1", "0.000028388287"]
