"""Where a request's time goes, without sockets: chatdouble's ASGI app and the bare Starlette baseline
called directly, in one process, in interleaved rounds. Not a test.

Each call gets the scope uvicorn would build for the benchmark request (bench/baseline.py), a
`receive` that hands over the body and then waits (as a client that stays), and a `send` that only
counts. What is left is the application's own cost per request: routing, middleware, validation, the
pipeline, rendering and the ASGI messages, but none of uvicorn's parsing or socket writes. The best of
`rounds` rounds is reported per configuration, in microseconds of CPU time (this thread's, so that
other work on the machine weighs less) per request, with its ratio to the
baseline's (a request per second ratio, as in bench/run.py).

    .venv/bin/python -m bench.inprocess [requests] [rounds]
    .venv/bin/python -m bench.inprocess --profile echo-stream   # cProfile of one configuration
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from bench import baseline
from bench.baseline import MESSAGE, PATH, benchmark_body
from server.app import create_app
from server.config import load_settings


def scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"accept", b"application/json"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer sk-bench"),
            (b"user-agent", b"chatdouble-bench/1"),
            (b"content-length", str(len(body)).encode()),
        ],
        "state": {},
    }


class Sink:
    """A `send` that counts messages and body bytes."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def __call__(self, message: Message) -> None:
        self.messages += 1
        self.bytes += len(message.get("body", b""))


async def call(app: ASGIApp, body: bytes, sink: Sink) -> None:
    delivered = False
    never: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await never  # a client that stays until the response ends

    await app(scope(body), receive, sink)


def fixtures_file(directory: Path) -> Path:
    path = directory / "bench.yaml"
    path.write_text(
        "fixtures:\n  - id: bench\n    match: {model: '*'}\n    response: {text: " + repr(MESSAGE) + "}\n",
        encoding="utf-8",
    )
    return path


def apps(directory: Path) -> dict[str, ASGIApp]:
    fixtures = {"type": "fixtures", "paths": [str(fixtures_file(directory))], "reload": False}
    made: dict[str, ASGIApp] = {"baseline": baseline.app}
    for name in ("echo", "fixtures"):
        overrides = {
            "backends": {"fixtures": fixtures, "echo": {"type": "echo"}},
            "routes": [{"model": "*", "backend": name}],
        }
        made[name] = create_app(load_settings(env={}, overrides=overrides))
    return made


async def per_request(app: ASGIApp, body: bytes, n: int) -> tuple[float, Sink]:
    sink = Sink()
    started = time.thread_time()
    for _ in range(n):
        await call(app, body, sink)
    return (time.thread_time() - started) / n * 1e6, sink


async def measure(requests: int, rounds: int, configs: dict[str, tuple[ASGIApp, bytes]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for app, body in configs.values():  # warm-up
        await per_request(app, body, 50)
    for _ in range(rounds):
        for name, (app, body) in configs.items():
            micros, _ = await per_request(app, body, requests)
            best[name] = min(best.get(name, micros), micros)
    return best


def configurations(made: dict[str, ASGIApp]) -> dict[str, tuple[ASGIApp, bytes]]:
    return {
        f"{name}-{mode}": (app, benchmark_body(mode == "stream"))
        for mode in ("non-stream", "stream")
        for name, app in made.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__.splitlines()[0])
    parser.add_argument("requests", type=int, nargs="?", default=500)
    parser.add_argument("rounds", type=int, nargs="?", default=5)
    parser.add_argument("--profile", metavar="CONFIG", help="cProfile one configuration, e.g. echo-stream")
    parser.add_argument(
        "--sort", default="tottime", help="pstats sort key for --profile (tottime, cumulative)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        configs = configurations(apps(Path(tmp)))
        if args.profile:
            app, body = configs[args.profile]
            run: Callable[[], Any] = lambda: asyncio.run(per_request(app, body, args.requests))  # noqa: E731
            run()
            profile = cProfile.Profile()
            profile.runcall(run)
            pstats.Stats(profile).sort_stats(args.sort).print_stats(60)
            return 0
        best = asyncio.run(measure(args.requests, args.rounds, configs))
    for mode in ("non-stream", "stream"):
        ceiling = best[f"baseline-{mode}"]
        for name in ("baseline", "echo", "fixtures"):
            micros = best[f"{name}-{mode}"]
            print(f"{name + '-' + mode:22} {micros:8.1f} us/request   ratio {ceiling / micros:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
