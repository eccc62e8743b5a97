"""The OpenAI Agents SDK (`openai-agents`) on the Responses API, answered by fixtures on loopback.

Proven here: an agent with a function tool runs its two-step loop to the final answer (the tool is
called with the scripted arguments, its output goes back as a `function_call_output`, which the
fixtures see as a tool result), with `Runner.run` and `Runner.run_streamed`, over HTTP and over the
SDK's WebSocket transport, and chained by `previous_response_id` on one socket with `store: false`.
Tracing is off in every run: it would export to the network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from agents import (
    Agent,
    FunctionTool,
    ModelSettings,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
)
from agents.models.openai_responses import OpenAIResponsesWSModel
from agents.result import RunResultBase
from openai import AsyncOpenAI, NotFoundError

from tests.servers import LiveServer, serve
from tests.support.fixture_apps import DATA, fixture_app

QUESTION = "What is the weather in Paris?"
ANSWER = "It is 18°C in Paris right now."
OFFLINE = RunConfig(tracing_disabled=True)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with serve(fixture_app([DATA / "agent-tool-loop.yaml"])) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(api_key="sk-agents", base_url=server.base_url, max_retries=0) as sdk:
        yield sdk


class Weather:
    """The agent's tool, and the calls it got."""

    def __init__(self) -> None:
        self.calls: list[str] = []

        @function_tool
        def get_weather(city: str) -> str:
            """Current weather for a city."""
            self.calls.append(city)
            return "18°C" if city == "Paris" else "unknown"

        self.tool: FunctionTool = get_weather


def agent(model: OpenAIResponsesModel, tool: FunctionTool, *, store: bool | None = None) -> Agent[None]:
    return Agent(
        name="forecaster",
        instructions="Answer weather questions with the get_weather tool.",
        tools=[tool],
        model=model,
        model_settings=ModelSettings(store=store),
    )


def steps(result: RunResultBase) -> list[str]:
    return [item.type for item in result.new_items]


LOOP = ["tool_call_item", "tool_call_output_item", "message_output_item"]


async def test_an_agent_runs_its_tool_loop_to_the_answer(client: AsyncOpenAI) -> None:
    weather = Weather()
    forecaster = agent(OpenAIResponsesModel("gpt-4o", client), weather.tool)
    result = await Runner.run(forecaster, QUESTION, run_config=OFFLINE)
    assert result.final_output == ANSWER
    assert weather.calls == ["Paris"]
    assert steps(result) == LOOP
    assert result.last_response_id is not None
    assert result.last_response_id.startswith("resp_")


async def test_a_streamed_run_reaches_the_same_answer(client: AsyncOpenAI) -> None:
    weather = Weather()
    forecaster = agent(OpenAIResponsesModel("gpt-4o", client), weather.tool)
    streamed = Runner.run_streamed(forecaster, QUESTION, run_config=OFFLINE)
    deltas = [
        event.data.delta
        async for event in streamed.stream_events()
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta"
    ]
    assert "".join(deltas) == ANSWER
    assert streamed.final_output == ANSWER
    assert weather.calls == ["Paris"]
    assert steps(streamed) == LOOP


async def test_an_agent_runs_over_the_websocket_transport(client: AsyncOpenAI) -> None:
    weather = Weather()
    model = OpenAIResponsesWSModel("gpt-4o", client)
    try:
        forecaster = agent(model, weather.tool)
        result = await Runner.run(forecaster, QUESTION, run_config=OFFLINE)
        streamed = Runner.run_streamed(forecaster, QUESTION, run_config=OFFLINE)
        async for _ in streamed.stream_events():
            pass
    finally:
        await model.close()
    assert result.final_output == ANSWER
    assert streamed.final_output == ANSWER
    assert weather.calls == ["Paris", "Paris"]


async def test_unstored_turns_chain_on_one_socket(client: AsyncOpenAI) -> None:
    """The second turn sends only the call's output: the fixture can name the tool it answers only
    through the history the socket kept."""
    weather = Weather()
    model = OpenAIResponsesWSModel("gpt-4o", client)
    try:
        forecaster = agent(model, weather.tool, store=False)
        result = await Runner.run(forecaster, QUESTION, run_config=OFFLINE, auto_previous_response_id=True)
    finally:
        await model.close()
    assert result.final_output == ANSWER
    assert steps(result) == LOOP
    assert result.last_response_id is not None
    with pytest.raises(NotFoundError):
        await client.responses.retrieve(result.last_response_id)
