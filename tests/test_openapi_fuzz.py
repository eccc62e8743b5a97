"""schemathesis over the committed OpenAPI document, against the real app in process.

Proven: every answer the app gives to requests generated from openapi/openapi.json (the document's
examples, schemathesis's coverage phase, then a fixed-seed, derandomized fuzzing phase; valid and
invalid data alike) is no 5xx, has a documented status, and validates against the schema documented
for its media type. For an event stream that is each event against `itemSchema`: the chunks, the
`[DONE]` sentinel and the error frame of a stream that fails after its first byte; a Responses
stream's named events, including its `error` and `response.failed`. The fuzzer cannot guess a
response id, so the routes that read a stored response are called with a real one.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from backends.base import BackendError, TextDelta
from server.app import create_app
from server.config import load_settings
from tests.processes import ROOT
from tests.support import sse
from tests.support.backends import Raise, ScriptedBackend

DOCUMENT = ROOT / "openapi" / "openapi.json"
CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
SEED = 20260708
MAX_EXAMPLES = 75  # fuzzed requests per operation
# schemathesis cuts an event stream at 20 events by default; a reasoning model's stream with its
# summary has more, and the tests read streams to their terminal event.
MAX_STREAM_EVENTS = 200


def load_schema() -> Any:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "max-stream-events": MAX_STREAM_EVENTS,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        }
    )
    return schemathesis.openapi.from_path(DOCUMENT, config=config)


# `parametrize` needs the operations at collection time: the document is read once, as data.
schema = load_schema()


@pytest.fixture(scope="module")
def fuzzed_app() -> Iterator[FastAPI]:
    yield create_app(load_settings(env={}))
    shutdown_lifespans()  # schemathesis keeps an app's lifespan running until it is told to stop


# The admin routes change the server for the requests after them (chaos turns answers into faults):
# they are driven by their own tests (tests/test_chaos.py), not fuzzed on the shared app.
@schema.exclude(path_regex="^/_chatdouble/").parametrize()
def test_generated_requests_get_documented_answers(case: Any, fuzzed_app: FastAPI) -> None:
    try:
        case.call_and_validate(app=fuzzed_app, checks=CHECKS)
    finally:
        # A fuzzed runtime fixture (a stall, a dropped connection) must not script the /v1 cases
        # that follow: they come without a key or session, the namespace "".
        asyncio.run(fuzzed_app.state.runtime.fixtures.clear(""))


def chat_case(**fields: Any) -> Any:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}], **fields}
    return schema[CHAT]["POST"].Case(body=body, media_type="application/json")


@pytest.fixture
def in_process() -> Iterator[None]:
    yield
    shutdown_lifespans()


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "event-stream"])
def test_a_reply_conforms_to_the_document(make_app: Any, stream: bool) -> None:
    fields = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
    response = chat_case(**fields).call_and_validate(app=make_app(), checks=CHECKS)
    assert response.status_code == 200
    if stream:
        events = sse.data(response.text)
        assert len(events) >= 3
        assert events[-1] == "[DONE]"
        assert json.loads(events[-2])["usage"]["total_tokens"] > 0


@pytest.mark.usefixtures("in_process")
def test_a_stream_that_fails_after_its_first_chunk_conforms_to_the_document(make_app: Any) -> None:
    # One piece of text, then a failure: the stream has begun, so it ends with an error frame.
    overloaded = BackendError(503, "The engine is currently overloaded.", type="server_error")
    app = make_app(backend=ScriptedBackend([TextDelta("Hello"), Raise(overloaded)]))
    response = chat_case(stream=True).call_and_validate(app=app, checks=CHECKS)
    assert response.status_code == 200
    events = sse.data(response.text)
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["error"]["message"] == "The engine is currently overloaded."


@pytest.mark.parametrize(
    "event",
    [
        b'{"id": "chatcmpl-1", "object": "chat.completion"}',  # a chunk missing its fields
        b'{"error": {"message": "m"}}',  # an error envelope missing its fields
        b"[done]",  # not the sentinel, not JSON
    ],
)
def test_the_event_schema_rejects_what_we_do_not_send(event: bytes) -> None:
    body = b"data: " + event + b"\n\ndata: [DONE]\n\n"
    response = httpx.Response(
        200,
        headers={"content-type": "text/event-stream; charset=utf-8"},
        content=body,
        request=httpx.Request("POST", "http://testserver" + CHAT),
    )
    response.elapsed = datetime.timedelta(0)  # set by a client's transport; this one never travelled
    with pytest.raises(FailureGroup, match="SSE event violates schema"):
        chat_case(stream=True).validate_response(response, checks=[response_schema_conformance])


def responses_case(**fields: Any) -> Any:
    body = {"model": "gpt-4o", "input": "Say hello.", **fields}
    return schema[RESPONSES]["POST"].Case(body=body, media_type="application/json")


def one_response_case(method: str, path: str, response_id: str, **query: Any) -> Any:
    return schema[RESPONSES + path][method].Case(path_parameters={"response_id": response_id}, query=query)


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"stream": True},
        {"background": True},
        {"model": "o3", "reasoning": {"summary": "auto"}, "stream": True},
    ],
    ids=["json", "event-stream", "background", "reasoning-stream"],
)
def test_a_model_response_conforms_to_the_document(make_app: Any, fields: dict[str, Any]) -> None:
    response = responses_case(**fields).call_and_validate(app=make_app(), checks=CHECKS)
    assert response.status_code == 200
    if fields.get("stream"):
        frames = sse.frames(response.text)
        assert [frame.event for frame in frames] == [frame.json()["type"] for frame in frames]
        assert frames[-1].event == "response.completed"
    else:
        assert response.json()["status"] == ("queued" if fields.get("background") else "completed")


@pytest.mark.usefixtures("in_process")
def test_a_responses_stream_that_fails_after_its_first_event_conforms_to_the_document(make_app: Any) -> None:
    overloaded = BackendError(503, "The engine is currently overloaded.", type="server_error")
    app = make_app(backend=ScriptedBackend([TextDelta("Hello"), Raise(overloaded)]))
    response = responses_case(stream=True).call_and_validate(app=app, checks=CHECKS)
    assert response.status_code == 200
    frames = sse.frames(response.text)
    assert [frame.event for frame in frames[-2:]] == ["error", "response.failed"]
    assert frames[-2].json()["error"]["message"] == "The engine is currently overloaded."


def conforms(case: Any, response: httpx.Response) -> httpx.Response:
    """`response` (from the in-process client) checked against the document for `case`'s operation."""
    case.validate_response(response, checks=CHECKS)
    return response


