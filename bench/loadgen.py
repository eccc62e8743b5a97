"""A closed-loop HTTP/1.1 load generator on raw asyncio protocols (uvloop when installed).

Each of `concurrency` keep-alive connections sends one request, reads the whole response (by
Content-Length, or by decoding the chunked body through its terminating zero-size chunk for a stream,
whose data must end with `data: [DONE]\\n\\n`, or for a Responses stream whatever `ends` says), records the latency to the last byte and sends the
next request at once. There are no coroutines, futures or header objects on the hot path: the
protocol callbacks parse and re-send directly, so one core drives a one-worker uvicorn to saturation.

`run_window` opens the connections, runs a warm-up, then a measured window: responses that complete
inside it count. It also samples the CPU time of the load generator (this process), of the server
(given its pid) and of the whole machine, so a report can show which side was the bottleneck and
whether other processes competed for the cpus. bench/summary.py merges windows into one result;
bench/responses.py holds the response parser.

Standalone use, e.g. to profile a server started by hand:
    python -m bench.loadgen --port 8000 --stream --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import cast

from bench.responses import ProtocolError, ResponseParser
from bench.summary import Window, summarize

DONE = b"data: [DONE]\n\n"
Ends = Callable[[bytearray], bool]


def ends_with_done(body: bytearray) -> bool:
    """A chat stream ends with `data: [DONE]`."""
    return body.endswith(DONE)


_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of `pid`, from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_busy_seconds() -> float:
    """CPU seconds spent, over all cpus, on anything but idle and I/O wait (0.0 without /proc/stat)."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    guest = sum(fields[8:10])  # already counted in user and nice
    return (sum(fields) - idle - guest) / _TICK


class _Phase:
    def __init__(self, request: bytes, stream: bool, expect_events: int | None, ends: Ends) -> None:
        self.request = request
        self.stream = stream
        self.ends = ends
        self.expect_events = expect_events
        self.window_start = math.inf
        self.window_end = math.inf
        self.stopping = False
        self.latencies: list[float] = []
        self.errors = 0
        self.error_samples: list[str] = []
        self.events_min = 0
        self.events_max = 0
        self.body_bytes = 0
        self.open: set[_Connection] = set()
        self.idle = asyncio.Event()

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(message)

    def record(self, parser: ResponseParser, latency: float) -> None:
        """Count a response completed inside the window, or an error if it is unacceptable."""
        if parser.status != 200:
            self.error(f"HTTP {parser.status}: {bytes(parser.body[:200])!r}")
            return
        body = parser.body
        if self.stream:
            if not self.ends(body):
                self.error("stream does not end with its terminal event")
                return
            events = body.count(b"data: ")
            if self.expect_events is not None and events != self.expect_events:
                self.error(f"stream has {events} data events, expected {self.expect_events}")
                return
            if not self.events_min or events < self.events_min:
                self.events_min = events
            if events > self.events_max:
                self.events_max = events
        self.body_bytes = len(body)
        self.latencies.append(latency)


class _Connection(asyncio.Protocol):
    def __init__(self, phase: _Phase) -> None:
        self.phase = phase
        self.parser = ResponseParser()
        self.transport: asyncio.Transport | None = None
        self.sent = 0.0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.phase.open.add(self)
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        self.busy = True
        self.sent = time.perf_counter()
        self.transport.write(self.phase.request)

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        phase = self.phase
        try:
            complete = parser.feed(data)
        except (ProtocolError, ValueError) as exc:
            phase.error(f"unparsable response: {exc}")
            assert self.transport is not None
            self.transport.abort()
            return
        if not complete:
            return
        now = time.perf_counter()
        self.busy = False
        if phase.window_start <= now <= phase.window_end:
            phase.record(parser, now - self.sent)
        elif parser.status != 200:
            phase.error(f"HTTP {parser.status} outside the window: {bytes(parser.body[:200])!r}")
        parser.reset()
        if phase.stopping:
            assert self.transport is not None
            self.transport.close()
        else:
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        phase = self.phase
        if self.busy or not phase.stopping:
            phase.error(f"connection lost{f': {exc}' if exc else ''}")
        phase.open.discard(self)
        if not phase.open:
            phase.idle.set()


