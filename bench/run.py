"""chatdouble against a bare Starlette baseline, in one command: `python -m bench.run`.

Starts chatdouble (`chatdouble serve`: embedded default config, echo backend, 1 worker) and the
baseline (`python -m bench.baseline`) on free 127.0.0.1 ports with the same uvicorn settings, pins
each to its own core, and checks that both answer the benchmark request with comparable replies (a
50-chunk stream each). Then, non-stream first and stream second, it loads one server at a time with
the load generator pinned to a core that server does not use, alternating the servers slice by slice
(ABBA) at the same concurrency. It prints requests (or streams) per second, p50/p99 latency to the
last byte, responses per server CPU second, CPU use of server, load generator and other processes,
and peak RSS, then chatdouble's ratio to the baseline against the bars. Both servers are terminated
at the end, and also on error, Ctrl-C or SIGTERM.

Exit status: 0 when the run completes (it is a report), 1 with --check when a bar or a reply check
fails, 2 when the run itself fails (e.g. a server does not start).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import importlib.metadata
import importlib.util
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from bench.baseline import MESSAGE, MODEL, PATH, STREAM_CHUNKS, benchmark_request
from bench.loadgen import PhaseResult, Window, fetch, loop_factory, run_window, sse_events, summarize

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
BARS = {"non_stream": 0.25, "stream": 0.30}
PR_SET_PDEATHSIG = 1
T = TypeVar("T")
SLICE_WARMUP = 0.25  # seconds of unmeasured load before each slice but a server's first, on fresh connections
NOISY = 0.15  # cpus' worth of other processes' load that earns a note
LOADGEN_RT_PRIORITY = 10  # SCHED_FIFO priority of the load generator while it measures
SATURATED = 0.85  # a loaded server busy less than this share of the time was held back by something else


class RunError(Exception):
    pass


@dataclass
class Server:
    name: str
    argv: list[str]
    core: int | None
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    results: dict[str, PhaseResult] = field(default_factory=dict)
    peak_rss_kib: int = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def _child_setup(core: int | None) -> None:
    """In the forked child, before exec: pin to `core`, and die with the parent (Linux)."""
    if core is not None:
        os.sched_setaffinity(0, {core})
    if _LIBC is not None and sys.platform == "linux":
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def server_env() -> dict[str, str]:
    """The environment without CHATDOUBLE_* overrides, so chatdouble runs its embedded default config."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CHATDOUBLE_")}


def chatdouble_argv(port: int) -> list[str]:
    script = Path(sys.executable).with_name("chatdouble")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "server"]
    return [*command, "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]


def baseline_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "bench.baseline", "--host", HOST, "--port", str(port)]


def start(server: Server) -> None:
    with server.log.open("wb") as log:
        server.proc = subprocess.Popen(
            server.argv,
            cwd=ROOT,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _child_setup(server.core),
        )


def stop(server: Server) -> None:
    proc = server.proc
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=8)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    assert server.proc is not None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RunError(f"{server.name} exited with status {server.proc.returncode}:\n{server.log_tail()}")
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RunError(f"{server.name} did not accept connections within {timeout:.0f} s:\n{server.log_tail()}")


