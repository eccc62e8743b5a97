"""Paced streams at scale, the load-testing case: `python -m bench.paced`.

For each N of `--streams`, a fresh `chatdouble serve` (one worker, pinned to the first core) serves
a fixture whose reply is `--chunks` chunks (default 100) at `--rate` chunks per second (default 20):
the fixtures backend's `timing: {ttft, chunk_delay}`, the product's way to script a fixed pause
between chunks (a latency profile paces tokens, and would pace these chunks alike only because each
is one token). The load generator, on the other core, opens N connections, then sends the N
requests at once and reads every stream to its `data: [DONE]`.

Each chunk carries its index (`w007 `), so the client knows which chunk arrived and when. Chunk k
is due at the first chunk plus k intervals. Its lateness is measured two ways: against the first
chunk's arrival (drift: what the pacing itself adds) and against the request's send time plus the
nominal ttft plus k intervals (absolute: a late first chunk shifts the whole stream). Also: time to
first token from the request's send, the most streams open at once (a stream is open from its first
chunk to its last, as the client sees them), the server's RSS idle (after one warm-up stream) and
at peak (VmHWM), hence KiB per open stream, and the CPU the server and the generator used.

The generator is one asyncio (uvloop) protocol per socket, no httpx: it scans each read for the
chunk marker and keeps nothing else. It raises RLIMIT_NOFILE to its hard limit so it can hold the
sockets; its own CPU share is reported so a reader can judge whether it kept up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from bench import processes
from bench.cores import realtime, usable_cores
from bench.loadgen import loop_factory, machine_busy_seconds, process_cpu_seconds
from bench.processes import HOST, Server, chatdouble_argv
from bench.variants import serving_fixtures

MARKER = b'"content":"w'  # a content chunk's text starts with w and its 4-digit index
DONE = b"data: [DONE]"
CONNECT_BATCH = 500  # connections opened at a time (uvicorn's listen backlog is 2048)
DEFAULT_STREAMS = (1, 100, 1000, 2000, 5000)


def chunk_text(index: int) -> str:
    return f"w{index:04d} "


def write_config(work: Path, chunks: int, interval: float, ttft: float) -> Path:
    """A fixtures backend: model `warmup` answers unpaced, every other model paced."""
    texts = [chunk_text(k) for k in range(chunks)]
    fixtures = [
        {"id": "warmup", "match": {"model": "warmup"}, "response": {"chunks": texts}},
        {
            "id": "paced",
            "match": {"model": "*"},
            "response": {"chunks": texts},
            "timing": {"ttft": ttft, "chunk_delay": interval},
        },
    ]
    return serving_fixtures(work, fixtures, "paced")


def request(port: int, model: str) -> bytes:
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "Go."}], "stream": True},
        separators=(",", ":"),
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n"
        "Content-Type: application/json\r\nAuthorization: Bearer sk-bench\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Stream(asyncio.Protocol):
    """One connection, one stream: the send time and each chunk's arrival, in chunk order."""

    __slots__ = ("arrivals", "done", "error", "sent", "status_seen", "tail", "transport")

    def __init__(self, done: asyncio.Future[None] | None = None) -> None:
        self.transport: asyncio.Transport | None = None
        self.sent = 0.0
        self.arrivals: list[float] = []
        self.tail = b""
        self.status_seen = False
        self.error = ""
        self.done = done

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.sent = time.perf_counter()
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self.status_seen:
            self.status_seen = True
            if not data.startswith(b"HTTP/1.1 200"):
                self.finish(f"status line {data[:40]!r}")
                return
        buf = self.tail + data
        at = buf.find(MARKER)
        while at >= 0:
            digits = buf[at + len(MARKER) : at + len(MARKER) + 4]
            # a marker cut off at the end of a read is seen whole in the next one (the tail)
            if len(digits) == 4 and int(digits) == len(self.arrivals):
                self.arrivals.append(now)
            at = buf.find(MARKER, at + 1)
        if DONE in buf:
            self.finish("")
        self.tail = buf[-(len(MARKER) + 4) :]

    def finish(self, error: str) -> None:
        self.error = error
        if self.transport is not None:
            self.transport.close()
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.error = self.error or f"connection lost: {exc}"
            self.done.set_result(None)


