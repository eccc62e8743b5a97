"""One growing text of a reply (its content, refusal, or one call's arguments) and the cuts applied to it.

A channel receives deltas, holds back just enough to apply a cut that may still come (a stop
sequence spanning deltas, or a token limit whose last tokens can still merge), and releases whole
deltas otherwise, so a backend's chunking reaches the client unchanged. On a cut, whole deltas before
it are released as they were and the delta holding the cut is shortened.

Stops and the limit race as they do in a model: a stop sequence counts when it is complete, and it
wins if the tokens up to its end fit the limit; otherwise the reply is cut at the limit. Among stop
sequences, the one that completes first wins, and the text is cut where it starts. A channel with
neither keeps no running copy of its text, so long replies cost linear time.

A limit alone is not watched while it cannot bite: a token holds at least one UTF-8 byte and a
character at most four, so text of `budget / 4` characters fits whatever it says. Deltas pass
straight through until then; every reply has a limit (at least the model's output cap), and most
never come near it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Literal

from server.generation.tokens import Tokenizer


@dataclass(slots=True)
class Cut:
    reason: Literal["stop", "length"]


@dataclass(slots=True)
class Channel:
    tokenizer: Tokenizer
    stop: tuple[str, ...] = ()
    budget: int | None = None  # tokens this channel may still use; None: no limit
    parts: list[str] = field(default_factory=list)  # everything received (plain channels)
    _text: str = ""  # the running text (channels with a stop or a limit)
    pending: list[str] = field(default_factory=list)
    released: int = 0
    stable_chars: int = 0
    stable_tokens: int = 0
    searched: int = 0
    cut_at: int | None = None
    loose: bool = field(init=False, default=False)  # a limit alone, still too far to bite
    # Deltas pass whole while `released` stays within this (-1: none pass, a stop is watched).
    whole_until: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        self.loose = not self.stop and self.budget is not None
        if not self.stop:
            self.whole_until = sys.maxsize if self.budget is None else self.budget // 4

    @property
    def text(self) -> str:
        if self.loose or not (self.stop or self.budget is not None):  # the parts are all of it
            return "".join(self.parts)
        return self._text if self.cut_at is None else self._text[: self.cut_at]

    @property
    def longest_stop(self) -> int:
        return max((len(s) for s in self.stop), default=0)

    def takes_whole(self, piece: str) -> bool:
        """Take `piece` when it passes through whole, as most deltas do (no stop sequence to watch,
        and no limit or one still too far to bite); False, taking nothing, when `feed` must look."""
        released = self.released + len(piece)
        if released > self.whole_until or not piece:
            return False
        self.parts.append(piece)
        self.released = released
        return True

    def feed(self, piece: str) -> tuple[list[str], Cut | None]:
        """Add a delta; return the pieces now safe to release and the cut, if one happened."""
        if self.takes_whole(piece):
            return [piece], None
        if not piece:
            return [], None
        if self.loose:  # near the limit now (or it would have been taken whole): watch from here
            self._text, self.loose, self.whole_until = "".join(self.parts), False, -1
            self.parts.clear()
        self._text += piece
        self.pending.append(piece)
        cut = self._cut()
        if cut is not None:
            return self.flush(), cut
        boundary = len(self._text)
        if self.stop:
            boundary -= self.longest_stop - 1
        if self.budget is not None:
            boundary = min(boundary, self.stable_chars)
        return self._release(boundary), None

    def flush(self) -> list[str]:
        """Release everything left: whole pending deltas, then what remains of a cut one."""
        if not self.pending and self.cut_at is None:  # every delta went out whole
            return []
        text = self.text
        end = len(text)
        out = self._release(end)
        if end > self.released:
            out.append(text[self.released : end])
            self.released = end
        self.pending.clear()
        return out

    def _release(self, boundary: int) -> list[str]:
        out: list[str] = []
        while self.pending:
            end = self.released + len(self.pending[0])
            if end > boundary:
                break
            out.append(self.pending.pop(0))
            self.released = end
        return out

    def _cut(self) -> Cut | None:
        stop = self._first_stop()
        if stop is not None:
            start, end = stop
            if self.budget is None or self.tokenizer.count(self._text[:end]) <= self.budget:
                self.cut_at = start
                return Cut("stop")
        if self.budget is not None:
            return self._limit_cut(self.budget)
        return None

    def _first_stop(self) -> tuple[int, int] | None:
        """(start, end) of the stop occurrence that completes first in the unsearched text."""
        if not self.stop:
            return None
        start = max(0, self.searched - self.longest_stop + 1)
        best: tuple[int, int] | None = None
        for sequence in self.stop:
            found = self._text.find(sequence, start)
            if found >= 0:
                candidate = (found + len(sequence), found)
                if best is None or candidate < best:
                    best = candidate
        self.searched = len(self._text)
        return None if best is None else (best[1], best[0])

    def _limit_cut(self, limit: int) -> Cut | None:
        """Count incrementally. Text before the second-to-last pre-token of the unsettled tail is
        settled: BPE does not merge across pre-tokens, and only the last ones can still change
        (they may grow, or a lookahead may move their boundary)."""
        tail = self._text[self.stable_chars :]
        tokens = self.tokenizer.encode(tail)
        if self.stable_tokens + len(tokens) > limit:
            kept, _ = self.tokenizer.truncate(tail, limit - self.stable_tokens)
            self.cut_at = self.stable_chars + len(kept)
            return Cut("length")
        starts = self.tokenizer.pretoken_starts(tail)
        if len(starts) > 2:
            settled = starts[-2]
            self.stable_tokens += self.tokenizer.count(tail[:settled])
            self.stable_chars += settled
        return None
