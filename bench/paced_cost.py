"""The server's cost per paced chunk, in process: `python -m bench.paced_cost`.

bench/paced.py measures paced streams against a server on its own core, in real time, where what a
chunk costs blurs with everything else the machine does. This runs the same server code in one
process: the app as `chatdouble serve` builds it (a fixtures backend, the fixtures paced as
bench.paced paces them, 50 ms between chunks), uvicorn's httptools protocol with the project's
`JoinedWritesProtocol` on uvloop, and one loopback TCP connection per stream, whose client end is
in a process of its own that sends the requests and reads the streams (and checks them). On the
server's side it all runs as in a live server: the pacer's timers, the stream's frames, uvicorn's
`send`, the joined writes, the socket writes.

One thing is bent: the fixtures backend's clock stands still at the time the streams start. The
streams' schedules then line up: chunk k of a stream that asked for model `paced-G` is due one
second (time to set every stream up, under valgrind too) plus G milliseconds plus k intervals
after that. So each tick of the pacer wakes `--streams` streams (default 40, what a millisecond holds
at 2,000 streams of 20 chunks a second), in `--ticks` milliseconds of each interval. And by the
backend's clock no chunk is ever late, so every one is paced, however slow valgrind makes the
server (a late piece would go out unpaced).

Each measure is the difference of a run with `--chunks` chunks per stream and one with `--few`,
divided by the extra chunks, so that a request's own cost (parsing, routing, the first chunk) and
the process's start cancel out:

- `--count`: instructions, counted by valgrind (cachegrind, no cache simulation) with a fixed hash
  seed, one tick of 40 streams. Timing still enters a little (a tick served late, the loop's idle
  turns), so runs differ by up to about 1.5%, more on a busy machine: repeat, and count both sides
  of an A/B in the same minute.
- `--syscalls`: system calls by name, counted by strace. valgrind counts none of their cost: a
  `getpid` per chunk (Python 3.11's `asyncio.get_running_loop()`) shows only here.
- CPU time (default): the process's, best of `--rounds` rounds, 25 ticks of 40 streams (1,000
  streams, 20,000 chunks a second). It moves with the machine's load like any timing.

    .venv/bin/python -m bench.paced_cost --count           # instructions per chunk (about a minute)
    .venv/bin/python -m bench.paced_cost --syscalls        # system calls per chunk
    .venv/bin/python -m bench.paced_cost                   # CPU time per chunk (about 30 s)
    .venv/bin/python -m bench.paced_cost --dump out.bin    # what the clients got, to compare versions

The garbage collector is set as `chatdouble serve` sets it (`--no-gc` turns it off).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from bench.loadgen import loop_factory
from bench.paced import DONE, chunk_text, request
from bench.variants import serving_fixtures
from server.__main__ import _settle_collector
from server.app import create_app
from server.config import load_settings
from server.http.joined_writes import JoinedWritesProtocol

REFS = re.compile(rb"I\s+refs:\s+([\d,]+)")
STRACE = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", re.MULTILINE)
INTERVAL = 0.05  # between chunks, as bench.paced sends them (20 a second)
TTFT = 1.0  # to the first chunk: time enough to set every stream up, even under valgrind
TIMEOUT_SECONDS = 600.0  # a stream that never ends (a full socket buffer: too many chunks)


@dataclass(frozen=True)
class Load:
    """`per_tick` streams due in each of `ticks` milliseconds of every interval, `chunks` each."""

    per_tick: int
    ticks: int
    chunks: int

    @property
    def streams(self) -> int:
        return self.per_tick * self.ticks


def write_config(work: Path, load: Load) -> Path:
    """A fixtures backend: model `paced-G` answers paced, its chunks due in the Gth millisecond."""
    texts = [chunk_text(k) for k in range(load.chunks)]
    fixtures = [
        {
            "id": f"paced-{tick}",
            "match": {"model": f"paced-{tick}"},
            "response": {"chunks": texts},
            "timing": {"ttft": TTFT + tick / 1000, "chunk_delay": INTERVAL},
        }
        for tick in range(load.ticks)
    ]
    return serving_fixtures(work, fixtures, "config")


def build(load: Load, work: Path) -> Any:
    work.mkdir(exist_ok=True)
    return create_app(load_settings(write_config(work, load)))


class Finished:
    """ASGI middleware: counts the requests that are over, and says when `expected` of them are."""

    def __init__(self, app: Any, expected: int, done: asyncio.Future[None]) -> None:
        self.app, self.expected, self.done, self.count = app, expected, done, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            self.count += 1
            if self.count == self.expected and not self.done.done():
                self.done.set_result(None)


def frozen_clock(app: Any) -> None:
    """The fixtures backend's clock stands still from now on (see the module's docstring)."""
    backend = app.runtime.backends["fixtures"]
    now = time.monotonic()
    backend._clock = lambda: now  # `_defers` stays: the backend still hands its `Due`s to the sender


async def serve(app: Any, load: Load, listener: socket.socket) -> None:
    """Serve the load's streams, whose requests come to `listener`, until every one is over."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    config = uvicorn.Config(
        Finished(app, load.streams, done),
        http=JoinedWritesProtocol,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    config.load()
    state = ServerState()
    frozen_clock(app)
    for _ in range(load.streams):
        accepted, _ = listener.accept()
        accepted.setblocking(False)
        await loop.connect_accepted_socket(
            lambda: JoinedWritesProtocol(config=config, server_state=state, app_state={}, _loop=loop),
            accepted,
        )
    await asyncio.wait_for(done, TIMEOUT_SECONDS)
    await asyncio.sleep(0)  # what the last requests wrote goes out at the end of their turn
    for connection in list(state.connections):
        connection.shutdown()  # idle keep-alive connections: closed as the server's exit does
    await asyncio.sleep(0.01)


