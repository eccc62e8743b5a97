"""An upstream's answer as the recorder folds it, whichever API it came from: per choice, the text
and the calls in the pieces they arrived in, each piece with its arrival time, and what only the
Responses API shows (reasoning summary parts, hosted-tool items)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Piece = tuple[str, float]  # a piece of text and when it arrived (seconds after the request was sent)


@dataclass(slots=True)
class Call:
    id: str | None
    name: str
    pieces: list[Piece]
    at: float = 0.0  # when its first delta arrived


@dataclass(slots=True)
class Choice:
    content: list[Piece] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    calls: dict[int, Call] = field(default_factory=dict)
    function: Call | None = None
    finish: str | None = None
    reasoning: list[list[Piece]] = field(default_factory=list)  # summary parts, in order
    items: list[tuple[dict[str, Any], float]] = field(default_factory=list)  # whole items, when done
    logprobs: list[dict[str, Any]] = field(
        default_factory=list
    )  # the content's tokens, as fixtures write them


def logprob_entries(logprobs: Any) -> list[dict[str, Any]]:
    """A choice's (or a chunk's) logprobs as fixture entries (token, logprob, bytes, top_logprobs):
    chat's `{"content": [...]}` as given, the legacy completions' parallel lists joined per token."""
    if not isinstance(logprobs, dict):
        return []
    if "content" in logprobs:
        return [
            {k: entry[k] for k in ("token", "logprob", "bytes", "top_logprobs") if entry.get(k) is not None}
            for entry in logprobs.get("content") or []
        ]
    tokens, values = logprobs.get("tokens") or [], logprobs.get("token_logprobs") or []
    tops = logprobs.get("top_logprobs") or [None] * len(tokens)
    return [
        {
            "token": token,
            "logprob": value,
            "top_logprobs": [{"token": t, "logprob": v} for t, v in (top or {}).items()],
        }
        for token, value, top in zip(tokens, values, tops, strict=False)
        if value is not None  # an echoed prompt's first token has none
    ]


def piece(into: list[Piece], text: Any, at: float) -> None:
    if isinstance(text, str) and text:
        into.append((text, at))
