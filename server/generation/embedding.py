"""Deterministic embedding vectors, made from tokens without model weights.

A test needs embeddings that behave like embeddings: the same text always gives the same vector, and
texts that share words score a higher cosine similarity than unrelated ones, so a retrieval test
ranks documents plausibly. This is a random projection of a bag of features: each feature owns a
pseudo-random vector (SHAKE-256 of the feature, salted by the model), and a text's vector is the
weighted sum of its features' vectors, scaled to unit length. Two texts' inner product then
estimates the weight of the features they share (the error is about 1/sqrt(dimensions)).

The features are the text's tokens, each as its bytes without surrounding whitespace and in lower
case (so " France", "France" and "france" are one word), tokens without a letter or digit left out,
plus one feature for the whole text, so word order and case still move the vector a little. A word
weighs 2 * (1 + log2(count)), the whole text 1.

Speed without numpy: a feature's vector is its digest read as one 16-bit number per coordinate,
placed in 32-bit lanes of one Python integer, so adding vectors is integer addition done in C.
Lanes never carry into each other while the weights add up to at most MAX_WEIGHT (an input of
8,192 tokens weighs at most 16,385). The feature vectors are cached, as the same words recur
across a corpus.
"""

from __future__ import annotations

import functools
import hashlib
import math
import string
import sys
from array import array
from collections import Counter
from collections.abc import Sequence

from server.generation.tokens import Tokenizer

LANE_BYTES = 4
MAX_WEIGHT = 65_537  # 65535 * 65537 < 2**32
WORD_WEIGHT = 2
_NOT_WORDS = (string.punctuation + string.whitespace).encode()


@functools.lru_cache(maxsize=2048)
def _feature_lanes(salt: bytes, feature: bytes, dimensions: int) -> int:
    """The feature's vector: a 16-bit number (0..65535) per coordinate, in little-endian 32-bit lanes."""
    digest = hashlib.shake_256(salt + b"\x00" + feature).digest(2 * dimensions)
    lanes = bytearray(LANE_BYTES * dimensions)
    lanes[0::LANE_BYTES] = digest[0::2]
    lanes[1::LANE_BYTES] = digest[1::2]
    return int.from_bytes(lanes, "little")


def _word(token: bytes) -> bytes | None:
    word = token.strip().lower()
    return word if word.translate(None, _NOT_WORDS) else None


def features(tokens: Sequence[int], tokenizer: Tokenizer, text: str) -> Counter[bytes]:
    """The weighted features of one input: its words (sublinear counts) and the whole text."""
    counts: Counter[bytes] = Counter()
    limit = tokenizer.ordinary_tokens
    for token in tokens:
        if 0 <= token < limit and tokenizer.is_ordinary(token):
            word = _word(tokenizer.token_bytes(token))
        else:  # a token id the encoding does not have (a token-id input): a feature of its own
            word = b"#%d" % token
        if word is not None:
            counts[word] += 1
    weighted = Counter(
        {b"w:" + word: WORD_WEIGHT * (1 + int(math.log2(count))) for word, count in counts.items()}
    )
    weighted[b"t:" + text.encode("utf-8", "surrogatepass")] += 1
    return weighted


def embedding_vector(weights: Counter[bytes], dimensions: int, salt: str) -> list[float]:
    """The unit-length vector of `dimensions` coordinates for these weighted features."""
    total = 0
    weight = 0
    seed = salt.encode()
    for feature, times in weights.items():
        total += times * _feature_lanes(seed, feature, dimensions)
        weight += times
    if weight > MAX_WEIGHT:
        raise ValueError(f"features weigh {weight}, more than {MAX_WEIGHT}: split the input")
    lanes = array("I")
    assert lanes.itemsize == LANE_BYTES
    lanes.frombytes(total.to_bytes(LANE_BYTES * dimensions, "little"))
    if sys.byteorder == "big":
        lanes.byteswap()
    center = 32767.5 * weight  # each number is uniform on 0..65535
    values = [lane - center for lane in lanes]
    norm = math.sqrt(math.fsum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embed(tokens: Sequence[int], tokenizer: Tokenizer, text: str, dimensions: int, salt: str) -> list[float]:
    """The deterministic embedding of one input (its tokens and its text) for a model named by `salt`."""
    return embedding_vector(features(tokens, tokenizer, text), dimensions, salt)