async def test_every_route_of_a_stored_response_conforms_to_the_document(client: httpx.AsyncClient) -> None:
    # Called through one in-process client, not schemathesis's: its calls each run on an event loop
    # of their own, where a background response's task would never run.
    create = responses_case(background=True)
    created = conforms(create, await client.post(RESPONSES, json=create.body)).json()
    response_id = created["id"]
    one = f"{RESPONSES}/{response_id}"
    retrieve = one_response_case("GET", "/{response_id}", response_id)
    assert conforms(retrieve, await client.get(one)).json()["id"] == response_id
    query = {"stream": "true", "starting_after": "2"}
    replay = one_response_case("GET", "/{response_id}", response_id, stream=True, starting_after=2)
    frames = sse.frames(conforms(replay, await client.get(one, params=query)).text)
    assert frames[0].json()["sequence_number"] == 3
    assert frames[-1].event == "response.completed"
    listing = one_response_case("GET", "/{response_id}/input_items", response_id, order="asc")
    listed = conforms(listing, await client.get(one + "/input_items", params={"order": "asc"}))
    assert listed.json()["data"][0]["role"] == "user"
    cancel = one_response_case("POST", "/{response_id}/cancel", response_id)
    assert conforms(cancel, await client.post(one + "/cancel")).json()["id"] == response_id
    chained = {"model": "gpt-4o", "input": "And again.", "previous_response_id": response_id}
    for path, field in (("/input_tokens", "input_tokens"), ("/compact", "output")):
        case = schema[RESPONSES + path]["POST"].Case(body=chained, media_type="application/json")
        assert field in conforms(case, await client.post(RESPONSES + path, json=chained)).json()
    delete = one_response_case("DELETE", "/{response_id}", response_id)
    assert conforms(delete, await client.delete(one)).json()["deleted"] is True
    gone = conforms(retrieve, await client.get(one))
    assert gone.status_code == 404
    assert gone.json()["error"]["message"] == f"Response with id '{response_id}' not found."


@pytest.mark.parametrize(
    "body",
    [
        # an event missing its fields
        b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x"}\n\n',
        # an event without its name
        b'data: {"type":"response.output_text.delta","content_index":0,"delta":"x","item_id":"msg_1",'
        b'"logprobs":[],"output_index":0,"sequence_number":3}\n\n',
    ],
)
def test_the_responses_event_schema_rejects_what_we_do_not_send(body: bytes) -> None:
    response = httpx.Response(
        200,
        headers={"content-type": "text/event-stream; charset=utf-8"},
        content=body,
        request=httpx.Request("POST", "http://testserver" + RESPONSES),
    )
    response.elapsed = datetime.timedelta(0)  # set by a client's transport; this one never travelled
    with pytest.raises(FailureGroup, match="SSE event"):
        responses_case(stream=True).validate_response(response, checks=[response_schema_conformance])
