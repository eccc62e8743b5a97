"""Background responses (`background: true`): answered `queued` at once, run to their end whatever
the client does, and meanwhile readable by polling (GET), by streaming their events (`GET
?stream=true&starting_after=N`, or `stream: true` at create), and cancellable (POST .../cancel).

Proven: the queued answer's shape; polling sees the finished response; a replay starts right after
`starting_after`, numbers events without gaps and ends with the terminal event, even when asked for
before the response has run at all; a running response cancels to `cancelled` and its stream ends;
a failing one ends `failed`; `store: false` is readable only while it runs. The official SDK's
`retrieve(stream=True, starting_after=N)` and `stream(response_id=...)` read a replay.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest

from backends.base import Backend, BackendError, Event, GenerationRequest, TextDelta
from tests.servers import LiveServer
from tests.support import sse
from tests.support.backends import Raise, ScriptedBackend
from tests.support.requests import in_process

RESPONSES = "/v1/responses"
TEXT = "Background work, done slowly."


class Held(Backend):
    """Says "Hel", then waits until cancelled; `started` is set once "Hel" is out."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Event]:
        yield TextDelta("Hel")
        self.started.set()
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        RESPONSES, json={"model": "gpt-4o", "input": TEXT, "background": True, **fields}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def replay(client: httpx.AsyncClient, response_id: str, **query: str) -> list[sse.Frame]:
    """Every event of a background response after `starting_after`, until it ends."""
    response = await client.get(f"{RESPONSES}/{response_id}", params={"stream": "true", **query})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse.frames(response.text)


def numbers(frames: list[sse.Frame]) -> list[int]:
    return [frame.json()["sequence_number"] for frame in frames]


async def test_a_background_response_is_answered_queued(client: httpx.AsyncClient) -> None:
    queued = await create(client)
    assert queued["status"] == "queued"
    assert queued["background"] is True
    assert queued["output"] == []
    assert queued["usage"] is None
    assert queued["completed_at"] is None


async def test_a_background_response_can_be_streamed_the_moment_it_is_created(
    client: httpx.AsyncClient,
) -> None:
    # It has not run yet (no event written): the replay waits for its events instead of a 400.
    queued = await create(client)
    frames = await replay(client, queued["id"])
    events = [frame.event for frame in frames]
    assert events[:3] == ["response.created", "response.queued", "response.in_progress"]
    assert events[-1] == "response.completed"
    assert numbers(frames) == list(range(len(frames)))
    assert [frame.json()["type"] for frame in frames] == events
    text = "".join(f.json()["delta"] for f in frames if f.event == "response.output_text.delta")
    assert text == TEXT


async def test_polling_sees_the_finished_response(client: httpx.AsyncClient) -> None:
    queued = await create(client)
    await replay(client, queued["id"])  # follows it to its end
    polled = (await client.get(f"{RESPONSES}/{queued['id']}")).json()
    assert polled["status"] == "completed"
    assert polled["output"][0]["content"][0]["text"] == TEXT
    assert polled["usage"]["output_tokens"] > 0
    assert list(polled)[:4] == ["id", "object", "created_at", "status"]


@pytest.mark.parametrize("after", [0, 2, 5])
async def test_a_replay_starts_right_after_starting_after(client: httpx.AsyncClient, after: int) -> None:
    queued = await create(client)
    whole = await replay(client, queued["id"])
    frames = await replay(client, queued["id"], starting_after=str(after))
    assert numbers(frames) == list(range(after + 1, len(whole)))
    assert [frame.data for frame in frames] == [frame.data for frame in whole[after + 1 :]]


async def test_a_replay_past_the_last_event_of_a_finished_response_is_empty(
    client: httpx.AsyncClient,
) -> None:
    queued = await create(client)
    whole = await replay(client, queued["id"])
    assert await replay(client, queued["id"], starting_after=str(len(whole) + 10)) == []


