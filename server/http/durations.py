"""Durations as the API writes them in `x-ratelimit-reset-*` headers and in "Please try again in ..."
messages: Go's `time.Duration` text at millisecond resolution ("0s", "6ms", "20s", "1.146s",
"1m30.5s", "6m0s", "1h0m0s").

Recorded responses show the value cut, not rounded, to the millisecond: a 3,000 RPM limit with one
request in use answers `20ms` (60 s / 3,000), and a 250,000 TPM limit with 11 tokens in use `2ms`
(2.64 ms). A leaf: it imports nothing of ours.
"""

from __future__ import annotations

import math


def whole_ms(seconds: float) -> int:
    """`seconds` cut to whole milliseconds (never below 0)."""
    return max(0, math.floor(seconds * 1000 + 1e-6))


def go_duration(ms: int) -> str:
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    text = str(seconds) + (f".{millis:03d}".rstrip("0") if millis else "") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text
