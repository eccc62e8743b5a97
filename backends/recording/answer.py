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


def piece(into: list[Piece], text: Any, at: float) -> None:
    if isinstance(text, str) and text:
        into.append((text, at))
