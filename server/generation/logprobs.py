"""Synthetic but well-formed `logprobs`: the real tokenizer's tokens with deterministic values.

A text is split into the tokenizer's tokens (so the `token`s concatenate to the text); each gets a
logprob <= 0 derived from a hash of the token and its position, and `top_logprobs` alternatives: the
chosen token first, then neighbouring vocabulary entries with strictly lower logprobs.

A replayed recording gives the upstream's own logprobs instead (`ReplyLogprobs`), for as long as
its tokens spell the text the pipeline passes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from server.generation.tokens import Tokenizer


@dataclass(frozen=True, slots=True)
class Alternative:
    """A token the model could have chosen, with its logprob; `data` is its bytes."""

    token: str
    logprob: float
    data: bytes


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One token of a reply with its logprob and the `top` alternatives (the chosen token first)."""

    token: str
    logprob: float
    data: bytes
    top: tuple[Alternative, ...]


def token_text(data: bytes) -> str:
    """A token's text; a token holding part of a character is shown as `bytes:\\xNN...` as OpenAI does."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes:" + "".join(f"\\x{b:02x}" for b in data)


def _logprob(token: int, position: int) -> float:
    digest = hashlib.blake2b(f"{token}:{position}".encode(), digest_size=4).digest()
    return -round(int.from_bytes(digest, "big") / 2**32 * 0.5, 6)


def _entry(tokenizer: Tokenizer, token: int, logprob: float) -> Alternative:
    data = tokenizer.token_bytes(token)
    return Alternative(token_text(data), logprob, data)


def logprobs_for(tokenizer: Tokenizer, text: str, top: int, start: int = 0) -> list[TokenLogprob]:
    """Entries for the tokens of `text`; `start` is the position of its first token in the reply."""
    out: list[TokenLogprob] = []
    ordinary = tokenizer.ordinary_tokens
    for offset, token in enumerate(tokenizer.encode(text)):
        chosen = _logprob(token, start + offset)
        entry = _entry(tokenizer, token, chosen)
        alternatives: list[Alternative] = []
        if top:
            alternatives.append(entry)
            candidate = token
            while len(alternatives) < top:
                # Stride through the ordinary (mergeable) tokens only: never a special token, and
                # never an id the vocabulary leaves unassigned.
                candidate = (candidate + 7919) % ordinary
                if candidate == token or not tokenizer.is_ordinary(candidate):
                    continue
                step = len(alternatives)
                alternatives.append(_entry(tokenizer, candidate, round(chosen - 1.5 * step - 0.25, 6)))
        out.append(TokenLogprob(entry.token, entry.logprob, entry.data, tuple(alternatives)))
    return out


class ReplyLogprobs:
    """Each choice's logprobs, piece by piece as its text is sent: the recorded entries (a replayed
    recording's, by choice) while their bytes spell the pieces exactly, else synthesized ones. A
    piece the recording does not spell (a cut it did not make, a scrubbed secret) ends the recorded
    entries for that choice: what follows is synthesized, so no entry ever names text not sent."""

    def __init__(
        self, tokenizer: Tokenizer, top: int, recorded: Sequence[Sequence[TokenLogprob] | None] = ()
    ) -> None:
        self.tokenizer, self.top = tokenizer, top
        self._recorded = list(recorded)
        self._next: dict[int, int | None] = {}  # by choice: the next recorded entry; None: given up
        self._positions: dict[int, int] = {}  # by choice: tokens given so far

    def entries(self, choice: int, text: str, *, recorded: bool = True) -> list[TokenLogprob]:
        position = self._positions.get(choice, 0)
        out = self._replayed(choice, text) if recorded else None
        if out is None:
            out = logprobs_for(self.tokenizer, text, self.top, position)
        self._positions[choice] = position + len(out)
        return out

    def _replayed(self, choice: int, text: str) -> list[TokenLogprob] | None:
        entries = self._recorded[choice] if choice < len(self._recorded) else None
        start = self._next.get(choice, 0)
        if entries is None or start is None or not text:
            return None
        target, spelled, end = text.encode(), b"", start
        while end < len(entries) and len(spelled) < len(target):
            spelled += entries[end].data
            end += 1
        if spelled != target:
            self._next[choice] = None
            return None
        self._next[choice] = end
        return [TokenLogprob(e.token, e.logprob, e.data, e.top[: self.top]) for e in entries[start:end]]
