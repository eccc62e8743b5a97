"""Two chatdouble processes on one real Redis keep one store of responses and chat completions
(`state: redis://...`, docs/scale.md).

Each process is `python -m server serve` with the same config, on its own port. Proven: a
`previous_response_id` chain whose turns alternate between the processes continues the whole
conversation (each turn's counted input tokens are those of the same chain on one process, and
include every earlier turn); a completion stored on one process is listed (filtered by metadata,
paged), read, updated, its messages listed and deleted on the other; a background response
created on one is followed to its end, polled, and cancelled mid-run on the other.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import clean_env, python_command, running
from tests.support import sse
from tests.support.redis_server import RedisServer

STALLING = """\
fixtures:
  - id: stalls
    match: {last_user: {contains: stall}}
    response: {text: "Hello there, and then nothing more for a long while"}
    fault: {kind: stall, after_chunks: 1}
"""
STALL_MODEL = "gpt-4.1-mini"  # routed to the fixture that stalls; every other model echoes


def write_config(tmp_path: Path, redis_url: str, prefix: str) -> Path:
    (tmp_path / "stalling.yaml").write_text(STALLING, encoding="utf-8")
    config = {
        "state": redis_url,
        "state_prefix": prefix,
        "backends": {
            "echo": {"type": "echo"},
            "stalling": {"type": "fixtures", "paths": [str(tmp_path / "stalling.yaml")]},
        },
        "routes": [{"model": STALL_MODEL, "backend": "stalling"}, {"model": "*", "backend": "echo"}],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory, redis: RedisServer) -> Iterator[list[str]]:
    """Started once for the module: each test keeps apart by its own API key."""
    config = write_config(tmp_path_factory.mktemp("stores"), redis.url, f"stores-{uuid.uuid4().hex[:12]}:")
    with ExitStack() as stack:
        urls = []
        for _ in range(2):
            command = python_command("serve", "--config", str(config), "--port", "0")
            server = stack.enter_context(running(command, clean_env()))
            stack.callback(server.stop)
            urls.append(f"http://127.0.0.1:{server.wait_ready()}")
        yield urls


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer sk-{uuid.uuid4().hex[:12]}"}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        yield client


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------- previous_response_id chains


TURNS = ["My name is Ada.", "I write programs for an engine.", "What is my name?", "Say it once more."]


async def chain(http: httpx.AsyncClient, urls: list[str]) -> list[dict[str, Any]]:
    """The turns asked in order, turn i on `urls[i % len(urls)]`, each continuing the one before."""
    answers: list[dict[str, Any]] = []
    for index, text in enumerate(TURNS):
        body: dict[str, Any] = {"model": "gpt-4o", "input": text}
        if answers:
            body["previous_response_id"] = answers[-1]["id"]
        answers.append(ok(await http.post(f"{urls[index % len(urls)]}/v1/responses", json=body)))
    return answers


async def test_a_chain_alternating_between_processes_counts_the_whole_conversation(
    two_servers: list[str], http: httpx.AsyncClient
) -> None:
    alternating = await chain(http, two_servers)
    alone = await chain(http, two_servers[:1])
    counted = [answer["usage"]["input_tokens"] for answer in alternating]
    assert counted == [answer["usage"]["input_tokens"] for answer in alone]
    for before, after in itertools.pairwise(alternating):
        # A turn reads everything before it: the last turn's input and its answer, and more.
        assert (
            after["usage"]["input_tokens"]
            > before["usage"]["input_tokens"] + before["usage"]["output_tokens"]
        )
    last = alternating[-1]["id"]
    for url in two_servers:  # either process reads the chain's end and counts what it continues
        assert ok(await http.get(f"{url}/v1/responses/{last}"))["id"] == last
        probe = {"model": "gpt-4o", "input": TURNS[-1], "previous_response_id": alternating[-2]["id"]}
        assert (
            ok(await http.post(f"{url}/v1/responses/input_tokens", json=probe))["input_tokens"] == counted[-1]
        )
    items = ok(await http.get(f"{two_servers[1]}/v1/responses/{alternating[0]['id']}/input_items"))
    assert [item["content"][0]["text"] for item in items["data"]] == [TURNS[0]]
    deleted = ok(await http.delete(f"{two_servers[1]}/v1/responses/{alternating[0]['id']}"))
    assert deleted["deleted"] is True
    gone = await http.get(f"{two_servers[0]}/v1/responses/{alternating[0]['id']}")
    assert gone.status_code == 404


# ---------------------------------------------------------------- stored chat completions


async def store(http: httpx.AsyncClient, url: str, text: str, **metadata: str) -> dict[str, Any]:
    body = {
        "model": "gpt-4o-mini",
        "store": True,
        "metadata": metadata,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}],
    }
    return ok(await http.post(f"{url}/v1/chat/completions", json=body))


async def test_a_completion_stored_on_one_process_is_listed_read_and_deleted_on_the_other(
    two_servers: list[str], http: httpx.AsyncClient
) -> None:
    one, other = two_servers
    created = [
        await store(http, one if i % 2 else other, f"note {i}", run="r1" if i < 4 else "r2") for i in range(5)
    ]
    ids = [c["id"] for c in created]
    listed = ok(await http.get(f"{other}/v1/chat/completions", params={"metadata[run]": "r1", "limit": 2}))
    assert ([c["id"] for c in listed["data"]], listed["has_more"]) == (ids[:2], True)
    after = ok(await http.get(f"{one}/v1/chat/completions", params={"metadata[run]": "r1", "after": ids[1]}))
    assert ([c["id"] for c in after["data"]], after["has_more"]) == (ids[2:4], False)
    newest = ok(await http.get(f"{one}/v1/chat/completions", params={"order": "desc", "limit": 1}))
    assert [c["id"] for c in newest["data"]] == [ids[4]]

    read = ok(await http.get(f"{other}/v1/chat/completions/{ids[1]}"))
    assert (read["choices"], read["metadata"]) == (created[1]["choices"], {"run": "r1"})
    updated = ok(await http.post(f"{other}/v1/chat/completions/{ids[1]}", json={"metadata": {"run": "r9"}}))
    assert updated["metadata"] == {"run": "r9"}
    assert ok(await http.get(f"{one}/v1/chat/completions/{ids[1]}"))["metadata"] == {"run": "r9"}
    messages = ok(await http.get(f"{other}/v1/chat/completions/{ids[1]}/messages"))
    assert [(m["id"], m["content"]) for m in messages["data"]] == [
        (f"{ids[1]}-0", "Be brief."),
        (f"{ids[1]}-1", "note 1"),
    ]

    assert ok(await http.delete(f"{other}/v1/chat/completions/{ids[1]}"))["deleted"] is True
    assert (await http.get(f"{one}/v1/chat/completions/{ids[1]}")).status_code == 404
    remaining = ok(await http.get(f"{one}/v1/chat/completions"))
    assert [c["id"] for c in remaining["data"]] == [ids[0], *ids[2:]]


# ---------------------------------------------------------------- background responses


async def test_a_background_response_is_followed_and_polled_on_the_other_process(
    two_servers: list[str], http: httpx.AsyncClient
) -> None:
    one, other = two_servers
    body = {"model": "gpt-4o", "input": "Background work, done elsewhere.", "background": True}
    queued = ok(await http.post(f"{one}/v1/responses", json=body))
    assert queued["status"] == "queued"
    replay = await http.get(f"{other}/v1/responses/{queued['id']}", params={"stream": "true"})
    frames = sse.frames(replay.text)
    assert frames[-1].event == "response.completed"
    assert [frame.json()["sequence_number"] for frame in frames] == list(range(len(frames)))
    text = "".join(frame.json()["delta"] for frame in frames if frame.event == "response.output_text.delta")
    polled = ok(await http.get(f"{other}/v1/responses/{queued['id']}"))
    assert polled["status"] == "completed"
    assert polled["output"][0]["content"][0]["text"] == text == "Background work, done elsewhere."
    later = await http.get(
        f"{one}/v1/responses/{queued['id']}", params={"stream": "true", "starting_after": "2"}
    )
    assert [frame.data for frame in sse.frames(later.text)] == [frame.data for frame in frames[3:]]


async def test_a_background_response_running_on_one_process_is_cancelled_on_the_other(
    two_servers: list[str], http: httpx.AsyncClient
) -> None:
    one, other = two_servers
    body = {"model": STALL_MODEL, "input": "stall, please", "background": True}
    queued = ok(await http.post(f"{one}/v1/responses", json=body))
    one_id = f"/v1/responses/{queued['id']}"
    async with http.stream("GET", f"{other}{one_id}", params={"stream": "true"}) as following:
        events = []
        lines = following.aiter_lines()
        async for line in lines:  # up to its first text: then it stalls, running on `one`
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
                if events[-1] == "response.output_text.delta":
                    break
        assert ok(await http.get(f"{other}{one_id}"))["status"] == "in_progress"
        cancelled = ok(await http.post(f"{other}{one_id}/cancel"))
        assert cancelled["status"] == "cancelled"
        async for line in lines:  # the follower's stream ends with the run
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
    assert events[:3] == ["response.created", "response.queued", "response.in_progress"]
    assert ok(await http.get(f"{one}{one_id}"))["status"] == "cancelled"
    again = ok(await http.post(f"{one}{one_id}/cancel"))
    assert again["status"] == "cancelled"