@dataclass
class Result:
    streams: int
    chunks: int  # sent in all, by every stream
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    open_at_once: int = 0
    ttft_ms: list[float] = field(default_factory=list)
    drift_ms: list[float] = field(default_factory=list)  # chunk k against first chunk + k intervals
    running_ms: list[float] = field(default_factory=list)  # the same, once every stream has begun
    late_ms: list[float] = field(default_factory=list)  # chunk k against send + ttft + k intervals
    rss_idle_kib: int = 0
    rss_peak_kib: int = 0
    server_cpu_s: float = 0.0
    loadgen_cpu_s: float = 0.0
    others_cpu_s: float = 0.0  # every other process on the machine meanwhile
    seconds: float = 0.0


def vm_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> None:
    """Set VmHWM back to the current RSS (Linux 4.0+), so the peak read later is this load's own,
    not the start-up's; without that the peak can only be as high or higher."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def most_open(spans: Sequence[tuple[float, float]]) -> int:
    """The most spans (first chunk, last chunk) that overlap at any instant."""
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    best = now = 0
    for _, step in edges:
        now += step
        best = max(best, now)
    return best


async def measure(server: Server, n: int, chunks: int, interval: float, ttft: float) -> Result:
    loop = asyncio.get_running_loop()
    result = Result(n, n * chunks)
    warm = Stream(loop.create_future())
    await loop.create_connection(lambda: warm, HOST, server.port)
    warm.send(request(server.port, "warmup"))
    await asyncio.wait_for(cast(asyncio.Future[None], warm.done), 30)
    if warm.error or len(warm.arrivals) != chunks:
        raise processes.RunError(f"warm-up stream: {warm.error or f'{len(warm.arrivals)} chunks'}")
    result.rss_idle_kib = vm_kib(server.pid, "VmRSS:")
    reset_peak(server.pid)
    streams = [Stream(loop.create_future()) for _ in range(n)]
    for start in range(0, n, CONNECT_BATCH):
        batch = streams[start : start + CONNECT_BATCH]
        await asyncio.gather(*(loop.create_connection(lambda s=s: s, HOST, server.port) for s in batch))  # type: ignore[misc]
    payload = request(server.port, "paced")
    cpu0, server0, busy0 = time.process_time(), process_cpu_seconds(server.pid), machine_busy_seconds()
    wall0 = time.perf_counter()
    for stream in streams:
        stream.send(payload)
    budget = ttft + chunks * interval + 60 + n / 100
    waits = [cast(asyncio.Future[None], s.done) for s in streams]
    _, pending = await asyncio.wait(waits, timeout=budget)
    wall = time.perf_counter() - wall0
    result.seconds = wall
    result.loadgen_cpu_s = time.process_time() - cpu0
    result.server_cpu_s = process_cpu_seconds(server.pid) - server0
    result.others_cpu_s = machine_busy_seconds() - busy0 - result.loadgen_cpu_s - result.server_cpu_s
    result.rss_peak_kib = vm_kib(server.pid, "VmHWM:")
    for stream in streams:
        if stream.transport is not None and not stream.transport.is_closing():
            stream.transport.abort()
    if pending:
        result.errors.append(f"{len(pending)} streams unfinished after {budget:.0f} s")
    whole = []
    for stream in streams:
        if stream.error or len(stream.arrivals) != chunks:
            result.errors.append(stream.error or f"{len(stream.arrivals)} of {chunks} chunks")
        else:
            whole.append(stream)
    result.completed = len(whole)
    spans = [(stream.arrivals[0], stream.arrivals[-1]) for stream in whole]
    all_begun = max((first for first, _ in spans), default=0.0)
    for stream in whole:
        got = stream.arrivals
        result.ttft_ms.append((got[0] - stream.sent) * 1000)
        first, due = got[0], stream.sent + ttft
        drift = [((t - first - k * interval) * 1000, t) for k, t in enumerate(got) if k]
        result.drift_ms.extend(ms for ms, _ in drift)
        result.running_ms.extend(ms for ms, t in drift if t >= all_begun)
        result.late_ms.extend((t - due - k * interval) * 1000 for k, t in enumerate(got))
    result.open_at_once = most_open(spans)
    return result


def pct(values: Sequence[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


HEADER = (
    f"{'N':>5} {'open':>5} {'done':>5} | {'TTFT p50':>8} {'p99':>7} | {'drift p50':>9} {'p99':>7} "
    f"{'max':>7} {'run p99':>7} | {'late p50':>8} {'p99':>7} {'max':>7} | {'RSS idle':>8} {'peak':>6} {'KiB/open':>8} "
    f"{'KiB/N':>5} | {'srv cpu':>7} {'us/chk':>6} {'gen cpu':>7} {'others':>6}"
)


def row(r: Result) -> str:
    grown = r.rss_peak_kib - r.rss_idle_kib
    per = grown / r.open_at_once if r.open_at_once else float("nan")
    return (
        f"{r.streams:>5} {r.open_at_once:>5} {r.completed:>5} | {pct(r.ttft_ms, 50):>8.1f} "
        f"{pct(r.ttft_ms, 99):>7.1f} | {pct(r.drift_ms, 50):>9.1f} {pct(r.drift_ms, 99):>7.1f} "
        f"{max(r.drift_ms, default=float('nan')):>7.1f} {pct(r.running_ms, 99):>7.1f} | "
        f"{pct(r.late_ms, 50):>8.1f} "
        f"{pct(r.late_ms, 99):>7.1f} {max(r.late_ms, default=float('nan')):>7.1f} | "
        f"{r.rss_idle_kib / 1024:>6.0f}MB {r.rss_peak_kib / 1024:>4.0f}MB {per:>8.1f} "
        f"{grown / r.streams:>5.1f} | "
        f"{r.server_cpu_s / r.seconds:>7.0%} {r.server_cpu_s * 1e6 / max(1, r.chunks):>6.0f} "
        f"{r.loadgen_cpu_s / r.seconds:>7.0%} {r.others_cpu_s / r.seconds:>6.2f}"
    )


def raise_nofile(wanted: int) -> int:
    """Raise this process's (and so the server's) open-file limit toward `wanted`; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, wanted))
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run(args: argparse.Namespace) -> int:
    processes.raise_on_sigterm()
    interval, ttft = 1 / args.rate, args.ttft if args.ttft is not None else 1 / args.rate
    limit = raise_nofile(max(args.streams) + 256)
    cores = usable_cores()
    server_core, loadgen_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    if loadgen_core is not None:
        os.sched_setaffinity(0, {loadgen_core})
    print(
        f"paced streams: {args.chunks} chunks at {args.rate:g}/s (ttft {ttft * 1000:.0f} ms), "
        f"server on cpu {server_core}, generator on cpu {loadgen_core}, RLIMIT_NOFILE {limit}"
    )
    print(
        "lateness in ms: drift = against first chunk + k intervals; late = against send + ttft + k intervals"
    )
    print(HEADER)
    failed = False
    with tempfile.TemporaryDirectory(prefix="chatdouble-paced-") as tmp:
        work = Path(tmp)
        config = write_config(work, args.chunks, interval, ttft)
        for n in args.streams:
            (port,) = processes.free_ports(1)
            argv = [*chatdouble_argv(port), "--config", str(config)]
            server = Server("chatdouble", argv, server_core, port, work / f"chatdouble-{n}.log")
            with processes.running([server]), realtime(not args.normal_priority):
                with asyncio.Runner(loop_factory=loop_factory()) as runner:
                    result = runner.run(
                        processes.until_sigterm(measure(server, n, args.chunks, interval, ttft))
                    )
                processes.still_running([server])
            print(row(result), flush=True)
            for error in sorted(set(result.errors))[:5]:
                print(f"      error ({result.errors.count(error)}x): {error}")
            failed |= bool(result.errors)
    return 1 if failed else 0


def streams_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paced", description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=streams_list, default=list(DEFAULT_STREAMS), help="e.g. 1,100,2000")
    parser.add_argument("--chunks", type=int, default=100, help="chunks per reply (default 100)")
    parser.add_argument("--rate", type=float, default=20.0, help="chunks per second (default 20)")
    parser.add_argument("--ttft", type=float, help="seconds to the first chunk (default: one interval)")
    parser.add_argument("--normal-priority", action="store_true", help="no SCHED_FIFO for the generator")
    args: Any = parser.parse_args(argv)
    try:
        return run(args)
    except (processes.RunError, processes.TerminatedError) as exc:
        print(f"run failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