def peak_rss_kib(pid: int) -> int:
    """VmHWM: the peak resident set size of the process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


@dataclass
class ReplyCheck:
    """What a server answers to the benchmark request, once each way."""

    body_bytes: int = 0
    stream_bytes: int = 0
    chunks: int = 0  # chat.completion.chunk events before [DONE]
    done: bool = False
    problems: list[str] = field(default_factory=list)


async def check_replies(server: Server) -> ReplyCheck:
    check = ReplyCheck()
    reply = await fetch(HOST, server.port, benchmark_request(HOST, server.port, stream=False))
    check.body_bytes = len(reply.body)
    if reply.status != 200:
        check.problems.append(f"non-stream: HTTP {reply.status}: {reply.body[:300]!r}")
    else:
        completion = json.loads(reply.body)
        if completion.get("object") != "chat.completion":
            check.problems.append(f"non-stream: object is {completion.get('object')!r}")
        elif completion["choices"][0]["message"]["content"] != MESSAGE:
            check.problems.append("non-stream: content is not the benchmark message")
    reply = await fetch(HOST, server.port, benchmark_request(HOST, server.port, stream=True))
    check.stream_bytes = len(reply.body)
    if reply.status != 200:
        check.problems.append(f"stream: HTTP {reply.status}: {reply.body[:300]!r}")
        return check
    events = sse_events(reply.body)
    check.done = bool(events) and events[-1] == b"[DONE]"
    chunks = [json.loads(event) for event in events if event != b"[DONE]"]
    check.chunks = len(chunks)
    if not check.done:
        check.problems.append("stream: does not end with data: [DONE]")
    if check.chunks != STREAM_CHUNKS:
        check.problems.append(f"stream: {check.chunks} chunks, expected {STREAM_CHUNKS}")
    if any(chunk.get("object") != "chat.completion.chunk" for chunk in chunks):
        check.problems.append("stream: an event is not a chat.completion.chunk")
    content = "".join(
        chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks if chunk.get("choices")
    )
    if content != MESSAGE:
        check.problems.append("stream: content is not the benchmark message")
    return check


@dataclass
class Placement:
    cores: list[int]
    loadgen: dict[str, int | None]  # server name -> core of the load generator while it is measured
    note: str


def place(servers: list[Server], cores: list[int]) -> Placement:
    """Server cores are set on `servers`; returns where the load generator runs for each."""
    chatdouble, baseline = servers
    if len(cores) >= 3:
        chatdouble.core, baseline.core = cores[0], cores[1]
        loadgen: dict[str, int | None] = {chatdouble.name: cores[2], baseline.name: cores[2]}
        note = f"chatdouble on cpu {cores[0]}, baseline on cpu {cores[1]}, load generator on cpu {cores[2]}"
    elif len(cores) == 2:
        chatdouble.core, baseline.core = cores[0], cores[1]
        loadgen = {chatdouble.name: cores[1], baseline.name: cores[0]}
        note = (
            f"chatdouble on cpu {cores[0]}, baseline on cpu {cores[1]}; the load generator runs on the "
            "other server's (idle) cpu while one server is measured"
        )
    else:
        chatdouble.core = baseline.core = None
        loadgen = {chatdouble.name: None, baseline.name: None}
        note = "1 cpu: no pinning; servers and load generator share it (figures understate both servers)"
    return Placement(cores, loadgen, note)


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def uvicorn_setup() -> str:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return (
        f"uvicorn {version('uvicorn')}, 1 worker, loop auto ({loop}), http auto ({http}), "
        "log level warning, no access log"
    )


def revision() -> str:
    """The git commit of the code under test, `+dirty` when server/ or backends/ have local changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "server", "backends", "pyproject.toml"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def ratios_of(servers: list[Server], key: str) -> dict[str, float | None]:
    chatdouble, baseline = servers
    out: dict[str, float | None] = {}
    for mode in BARS:
        mine, theirs = getattr(chatdouble.results[mode], key), getattr(baseline.results[mode], key)
        out[mode] = mine / theirs if mine is not None and theirs else None
    return out


