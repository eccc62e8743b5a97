"""Two chatdouble processes on one real Redis behave as one server (`state: redis://...`,
docs/scale.md), and a lost Redis is answered with retryable 503s, then recovered from.

Each process is `python -m server serve` with the same config, on its own port; requests alternate
between them. Proven: a 3-step fixture sequence per API key, 50 keys at once, gives every key its
steps in order, each exactly once; a per-key rate limit counts the requests that both processes
served; a Redis killed under a running server yields 503 `server_error` envelopes (never a 500 or
a hang), and the same server answers again once Redis is back on its port.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.processes import clean_env, python_command, running
from tests.support.redis_server import RedisServer, free_port

FIXTURES = """\
fixtures:
  - id: steps
    match: {last_user: {contains: step}}
    sequence:
      - text: one
      - text: two
      - text: three
"""


def write_config(tmp_path: Path, redis_url: str, prefix: str) -> Path:
    (tmp_path / "fixtures.yaml").write_text(FIXTURES, encoding="utf-8")
    config = {
        "state": redis_url,
        "state_prefix": prefix,
        "journal": None,
        "rate_limits": {"keys": {"sk-limited": {"requests_per_minute": 3}}},
        "backends": {"script": {"type": "fixtures", "paths": [str(tmp_path / "fixtures.yaml")]}},
        "routes": [{"model": "*", "backend": "script"}],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def serve_all(stack: ExitStack, config: Path, count: int) -> list[str]:
    """`count` chatdouble processes on `config`; their base URLs."""
    urls = []
    for _ in range(count):
        server = stack.enter_context(
            running(python_command("serve", "--config", str(config), "--port", "0"), clean_env())
        )
        urls.append(f"http://127.0.0.1:{server.wait_ready()}")
    return urls


@pytest.fixture
def two_servers(tmp_path: Path, redis: RedisServer) -> Iterator[list[str]]:
    config = write_config(tmp_path, redis.url, f"two-{uuid.uuid4().hex[:12]}:")
    with ExitStack() as stack:
        yield serve_all(stack, config, 2)


async def ask(http: httpx.AsyncClient, url: str, key: str) -> httpx.Response:
    return await http.post(
        f"{url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "next step"}]},
    )


def text_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


async def test_every_key_gets_its_sequence_in_order_exactly_once_across_two_processes(
    two_servers: list[str],
) -> None:
    async def walk(http: httpx.AsyncClient, index: int) -> list[str]:
        key = f"sk-walker-{index}"
        seen = [text_of(await ask(http, two_servers[(index + step) % 2], key)) for step in range(3)]
        used_up = await ask(http, two_servers[(index + 3) % 2], key)
        assert used_up.status_code == 400, used_up.text
        assert "used up" in used_up.json()["error"]["message"]
        return seen

    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        walks = await asyncio.gather(*(walk(http, index) for index in range(50)))
    assert walks == [["one", "two", "three"]] * 50


async def test_a_rate_limit_counts_the_requests_both_processes_served(two_servers: list[str]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        answers = await asyncio.gather(*(ask(http, two_servers[i % 2], "sk-limited") for i in range(6)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 200, 200, 429, 429, 429], [a.text for a in answers]
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"


async def test_a_lost_redis_gives_503_server_errors_then_the_server_recovers(tmp_path: Path) -> None:
    own = RedisServer(free_port())  # this test kills it: not the session's server
    own.start()
    try:
        config = write_config(tmp_path, own.url, "lost:")
        with ExitStack() as stack:
            (url,) = serve_all(stack, config, 1)
            async with httpx.AsyncClient(timeout=30) as http:
                assert text_of(await ask(http, url, "sk-a")) == "one"
                own.stop()
                lost = await ask(http, url, "sk-a")
                assert lost.status_code == 503, lost.text
                error = lost.json()["error"]
                assert error["type"] == "server_error"
                assert "Redis" in error["message"]
                own.start()  # same port, empty: what it kept (nothing was saved) is gone
                assert text_of(await ask(http, url, "sk-a")) == "one"
                assert text_of(await ask(http, url, "sk-a")) == "two"
    finally:
        own.stop()
