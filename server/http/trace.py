"""One request on its way, as the journal sees it: when it came, its bytes, what the backend noted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from backends.base import Notes


@dataclass(slots=True)
class Trace:
    """One request on its way: the client's bytes and what the backend noted."""

    arrived: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    raw: bytes = b""
    notes: Notes = field(default_factory=Notes)
    namespace: str | None = None  # the caller's, once authenticated
