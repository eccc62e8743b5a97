"""What the in-memory journal and the runtime-fixtures check cost a request. Not a test.

Mean CPU time per chat request (echo backend, the embedded default config), straight through the ASGI
app in process (no HTTP client, so the server's own work is what is timed), for: no journal at all
(`journal: null`), the default in-memory journal (`memory: 1000`, no bodies), the same with
bodies, and a server where another namespace holds a runtime fixture (so the per-request check
is not the empty fast path). Non-stream and stream requests; the configurations run in
interleaved rounds (each configuration first in turn) and the median round is reported, so load
elsewhere hits them alike.

    .venv/bin/python -m bench.journal_cost [requests] [rounds]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import orjson
from fastapi import FastAPI

from server.app import create_app
from server.config import load_settings

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello to the benchmark, please."}]}


def app_with(journal: Any) -> FastAPI:
    return create_app(load_settings(env={}, overrides={"journal": journal}))


async def call(app: FastAPI, path: str, body: bytes, auth: bytes = b"Bearer sk-bench") -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"authorization", auth)],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def per_request(app: FastAPI, body: bytes, count: int) -> float:
    started = time.process_time()  # CPU time: other processes on a busy machine do not count
    for _ in range(count):
        assert await call(app, "/v1/chat/completions", body) == 200
    return (time.process_time() - started) / count * 1e6


async def main(count: int, rounds: int) -> None:
    apps = {
        "no journal": app_with(None),
        "memory journal (default)": app_with({"memory": 1000}),
        "memory journal + bodies": app_with({"memory": 1000, "bodies": True}),
    }
    other = app_with(None)
    fixture = orjson.dumps({"response": {"text": "x"}})
    runtime = other.state.runtime
    from server.control.fixtures_api import parse_fixtures

    await runtime.fixtures.add("someone-else", parse_fixtures(fixture, "application/json"))
    apps["no journal, a runtime fixture elsewhere"] = other
    for label, body in (
        ("non-stream", orjson.dumps(CHAT)),
        ("stream", orjson.dumps({**CHAT, "stream": True})),
    ):
        times: dict[str, list[float]] = {name: [] for name in apps}
        for app in apps.values():  # warm up
            await per_request(app, body, 50)
        order = list(apps)
        for round_ in range(rounds):
            for name in (
                order[round_ % len(order) :] + order[: round_ % len(order)]
            ):  # each goes first in turn
                times[name].append(await per_request(apps[name], body, count))
        base = statistics.median(times["no journal"])
        print(f"{label}: median of {rounds} rounds of {count} requests, microseconds per request")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"  {name:42s} {median:8.1f}  ({(median / base - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args + [500, 9][len(args) :])))
