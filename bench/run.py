"""chatdouble against a bare Starlette baseline, in one command: `python -m bench.run`.

Starts chatdouble (`chatdouble serve`: embedded default config, echo backend, 1 worker) and the
baseline (`python -m bench.baseline`) on free 127.0.0.1 ports with the same uvicorn settings, pins
each to its own core, and checks that both answer the benchmark request with comparable replies (a
50-chunk stream each). Then, non-stream first and stream second, it loads one server at a time with
the load generator pinned to a core that server does not use, alternating the servers slice by slice
(ABBA) at the same concurrency; last, the same conversation as a Responses API stream (56 events),
against the baseline's fixed Responses stream of the same bytes. It prints requests (or streams) per second, p50/p99 latency to the
last byte, responses per server CPU second, CPU use of server, load generator and other processes,
and peak RSS, then chatdouble's ratio to the baseline against the bars. Both servers are terminated
at the end, and also on error, Ctrl-C or SIGTERM.

The pieces: bench/processes.py (start, pin, stop), bench/cores.py (placement, priority),
bench/replies.py (the reply check), bench/slices.py (the alternating measurement, driving
bench/loadgen.py) and bench/report.py (text and JSON).

Exit status: 0 when the run completes (it is a report), 1 with --check when a bar or a reply check
fails, 2 when the run itself fails (e.g. a server does not start).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from bench import processes, variants
from bench.cores import Placement, place, realtime, usable_cores
from bench.loadgen import loop_factory
from bench.processes import RunError, Server, TerminatedError
from bench.replies import check_replies
from bench.report import Outcome, as_json, render
from bench.slices import MODES, Load, Results, alternate


async def measure(
    servers: list[Server], placement: Placement, load: Load, requested: bool
) -> tuple[Results, bool]:
    """The alternating measurement with the load generator at SCHED_FIFO if `requested` and permitted
    (returned with the results): see bench/cores.py for why."""
    with realtime(requested) as raised:
        results = await alternate(
            servers, load, loadgen_cores=placement.loadgen, check_chunks=True, progress=True, modes=MODES
        )
    return results, raised


def run(args: argparse.Namespace) -> int:
    processes.raise_on_sigterm()
    load = Load(args.concurrency, args.duration, args.slices, args.warmup)
    with tempfile.TemporaryDirectory(prefix="chatdouble-bench-") as tmp:
        servers = variants.servers(Path(tmp), fixtures=args.fixtures, proxy=args.proxy)
        placement = place(servers, usable_cores())
        try:
            with processes.running(servers):
                print(f"  servers up: {placement.note}", file=sys.stderr, flush=True)
                with asyncio.Runner(loop_factory=loop_factory()) as runner:
                    checks = {
                        server.name: runner.run(processes.until_sigterm(check_replies(server.port)))
                        for server in servers
                    }
                    results, raised = runner.run(
                        processes.until_sigterm(measure(servers, placement, load, args.realtime))
                    )
                processes.still_running(servers)
                rss = {server.name: processes.peak_rss_kib(server.pid) for server in servers}
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
    outcome = Outcome(servers, placement, load, args.realtime, raised, checks, results, rss)
    print(render(outcome))
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(outcome, " ".join(sys.argv)), indent=2) + "\n")
    if args.check and not (all(outcome.passed().values()) and outcome.sound()):
        return 1
    return 0


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
    parser.add_argument(
        "--no-fixtures", dest="fixtures", action="store_false", help="leave out the fixtures backend"
    )
    parser.add_argument("--no-proxy", dest="proxy", action="store_false", help="leave out the proxy")
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
