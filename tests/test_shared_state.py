"""Two chatdouble processes on one real Redis behave as one server (`state: redis://...`,
docs/scale.md), and a lost Redis is answered with retryable 503s, then recovered from.

Each process is `python -m server serve` with the same config, on its own port; requests alternate
between them (and, once, four workers share one port, each request on a new connection). Proven: a
3-step fixture sequence per API key, 50 keys at once, gives every key its steps in order, each
exactly once, and its journal holds them in order on any process; the journal and verify on either
process see every request of both, numbered in one order; a runtime fixture added on one answers
on the other, and a reset on one clears what both share; a per-key rate limit counts the requests
that both processes served; a Redis killed under a running server yields 503 `server_error`
envelopes (never a 500 or a hang), the same server answers again once Redis is back on its port,
the openai SDK's own retry carries a request through the restart, and the journal entries of the
requests answered while Redis was gone are written once it is back. A stream whose client leaves
is journaled all the same: the write is not cancelled with the request.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import openai
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


ECHO = "gpt-echo"  # routed to the echo backend; every other model to the fixtures


def write_config(tmp_path: Path, redis_url: str, prefix: str) -> Path:
    (tmp_path / "fixtures.yaml").write_text(FIXTURES, encoding="utf-8")
    config = {
        "state": redis_url,
        "state_prefix": prefix,
        "rate_limits": {"keys": {"sk-limited": {"requests_per_minute": 3}}},
        "backends": {
            "script": {"type": "fixtures", "paths": [str(tmp_path / "fixtures.yaml")]},
            "echo": {"type": "echo"},
        },
        "routes": [{"model": ECHO, "backend": "echo"}, {"model": "*", "backend": "script"}],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


STARTED = re.compile(r"Application startup complete")


def serve_all(stack: ExitStack, config: Path, count: int, workers: int = 1) -> list[str]:
    """`count` chatdouble processes on `config`, each with `workers` workers all started (the port
    takes connections only once one of them listens); their base URLs."""
    urls = []
    for _ in range(count):
        command = python_command("serve", "--config", str(config), "--port", "0", "--workers", str(workers))
        server = stack.enter_context(running(command, clean_env()))
        # Stopped by SIGTERM first: the parent of several workers then stops them (a SIGKILL to
        # it alone would leave them holding its stderr).
        stack.callback(server.stop)
        urls.append(f"http://127.0.0.1:{server.wait_ready()}")
        for _ in range(workers if workers > 1 else 0):  # one process has started before it says so
            server.wait_for(STARTED)
    return urls


@pytest.fixture
def two_servers(tmp_path: Path, redis: RedisServer) -> Iterator[list[str]]:
    config = write_config(tmp_path, redis.url, f"two-{uuid.uuid4().hex[:12]}:")
    with ExitStack() as stack:
        yield serve_all(stack, config, 2)


async def ask(
    http: httpx.AsyncClient, url: str, key: str, say: str = "next step", model: str = "gpt-4o-mini"
) -> httpx.Response:
    return await http.post(
        f"{url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "messages": [{"role": "user", "content": say}]},
    )


async def admin(
    http: httpx.AsyncClient, method: str, url: str, key: str, path: str, body: Any = None
) -> dict[str, Any]:
    answer = await http.request(
        method, f"{url}/_chatdouble/{path}", headers={"Authorization": f"Bearer {key}"}, json=body
    )
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def text_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


async def walk_all(urls: list[str], limits: httpx.Limits) -> list[list[str]]:
    """50 keys at once, each asking for its 3 steps in turn (and a fourth, refused as used up),
    its requests going round `urls`; what each key was answered."""

    async def walk(http: httpx.AsyncClient, index: int) -> list[str]:
        key = f"sk-walker-{index}"
        seen = [text_of(await ask(http, urls[(index + step) % len(urls)], key)) for step in range(3)]
        used_up = await ask(http, urls[(index + 3) % len(urls)], key)
        assert used_up.status_code == 400, used_up.text
        assert "used up" in used_up.json()["error"]["message"]
        return seen

    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        walks = await asyncio.gather(*(walk(http, index) for index in range(50)))
        # Whichever process (or worker) is asked, a key's journal holds its four requests in order.
        for index in range(50):
            journal = await admin(http, "GET", urls[index % len(urls)], f"sk-walker-{index}", "requests")
            assert [entry["status"] for entry in journal["data"]] == [200, 200, 200, 400]
            seqs = [entry["seq"] for entry in journal["data"]]
            assert seqs == sorted(seqs)
        return walks


async def test_every_key_gets_its_sequence_in_order_exactly_once_across_two_processes(
    two_servers: list[str],
) -> None:
    walks = await walk_all(two_servers, httpx.Limits(max_connections=100))
    assert walks == [["one", "two", "three"]] * 50


async def test_four_workers_on_one_port_give_every_key_its_sequence_exactly_once(
    tmp_path: Path, redis: RedisServer
) -> None:
    config = write_config(tmp_path, redis.url, f"four-{uuid.uuid4().hex[:12]}:")
    with ExitStack() as stack:
        urls = serve_all(stack, config, 1, workers=4)
        # A hundred connections, each accepted by whichever worker takes it: a key's steps travel
        # over whichever connection is free, so they meet different workers.
        walks = await walk_all(urls, httpx.Limits(max_connections=100))
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


async def test_the_journal_and_verify_on_either_process_see_every_request_of_both(
    two_servers: list[str],
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        answers = await asyncio.gather(
            *(ask(http, two_servers[i % 2], "sk-journal", f"ping {i}", ECHO) for i in range(20))
        )
        sent = sorted(answer.headers["x-request-id"] for answer in answers)
        check = {"match": {"last_user": {"contains": "ping"}}, "count": {"eq": 20}}
        for url in two_servers:
            journal = await admin(http, "GET", url, "sk-journal", "requests")
            assert [entry["seq"] for entry in journal["data"]] == list(range(1, 21))
            assert sorted(entry["id"] for entry in journal["data"]) == sent
            verified = await admin(http, "POST", url, "sk-journal", "verify", check)
            assert verified["ok"], verified
            assert verified["matched"] == list(range(1, 21))


async def test_a_runtime_fixture_added_on_one_process_answers_on_the_other(two_servers: list[str]) -> None:
    one, two = two_servers
    fixture = {
        "id": "hello",
        "times": 1,
        "match": {"last_user": {"contains": "hello"}},
        "response": {"text": "Hi!"},
    }
    async with httpx.AsyncClient(timeout=30) as http:
        await admin(http, "POST", one, "sk-arrange", "fixtures", fixture)
        assert text_of(await ask(http, two, "sk-arrange", "hello", ECHO)) == "Hi!"
        assert text_of(await ask(http, one, "sk-arrange", "hello", ECHO)) == "hello"  # used up: the echo
        listed = await admin(http, "GET", two, "sk-arrange", "fixtures")
        assert [item["id"] for item in listed["data"]] == ["hello"]
        await admin(http, "DELETE", two, "sk-arrange", "fixtures/hello")
        assert (await admin(http, "GET", one, "sk-arrange", "fixtures"))["data"] == []
        assert text_of(await ask(http, one, "sk-someone-else", "hello", ECHO)) == "hello"


async def test_a_reset_on_one_process_clears_what_the_other_shares(two_servers: list[str]) -> None:
    one, two = two_servers
    fixture = {"match": {"last_user": {"contains": "hello"}}, "response": {"text": "Hi!"}}
    async with httpx.AsyncClient(timeout=30) as http:
        await admin(http, "POST", one, "sk-reset", "fixtures", fixture)
        assert text_of(await ask(http, one, "sk-reset")) == "one"
        assert text_of(await ask(http, one, "sk-reset")) == "two"
        reset = await admin(http, "POST", two, "sk-reset", "reset")
        assert (reset["fixtures"], reset["journal"]) == (1, 2)
        assert (await admin(http, "GET", one, "sk-reset", "fixtures"))["data"] == []
        assert (await admin(http, "GET", one, "sk-reset", "requests"))["data"] == []
        assert text_of(await ask(http, one, "sk-reset")) == "one"  # the sequence starts again
        assert text_of(await ask(http, one, "sk-reset", "hello", ECHO)) == "hello"


async def test_the_openai_sdk_retries_through_a_redis_restart_and_nothing_the_server_held_is_lost(
    tmp_path: Path,
) -> None:
    own = RedisServer(free_port())  # this test kills and restarts it: not the session's server
    own.start()
    statuses: list[int] = []

    async def restart_redis_on_503(response: httpx.Response) -> None:
        statuses.append(response.status_code)
        if response.status_code == 503:
            own.start()  # back (empty) before the SDK's retry goes out

    try:
        config = write_config(tmp_path, own.url, "restart:")
        with ExitStack() as stack:
            (url,) = serve_all(stack, config, 1)
            async with httpx.AsyncClient(
                timeout=30, event_hooks={"response": [restart_redis_on_503]}
            ) as http:
                sdk = openai.AsyncOpenAI(
                    api_key="sk-sdk", base_url=f"{url}/v1", http_client=http, max_retries=2
                )

                async def step() -> str | None:
                    completion = await sdk.chat.completions.create(
                        model="gpt-4o-mini", messages=[{"role": "user", "content": "next step"}]
                    )
                    return completion.choices[0].message.content

                assert await step() == "one"
                own.stop()
                # Concurrent requests while Redis is gone: each a 503 `server_error`, none a 500.
                async with httpx.AsyncClient(timeout=30) as plain:  # no restart on its 503s
                    lost = await asyncio.gather(*(ask(plain, url, "sk-other") for _ in range(10)))
                assert {answer.status_code for answer in lost} == {503}
                for answer in lost:
                    error = openai.types.ErrorObject.model_validate(answer.json()["error"])
                    assert (error.type, error.code) == ("server_error", None)
                statuses.clear()
                assert await step() == "one"  # retried once Redis was back: it kept nothing
                assert statuses == [503, 200]
                # The journal entries written while Redis was gone were held, then written.
                journal = await admin(http, "GET", url, "sk-other", "requests")
                assert [entry["status"] for entry in journal["data"]] == [503] * 10
    finally:
        own.stop()


async def test_a_stream_its_client_left_is_journaled_for_both_processes(two_servers: list[str]) -> None:
    one, two = two_servers
    slow = {"response": {"text": "one two three"}, "timing": {"chunk_delay": 60}}
    body = {"model": ECHO, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(timeout=30) as http:
        await admin(http, "POST", one, "sk-leaves", "fixtures", slow)
        headers = {"Authorization": "Bearer sk-leaves"}
        async with http.stream("POST", f"{one}/v1/chat/completions", headers=headers, json=body) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    break  # the first chunk; the next waits a minute: leave now
        # The server notices the client left on its own time: ask until the entry is there.
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            entries = (await admin(http, "GET", two, "sk-leaves", "requests"))["data"]
            if entries or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
    assert [(entry["stream"], entry["error"]) for entry in entries] == [(True, "client_disconnected")]
