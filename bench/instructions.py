"""Instructions per request, counted by valgrind: the A/B measure that a busy machine does not blur.

Timings drift with whatever else the machine runs; the number of instructions a request executes
does not. Each configuration of bench/inprocess.py (the ASGI app called directly with the benchmark
request, no sockets) runs twice under `valgrind --tool=cachegrind` (no cache simulation), once with
`--few` and once with `--few + --requests` requests; the difference, divided by `--requests`, is
one request's instructions, start-up and warm-up cancelled out. The garbage collector is off in
the measured process: when a collection falls inside one run and not the other, it would count
(its share of a live server's time is about 1%, bench/README.md).

    .venv/bin/python -m bench.instructions                    # echo, fixtures and baseline, non-stream
    .venv/bin/python -m bench.instructions --stream echo      # one configuration, streamed

Needs valgrind (Debian's `valgrind` package); about a minute per configuration. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import inprocess
from bench.baseline import benchmark_body

REFS = re.compile(rb"I\s+refs:\s+([\d,]+)")


def run_requests(config: str, stream: bool, count: int) -> None:
    """In the measured process: build the apps, then send `count` requests to `config`'s."""
    gc.disable()
    with tempfile.TemporaryDirectory() as tmp:
        app = inprocess.apps(Path(tmp))[config]
        body = benchmark_body(stream)

        async def send_all() -> None:
            sink = inprocess.Sink()
            for _ in range(count):
                await inprocess.call(app, body, sink)

        asyncio.run(send_all())


def counted(config: str, stream: bool, count: int) -> int:
    """The instructions of a whole process that sends `count` requests."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    command += [sys.executable, "-m", "bench.instructions", "--child", config, str(count)]
    command += ["--stream"] if stream else []
    done = subprocess.run(command, capture_output=True, check=True)
    found = REFS.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr.decode()[-2000:]}")
    return int(found.group(1).replace(b",", b""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=["echo", "fixtures", "baseline"])
    parser.add_argument("--stream", action="store_true", help="the 50-chunk stream instead of one body")
    parser.add_argument("--requests", type=int, default=2000, help="requests counted (default 2000)")
    parser.add_argument("--few", type=int, default=100, help="requests of the shorter run (default 100)")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_requests(args.child[0], args.stream, int(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    mode = "stream" if args.stream else "non-stream"
    results = {}
    for config in args.configs:
        few = counted(config, args.stream, args.few)
        many = counted(config, args.stream, args.few + args.requests)
        results[config] = (many - few) / args.requests
        print(f"{config + '-' + mode:24} {results[config]:10,.0f} instructions/request", flush=True)
    if "baseline" in results:
        for config, count in results.items():
            print(f"{config + '-' + mode:24} {count / results['baseline']:10.2f} x the baseline's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
