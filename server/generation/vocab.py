"""tiktoken encodings loaded offline from the vocabulary files the `bpe-openai` package ships.

tiktoken would download its `.tiktoken` files on first use. `bpe-openai` carries `cl100k_base` and
`o200k_base` gzipped; we decompress them, check the sha256 that tiktoken itself pins for each file
(a test compares these constants with tiktoken's own), and build the `tiktoken.Encoding` directly.
No network, no cache directory, no environment variable.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import tiktoken

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"


@dataclass(frozen=True)
class Vocabulary:
    name: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

VOCABULARIES: dict[str, Vocabulary] = {
    "cl100k_base": Vocabulary(
        name="cl100k_base",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        special_tokens={
            ENDOFTEXT: 100257,
            FIM_PREFIX: 100258,
            FIM_MIDDLE: 100259,
            FIM_SUFFIX: 100260,
            ENDOFPROMPT: 100276,
        },
    ),
    "o200k_base": Vocabulary(
        name="o200k_base",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str=_O200K_PATTERN,
        special_tokens={ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    ),
}


class VocabularyError(RuntimeError):
    """The shipped vocabulary is missing or does not hash to what tiktoken expects."""


def read_vocabulary(name: str) -> bytes:
    """The decompressed `.tiktoken` file for `name`, verified against tiktoken's pinned sha256."""
    vocab = VOCABULARIES.get(name)
    if vocab is None:
        raise VocabularyError(f"unknown encoding {name!r}; offline encodings are {sorted(VOCABULARIES)}")
    # find_spec locates the package without importing it (its __init__ builds tokenizers of its own).
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise VocabularyError("the bpe-openai package, which ships the vocabularies, is not installed")
    path = Path(spec.submodule_search_locations[0]) / "data" / f"{name}.tiktoken.gz"
    try:
        packed = path.read_bytes()
    except FileNotFoundError as exc:
        raise VocabularyError(f"the bpe-openai package does not ship {path.name}") from exc
    data = gzip.decompress(packed)
    digest = hashlib.sha256(data).hexdigest()
    if digest != vocab.sha256:
        raise VocabularyError(f"{name}: vocabulary sha256 {digest} does not match tiktoken's {vocab.sha256}")
    return data


def parse_ranks(data: bytes) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@functools.cache
def load_encoding(name: str) -> tiktoken.Encoding:
    """Build the encoding once per process (a memo of immutable data, not mutable state)."""
    vocab = VOCABULARIES.get(name)
    if vocab is None:
        raise VocabularyError(f"unknown encoding {name!r}; offline encodings are {sorted(VOCABULARIES)}")
    return tiktoken.Encoding(
        name=vocab.name,
        pat_str=vocab.pat_str,
        mergeable_ranks=parse_ranks(read_vocabulary(name)),
        special_tokens=vocab.special_tokens,
    )
