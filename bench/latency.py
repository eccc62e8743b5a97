"""Do latency profiles give the configured distributions on the wire? `python -m bench.latency`.

Starts `chatdouble serve` (bench/processes.py) on a free 127.0.0.1 port with a config whose routes
carry latency profiles (one per distribution, echo backend), streams chat completions from each
route over real loopback and times, per request, the first content chunk after the request was sent
(the observed time to first token) and the gaps between later content chunks (the observed
inter-token delays; echo sends one token per chunk). Requests run `--concurrency` at a time, each
on its own connection opened before the timing starts, so a pause of one does not delay another.

The expected distributions are drawn from the same profiles with the server's own sampler
(server/generation/latency.py), many times. For each route it prints mean, p50, p90 and p99
observed against expected and whether each is within the tolerance: 10% of the expected value plus
a floor of 2 ms for means and 5 ms for percentiles (a loopback request and a scheduler wake-up cost
about a millisecond; p99 of a few thousand samples is noisy). Exit status 1 with --check when one is
not within it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench import processes
from bench.processes import Server, chatdouble_argv
from server.generation.latency import Delays, LatencyProfile

PROFILES: dict[str, dict[str, Any]] = {
    "fixed": {"ttft": 150, "inter_token": 15},
    "uniform": {
        "ttft": {"distribution": "uniform", "min_ms": 50, "max_ms": 250},
        "inter_token": {"distribution": "uniform", "min_ms": 5, "max_ms": 25},
    },
    "normal": {
        "ttft": {"distribution": "normal", "mean_ms": 200, "stddev_ms": 50},
        "inter_token": {"distribution": "normal", "mean_ms": 20, "stddev_ms": 6},
    },
    "lognormal": {
        "ttft": {"distribution": "lognormal", "mean_ms": 200, "stddev_ms": 120},
        "inter_token": {"distribution": "lognormal", "mean_ms": 20, "stddev_ms": 12},
    },
}
WORDS = 25  # the echoed message: one token a chunk
MESSAGE = " ".join(["word"] * WORDS)


def config() -> dict[str, Any]:
    routes = [{"model": name, "backend": "echo", "latency": {**p, "seed": 1}} for name, p in PROFILES.items()]
    return {"backends": {"echo": {"type": "echo"}}, "routes": routes}


async def one(http: httpx.AsyncClient, model: str) -> tuple[float, list[float]]:
    """Observed ttft and inter-token gaps of one stream, in milliseconds."""
    body = {"model": model, "messages": [{"role": "user", "content": MESSAGE}], "stream": True}
    started = time.perf_counter()
    arrivals: list[float] = []
    async with http.stream("POST", "/v1/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {") and '"content":"' in line and '"content":""' not in line:
                arrivals.append(time.perf_counter())
    ttft = (arrivals[0] - started) * 1000
    return ttft, [(b - a) * 1000 for a, b in itertools.pairwise(arrivals)]


async def observe(port: int, model: str, requests: int, concurrency: int) -> tuple[list[float], list[float]]:
    ttfts: list[float] = []
    gaps: list[float] = []
    queue = list(range(requests))

    async def worker() -> None:
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=f"http://{processes.HOST}:{port}", limits=limits) as http:
            await http.get("/v1/models")  # the connection is open before the first timed request
            await one(http, model)  # and warm: the first stream of a connection is not counted
            while queue:
                queue.pop()
                ttft, more = await one(http, model)
                ttfts.append(ttft)
                gaps.extend(more)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ttfts, gaps


def expected(profile: dict[str, Any], count: int = 200_000) -> tuple[list[float], list[float]]:
    delays = Delays(LatencyProfile.model_validate(profile), random.Random(0))
    return [delays.ttft() * 1000 for _ in range(count)], [delays.tokens(1) * 1000 for _ in range(count)]


def summary(values: Sequence[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"mean": statistics.fmean(values), "p50": cuts[49], "p90": cuts[89], "p99": cuts[98]}


def compare(name: str, observed: Sequence[float], wanted: Sequence[float]) -> tuple[list[str], bool]:
    got, want = summary(observed), summary(wanted)
    lines, good = [], True
    for stat in ("mean", "p50", "p90", "p99"):
        tolerance = want[stat] * 0.10 + (2.0 if stat == "mean" else 5.0)
        ok = abs(got[stat] - want[stat]) <= tolerance
        good &= ok
        lines.append(
            f"  {name:<11} {stat:<4} observed {got[stat]:8.2f} ms  configured {want[stat]:8.2f} ms  "
            f"diff {got[stat] - want[stat]:+7.2f} (±{tolerance:.2f})  {'ok' if ok else 'OUT'}"
        )
    return lines, good


def run(args: argparse.Namespace) -> int:
    processes.raise_on_sigterm()
    all_good = True
    with tempfile.TemporaryDirectory(prefix="chatdouble-latency-") as tmp:
        path = Path(tmp) / "latency.yaml"
        path.write_text(yaml.safe_dump(config()))
        (port,) = processes.free_ports(1)
        argv = [*chatdouble_argv(port), "--config", str(path)]
        server = Server("chatdouble", argv, None, port, Path(tmp) / "chatdouble.log")
        with processes.running([server]):
            for name, profile in PROFILES.items():
                ttfts, gaps = asyncio.run(observe(port, name, args.requests, args.concurrency))
                want_ttft, want_gap = expected(profile)
                print(f"{name}: {len(ttfts)} streams, {len(gaps)} inter-token gaps")
                for label, seen, want in (("ttft", ttfts, want_ttft), ("inter_token", gaps, want_gap)):
                    lines, good = compare(label, seen, want)
                    all_good &= good
                    print("\n".join(lines))
    print("all within tolerance" if all_good else "SOME OUTSIDE TOLERANCE")
    return 1 if args.check and not all_good else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="streams per profile (default 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="streams at a time (default 8)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure is out of tolerance")
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
