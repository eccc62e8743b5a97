"""Token counting with tiktoken: which encoding a model uses, and text <-> token helpers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import regex
import tiktoken
from tiktoken.model import encoding_name_for_model

from server.generation.vocab import VOCABULARIES, load_encoding

DEFAULT_ENCODING = "o200k_base"


def encoding_for_model(model: str, default: str = DEFAULT_ENCODING) -> str:
    """tiktoken's own model table (prefix rules included); unknown names get `default`.

    Only encodings we can load offline are returned: anything older than cl100k falls back too.
    """
    try:
        name = encoding_name_for_model(model)
    except KeyError:
        return default
    return name if name in VOCABULARIES else default


CACHED_TEXT_LIMIT = 4096  # characters: longer texts are counted afresh, so the cache stays small


@dataclass(frozen=True, slots=True)
class Tokenizer:
    """One tiktoken encoding with the operations the server needs.

    Token counts of short texts are memoised: an agent loop re-sends its whole history every turn,
    so the same messages would otherwise be encoded again and again.
    """

    encoding: tiktoken.Encoding
    _counts: Callable[[str], int] = field(init=False, repr=False, compare=False)
    _split: Callable[[str], tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _pretokens: regex.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        counter = functools.lru_cache(maxsize=8192)(self._count)
        object.__setattr__(self, "_counts", counter)
        # A fixture's text is split into the same pieces on every request that it answers.
        object.__setattr__(self, "_split", functools.lru_cache(maxsize=256)(self._pieces))
        object.__setattr__(self, "_pretokens", regex.compile(self.encoding._pat_str))

    def pretoken_starts(self, text: str) -> list[int]:
        """Where the encoding's pre-tokenizer splits `text`: BPE never merges across these."""
        return [match.start() for match in self._pretokens.finditer(text)]

    @classmethod
    def named(cls, name: str) -> Tokenizer:
        return cls(load_encoding(name))

    def encode(self, text: str) -> list[int]:
        # Special-token text in a message is ordinary text to the API: never a control token.
        return list(self.encoding.encode_ordinary(text))

    def count(self, text: str) -> int:
        if not text:
            return 0
        return self._counts(text) if len(text) <= CACHED_TEXT_LIMIT else self._count(text)

    def _count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    @property
    def ordinary_tokens(self) -> int:
        """One past the highest mergeable (non-special) token id."""
        return int(self.encoding.max_token_value) + 1

    def is_ordinary(self, token: int) -> bool:
        """A mergeable token with bytes: not special and not an unassigned id."""
        if token in self.encoding._special_tokens.values():
            return False
        try:
            self.encoding.decode_single_token_bytes(token)
        except KeyError:
            return False
        return True

    def decode(self, tokens: list[int]) -> str:
        return str(self.encoding.decode(tokens, errors="ignore"))

    @property
    def vocabulary_size(self) -> int:
        return int(self.encoding.n_vocab)

    def token_bytes(self, token: int) -> bytes:
        return bytes(self.encoding.decode_single_token_bytes(token))

    def pieces(self, text: str) -> list[str]:
        """Split text into token-sized strings that concatenate back to it.

        A token can hold part of a multi-byte character; such tokens are joined with the next ones
        until the bytes decode, so no piece ever splits a character.
        """
        return list(self._split(text) if len(text) <= CACHED_TEXT_LIMIT else self._pieces(text))

    def _pieces(self, text: str) -> tuple[str, ...]:
        out: list[str] = []
        pending = b""
        for token in self.encoding.encode_ordinary(text):
            pending += self.encoding.decode_single_token_bytes(token)
            try:
                out.append(pending.decode("utf-8"))
            except UnicodeDecodeError:
                continue
            pending = b""
        if pending:
            out.append(pending.decode("utf-8", errors="replace"))
        return tuple(out)

    def truncate(self, text: str, limit: int) -> tuple[str, bool]:
        """The longest prefix of `text` within `limit` tokens that ends on a whole character.

        Returns the prefix and whether anything was cut.
        """
        tokens = self.encoding.encode_ordinary(text)
        if len(tokens) <= limit:
            return text, False
        data = b"".join(self.encoding.decode_single_token_bytes(t) for t in tokens[:limit])
        while data:
            try:
                return data.decode("utf-8"), True
            except UnicodeDecodeError as exc:
                data = data[: exc.start]
        return "", True
