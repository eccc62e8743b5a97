"""Requests per second with 1, 2 and 4 uvicorn workers, on the in-process store and on Redis, and
the latency Redis adds per request (docs/scale.md). Not a test.

Two workloads, each at 1, 2 and 4 workers (`chatdouble serve --workers N`), in one run:
- `memory echo`: the embedded default config (echo, `state: memory`): stateless, the ceiling.
- `redis sequence`: a fixtures backend whose one fixture is a cycling 2-step sequence, with
  `state: redis://...` on a redis-server this run starts: every request takes one step, one Lua
  script on Redis, so the workers share one count.
Each is loaded closed-loop by bench/loadgen.py (non-stream, `--concurrency` keep-alive connections)
for a warm-up and a measured window. The server's CPU is summed over uvicorn's master and every
worker; Redis's is its own process's.

Then the latency Redis adds: one connection, one worker, the same sequence fixture with
`state: memory` and with Redis, alternated slice by slice; the difference of the mean latencies
is what one request's Redis round trip costs.

On a machine with few cores the load generator shares them with the workers (and Redis): see
bench/README.md ("Scaling with workers") for how that bounds the figures and how they are read.

    .venv/bin/python -m bench.scale [--duration 4] [--concurrency 16] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench import processes
from bench.baseline import MESSAGE, PIECES, benchmark_request
from bench.cores import realtime, usable_cores
from bench.loadgen import loop_factory, process_cpu_seconds, run_window
from bench.processes import HOST, Server, chatdouble_argv, free_port
from bench.summary import PhaseResult, Window, summarize

WORKERS = (1, 2, 4)
STARTED = "Application startup complete"
SLICE_WARMUP = 0.25


@dataclass
class Measured:
    label: str
    workers: int
    result: PhaseResult
    redis_cpu: float | None  # cores' worth of CPU redis-server used during the windows


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and every process below it (uvicorn's workers)."""
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            total += process_cpu_seconds(current)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo += [int(child) for child in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # a worker that exited between the reads
    return total


def sequence_config(work: Path, state: str) -> Path:
    fixtures = work / f"sequence-{abs(hash(state))}.yaml"
    steps = [{"text": MESSAGE}, {"text": MESSAGE}]
    fixture = {"id": "steps", "match": {"model": "*"}, "sequence": steps, "cycle": True}
    fixtures.write_text(yaml.safe_dump({"fixtures": [fixture]}, sort_keys=False), encoding="utf-8")
    settings = {
        "log_level": "warning",
        "state": state,
        "state_prefix": "bench:",
        "journal": None,
        "backends": {"fixtures": {"type": "fixtures", "paths": [str(fixtures)]}},
        "routes": [{"model": "*", "backend": "fixtures"}],
    }
    config = work / f"config-{abs(hash(state))}.yaml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return config


def serve(work: Path, name: str, workers: int, config: Path | None) -> Server:
    port = free_port()
    # Log level info: each worker says when it has started (uvicorn's access log stays off).
    argv = [*chatdouble_argv(port), "--workers", str(workers), "--log-level", "info"]
    if config is not None:
        argv += ["--config", str(config)]
    return Server(name, argv, None, port, work / f"{name}.log")


@contextmanager
def up(servers: list[Server], workers: int) -> Iterator[None]:
    """The servers started (unpinned, normal priority) with every worker ready."""
    with processes.running(servers):
        deadline = time.monotonic() + 60
        while any(server.log.read_text(errors="replace").count(STARTED) < workers for server in servers):
            processes.still_running(servers)
            if time.monotonic() > deadline:
                raise processes.RunError(f"not every worker started:\n{servers[0].log_tail()}")
            time.sleep(0.05)
        yield


@contextmanager
def generator_placed(load: argparse.Namespace) -> Iterator[bool]:
    """While measuring: this thread on the last cpu, at SCHED_FIFO when asked and permitted."""
    home = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {usable_cores()[-1]})
    try:
        with realtime(load.realtime) as raised:
            yield raised
    finally:
        os.sched_setaffinity(0, home)


async def windows(server: Server, load: argparse.Namespace, concurrency: int, count: int) -> list[Window]:
    with generator_placed(load) as raised:
        load.raised = raised
        return await _windows(server, load, concurrency, count)


async def _windows(server: Server, load: argparse.Namespace, concurrency: int, count: int) -> list[Window]:
    out = []
    for number in range(count):
        out.append(
            await run_window(
                HOST,
                server.port,
                benchmark_request(HOST, server.port, False),
                stream=False,
                concurrency=concurrency,
                duration=load.duration / count,
                warmup=load.warmup if number == 0 else SLICE_WARMUP,
                server_cpu=lambda: tree_cpu_seconds(server.pid),
            )
        )
    return out


