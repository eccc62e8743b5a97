"""LangChain's `ChatOpenAI(use_responses_api=True)` against a loopback server.

Proven here: `invoke` and `stream` give the reply's text, the response id and usage; with
`bind_tools` the fixtures' two-step loop runs: a tool call with parsed arguments (whole and
streamed), then, after the `ToolMessage` (a `function_call_output`), the answer that quotes it;
an unstored reasoning item goes back to the server through its `encrypted_content`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import reduce

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from server.generation.events import Finish, TextDelta
from tests.conftest import MakeApp
from tests.servers import serve
from tests.support.backends import ScriptedBackend
from tests.support.fixture_apps import DATA, fixture_app

QUESTION = "What is the weather in Paris?"


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return "18°C" if city == "Paris" else "unknown"


@pytest.fixture(scope="module")
def llm() -> Iterator[ChatOpenAI]:
    # Echo answers what no fixture does: it repeats the user's message.
    with serve(fixture_app([DATA / "agent-tool-loop.yaml"], fallback="echo")) as live:
        yield ChatOpenAI(
            model="gpt-4o",
            api_key="sk-langchain",
            base_url=live.base_url,
            use_responses_api=True,
            max_retries=0,
        )


@pytest.fixture(autouse=True)
def no_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"):
        monkeypatch.delenv(name, raising=False)


def joined(chunks: Iterator[AIMessageChunk]) -> AIMessageChunk:
    return reduce(lambda whole, chunk: whole + chunk, chunks)


def test_invoke_returns_the_text_the_response_id_and_usage(llm: ChatOpenAI) -> None:
    reply = llm.invoke("Hello there")
    assert reply.text == "Hello there"
    assert reply.id is not None
    assert reply.id.startswith("resp_")
    assert reply.response_metadata["status"] == "completed"
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] == 2
    assert reply.usage_metadata["total_tokens"] == reply.usage_metadata["input_tokens"] + 2


def test_stream_yields_the_text_in_pieces_and_usage_at_the_end(llm: ChatOpenAI) -> None:
    chunks = list(llm.stream("Hello there"))
    texts = [chunk.text for chunk in chunks if chunk.text]
    assert texts == ["Hello", " there"]
    whole = joined(iter(chunks))
    assert whole.text == "Hello there"
    assert whole.id is not None
    assert whole.id.startswith("resp_")
    assert whole.usage_metadata is not None
    assert whole.usage_metadata["output_tokens"] == 2


def test_bound_tools_run_the_loop_to_the_answer(llm: ChatOpenAI) -> None:
    model = llm.bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage(QUESTION)]
    call = model.invoke(messages)
    assert isinstance(call, AIMessage)
    assert [(c["name"], c["args"]) for c in call.tool_calls] == [("get_weather", {"city": "Paris"})]
    messages += [
        call,
        ToolMessage(get_weather.invoke(call.tool_calls[0]["args"]), tool_call_id=call.tool_calls[0]["id"]),
    ]
    answer = model.invoke(messages)
    assert answer.text == "It is 18°C in Paris right now."
    assert not answer.tool_calls


def test_a_streamed_tool_call_arrives_whole(llm: ChatOpenAI) -> None:
    whole = joined(llm.bind_tools([get_weather]).stream(QUESTION))
    assert [(c["name"], c["args"]) for c in whole.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert whole.tool_calls[0]["id"].startswith("call_")


def test_unstored_reasoning_is_replayed_through_its_encrypted_content(make_app: MakeApp) -> None:
    """With `store: false` LangChain sends a reasoning item back only when it carries the
    `encrypted_content` that `include` asked for."""
    backend = ScriptedBackend([TextDelta("Fine."), Finish("stop")])
    with serve(make_app(backend=backend)) as live:
        llm = ChatOpenAI(
            model="gpt-5",
            api_key="sk-langchain",
            base_url=live.base_url,
            use_responses_api=True,
            store=False,
            include=["reasoning.encrypted_content"],
            max_retries=0,
        )
        first = llm.invoke("Hello")
        llm.invoke([HumanMessage("Hello"), first, HumanMessage("And now?")])
    reasoning = [block for block in first.content if isinstance(block, dict) and block["type"] == "reasoning"]
    assert len(reasoning) == 1
    assert reasoning[0]["encrypted_content"].startswith("gAAAAA")
    replayed = [item for item in json.loads(backend.requests[1].raw)["input"] if item["type"] == "reasoning"]
    assert [item["encrypted_content"] for item in replayed] == [reasoning[0]["encrypted_content"]]
