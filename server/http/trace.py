"""One request on its way, as the journal sees it: when it came, its bytes, what the backend noted."""

from __future__ import annotations

import time

from backends.base import Notes


class Trace:
    """One request on its way: the client's bytes and what the backend noted. Made for every
    journaled request, with what it holds set in order rather than through a dataclass's defaults."""

    __slots__ = ("arrived", "namespace", "notes", "raw", "started")

    def __init__(self) -> None:
        self.arrived = time.time()
        self.started = time.perf_counter()
        self.raw = b""
        self.notes = Notes()
        self.namespace: str | None = None  # the caller's, once authenticated