@pytest.mark.parametrize("after", ["-1", "-5", "two"])
async def test_a_starting_after_that_is_not_a_count_is_refused(client: httpx.AsyncClient, after: str) -> None:
    # A negative one used to index from the end: the replay sent the last events, then all of them.
    queued = await create(client)
    response = await client.get(
        f"{RESPONSES}/{queued['id']}", params={"stream": "true", "starting_after": after}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "starting_after"


async def test_only_a_background_response_streams_on_retrieval(client: httpx.AsyncClient) -> None:
    created = (await client.post(RESPONSES, json={"model": "gpt-4o", "input": TEXT})).json()
    response = await client.get(f"{RESPONSES}/{created['id']}", params={"stream": "true"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "stream"


async def test_stream_at_create_begins_with_created_then_queued(client: httpx.AsyncClient) -> None:
    body = {"model": "gpt-4o", "input": TEXT, "background": True, "stream": True}
    response = await client.post(RESPONSES, json=body)
    assert response.status_code == 200
    frames = sse.frames(response.text)
    assert [frame.event for frame in frames[:3]] == [
        "response.created",
        "response.queued",
        "response.in_progress",
    ]
    assert frames[0].json()["response"]["status"] == "queued"
    assert frames[-1].event == "response.completed"
    assert numbers(frames) == list(range(len(frames)))
    # And the same events are there for a later reader.
    again = await replay(client, frames[0].json()["response"]["id"])
    assert [frame.data for frame in again] == [frame.data for frame in frames]


async def test_cancelling_a_running_response_stops_it_and_ends_its_stream(make_app: Any) -> None:
    held = Held()
    async with in_process(make_app(backend=held)) as client:
        queued = await create(client)
        await held.started.wait()
        one = f"{RESPONSES}/{queued['id']}"
        assert (await client.get(one)).json()["status"] == "in_progress"
        cancelled = await client.post(one + "/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert held.cancelled
        assert (await client.get(one)).json()["status"] == "cancelled"
        frames = await replay(client, queued["id"])  # ends: nothing more will come
        assert "response.output_text.delta" in [frame.event for frame in frames]
        again = await client.post(one + "/cancel")  # a finished background response: unchanged
        assert again.status_code == 200
        assert again.json()["status"] == "cancelled"


async def test_a_foreground_response_cannot_be_cancelled(client: httpx.AsyncClient) -> None:
    created = (await client.post(RESPONSES, json={"model": "gpt-4o", "input": TEXT})).json()
    response = await client.post(f"{RESPONSES}/{created['id']}/cancel")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_a_background_response_that_fails_ends_failed(make_app: Any) -> None:
    overloaded = BackendError(503, "The engine is currently overloaded.", type="server_error")
    async with in_process(make_app(backend=ScriptedBackend([TextDelta("Hi"), Raise(overloaded)]))) as client:
        queued = await create(client)
        frames = await replay(client, queued["id"])
        assert [frame.event for frame in frames[-2:]] == ["error", "response.failed"]
        failed = (await client.get(f"{RESPONSES}/{queued['id']}")).json()
        assert failed["status"] == "failed"
        assert failed["error"]["message"] == "The engine is currently overloaded."


async def test_a_background_response_not_stored_is_gone_once_it_ends(client: httpx.AsyncClient) -> None:
    queued = await create(client, store=False)
    frames = await replay(client, queued["id"])
    assert frames[-1].event == "response.completed"
    response = await client.get(f"{RESPONSES}/{queued['id']}")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Response with id '{queued['id']}' not found."


# ---------------------------------------------------------------- the official SDK, on a socket


@pytest.fixture
def sdk(live_server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=live_server.base_url, api_key="sk-test", max_retries=0) as client:
        yield client


def test_the_sdk_retrieves_a_background_response_as_a_stream_after_a_sequence_number(
    sdk: openai.OpenAI,
) -> None:
    queued = sdk.responses.create(model="gpt-4o", input=TEXT, background=True)
    assert queued.status == "queued"
    events = list(sdk.responses.retrieve(queued.id, stream=True, starting_after=2))
    assert [event.sequence_number for event in events] == list(range(3, 3 + len(events)))
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == TEXT


def test_the_sdk_stream_helper_follows_a_background_response(sdk: openai.OpenAI) -> None:
    queued = sdk.responses.create(model="gpt-4o", input=TEXT, background=True)
    with sdk.responses.stream(response_id=queued.id) as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == TEXT
    assert final.id == queued.id
    assert final.status == "completed"
    polled = sdk.responses.retrieve(queued.id)
    assert polled.status == "completed"
    assert polled.output_text == TEXT