def run(runner: asyncio.Runner, app: Any, load: Load, dump: str | None = None) -> None:
    """Serve `load` once, the clients in a process of their own (`read`)."""
    with socket.create_server(("127.0.0.1", 0), backlog=load.streams + 16) as listener:
        listener.settimeout(60)  # the clients may have failed to start
        command = [sys.executable, "-m", "bench.paced_cost", "--read", str(listener.getsockname()[1])]
        command += load_options(load) + (["--dump", dump] if dump else [])
        with subprocess.Popen(command) as clients:
            runner.run(serve(app, load, listener))
            if clients.wait(TIMEOUT_SECONDS):
                raise RuntimeError("a stream did not arrive whole (the clients' report above)")


def read(port: int, load: Load, dump: str | None) -> int:
    """The clients: send every request, read every stream to its end, check it (exit status 1 if
    one is short), and write what came to `dump`."""
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(load.streams)]
    for index, client in enumerate(clients):
        client.sendall(request(port, f"paced-{index % load.ticks}"))
    received = {client: bytearray() for client in clients}
    with selectors.DefaultSelector() as selector:
        for client in clients:
            selector.register(client, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select(TIMEOUT_SECONDS):
                data = received[key.fileobj]  # type: ignore[index]  # one of the clients
                data += key.fileobj.recv(1 << 16)  # type: ignore[union-attr]  # likewise
                if data.endswith(b"\r\n0\r\n\r\n"):  # the end of the chunked body
                    selector.unregister(key.fileobj)
    for client in clients:
        client.close()
    # whole: the role's chunk, the content chunks and the finish chunk, then [DONE]
    wanted = load.chunks + 2
    bad = [
        bytes(data[-200:])
        for data in received.values()
        if data.count(b"data: {") != wanted or DONE not in data
    ]
    if bad:
        print(f"{len(bad)} of {load.streams} streams incomplete; one ends {bad[0]!r}", file=sys.stderr)
        return 1
    if dump is not None:
        Path(dump).write_bytes(b"".join(received.values()))
    return 0


def settle(gc_on: bool) -> None:
    if gc_on:
        _settle_collector()  # as `chatdouble serve` does
    else:
        gc.disable()


def cpu_per_chunk(few: Load, many: Load, rounds: int, gc_on: bool) -> float:
    """The best round's CPU seconds per chunk that `many` sends beyond `few`."""
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        apps = {load: build(load, Path(tmp) / str(load.chunks)) for load in (few, many)}
        settle(gc_on)
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            run(runner, apps[few], few)  # warm-up
            for _ in range(rounds):
                spent = {}
                for load in (few, many):
                    started = time.process_time()
                    run(runner, apps[load], load)
                    spent[load] = time.process_time() - started
                best = min(best, (spent[many] - spent[few]) / extra_chunks(few, many))
    return best


def extra_chunks(few: Load, many: Load) -> int:
    return many.streams * many.chunks - few.streams * few.chunks


def child(load: Load, gc_on: bool, dump: str | None) -> None:
    """One measured process: build the app, serve the streams once."""
    with tempfile.TemporaryDirectory() as tmp:
        app = build(load, Path(tmp))
        settle(gc_on)
        random.seed(14)  # the obfuscation pads, for a dump that two versions can be compared by
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            run(runner, app, load, dump)


def load_options(load: Load) -> list[str]:
    return ["--streams", str(load.per_tick), "--ticks", str(load.ticks), "--chunks", str(load.chunks)]


def child_command(load: Load, gc_on: bool) -> list[str]:
    command = [sys.executable, "-m", "bench.paced_cost", "--child", *load_options(load)]
    return command + ([] if gc_on else ["--no-gc"])


def counted(load: Load, gc_on: bool) -> int:
    """The instructions of a whole process that serves `load`."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    # Hash randomization moves a few million instructions of the start-up from run to run.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    finished = subprocess.run(command + child_command(load, gc_on), capture_output=True, env=environment)
    found = REFS.search(finished.stderr)
    if finished.returncode or found is None:
        raise RuntimeError(f"the counted run failed:\n{finished.stderr.decode()[-2000:]}")
    return int(found.group(1).replace(b",", b""))


def system_calls(load: Load, gc_on: bool) -> Counter[str]:
    """The system calls of a whole process that serves `load`, by name (strace's summary)."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as summary:
        command = ["strace", "-c", "-o", summary.name, *child_command(load, gc_on)]  # not the clients
        subprocess.run(command, capture_output=True, check=True)
        found = STRACE.findall(summary.read())
        return Counter({name: int(calls) for calls, name in found if name != "total"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paced_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=40, help="streams woken by each tick (40)")
    parser.add_argument(
        "--ticks", type=int, help="milliseconds of each interval with streams due (CPU time: 25; else 1)"
    )
    parser.add_argument("--chunks", type=int, default=120, help="chunks per stream (120)")
    parser.add_argument("--few", type=int, default=20, help="chunks per stream of the shorter run (20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the CPU-time measure (3)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--count", action="store_true", help="count instructions under valgrind")
    how.add_argument("--syscalls", action="store_true", help="count system calls under strace")
    how.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    how.add_argument("--read", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--dump", metavar="FILE", help="serve once, write what the clients got to FILE")
    parser.add_argument("--no-gc", dest="gc", action="store_false", help="the garbage collector off")
    args = parser.parse_args(argv)
    cpu = not (args.count or args.syscalls or args.dump or args.child or args.read)
    ticks = args.ticks if args.ticks is not None else 25 if cpu else 1
    few, many = Load(args.streams, ticks, args.few), Load(args.streams, ticks, args.chunks)
    if args.read:
        return read(args.read, many, args.dump)
    if args.child or args.dump:
        child(many, args.gc, args.dump)
        return 0
    extra = extra_chunks(few, many)
    shape = f"{many.streams} streams, {args.streams} a tick"
    if args.count or args.syscalls:
        tool = "valgrind" if args.count else "strace"
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    if args.count:
        per_chunk = (counted(many, args.gc) - counted(few, args.gc)) / extra
        print(f"{per_chunk:10,.0f} instructions per paced chunk ({shape})")
    elif args.syscalls:
        calls = system_calls(many, args.gc)
        calls.subtract(system_calls(few, args.gc))
        listed = ", ".join(
            f"{name} {count / extra:.3f}" for name, count in calls.most_common() if count / extra >= 0.005
        )
        print(f"system calls per paced chunk ({shape}): {listed}")
    else:
        seconds = cpu_per_chunk(few, many, args.rounds, args.gc)
        print(f"{seconds * 1e6:8.2f} us of CPU per paced chunk ({shape}, best of {args.rounds} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
