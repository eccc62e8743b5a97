"""chatdouble.testing's admin API client and servers, driven against a real app: in process (through
the sync and async bridges), in a thread and in a subprocess (real sockets)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator

import openai
import pytest
from starlette.applications import Starlette

from chatdouble.testing import (
    AsyncChatDouble,
    ChatDouble,
    ChatDoubleError,
    InProcessServer,
    SubprocessServer,
    ThreadServer,
    documents,
    servers,
)

ASK = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(scope="module")
def server() -> Iterator[InProcessServer]:
    with InProcessServer() as running:
        yield running


@pytest.fixture
def double(server: InProcessServer, request: pytest.FixtureRequest) -> Iterator[ChatDouble]:
    with ChatDouble(server, session=request.node.name) as client:
        yield client
        client.reset()


def ask(client: openai.OpenAI, text: str = "hello") -> str:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
    )
    return completion.choices[0].message.content or ""


def test_fixtures_are_added_as_yaml_a_list_or_a_file_shaped_document(double: ChatDouble) -> None:
    added = double.add(
        "fixtures:\n  - id: yaml-one\n    match: {last_user: a}\n    response: {text: from yaml}\n"
    )
    assert [fixture["id"] for fixture in added] == ["yaml-one"]
    listed = double.add([{"match": {"last_user": "b"}, "response": {"text": "from a list"}}])
    assert listed[0]["id"].startswith("fx_")
    double.add({"fixtures": [documents.fixture("from a document", match={"last_user": "c"}, id="doc")]})
    client = double.openai_client(max_retries=0)
    assert [ask(client, "a"), ask(client, "b"), ask(client, "c")] == [
        "from yaml",
        "from a list",
        "from a document",
    ]
    assert [fixture["id"] for fixture in double.fixtures()] == ["yaml-one", listed[0]["id"], "doc"]
    double.delete_fixture("doc")
    assert ask(client, "c") == "c"  # the route's echo backend answers again
    assert double.clear_fixtures() == 2
    assert double.fixtures() == []


def test_a_refused_fixture_raises_with_the_servers_message(double: ChatDouble) -> None:
    with pytest.raises(ChatDoubleError) as caught:
        double.add({"id": "both", "response": {"text": "x"}, "sequence": [{"text": "y"}]})
    assert caught.value.status == 400
    assert "give exactly one of response, sequence" in caught.value.message
    with pytest.raises(ChatDoubleError, match="not found"):
        double.delete_fixture("fx_missing")


def test_tool_call_error_and_sequence_shortcuts_reach_the_sdk(double: ChatDouble) -> None:
    client = double.openai_client(max_retries=0)
    double.tool_call("lookup", {"id": 7}, match={"last_user": "tool"})
    double.error(503, "Try later.", match={"last_user": "fail"}, headers={"x-should-retry": "false"})
    double.sequence(["one", documents.tool_call("lookup", '{"id": 8}')], match={"last_user": "steps"})
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    message = (
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "tool"}], tools=tools
        )
        .choices[0]
        .message
    )
    assert message.tool_calls is not None
    assert json.loads(message.tool_calls[0].function.arguments) == {"id": 7}
    with pytest.raises(openai.InternalServerError) as caught:
        ask(client, "fail")
    assert caught.value.status_code == 503
    assert "Try later." in caught.value.message
    assert ask(client, "steps") == "one"
    second = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "steps"}], tools=tools
    )
    assert second.choices[0].message.tool_calls is not None


def test_requests_page_through_the_journal(double: ChatDouble) -> None:
    client = double.openai_client()
    for text in ("one", "two", "three"):
        ask(client, text)
    entries = double.requests()
    assert [entry["request"]["messages"][0]["content"] for entry in entries] == ["one", "two", "three"]
    assert [entry["seq"] for entry in double.requests(limit=2)] == [entry["seq"] for entry in entries[:2]]
    assert [entry["seq"] for entry in double.requests(since=entries[0]["seq"])] == [
        e["seq"] for e in entries[1:]
    ]
    assert double.clear_requests() == 3
    assert double.requests() == []


def test_verify_counts_and_explains_a_miss(double: ChatDouble) -> None:
    client = double.openai_client()
    ask(client, "hello")
    ask(client, "hello")
    assert double.verify({"last_user": "hello"}, 2)["count"] == 2
    double.verify({"last_user": "hello"}, {"min": 1, "max": 2})
    double.verify({"last_user": "bye"}, 0)
    with pytest.raises(AssertionError) as caught:
        double.verify({"last_user": "bye"})
    message = str(caught.value)
    assert 'with min 1 matching {"last_user": "bye"}, found 0' in message
    assert "wanted text equal to 'bye', got 'hello'" in message


def test_reset_forgets_the_namespace_only(server: InProcessServer, double: ChatDouble) -> None:
    double.reply("mine")
    with ChatDouble(server, session="neighbour") as neighbour:
        neighbour.reply("theirs")
        assert ask(double.openai_client()) == "mine"
        assert ask(neighbour.openai_client()) == "theirs"
        double.reset()
        assert double.fixtures() == []
        assert double.requests() == []
        assert [entry["response"]["choices"][0]["message"]["content"] for entry in neighbour.requests()] == [
            "theirs"
        ]
        neighbour.reset()


async def test_the_async_client_and_async_sdk_work_in_process(server: InProcessServer) -> None:
    async with AsyncChatDouble(server, session="async") as double:
        await double.reply("async hello")
        async with double.async_openai_client() as client:
            completion = await client.chat.completions.create(**ASK)
        assert completion.choices[0].message.content == "async hello"
        (entry,) = await double.requests()
        assert entry["status"] == 200
        await double.verify({"last_user": "hello"}, 1)
        await double.reset()


@pytest.mark.parametrize("kind", [ThreadServer, SubprocessServer])
def test_servers_on_real_sockets_serve_and_stop(kind: type[ThreadServer] | type[SubprocessServer]) -> None:
    with kind() as running, ChatDouble(running, session="sockets") as double:
        assert running.url.startswith("http://127.0.0.1:")
        double.reply("over a socket")
        assert ask(double.openai_client()) == "over a socket"
        stream = double.openai_client().chat.completions.create(**ASK, stream=True)
        assert (
            "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
            == "over a socket"
        )
    with pytest.raises(RuntimeError, match="not running"):
        _ = running.url


def test_a_thread_server_whose_startup_fails_says_so_instead_of_leaving_clients_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @contextlib.asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no vocabulary")
        yield

    monkeypatch.setattr(servers, "create_app", lambda settings: Starlette(lifespan=broken))
    with pytest.raises(RuntimeError, match="did not start"):
        ThreadServer().start()