async def run_window(
    host: str,
    port: int,
    request: bytes,
    *,
    stream: bool,
    concurrency: int = 16,
    duration: float = 5.0,
    warmup: float = 1.0,
    expect_events: int | None = None,
    server_pid: int | None = None,
    ends: Ends = ends_with_done,
    server_cpu: Callable[[], float] | None = None,
) -> Window:
    """Open `concurrency` connections, warm up, then measure `duration` seconds of closed-loop load.

    Connections that drop are counted as errors and replaced, so the concurrency holds. The server's
    CPU time is its pid's, or what `server_cpu` reads (a server of several processes).
    """
    loop = asyncio.get_running_loop()
    phase = _Phase(request, stream, expect_events, ends)

    async def connect() -> None:
        await loop.create_connection(lambda: _Connection(phase), host, port)

    await asyncio.gather(*(connect() for _ in range(concurrency)))

    async def keep_concurrency() -> None:
        reconnects = 0
        while not phase.stopping and reconnects < 10 * concurrency:
            await asyncio.sleep(0.05)
            missing = concurrency - len(phase.open)
            if missing > 0 and not phase.stopping:
                reconnects += missing
                await asyncio.gather(*(connect() for _ in range(missing)), return_exceptions=True)

    if server_cpu is None and server_pid:
        pid = server_pid
        server_cpu = lambda: process_cpu_seconds(pid)  # noqa: E731 (one expression, read twice)

    def sample() -> tuple[float, float, float, float]:
        server = server_cpu() if server_cpu is not None else 0.0
        return time.perf_counter(), time.process_time(), server, machine_busy_seconds()

    keeper = loop.create_task(keep_concurrency())
    try:
        await asyncio.sleep(warmup)
        start = sample()
        phase.window_start = start[0]
        await asyncio.sleep(duration)
        end = sample()
        phase.window_end = end[0]
        phase.stopping = True
    finally:
        phase.stopping = True
        keeper.cancel()
        for conn in list(phase.open):
            if not conn.busy and conn.transport is not None:
                conn.transport.close()
        if phase.open:
            try:
                await asyncio.wait_for(phase.idle.wait(), 10.0)
            except TimeoutError:
                for conn in list(phase.open):
                    if conn.transport is not None:
                        conn.transport.abort()
    return Window(
        seconds=end[0] - start[0],
        latencies=phase.latencies,
        errors=phase.errors,
        error_samples=phase.error_samples,
        body_bytes=phase.body_bytes,
        events_min=phase.events_min,
        events_max=phase.events_max,
        loadgen_cpu_s=end[1] - start[1],
        server_cpu_s=end[2] - start[2] if server_cpu is not None else None,
        machine_busy_s=end[3] - start[3],
    )


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (it is with uvicorn[standard]), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> None:
    from bench.baseline import STREAM_CHUNKS, benchmark_request

    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stream", action="store_true", help="request the 50-chunk stream")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--pid", type=int, help="server pid, to report its CPU use")
    args = parser.parse_args(argv)
    request = benchmark_request(args.host, args.port, args.stream)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        window = runner.run(
            run_window(
                args.host,
                args.port,
                request,
                stream=args.stream,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                expect_events=STREAM_CHUNKS + 1 if args.stream else None,
                server_pid=args.pid,
            )
        )
    result = summarize(args.stream, args.concurrency, [window])
    unit = "streams/s" if args.stream else "req/s"
    print(
        f"{result.rate:.1f} {unit}  p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  "
        f"errors {result.errors}  load generator CPU {result.loadgen_cpu:.0%}"
        + (f"  server CPU {result.server_cpu:.0%}" if result.server_cpu is not None else "")
        + f"  other processes {result.other_cpu:.2f} cpu"
    )
    for sample in result.error_samples:
        print("  error:", sample)


if __name__ == "__main__":
    main()
