"""The measurement loop: servers take turns under the same load, slice by slice (ABBA).

Per mode, non-stream first, then the chat stream, then the Responses stream, each server's measured time is cut into `slices`
windows run in the order A B B A A B ...: slow drift and other work on the machine then weigh on
every server alike, which matters for comparisons more than for absolute figures. Each window opens
fresh connections and discards a warm-up: `Load.warmup` before a server's first slice,
SLICE_WARMUP before each later one. Only one server is loaded at a time; the load generator can move
to a given core for each server while that server is measured.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bench import responses_stream
from bench.baseline import RESPONSES_EVENTS, STREAM_CHUNKS, benchmark_request, responses_request
from bench.loadgen import Ends, ends_with_done, run_window
from bench.processes import HOST, Server
from bench.summary import PhaseResult, Window, summarize

Mode = Literal["non_stream", "stream", "responses_stream"]
MODES: tuple[Mode, ...] = ("non_stream", "stream", "responses_stream")
CHAT_MODES: tuple[Mode, ...] = ("non_stream", "stream")  # what the proxy benchmark measures
SLICE_WARMUP = 0.25  # seconds of unmeasured load before each slice but a server's first, on fresh connections

Results = dict[Mode, dict[str, PhaseResult]]  # mode -> server name -> its windows summed


@dataclass(frozen=True)
class Load:
    concurrency: int  # keep-alive connections, closed loop
    duration: float  # measured seconds per server and mode
    slices: int  # windows that time is cut into
    warmup: float  # unmeasured seconds before a server's first slice

    @property
    def slice_s(self) -> float:
        return self.duration / self.slices


@dataclass(frozen=True)
class Workload:
    """What one mode sends and what a good answer to it is."""

    stream: bool
    events: int | None  # SSE data events in a stream ([DONE] included for chat)
    ends: Ends

    def request(self, mode: Mode, port: int) -> bytes:
        if mode == "responses_stream":
            return responses_request(HOST, port)
        return benchmark_request(HOST, port, self.stream)


WORKLOADS: dict[Mode, Workload] = {
    "non_stream": Workload(False, None, ends_with_done),
    "stream": Workload(True, STREAM_CHUNKS + 1, ends_with_done),
    "responses_stream": Workload(True, RESPONSES_EVENTS, responses_stream.ends),
}


def abba(servers: Sequence[Server], slices: int) -> Iterator[tuple[int, Server]]:
    """(slice number, server) in the order the slices run: forwards, backwards, forwards, ..."""
    for number in range(slices):
        for server in servers if number % 2 == 0 else servers[::-1]:
            yield number, server


async def alternate(
    servers: Sequence[Server],
    load: Load,
    *,
    loadgen_cores: Mapping[str, int | None] | None = None,
    check_chunks: bool = False,
    progress: bool = False,
    modes: Sequence[Mode] = CHAT_MODES,
) -> Results:
    """Measure every server in every mode, alternating slice by slice.

    `loadgen_cores` pins the load generator while a server is measured (server name -> core);
    `check_chunks` counts a stream with other than the benchmark's events (50 chunks and [DONE]; 56
    Responses events) as an error;
    `progress` says on stderr which mode is being measured.
    """
    home = os.sched_getaffinity(0)
    cores = loadgen_cores or {}
    results: Results = {}
    try:
        for mode in modes:
            work = WORKLOADS[mode]
            stream = work.stream
            windows: dict[str, list[Window]] = {server.name: [] for server in servers}
            if progress:
                print(f"  measuring {mode.replace('_', '-')} ...", file=sys.stderr, flush=True)
            for number, server in abba(servers, load.slices):
                core = cores.get(server.name)
                if core is not None:
                    os.sched_setaffinity(0, {core})
                windows[server.name].append(
                    await run_window(
                        HOST,
                        server.port,
                        work.request(mode, server.port),
                        stream=stream,
                        concurrency=load.concurrency,
                        duration=load.slice_s,
                        warmup=load.warmup if number == 0 else SLICE_WARMUP,
                        expect_events=work.events if check_chunks else None,
                        server_pid=server.pid,
                        ends=work.ends,
                    )
                )
            results[mode] = {name: summarize(stream, load.concurrency, w) for name, w in windows.items()}
    finally:
        os.sched_setaffinity(0, home)
    return results