def render(
    servers: list[Server],
    checks: dict[str, ReplyCheck],
    placement: Placement,
    args: argparse.Namespace,
    ratios: dict[str, float | None],
    cpu_ratios: dict[str, float | None],
    realtime: bool,
) -> str:
    slice_s = args.duration / args.slices
    priority = (
        f"SCHED_FIFO {LOADGEN_RT_PRIORITY}"
        if realtime
        else "normal priority" + (" (SCHED_FIFO not permitted here)" if args.realtime else "")
    )
    out = [
        f"chatdouble benchmark: POST {PATH}, model {MODEL}, echo reply of {STREAM_CHUNKS - 2} tokens",
        f"machine:  {len(placement.cores)} usable cpu(s), Python {platform.python_version()}; {placement.note}",
        f"servers:  {uvicorn_setup()}; chatdouble {version('chatdouble')} at {revision()}, "
        f"fastapi {version('fastapi')}, starlette {version('starlette')}",
        f"load:     {args.concurrency} keep-alive connections, closed loop; per server and mode "
        f"{args.duration:g} s measured in {args.slices} slices of {slice_s:g} s, alternating servers "
        f"(ABBA), after a {args.warmup:g} s warm-up ({SLICE_WARMUP:g} s before each later slice); "
        f"load generator at {priority}",
    ]
    for server in servers:
        check = checks[server.name]
        stream = server.results.get("stream")
        seen = ""
        if stream is not None and stream.completed:
            lo, hi = stream.events_min - 1, stream.events_max - 1
            seen = (
                f"; under load: {lo} chunks in every stream"
                if lo == hi
                else f"; under load: {lo}-{hi} chunks"
            )
        out.append(
            f"reply:    {server.name:<10} non-stream body {check.body_bytes} B; stream "
            f"{check.chunks} chunks + {'[DONE]' if check.done else 'no [DONE]'}, {check.stream_bytes} B{seen}"
        )
    for mode, title, unit in (
        ("non_stream", "non-stream", "req/s"),
        ("stream", f"stream ({STREAM_CHUNKS} chunks)", "streams/s"),
    ):
        out += [
            "",
            f"{title + ', concurrency ' + str(args.concurrency):<34}{unit:>10}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'per cpu-s':>11}{'srv cpu':>9}{'gen cpu':>9}{'others':>8}",
        ]
        for server in servers:
            r = server.results[mode]
            per_cpu = f"{r.per_server_cpu_s:.0f}" if r.per_server_cpu_s is not None else "-"
            out.append(
                f"  {server.name:<32}{r.rate:>10.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{per_cpu:>11}"
                f"{_pct(r.server_cpu):>9}{_pct(r.loadgen_cpu):>9}{r.other_cpu:>8.2f}"
            )
    out += ["", "peak RSS: " + ", ".join(f"{s.name} {s.peak_rss_kib / 1024:.1f} MiB" for s in servers), ""]
    for server in servers:
        for mode, r in server.results.items():
            if r.errors:
                out.append(f"ERRORS:   {server.name} {mode}: {r.errors} ({'; '.join(r.error_samples)})")
        for problem in checks[server.name].problems:
            out.append(f"CHECK:    {server.name}: {problem}")
    for server in servers:
        for mode, r in server.results.items():
            if r.server_cpu is not None and r.server_cpu < SATURATED:
                effect = (
                    "flatters chatdouble's ratio" if server.name == "baseline" else "understates chatdouble"
                )
                out.append(
                    f"NOTE:     {server.name} {mode.replace('_', '-')}: the server was busy only "
                    f"{r.server_cpu:.0%} of the time under load, so its rate is limited by the machine "
                    f"(cpu contention, wake-up latency), not by the server; this {effect}"
                )
    busy = max(r.other_cpu for s in servers for r in s.results.values())
    if busy > NOISY:
        out.append(
            f"NOTE:     other processes used up to {busy:.2f} cpu during the measured slices: absolute "
            "figures are low and noisy; the ratios (same slices, alternating) hold up better, and "
            "'per cpu-s' (responses per server cpu second) is the least affected"
        )
    for mode, label in (("non_stream", "non-stream:"), ("stream", "stream:")):
        ratio, cpu_ratio = ratios[mode], cpu_ratios[mode]
        if ratio is None:
            out.append(f"{label:<12}no baseline figure")
            continue
        verdict = "PASS" if ratio >= BARS[mode] else "FAIL"
        per_cpu = f"  (per server cpu-s: {cpu_ratio * 100:.1f}%)" if cpu_ratio is not None else ""
        out.append(
            f"{label:<12}chatdouble/baseline = {ratio * 100:5.1f}% (bar {BARS[mode] * 100:.0f}%)  {verdict}{per_cpu}"
        )
    return "\n".join(out)


def set_realtime(enable: bool) -> bool:
    """Make this thread SCHED_FIFO (or normal again); False where that is not permitted or supported."""
    policy, priority = (os.SCHED_FIFO, LOADGEN_RT_PRIORITY) if enable else (os.SCHED_OTHER, 0)
    try:
        os.sched_setscheduler(0, policy, os.sched_param(priority))
    except (OSError, AttributeError):
        return False
    return True


async def measure(servers: list[Server], placement: Placement, args: argparse.Namespace) -> bool:
    """Per mode, alternate the servers slice by slice (ABBA), so drift and outside load hit both alike.

    The load generator runs SCHED_FIFO unless told not to (returns whether it did): a fast server
    drains 16 requests in well under a millisecond, so a load generator that waits a few
    milliseconds behind some other process on its core would leave the server idle and understate it.
    It blocks whenever it has nothing to do, so it takes no more of its core than at normal priority.
    """
    home = os.sched_getaffinity(0)
    slice_s = args.duration / args.slices
    realtime = args.realtime and set_realtime(True)
    try:
        for mode in BARS:
            stream = mode == "stream"
            windows: dict[str, list[Window]] = {server.name: [] for server in servers}
            print(f"  measuring {mode.replace('_', '-')} ...", file=sys.stderr, flush=True)
            for number in range(args.slices):
                for server in servers if number % 2 == 0 else servers[::-1]:
                    core = placement.loadgen[server.name]
                    if core is not None:
                        os.sched_setaffinity(0, {core})
                    windows[server.name].append(
                        await run_window(
                            HOST,
                            server.port,
                            benchmark_request(HOST, server.port, stream),
                            stream=stream,
                            concurrency=args.concurrency,
                            duration=slice_s,
                            warmup=args.warmup if number == 0 else SLICE_WARMUP,
                            expect_events=STREAM_CHUNKS + 1 if stream else None,
                            server_pid=server.pid,
                        )
                    )
            for server in servers:
                server.results[mode] = summarize(stream, args.concurrency, windows[server.name])
    finally:
        if realtime:
            set_realtime(False)
        os.sched_setaffinity(0, home)
    return realtime


