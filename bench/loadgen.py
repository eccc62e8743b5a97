"""A closed-loop HTTP/1.1 load generator on raw asyncio protocols (uvloop when installed).

Each of `concurrency` keep-alive connections sends one request, reads the whole response (by
Content-Length, or by decoding the chunked body through its terminating zero-size chunk for a stream,
whose data must end with `data: [DONE]\\n\\n`), records the latency to the last byte and sends the
next request at once. There are no coroutines, futures or header objects on the hot path: the
protocol callbacks parse and re-send directly, so one core drives a one-worker uvicorn to saturation.

`run_window` opens the connections, runs a warm-up, then a measured window: responses that complete
inside it count. It also samples the CPU time of the load generator (this process), of the server
(given its pid) and of the whole machine, so a report can show which side was the bottleneck and
whether other processes competed for the cpus. `summarize` merges windows into one result.

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
from dataclasses import asdict, dataclass, field
from typing import Any, cast

DONE = b"data: [DONE]\n\n"
FETCH_TIMEOUT = 10.0

_HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILER, _COMPLETE = range(7)


class ProtocolError(Exception):
    pass


class ResponseParser:
    """An incremental HTTP/1.1 response parser: Content-Length or chunked bodies, keep-alive."""

    __slots__ = ("body", "buf", "chunked", "length", "need", "state", "status")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.reset()

    def reset(self) -> None:
        """Ready for the next response; bytes already received for it are kept."""
        self.state = _HEAD
        self.status = 0
        self.length = -1
        self.chunked = False
        self.need = 0
        self.body = bytearray()

    def feed(self, data: bytes) -> bool:
        """Consume `data`; True once the response is complete (extra bytes stay buffered)."""
        buf = self.buf
        buf += data
        if self.state == _HEAD:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            self._head(bytes(buf[:end]))
            del buf[: end + 4]
        if self.state == _BODY:
            take = min(len(buf), self.length - len(self.body))
            self.body += buf[:take]
            del buf[:take]
            if len(self.body) == self.length:
                self.state = _COMPLETE
            return self.state == _COMPLETE
        return self._chunks()

    def _head(self, head: bytes) -> None:
        lines = head.lower().split(b"\r\n")
        if not lines[0].startswith(b"http/1.1 "):
            raise ProtocolError(f"bad status line {lines[0]!r}")
        self.status = int(lines[0][9:12])
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name == b"content-length":
                self.length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                self.chunked = True
        if self.chunked:
            self.state = _CHUNK_SIZE
        elif self.length >= 0:
            self.state = _BODY
        else:
            raise ProtocolError("response has neither Content-Length nor chunked encoding")

    def _chunks(self) -> bool:
        buf = self.buf
        pos = 0
        end = len(buf)
        state = self.state
        while True:
            if state == _CHUNK_DATA:
                take = min(self.need, end - pos)
                self.body += buf[pos : pos + take]
                pos += take
                self.need -= take
                if self.need:
                    break
                state = _CHUNK_CRLF
            if state in (_CHUNK_CRLF, _TRAILER):
                if end - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF (trailers are not supported)")
                pos += 2
                if state == _TRAILER:
                    state = _COMPLETE
                    break
                state = _CHUNK_SIZE
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                break
            size = int(buf[pos:eol].split(b";", 1)[0], 16)
            pos = eol + 2
            if size == 0:
                state = _TRAILER
            else:
                self.need = size
                state = _CHUNK_DATA
        del buf[:pos]
        self.state = state
        return state == _COMPLETE


@dataclass
class Response:
    status: int
    body: bytes


def sse_events(body: bytes) -> list[bytes]:
    """The `data:` payloads of an SSE body framed as OpenAI frames it (`data: <json>\\n\\n`)."""
    return [event[len(b"data: ") :] for event in body.split(b"\n\n") if event.startswith(b"data: ")]


async def fetch(host: str, port: int, request: bytes) -> Response:
    """One request on a fresh connection, within FETCH_TIMEOUT: for checking what a server answers."""
    async with asyncio.timeout(FETCH_TIMEOUT):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(request)
            parser = ResponseParser()
            while True:
                data = await reader.read(65536)
                if not data:
                    raise ProtocolError("connection closed before the response was complete")
                if parser.feed(data):
                    return Response(parser.status, bytes(parser.body))
        finally:
            writer.close()


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
    def __init__(self, request: bytes, stream: bool, expect_events: int | None) -> None:
        self.request = request
        self.stream = stream
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
            if not body.endswith(DONE):
                self.error("stream does not end with data: [DONE]")
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
) -> Window:
    """Open `concurrency` connections, warm up, then measure `duration` seconds of closed-loop load.

    Connections that drop are counted as errors and replaced, so the concurrency holds.
    """
    loop = asyncio.get_running_loop()
    phase = _Phase(request, stream, expect_events)

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

    def sample() -> tuple[float, float, float, float]:
        server = process_cpu_seconds(server_pid) if server_pid else 0.0
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
        server_cpu_s=end[2] - start[2] if server_pid else None,
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
