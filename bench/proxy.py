"""The proxy's added latency, in one run: `python -m bench.proxy`.

Starts an upstream chatdouble (embedded default config: echo) and a chatdouble whose only backend is a
`passthrough` proxy to it, both on loopback, then sends the benchmark request (bench/baseline.py:
48-token reply, streamed as 50 chunks) to the upstream directly and through the proxy, alternating
slice by slice (ABBA), one request at a time by default (`--concurrency`), non-stream then stream.
Latency is to the last byte. It prints p50/p99 of both and the difference: what the extra hop costs.
With two or more cpus the upstream and the proxy are pinned to their own cpus; the load generator
runs unpinned. Both servers are stopped at the end, also on errors and Ctrl-C.

It is built from the same pieces as bench/run.py: bench/processes.py, bench/slices.py, bench/report.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import processes
from bench.cores import usable_cores
from bench.loadgen import loop_factory
from bench.processes import HOST, RunError, Server, chatdouble_argv
from bench.report import overhead
from bench.slices import Load, alternate
from bench.variants import PROXY_CONFIG


def run(args: argparse.Namespace) -> int:
    load = Load(args.concurrency, args.duration, args.slices, args.warmup)
    with tempfile.TemporaryDirectory(prefix="chatdouble-bench-proxy-") as tmp:
        work = Path(tmp)
        up_port, proxy_port = processes.free_ports(2)
        config = work / "proxy.yaml"
        config.write_text(PROXY_CONFIG.format(host=HOST, port=up_port), encoding="utf-8")
        cores = usable_cores()
        pinned = len(cores) >= 2
        direct = Server(
            "direct", chatdouble_argv(up_port), cores[0] if pinned else None, up_port, work / "up.log"
        )
        proxy_argv = [*chatdouble_argv(proxy_port), "--config", str(config)]
        proxy = Server("proxy", proxy_argv, cores[1] if pinned else None, proxy_port, work / "proxy.log")
        try:
            with processes.running([direct, proxy]), asyncio.Runner(loop_factory=loop_factory()) as runner:
                results = runner.run(alternate([direct, proxy], load))
        except (RunError, OSError, TimeoutError) as exc:
            print(f"bench: {exc}", file=sys.stderr)
            for server in (direct, proxy):
                print(f"--- {server.name} log:\n{server.log_tail()}", file=sys.stderr)
            return 2
    print(overhead(results, load))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per server and mode")
    parser.add_argument("--slices", type=int, default=4, help="alternating slices per server and mode")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before a server's first slice")
    parser.add_argument("--concurrency", type=int, default=1, help="connections (1: latency only)")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