class TerminatedError(Exception):
    pass


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise TerminatedError


async def _until_sigterm(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro`; SIGTERM cancels it (an exception raised by a Python-level signal handler inside
    one of uvloop's protocol callbacks would be reported and swallowed there)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True
        task.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        return await coro
    except asyncio.CancelledError:
        if terminated:
            raise TerminatedError from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _on_sigterm)


def run(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chatdouble-bench-")))
        cd_port, bl_port = free_port(), free_port()
        while bl_port == cd_port:
            bl_port = free_port()
        servers = [
            Server("chatdouble", chatdouble_argv(cd_port), None, cd_port, logs / "chatdouble.log"),
            Server("baseline", baseline_argv(bl_port), None, bl_port, logs / "baseline.log"),
        ]
        placement = place(servers, sorted(os.sched_getaffinity(0)))
        for server in servers:
            stack.callback(stop, server)
            start(server)
        try:
            for server in servers:
                wait_ready(server)
            print(f"  servers up: {placement.note}", file=sys.stderr, flush=True)
            with asyncio.Runner(loop_factory=loop_factory()) as runner:
                checks = {
                    server.name: runner.run(_until_sigterm(check_replies(server))) for server in servers
                }
                realtime = runner.run(_until_sigterm(measure(servers, placement, args)))
            for server in servers:
                if server.proc is not None and server.proc.poll() is not None:
                    raise RunError(f"{server.name} exited during the run:\n{server.log_tail()}")
                server.peak_rss_kib = peak_rss_kib(server.pid)
        except TerminatedError:
            print("bench: terminated", file=sys.stderr)
            return 128 + signal.SIGTERM
        except RunError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        except (OSError, TimeoutError) as exc:
            print(f"bench: {exc!r}", file=sys.stderr)
            for server in servers:
                print(f"--- {server.name} log:\n{server.log_tail()}", file=sys.stderr)
            return 2
        ratios = ratios_of(servers, "rate")
        cpu_ratios = ratios_of(servers, "per_server_cpu_s")
        print(render(servers, checks, placement, args, ratios, cpu_ratios, realtime))
        passed = {mode: (ratios[mode] or 0.0) >= BARS[mode] for mode in BARS}
        sound = all(not check.problems for check in checks.values()) and not any(
            r.errors for server in servers for r in server.results.values()
        )
        if args.json:
            report: dict[str, Any] = {
                "command": " ".join(sys.argv),
                "revision": revision(),
                "python": platform.python_version(),
                "uvicorn": uvicorn_setup(),
                "placement": {
                    "cores": placement.cores,
                    "servers": {s.name: s.core for s in servers},
                    "loadgen": placement.loadgen,
                },
                "concurrency": args.concurrency,
                "duration": args.duration,
                "slices": args.slices,
                "warmup": args.warmup,
                "slice_warmup": SLICE_WARMUP,
                "loadgen_sched_fifo": realtime,
                "servers": {
                    s.name: {
                        "argv": s.argv,
                        "peak_rss_kib": s.peak_rss_kib,
                        "reply": vars(checks[s.name]),
                        "non_stream": s.results["non_stream"].as_dict(),
                        "stream": s.results["stream"].as_dict(),
                    }
                    for s in servers
                },
                "ratios": ratios,
                "ratios_per_server_cpu_s": cpu_ratios,
                "bars": BARS,
                "pass": passed,
                "sound": sound,
            }
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        if args.check and not (all(passed.values()) and sound):
            return 1
        return 0
    return 2  # unreachable: ExitStack does not swallow exceptions


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="chatdouble against a bare Starlette baseline."
    )
    parser.add_argument(
        "--duration", type=float, default=5.0, help="measured seconds per server and mode (default 5)"
    )
    parser.add_argument(
        "--slices", type=int, default=5, help="alternating slices the duration is cut into (default 5)"
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="warm-up seconds before a server's first slice (default 1)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="connections (default 16)")
    parser.add_argument(
        "--normal-priority",
        dest="realtime",
        action="store_false",
        help="run the load generator at normal priority instead of SCHED_FIFO",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--check", action="store_true", help="exit 1 when a bar or a reply check fails")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1 or args.slices < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --concurrency and --slices >= 1")
    with suppress(KeyboardInterrupt):
        return run(args)
    print("bench: interrupted", file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
