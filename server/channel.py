"""One growing text of a reply (its content, refusal, or one call's arguments) and the cuts applied to it.

A channel receives deltas, holds back just enough to apply a cut that may still come (a stop
sequence spanning deltas, or a token limit whose last tokens can still merge), and releases whole
deltas otherwise, so a backend's chunking reaches the client unchanged. On a cut, whole deltas before
it are released as they were and the delta holding the cut is shortened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.tokens import Tokenizer


@dataclass(slots=True)
class Cut:
    reason: str  # "stop" or "length"


@dataclass(slots=True)
class Channel:
    tokenizer: Tokenizer
    stop: tuple[str, ...] = ()
    budget: int | None = None  # tokens this channel may still use; None: no limit
    text: str = ""
    pending: list[str] = field(default_factory=list)
    released: int = 0
    stable_chars: int = 0
    stable_tokens: int = 0
    searched: int = 0

    @property
    def longest_stop(self) -> int:
        return max((len(s) for s in self.stop), default=0)

    def feed(self, piece: str) -> tuple[list[str], Cut | None]:
        """Add a delta; return the pieces now safe to release and the cut, if one happened."""
        if not piece:
            return [], None
        self.text += piece
        self.pending.append(piece)
        cut = self._stop_cut()
        if self.budget is not None:
            # Checked after a stop cut too: text before the stop may already exceed the limit.
            cut = self._limit_cut(self.budget) or cut
        if cut is not None:
            return self.flush(), cut
        boundary = len(self.text)
        if self.stop:
            boundary -= self.longest_stop - 1
        if self.budget is not None:
            boundary = min(boundary, self.stable_chars)
        return self._release(boundary), None

    def flush(self) -> list[str]:
        """Release everything left: whole pending deltas, then what remains of a cut one."""
        out = self._release(len(self.text))
        if len(self.text) > self.released:
            out.append(self.text[self.released :])
            self.released = len(self.text)
        self.pending.clear()
        return out

    def tokens(self) -> int:
        return self.tokenizer.count(self.text)

    def _release(self, boundary: int) -> list[str]:
        out: list[str] = []
        while self.pending:
            end = self.released + len(self.pending[0])
            if end > boundary:
                break
            out.append(self.pending.pop(0))
            self.released = end
        return out

    def _stop_cut(self) -> Cut | None:
        if not self.stop:
            return None
        start = max(0, self.searched - self.longest_stop + 1)
        hits = [i for i in (self.text.find(s, start) for s in self.stop) if i >= 0]
        self.searched = len(self.text)
        if not hits:
            return None
        self.text = self.text[: min(hits)]
        return Cut("stop")

    def _limit_cut(self, limit: int) -> Cut | None:
        """Count incrementally: everything but the last two tokens seen is taken as settled."""
        if self.stable_chars > len(self.text):  # a stop cut reached into the settled part
            self.stable_chars = self.stable_tokens = 0
        tail = self.text[self.stable_chars :]
        tokens = self.tokenizer.encode(tail)
        if self.stable_tokens + len(tokens) > limit:
            kept, _ = self.tokenizer.truncate(tail, limit - self.stable_tokens)
            self.text = self.text[: self.stable_chars] + kept
            return Cut("length")
        if len(tokens) > 2:
            data = b"".join(self.tokenizer.token_bytes(t) for t in tokens[:-2])
            try:
                self.stable_chars += len(data.decode("utf-8"))
                self.stable_tokens += len(tokens) - 2
            except UnicodeDecodeError:
                pass
        return None
