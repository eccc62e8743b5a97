"""The proxy's added latency, in one run: `python -m bench.proxy`.

Starts an upstream chatdouble (embedded default config: echo) and a chatdouble whose only backend is a
`passthrough` proxy to it, both on loopback, then sends the benchmark request (bench/baseline.py:
48-token reply, streamed as 50 chunks) to the upstream directly and through the proxy, alternating
slice by slice (ABBA), one request at a time by default (`--concurrency`), non-stream then stream.
Latency is to the last byte. It prints p50/p99 of both and the difference: what the extra hop costs.
With two or more cpus the upstream and the proxy are pinned to their own cpus; the load generator
runs unpinned. Both servers are stopped at the end, also on errors and Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from bench.baseline import benchmark_request
from bench.loadgen import PhaseResult, Window, loop_factory, run_window, summarize
from bench.run import HOST, RunError, Server, chatdouble_argv, free_port, start, stop, wait_ready

PROXY_CONFIG = """
log_level: warning
backends:
  upstream: {{type: proxy, base_url: "http://{host}:{port}/v1"}}
routes:
  - {{model: "*", backend: upstream}}
"""


async def measure(
    direct: Server, proxy: Server, args: argparse.Namespace
) -> dict[str, dict[str, PhaseResult]]:
    results: dict[str, dict[str, PhaseResult]] = {}
    for mode, stream in (("non_stream", False), ("stream", True)):
        windows: dict[str, list[Window]] = {direct.name: [], proxy.name: []}
        order = [direct, proxy, proxy, direct] * ((args.slices + 1) // 2)
        for index, server in enumerate(order[: 2 * args.slices]):
            window = await run_window(
                HOST,
                server.port,
                benchmark_request(HOST, server.port, stream),
                stream=stream,
                concurrency=args.concurrency,
                duration=args.duration / args.slices,
                warmup=args.warmup if index < 2 else 0.25,
                server_pid=server.pid,
            )
            windows[server.name].append(window)
        results[mode] = {name: summarize(stream, args.concurrency, w) for name, w in windows.items()}
    return results


def render(results: dict[str, dict[str, PhaseResult]], args: argparse.Namespace) -> str:
    lines = [
        f"chatdouble proxy overhead: loopback, concurrency {args.concurrency}, "
        f"{args.duration:g} s per server and mode",
        f"{'mode':<11} {'path':<7} {'requests':>9} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    for mode, by_server in results.items():
        for name, result in by_server.items():
            lines.append(
                f"{mode:<11} {name:<7} {result.completed:>9} {result.errors:>6} "
                f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f}"
            )
        added_p50 = by_server["proxy"].p50_ms - by_server["direct"].p50_ms
        added_p99 = by_server["proxy"].p99_ms - by_server["direct"].p99_ms
        lines.append(f"{mode:<11} {'added':<7} {'':>9} {'':>6} {added_p50:>+8.2f} {added_p99:>+8.2f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chatdouble-bench-proxy-")))
        up_port, proxy_port = free_port(), free_port()
        while proxy_port == up_port:
            proxy_port = free_port()
        config = work / "proxy.yaml"
        config.write_text(PROXY_CONFIG.format(host=HOST, port=up_port), encoding="utf-8")
        cores = sorted(os.sched_getaffinity(0))
        pinned = len(cores) >= 2
        direct = Server(
            "direct", chatdouble_argv(up_port), cores[0] if pinned else None, up_port, work / "up.log"
        )
        proxy_argv = [*chatdouble_argv(proxy_port), "--config", str(config)]
        proxy = Server("proxy", proxy_argv, cores[1] if pinned else None, proxy_port, work / "proxy.log")
        for server in (direct, proxy):
            stack.callback(stop, server)
            start(server)
        try:
            for server in (direct, proxy):
                wait_ready(server)
            with asyncio.Runner(loop_factory=loop_factory()) as runner:
                results = runner.run(measure(direct, proxy, args))
        except (RunError, OSError, TimeoutError) as exc:
            print(f"bench: {exc}", file=sys.stderr)
            for server in (direct, proxy):
                print(f"--- {server.name} log:\n{server.log_tail()}", file=sys.stderr)
            return 2
        print(render(results, args))
        return 0
    return 2  # unreachable: ExitStack does not swallow exceptions


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
