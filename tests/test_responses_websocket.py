"""The Responses API's WebSocket mode, driven by the official SDK's `client.responses.connect()`
against a real uvicorn on loopback.

Proven here: a turn's events arrive one JSON text frame each (the SSE `data` payload, numbered from
0, ending in `response.completed`); turns on one connection run in order, and `previous_response_id`
continues a stored response, or the latest `store: false` one of this connection, and nothing after
a reconnect; refusals are `error` frames with the HTTP status, after which the connection still
serves; `stream_id` is echoed on every event; a bad key is refused at the handshake with the HTTP
401 body; a client that leaves mid-turn stops its backend; a backend failure ends the response with
`error` and `response.failed`, and a scripted dropped connection closes the socket with 1011.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import websockets
from openai import AsyncOpenAI
from openai.resources.responses.responses import AsyncResponsesConnection

from backends.base import DropConnection, Event
from server.errors import APIError
from server.generation.events import Finish, TextDelta
from tests.conftest import MakeApp
from tests.servers import LiveServer, serve
from tests.support.backends import Pause, Raise, ScriptedBackend

TERMINAL = {"response.completed", "response.failed", "response.incomplete", "error"}
HELLO: list[Event] = [TextDelta("Hello"), TextDelta(" there"), Finish("stop")]


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend(HELLO)


@pytest.fixture
def server(make_app: MakeApp, backend: ScriptedBackend) -> Iterator[LiveServer]:
    with serve(make_app(backend=backend)) as live:
        yield live


@pytest.fixture
async def sdk(server: LiveServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0) as client:
        yield client


async def turn(connection: AsyncResponsesConnection, **create: Any) -> list[dict[str, Any]]:
    """Send one `response.create` and read its frames, as sent, up to its terminal event."""
    await connection.response.create(**create)
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] not in TERMINAL:
        frames.append(json.loads(await connection.recv_bytes()))
    return frames


async def drain(connection: AsyncResponsesConnection) -> None:
    while True:
        await connection.recv_bytes()


def said(request_index: int, backend: ScriptedBackend) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in backend.requests[request_index].conversation.messages]


async def test_a_single_turn_streams_every_event_as_one_json_frame(sdk: AsyncOpenAI) -> None:
    async with sdk.responses.connect() as connection:
        frames = await turn(connection, model="gpt-4o", input="Hi")
    types = [frame["type"] for frame in frames]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert "response.output_text.delta" in types
    assert [frame["sequence_number"] for frame in frames] == list(range(len(frames)))
    response = frames[-1]["response"]
    assert response["status"] == "completed"
    assert response["output"][0]["content"][0]["text"] == "Hello there"


async def test_the_sdk_parses_every_frame_of_a_turn(sdk: AsyncOpenAI) -> None:
    async with sdk.responses.connect() as connection:
        await connection.response.create(model="gpt-4o", input="Hi")
        text = ""
        async for event in connection:
            if event.type == "response.output_text.delta":
                text += event.delta
            if event.type == "response.completed":
                assert event.response.output_text == "Hello there"
                break
    assert text == "Hello there"


async def test_sequential_turns_continue_through_previous_response_id(
    sdk: AsyncOpenAI, backend: ScriptedBackend
) -> None:
    async with sdk.responses.connect() as connection:
        first = (await turn(connection, model="gpt-4o", input="One"))[-1]["response"]
        second = (await turn(connection, model="gpt-4o", input="Two", previous_response_id=first["id"]))[-1]
    assert second["type"] == "response.completed"
    assert second["response"]["previous_response_id"] == first["id"]
    assert said(1, backend) == [("user", "One"), ("assistant", "Hello there"), ("user", "Two")]


async def test_an_unstored_response_is_continued_on_its_own_connection_only(
    sdk: AsyncOpenAI, backend: ScriptedBackend, server: LiveServer
) -> None:
    async with sdk.responses.connect() as connection:
        first = (await turn(connection, model="gpt-4o", input="One", store=False))[-1]["response"]
        second = await turn(
            connection, model="gpt-4o", input="Two", store=False, previous_response_id=first["id"]
        )
    assert second[-1]["type"] == "response.completed"
    assert said(1, backend) == [("user", "One"), ("assistant", "Hello there"), ("user", "Two")]
    with pytest.raises(Exception, match="404"):
        await sdk.responses.retrieve(first["id"])
    async with sdk.responses.connect() as again:
        refused = await turn(again, model="gpt-4o", input="Three", previous_response_id=first["id"])
    assert refused[-1]["error"]["code"] == "previous_response_not_found"


async def test_only_the_latest_unstored_response_of_a_lane_can_be_continued(sdk: AsyncOpenAI) -> None:
    async with sdk.responses.connect() as connection:
        first = (await turn(connection, model="gpt-4o", input="One", store=False))[-1]["response"]
        await turn(connection, model="gpt-4o", input="Two", store=False, previous_response_id=first["id"])
        refused = await turn(connection, model="gpt-4o", input="Again", previous_response_id=first["id"])
    assert refused[-1]["error"]["code"] == "previous_response_not_found"


async def test_a_stored_response_is_continued_after_reconnecting(
    sdk: AsyncOpenAI, backend: ScriptedBackend
) -> None:
    async with sdk.responses.connect() as connection:
        first = (await turn(connection, model="gpt-4o", input="One"))[-1]["response"]
    async with sdk.responses.connect() as connection:
        second = await turn(connection, model="gpt-4o", input="Two", previous_response_id=first["id"])
    assert second[-1]["type"] == "response.completed"
    assert said(1, backend) == [("user", "One"), ("assistant", "Hello there"), ("user", "Two")]


async def test_an_unknown_previous_response_is_an_error_frame_and_the_connection_goes_on(
    sdk: AsyncOpenAI,
) -> None:
    async with sdk.responses.connect() as connection:
        await connection.response.create(model="gpt-4o", input="Hi", previous_response_id="resp_missing")
        raw = await connection.recv_bytes()
        after = await turn(connection, model="gpt-4o", input="Hi")
    assert json.loads(raw) == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "code": "previous_response_not_found",
            "message": "Previous response with id 'resp_missing' not found.",
            "param": "previous_response_id",
        },
        "status": 400,
    }
    assert list(json.loads(raw)) == ["type", "error", "status"]
    assert list(json.loads(raw)["error"]) == ["type", "code", "message", "param"]
    assert after[-1]["type"] == "response.completed"


async def test_a_stream_id_is_echoed_on_every_event_of_its_response(sdk: AsyncOpenAI) -> None:
    async with sdk.responses.connect() as connection:
        frames = await turn(connection, model="gpt-4o", input="Hi", stream_id="lane-1")
        refused = await turn(
            connection, model="gpt-4o", input="Hi", previous_response_id="resp_x", stream_id="b"
        )
    assert {frame.get("stream_id") for frame in frames} == {"lane-1"}
    assert refused[-1]["stream_id"] == "b"


async def test_requests_the_api_refuses_are_error_frames_with_their_status(sdk: AsyncOpenAI) -> None:
    async with sdk.responses.connect() as connection:
        await connection.send_raw("{not json")
        bad_json = json.loads(await connection.recv_bytes())
        await connection.send_raw(json.dumps({"type": "response.cancel"}))
        bad_type = json.loads(await connection.recv_bytes())
        background = await turn(connection, model="gpt-4o", input="Hi", background=True)
        bad_value = await turn(connection, model="gpt-4o", input="Hi", temperature=5)
    assert bad_json["status"] == 400
    assert "could not parse the JSON body" in bad_json["error"]["message"]
    assert bad_type["error"]["param"] == "type"
    assert background[-1]["error"]["param"] == "background"
    assert bad_value[-1]["status"] == 400
    assert bad_value[-1]["error"]["param"] == "temperature"


async def test_the_agents_sdk_stream_flag_is_accepted(sdk: AsyncOpenAI) -> None:
    async with sdk.responses.connect() as connection:
        frames = await turn(connection, model="gpt-4o", input="Hi", stream=True)
    assert frames[-1]["type"] == "response.completed"


async def test_generate_false_prepares_a_response_to_continue(
    sdk: AsyncOpenAI, backend: ScriptedBackend
) -> None:
    async with sdk.responses.connect() as connection:
        warm = await turn(connection, model="gpt-4o", input="Context", generate=False, store=False)
        answer = await turn(
            connection, model="gpt-4o", input="Go", previous_response_id=warm[-1]["response"]["id"]
        )
    assert warm[-1]["type"] == "response.completed"
    assert warm[-1]["response"]["output"] == []
    assert len(backend.requests) == 1
    assert said(0, backend) == [("user", "Context"), ("user", "Go")]
    assert answer[-1]["type"] == "response.completed"


async def test_a_backend_failure_mid_turn_ends_it_with_error_and_failed(make_app: MakeApp) -> None:
    backend = ScriptedBackend(
        [TextDelta("Hel"), Raise(APIError(429, "Slow down.", code="rate_limit_exceeded"))]
    )
    with serve(make_app(backend=backend)) as live:
        client = AsyncOpenAI(api_key="k", base_url=live.base_url)
        async with client, client.responses.connect() as connection:
            frames = await turn(connection, model="gpt-4o", input="Hi")
            frames.append(json.loads(await connection.recv_bytes()))
    assert [frame["type"] for frame in frames[-2:]] == ["error", "response.failed"]
    assert frames[-2]["error"]["code"] == "rate_limit_exceeded"
    assert frames[-1]["response"]["error"] == {"code": "rate_limit_exceeded", "message": "Slow down."}


async def test_a_client_that_leaves_mid_turn_stops_its_backend(make_app: MakeApp) -> None:
    backend = ScriptedBackend([TextDelta("Hel"), Pause(None)])
    with serve(make_app(backend=backend)) as live:
        client = AsyncOpenAI(api_key="k", base_url=live.base_url)
        async with client, client.responses.connect() as connection:
            await connection.response.create(model="gpt-4o", input="Hi")
            while json.loads(await connection.recv_bytes())["type"] != "response.output_text.delta":
                pass
        assert backend.stopped.wait(timeout=10)


async def test_a_bad_key_is_refused_at_the_handshake_with_the_http_401(make_app: MakeApp) -> None:
    with serve(make_app(api_keys=["sk-right"])) as live:
        async with AsyncOpenAI(api_key="sk-wrong", base_url=live.base_url) as client:
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with client.responses.connect():
                    pass
    response = refused.value.response
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "invalid_api_key"


async def test_a_scripted_dropped_connection_closes_the_socket_with_1011(make_app: MakeApp) -> None:
    backend = ScriptedBackend([TextDelta("Hel"), Raise(DropConnection())])
    with serve(make_app(backend=backend)) as live:
        client = AsyncOpenAI(api_key="k", base_url=live.base_url)
        async with client, client.responses.connect() as connection:
            await connection.response.create(model="gpt-4o", input="Hi")
            with pytest.raises(websockets.ConnectionClosedError) as closed:
                await drain(connection)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1011
