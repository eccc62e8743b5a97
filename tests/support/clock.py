"""A clock for the app factory (`create_app(..., clock=...)`) that moves only when a test moves it."""

from __future__ import annotations


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self, now: float = 5000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
