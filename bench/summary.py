"""Measured windows and their summary: rates, latency percentiles, CPU shares.

`Window` is the raw outcome of one measured window on one server, as `loadgen.run_window` returns
it; `summarize` merges a server's windows in one mode into a `PhaseResult`, the figures a report
shows. Percentiles are nearest-rank over every latency of every window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Window:
    """The raw outcome of one measured window on one server."""

    seconds: float
    latencies: list[float]  # seconds, one per response completed inside the window
    errors: int
    error_samples: list[str]
    body_bytes: int  # of the last counted response
    events_min: int  # SSE data events per stream, [DONE] included (0 for non-stream)
    events_max: int
    loadgen_cpu_s: float  # CPU seconds this process used during the window
    server_cpu_s: float | None  # CPU seconds the server used, if its pid was given
    machine_busy_s: float  # CPU seconds all processes on the machine used (from /proc/stat)


@dataclass
class PhaseResult:
    """One or more windows on one server, summed. Latencies are to the last byte, in milliseconds."""

    stream: bool
    concurrency: int
    windows: int
    seconds: float
    completed: int
    errors: int
    rate: float  # completed responses per second
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    body_bytes: int
    events_min: int
    events_max: int
    loadgen_cpu: float  # CPU seconds per second of this process (1.0 = one core busy)
    server_cpu: float | None  # the same for the server
    per_server_cpu_s: float | None  # responses per CPU second of the server: its cost, whatever its share
    other_cpu: float  # cores' worth of CPU used by every other process on the machine meanwhile
    error_samples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(stream: bool, concurrency: int, windows: Sequence[Window]) -> PhaseResult:
    seconds = sum(w.seconds for w in windows)
    ordered = sorted(latency for w in windows for latency in w.latencies)
    loadgen_cpu_s = sum(w.loadgen_cpu_s for w in windows)
    server_cpu_s = (
        None if any(w.server_cpu_s is None for w in windows) else sum(w.server_cpu_s or 0.0 for w in windows)
    )
    machine_busy_s = sum(w.machine_busy_s for w in windows)
    streamed = [w for w in windows if w.events_max]
    ms = 1000.0
    return PhaseResult(
        stream=stream,
        concurrency=concurrency,
        windows=len(windows),
        seconds=seconds,
        completed=len(ordered),
        errors=sum(w.errors for w in windows),
        rate=len(ordered) / seconds if seconds else 0.0,
        p50_ms=percentile(ordered, 0.50) * ms,
        p90_ms=percentile(ordered, 0.90) * ms,
        p99_ms=percentile(ordered, 0.99) * ms,
        max_ms=(ordered[-1] if ordered else 0.0) * ms,
        mean_ms=(sum(ordered) / len(ordered) if ordered else 0.0) * ms,
        body_bytes=windows[-1].body_bytes if windows else 0,
        events_min=min((w.events_min for w in streamed), default=0),
        events_max=max((w.events_max for w in streamed), default=0),
        loadgen_cpu=loadgen_cpu_s / seconds if seconds else 0.0,
        server_cpu=server_cpu_s / seconds if server_cpu_s is not None and seconds else None,
        per_server_cpu_s=len(ordered) / server_cpu_s if server_cpu_s else None,
        other_cpu=max(0.0, machine_busy_s - loadgen_cpu_s - (server_cpu_s or 0.0)) / seconds
        if seconds
        else 0.0,
        error_samples=[sample for w in windows for sample in w.error_samples][:5],
    )


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