async def throughput(work: Path, redis: Server, load: argparse.Namespace) -> list[Measured]:
    redis_config = sequence_config(work, f"redis://{HOST}:{redis.port}/0")
    measured = []
    for workers in WORKERS:
        for label, config in (("memory echo", None), ("redis sequence", redis_config)):
            server = serve(work, f"{label.replace(' ', '-')}-{workers}", workers, config)
            with up([server], workers):
                before = process_cpu_seconds(redis.pid)
                got = await windows(server, load, load.concurrency, 1)
                redis_cpu = (process_cpu_seconds(redis.pid) - before) / (load.duration + load.warmup)
            result = summarize(False, load.concurrency, got)
            measured.append(Measured(label, workers, result, redis_cpu if config is not None else None))
            print(f"  {label}, {workers} worker(s): {result.rate:,.0f} req/s", file=sys.stderr, flush=True)
    return measured


async def added_latency(work: Path, redis: Server, load: argparse.Namespace) -> dict[str, PhaseResult]:
    """One connection, one worker: the sequence fixture in memory and on Redis, alternated."""
    servers = [
        serve(work, "latency-memory", 1, sequence_config(work, "memory")),
        serve(work, "latency-redis", 1, sequence_config(work, f"redis://{HOST}:{redis.port}/0")),
    ]
    got: dict[str, list[Window]] = {server.name: [] for server in servers}
    with up(servers, 1):
        for index in range(4):  # ABBA
            server = servers[index % 2 if index < 2 else 1 - index % 2]
            got[server.name] += await windows(server, load, 1, 1)
    return {name: summarize(False, 1, w) for name, w in got.items()}


def render(measured: list[Measured], latency: dict[str, PhaseResult], note: str) -> str:
    lines = [
        note,
        "",
        f"{'workload':<16}{'workers':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'server cpu':>12}{'redis cpu':>11}{'gen cpu':>9}{'req/server cpu-s':>18}{'errors':>8}",
    ]
    for one in measured:
        r = one.result
        redis_cpu = "-" if one.redis_cpu is None else f"{one.redis_cpu:.0%}"
        lines.append(
            f"{one.label:<16}{one.workers:>8}{r.rate:>10,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{(r.server_cpu or 0):>12.0%}{redis_cpu:>11}{r.loadgen_cpu:>9.0%}"
            f"{(r.per_server_cpu_s or 0):>18,.0f}{r.errors:>8}"
        )
    memory, redis = latency["latency-memory"], latency["latency-redis"]
    lines += [
        "",
        "latency Redis adds (1 connection, 1 worker, the same sequence fixture):",
        f"  state: memory  mean {memory.mean_ms:.3f} ms  p50 {memory.p50_ms:.3f}  p99 {memory.p99_ms:.3f}",
        f"  state: redis   mean {redis.mean_ms:.3f} ms  p50 {redis.p50_ms:.3f}  p99 {redis.p99_ms:.3f}",
        f"  added: {redis.mean_ms - memory.mean_ms:+.3f} ms mean, {redis.p50_ms - memory.p50_ms:+.3f} ms p50",
    ]
    return "\n".join(lines)


async def main_async(load: argparse.Namespace, work: Path) -> tuple[list[Measured], dict[str, PhaseResult]]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise processes.RunError("redis-server is not installed (scripts/test.sh installs it)")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    redis = Server("redis", argv, None, port, work / "redis.log")
    with processes.running([redis]):
        measured = await throughput(work, redis, load)
        latency = await added_latency(work, redis, load)
    return measured, latency


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per configuration")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--normal-priority", dest="realtime", action="store_false")
    load = parser.parse_args(argv)
    load.raised = False
    cores = usable_cores()
    processes.raise_on_sigterm()
    factory: Callable[[], asyncio.AbstractEventLoop] | None = loop_factory()
    with (
        tempfile.TemporaryDirectory(prefix="chatdouble-scale-") as tmp,
        asyncio.Runner(loop_factory=factory) as runner,
    ):
        measured, latency = runner.run(main_async(load, Path(tmp)))
    note = (
        f"{len(cores)} cpu(s); servers and Redis unpinned; the load generator on cpu {cores[-1]}"
        f"{' at SCHED_FIFO' if load.raised else ' at normal priority'}; non-stream chat, {load.concurrency} "
        f"connections, {load.duration:g} s measured per configuration"
    )
    print(render(measured, latency, note))
    if load.json is not None:
        figures = {
            "note": note,
            "throughput": [
                {"workload": m.label, "workers": m.workers, "redis_cpu": m.redis_cpu, **m.result.as_dict()}
                for m in measured
            ],
            "latency": {name: result.as_dict() for name, result in latency.items()},
            "message_pieces": len(PIECES),
        }
        load.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
