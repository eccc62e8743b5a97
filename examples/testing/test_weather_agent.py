"""A complete agent test written with chatdouble's pytest plugin (docs/testing.md): arrange a tool loop,
run the agent, assert on the tool result that the agent sent back."""

import json

from openai import OpenAI

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def get_weather(city: str) -> str:
    """The agent's tool (a real one would ask a weather service)."""
    return f"18°C and sunny in {city}"


def run_agent(client: OpenAI, question: str) -> str:
    """The code under test: ask the model, run the tools it calls, until it answers."""
    messages: list[dict] = [{"role": "user", "content": question}]
    for _ in range(5):
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        message = completion.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = get_weather(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise RuntimeError("the agent did not answer within 5 turns")


def test_the_agent_answers_with_what_its_tool_said(chatdouble, openai_client):
    # Arrange: the model first calls get_weather; once the tool has answered, it quotes the result.
    chatdouble.tool_call(
        "get_weather",
        {"city": "Paris"},
        match={"tools": ["get_weather"], "tool_result": False},
    )
    chatdouble.reply(
        "It is {{ tool_result }} right now.",
        template=True,
        match={"tool_result": {"name": "get_weather"}},
    )

    # Act: run the agent against chatdouble.
    answer = run_agent(openai_client, "What's the weather in Paris?")

    # Assert: the answer, and the tool result the agent sent back to the model.
    assert answer == "It is 18°C and sunny in Paris right now."
    chatdouble.verify({"tool_result": {"name": "get_weather", "equals": "18°C and sunny in Paris"}}, count=1)
    first, second = chatdouble.requests()
    assert first["request"]["tools"][0]["function"]["name"] == "get_weather"
    assert second["request"]["messages"][-1]["content"] == "18°C and sunny in Paris"
