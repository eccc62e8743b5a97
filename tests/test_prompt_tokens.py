"""`usage.prompt_tokens` equals the real API's counts.

Every expected number here was recorded from the real API: the OpenAI cookbook's token-counting
notebook prints its examples next to the API's `prompt_tokens`, and hmarr/openai-chat-tokens
recorded gpt-3.5-turbo's counts for legacy function calling.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.requests import ChatClient

CORPORATE = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
    },
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]
WEATHER = {
    "name": "get_current_weather",
    "description": "Get the current weather in a given location",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "unit": {
                "type": "string",
                "description": "The unit of temperature to return",
                "enum": ["celsius", "fahrenheit"],
            },
        },
        "required": ["location"],
    },
}
WEATHER_CHAT = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]
FOO = {"name": "foo", "parameters": {"type": "object", "properties": {}}}
HELLO = [{"role": "user", "content": "hello"}]


async def prompt_tokens(chat: ChatClient, **request: Any) -> int:
    usage = (await chat.ask(**request))["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    return int(usage["prompt_tokens"])


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-3.5-turbo", 129), ("gpt-4", 129), ("gpt-4o", 124), ("gpt-4o-mini", 124)],
)
async def test_cookbook_messages_with_names(chat: ChatClient, model: str, expected: int) -> None:
    assert await prompt_tokens(chat, model=model, messages=CORPORATE) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-3.5-turbo", 105), ("gpt-4", 105), ("gpt-4o", 101), ("gpt-4o-mini", 101)],
)
async def test_cookbook_tools(chat: ChatClient, model: str, expected: int) -> None:
    tools = [{"type": "function", "function": WEATHER}]
    assert await prompt_tokens(chat, model=model, messages=WEATHER_CHAT, tools=tools) == expected


@pytest.mark.parametrize(
    ("request_fields", "expected"),
    [
        ({"messages": HELLO}, 8),
        ({"messages": HELLO, "functions": [FOO]}, 31),
        ({"messages": HELLO, "functions": [FOO], "function_call": "none"}, 32),
        ({"messages": HELLO, "functions": [FOO], "function_call": {"name": "foo"}}, 36),
        ({"messages": HELLO, "functions": [{**FOO, "description": "Do a foo"}]}, 36),
        (
            {
                "messages": [
                    {"role": "system", "content": "Hello"},
                    {"role": "user", "content": "Hi there"},
                ],
                "functions": [{"name": "do_stuff", "parameters": {"type": "object", "properties": {}}}],
            },
            35,
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "hello world"},
                    {"role": "function", "name": "do_stuff", "content": "{}"},
                ]
            },
            15,
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": "",
                        "function_call": {"name": "do_stuff", "arguments": '{"foo": "bar", "baz": 1.5}'},
                    }
                ]
            },
            26,
        ),
    ],
)
async def test_legacy_function_calling_counts(
    chat: ChatClient, request_fields: dict[str, Any], expected: int
) -> None:
    assert await prompt_tokens(chat, model="gpt-3.5-turbo", **request_fields) == expected


async def test_text_parts_count_like_a_string(chat: ChatClient) -> None:
    parts = [
        {"type": "text", "text": "What's the weather"},
        {"type": "text", "text": " like in San Francisco?"},
    ]
    as_parts = await prompt_tokens(chat, model="gpt-4o", messages=[{"role": "user", "content": parts}])
    as_text = await prompt_tokens(
        chat,
        model="gpt-4o",
        messages=[{"role": "user", "content": "What's the weather like in San Francisco?"}],
    )
    assert as_parts == as_text


async def test_image_detail_costs(chat: ChatClient) -> None:
    def image(detail: str) -> list[dict[str, Any]]:
        return [
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": detail}}],
            }
        ]

    low = await prompt_tokens(chat, model="gpt-4o", messages=image("low"))
    high = await prompt_tokens(chat, model="gpt-4o", messages=image("high"))
    assert high - low == 170  # an unfetched URL is priced as one tile (tests/test_image_tokens.py)


async def test_a_tool_round_trip_counts_as_the_api_counted_it(chat: ChatClient) -> None:
    # Recorded: pydantic-ai tests/cassettes/test_cache_prefix_stability/
    # test_openai_tool_call_roundtrip_wire_stable[ag_ui].yaml, second request: prompt_tokens 74.
    # The result costs tokens("functions.get_weather") more, the one-call assistant message 1 more.
    tool = {
        "type": "function",
        "function": {
            "description": "",
            "name": "get_weather",
            "parameters": {
                "additionalProperties": False,
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "type": "object",
            },
            "strict": True,
        },
    }
    call = {
        "id": "call_J3aj",
        "type": "function",
        "function": {"arguments": '{"city":"Paris"}', "name": "get_weather"},
    }
    messages = [
        {"content": "What is the weather in Paris? Use the tool.", "role": "user"},
        {"content": None, "role": "assistant", "tool_calls": [call]},
        {"content": "sunny in Paris", "role": "tool", "tool_call_id": "call_J3aj"},
    ]
    assert (
        await prompt_tokens(chat, model="gpt-4o", messages=messages, tools=[tool], tool_choice="auto") == 74
    )


async def test_a_tool_message_name_is_accepted_and_not_counted(chat: ChatClient) -> None:
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "What's the weather?"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
    ]
    plain = {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    named = {**plain, "name": "get_weather"}
    without = await prompt_tokens(chat, model="gpt-4o", messages=[*history, plain])
    assert await prompt_tokens(chat, model="gpt-4o", messages=[*history, named]) == without


async def test_property_titles_count_as_comment_lines_in_chat(chat: ChatClient) -> None:
    # Recorded: crewAI lib/crewai/tests/cassettes/agents/test_agent_execution_with_tools.yaml, first
    # request: prompt_tokens 134. Pydantic's `title`s are rendered as `// First Number` lines.
    tool = {
        "type": "function",
        "function": {
            "name": "multiplier",
            "description": "Useful for when you need to multiply two numbers together.",
            "parameters": {
                "properties": {
                    "first_number": {"title": "First Number", "type": "integer"},
                    "second_number": {"title": "Second Number", "type": "integer"},
                },
                "required": ["first_number", "second_number"],
                "type": "object",
            },
        },
    }
    messages = [
        {"role": "system", "content": "You are test role. test backstory\nYour personal goal is: test goal"},
        {
            "role": "user",
            "content": "\nCurrent Task: What is 3 times 4?\n\nThis is the expected criteria for your final"
            " answer: The result of the multiplication.\nyou MUST return the actual complete content as"
            " the final answer, not a summary.\n\nThis is VERY important to you, your job depends on it!",
        },
    ]
    counted = await prompt_tokens(
        chat, model="gpt-4.1-mini", messages=messages, tools=[tool], tool_choice="auto"
    )
    assert counted == 134


def fib_tool(strict: bool) -> dict[str, Any]:
    """Mirascope's `compute_fib` tool, as its e2e cassettes send it."""
    return {
        "type": "function",
        "function": {
            "name": "compute_fib",
            "description": "Compute the nth Fibonacci number (1-indexed).",
            "parameters": {
                "properties": {"n": {"title": "N", "type": "integer"}},
                "required": ["n"],
                "additionalProperties": False,
                "type": "object",
            },
            "strict": strict,
        },
    }


async def test_earlier_call_arguments_count_as_compact_json(chat: ChatClient) -> None:
    # Recorded: Mirascope python/tests/e2e/input/cassettes/test_resume_with_override_thinking_and_tools/
    # openai_gpt_4o_completions.yaml, request 5: prompt_tokens 91. The client sent `{"n": 100}`; the
    # API counts `{"n":100}`.
    tool = fib_tool(strict=True)
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "compute_fib", "arguments": '{"n": 100}'},
    }
    messages = [
        {"role": "user", "content": "What is the 100th fibonacci number?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "content": "218922995834555169026", "tool_call_id": "call_1"},
    ]
    assert await prompt_tokens(chat, model="gpt-4o", messages=messages, tools=[tool]) == 91


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a location.",
    "parameters": {
        "properties": {"location": {"title": "Location", "type": "string"}},
        "required": ["location"],
        "additionalProperties": False,
        "type": "object",
    },
    "strict": False,
}


async def _input_tokens(chat: ChatClient, **body: Any) -> int:
    response = await chat.http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["input_tokens"])


async def test_a_responses_function_call_item_is_a_turn_of_its_own(chat: ChatClient) -> None:
    # Recorded: Mirascope python/tests/ops/_internal/instrumentation/llm/cassettes/
    # test_model_call_with_tool_outputs.yaml: input_tokens 48 without the round trip, 80 with it.
    question = {"content": "What's the weather in Tokyo?", "role": "user"}
    call = {
        "type": "function_call",
        "call_id": "call_W4le",
        "name": "get_weather",
        "arguments": '{"location":"Tokyo"}',
        "id": "fc_078dc246495066dd00691596451d60819088c82db66c694f77",
        "status": "completed",
    }
    output = {
        "type": "function_call_output",
        "call_id": "call_W4le",
        "output": "Weather in Tokyo: 72°F, sunny",
    }
    fields = {"model": "gpt-4o-mini", "tools": [WEATHER_TOOL]}
    assert await _input_tokens(chat, input=[question], **fields) == 48
    assert await _input_tokens(chat, input=[question, call, output], **fields) == 80
    # An assistant message item before the call costs its own 4, even when empty (pydantic-ai
    # test_text_output_function sends one).
    empty = {"content": "", "role": "assistant"}
    assert await _input_tokens(chat, input=[question, empty, call, output], **fields) == 84


# pydantic-ai's get_capital tool on /v1/responses (test_openai_responses_model_simple_response_with_tool_call.yaml)
CAPITAL = {
    "type": "function",
    "name": "get_capital",
    "description": None,
    "parameters": {
        "additionalProperties": False,
        "properties": {"country": {"type": "string"}},
        "required": ["country"],
        "type": "object",
    },
    "strict": True,
}
CAPITAL_QUESTION = {"content": "What is the capital of PotatoLand?", "role": "user"}


async def test_a_responses_function_call_the_client_wrote_costs_3_fewer_and_counts_as_sent(
    chat: ChatClient,
) -> None:
    # Recorded: pydantic-ai tests/models/cassettes/test_openai_responses/
    # test_openai_responses_model_simple_response_with_tool_call.yaml: input_tokens 40, then 67 with
    # a call item that has no `id` (the API's own items, sent back with their `fc_…` id, cost 3 more:
    # Mirascope's above). Mirascope test_resume_with_override_thinking_and_tools sends `{"n": 100}`
    # without an id: counted as sent, not compacted.
    tool, question = CAPITAL, CAPITAL_QUESTION
    call = {
        "arguments": '{"country":"PotatoLand"}',
        "call_id": "call_YfwR",
        "name": "get_capital",
        "status": None,
        "type": "function_call",
    }
    output = {"call_id": "call_YfwR", "output": "Potato City", "type": "function_call_output"}
    fields = {"model": "gpt-4o", "tools": [tool], "tool_choice": "auto"}
    assert await _input_tokens(chat, input=[question], **fields) == 40
    assert await _input_tokens(chat, input=[question, call, output], **fields) == 67
    stored = {**call, "id": "fc_1", "status": "completed"}
    assert await _input_tokens(chat, input=[question, stored, output], **fields) == 70
    spaced = {**call, "arguments": '{"country": "PotatoLand"}'}
    assert await _input_tokens(chat, input=[question, spaced, output], **fields) == 68
    assert await _input_tokens(chat, input=[question, {**stored, **spaced}, output], **fields) == 70


async def test_a_responses_system_message_does_not_hold_the_tools(chat: ChatClient) -> None:
    # Recorded: pydantic-ai tests/models/cassettes/test_openai_responses/test_prompted_output.yaml,
    # first request: input_tokens 107. Chat appends the tools to the system message (a newline, 4
    # fewer); Responses keeps them apart, so the system message costs what it costs without tools.
    system = (
        "Always respond with a JSON object that's compatible with this schema:\n\n"
        '{"properties": {"city": {"type": "string"}, "country": {"type": "string"}}, "required": '
        '["city", "country"], "title": "CityLocation", "type": "object"}\n\n'
        "Don't include any text or Markdown fencing before or after."
    )
    tool = {
        "description": "",
        "name": "get_user_country",
        "parameters": {"additionalProperties": False, "properties": {}, "type": "object"},
        "strict": False,
        "type": "function",
    }
    messages = [
        {"content": system, "role": "system"},
        {"content": "What is the largest city in the user country?", "role": "user"},
    ]
    body = {"model": "gpt-4o", "input": messages, "tools": [tool], "tool_choice": "auto"}
    assert await _input_tokens(chat, **body, text={"format": {"type": "json_object"}}) == 107


async def test_responses_tools_are_written_as_in_chat_with_titles_and_3_more(chat: ChatClient) -> None:
    # The gpt-4o family on /v1/responses renders its function tools as chat does, property titles as
    # comment lines included, plus 3 (no system message holds them). Recorded:
    # pydantic-ai test_openai_responses_model_simple_response_with_tool_call.yaml (no description):
    # 40; Mirascope test_model_call_with_tool_outputs.yaml (a titled property): 48; activeagent
    # openai_basic_function.yml (described properties, `strict` absent): 72.
    capital, question = CAPITAL, CAPITAL_QUESTION
    assert await _input_tokens(chat, model="gpt-4o", input=[question], tools=[capital]) == 40
    tokyo = {"content": "What's the weather in Tokyo?", "role": "user"}
    assert await _input_tokens(chat, model="gpt-4o-mini", input=[tokyo], tools=[WEATHER_TOOL]) == 48
    boston = {
        "type": "function",
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    }
    body = {"model": "gpt-4o", "input": "What's the weather in Boston?", "tools": [boston]}
    assert await _input_tokens(chat, **body) == 72


async def test_the_parameters_title_opens_the_type_as_a_comment(chat: ChatClient) -> None:
    # Recorded: langsmith-sdk test_openai_agents_test_traceable_decorator_nests_under_agent_trace.yaml
    # (OpenAI Agents SDK, gpt-4.1 /v1/responses): input_tokens 60; the schema's own `title`
    # (`calculate_sum_args`) is a comment line like its description, 5 tokens.
    tool = {
        "name": "calculate_sum",
        "parameters": {
            "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}},
            "required": ["a", "b"],
            "title": "calculate_sum_args",
            "type": "object",
            "additionalProperties": False,
        },
        "strict": True,
        "type": "function",
        "description": "",
    }
    body = {
        "model": "gpt-4.1",
        "instructions": "You are a calculator.",
        "input": [{"content": "Calculate 5 + 3", "role": "user"}],
        "tools": [tool],
    }
    assert await _input_tokens(chat, **body) == 60


async def test_responses_required_with_one_function_costs_what_naming_it_costs(chat: ChatClient) -> None:
    # Recorded: activeagent test_agent_common_format_tool_choice_{auto,required,specific}.yml
    # (gpt-4.1 /v1/responses): 38 with `auto`, 47 with `required` and 47 with the tool named.
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "Get weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    }
    body = {"model": "gpt-4.1", "input": "What's the weather?", "tools": [tool]}
    assert await _input_tokens(chat, **body, tool_choice="auto") == 38
    assert await _input_tokens(chat, **body, tool_choice="required") == 47
    named = {"type": "function", "name": "get_weather"}
    assert await _input_tokens(chat, **body, tool_choice=named) == 47
    # Beside a second tool `required` costs nothing (pydantic-ai test_tool_output, exact so).
    other = {**tool, "name": "get_time", "description": "Get time"}
    both = {**body, "tools": [tool, other]}
    assert await _input_tokens(chat, **both, tool_choice="required") == await _input_tokens(
        chat, **both, tool_choice="auto"
    )


async def test_a_reasoning_models_responses_format_opens_without_a_blank_line(chat: ChatClient) -> None:
    # Recorded: ruby_llm chat_with_schema_with_openai_gpt-5-nano_accepts_a_json_schema_and_returns_
    # structured_output.yml: input_tokens 45 (46 with the blank line the gpt-4o family counts).
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    body = {
        "model": "gpt-5-nano",
        "input": [{"role": "user", "content": "Generate a person named John who is 30 years old"}],
        "text": {"format": {"type": "json_schema", "name": "response", "schema": schema, "strict": True}},
    }
    assert await _input_tokens(chat, **body) == 45
    counted = await chat.http.post("/v1/responses/input_tokens", json=body)
    assert counted.status_code == 200, counted.text
    assert counted.json()["input_tokens"] == 45


def test_every_line_of_a_description_is_a_comment_line() -> None:
    # Fit on crewAI's two-line delegation tool descriptions and Mirascope test_caching_tool
    # (docs/usage.md): the description stripped, then each line its own `// ` comment, stripped; a
    # blank line inside it an empty `//`.
    from server.generation.conversation import Tool
    from server.generation.tool_rendering import render_functions

    tool = Tool(
        "f",
        {"type": "object", "properties": {"a": {"type": "string"}}},
        description="\nOne.\nTwo.\n\n  Three.\n",
    )
    assert render_functions((tool,)).splitlines()[2:7] == [
        "// One.",
        "// Two.",
        "//",
        "// Three.",
        "type f = (_: {",
    ]


SECRET_TOOL = {
    "type": "function",
    "function": {
        "name": "secret_retrieval_tool",
        "description": "A tool that requires a password to retrieve a secret. Takes a 'password' field.",
        "parameters": {
            "type": "object",
            "properties": {"password": {"type": "string"}},
            "required": ["password"],
        },
    },
}


def _parallel_round_trip(*results: str) -> list[dict[str, Any]]:
    calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "secret_retrieval_tool", "arguments": f'{{"password": "p{i}"}}'},
        }
        for i in range(len(results))
    ]
    return [
        {"role": "user", "content": "Please retrieve the secrets."},
        {"role": "assistant", "tool_calls": calls},
        *({"role": "tool", "tool_call_id": f"call_{i}", "content": r} for i, r in enumerate(results)),
    ]


async def test_the_results_of_a_parallel_call_are_one_message_of_json_strings(chat: ChatClient) -> None:
    # Recorded: Mirascope typescript/tests/e2e/output/cassettes/tools/openai_completions/
    # calls-tool-and-resumes-with-results.har, second request: prompt_tokens 161 (87 without the
    # round trip). The two results are one message from `multi_tool_use.parallel`, each a JSON string.
    question = {
        "role": "user",
        "content": 'Please retrieve the secrets for these passwords: "mellon" and "radiance". Use the'
        " secret_retrieval_tool for each password.",
    }
    calls = [
        {
            "id": f"call_{word}",
            "type": "function",
            "function": {"name": "secret_retrieval_tool", "arguments": f'{{"password": "{word}"}}'},
        }
        for word in ("mellon", "radiance")
    ]
    messages = [
        question,
        {"role": "assistant", "tool_calls": calls, "annotations": []},
        {"role": "tool", "tool_call_id": "call_mellon", "content": "Welcome to Moria!"},
        {"role": "tool", "tool_call_id": "call_radiance", "content": "Life before Death"},
    ]
    fields = {"model": "gpt-4o-mini", "tools": [SECRET_TOOL], "max_completion_tokens": 1000}
    assert await prompt_tokens(chat, messages=[question], **fields) == 87
    assert await prompt_tokens(chat, messages=messages, **fields) == 161
    # Escapes count: a newline in a joined result is `\n` inside a JSON string (crewAI's hierarchical
    # delegations, multi-line results, were 11 to 47 above their count without it).
    plain = await prompt_tokens(chat, messages=_parallel_round_trip("a b", "c"), **fields)
    assert await prompt_tokens(chat, messages=_parallel_round_trip("a\nb", "c"), **fields) == plain + 1
    # A third result joins the same message: 1 and its JSON string, no message of its own.
    three = await prompt_tokens(chat, messages=_parallel_round_trip("a b", "c", "c"), **fields)
    wrapper_growth = 18  # `,{"recipient_name":"functions.secret_retrieval_tool","parameters":{…}}`
    assert three == plain + wrapper_growth + 1 + 3  # 3: `"c"`


async def test_non_ascii_in_the_results_of_a_parallel_call_is_escaped(chat: ChatClient) -> None:
    # Recorded: Mirascope python/tests/llm/clients/openai/cassettes/test_parallel_tool_usage.yaml
    # (gpt-4o-mini-2024-07-18, August 2025): 78, then 166 after two calls whose results hold `°`,
    # each written `\u00b0` (4 more than `°`) and 1 more for holding non-ASCII.
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a given location.\n\nArgs:\n    location: A city"
            " acronym like NYC or LA.",
            "parameters": {
                "properties": {
                    "location": {
                        "description": "A city acronym like NYC or LA.",
                        "title": "Location",
                        "type": "string",
                    }
                },
                "required": ["location"],
                "type": "object",
            },
        },
    }
    question = {"role": "user", "content": "What's the weather in SF and NYC?"}
    calls = [
        {
            "id": f"call_{c}",
            "type": "function",
            "function": {"name": "get_weather", "arguments": f'{{"location": "{c}"}}'},
        }
        for c in ("SF", "NYC")
    ]
    results = [
        {"role": "tool", "tool_call_id": "call_SF", "content": "The weather in SF is overcast and 64\u00b0F"},
        {"role": "tool", "tool_call_id": "call_NYC", "content": "The weather in NYC is sunny and 72\u00b0F"},
    ]
    fields = {"model": "gpt-4o-mini", "tools": [tool]}
    assert await prompt_tokens(chat, messages=[question], **fields) == 78
    messages = [question, {"role": "assistant", "content": None, "tool_calls": calls}, *results]
    assert await prompt_tokens(chat, messages=messages, **fields) == 166


async def test_o_series_tools_and_history_are_written_the_gpt_4o_way(chat: ChatClient) -> None:
    # Recorded: crewAI lib/crewai/tests/cassettes/agents/
    # test_agent_powered_by_new_o_model_family_that_uses_tool.yaml: prompt_tokens 113, then 178 after
    # the round trip. o3-mini primes its reply with 2 like gpt-5, but has no hidden tool preamble and
    # counts the call the gpt-4o way (gpt-5-mini would count 81 + 6 more).
    tool = {
        "type": "function",
        "function": {
            "name": "comapny_customer_data",
            "description": "Useful for getting customer related data.",
            "parameters": {"properties": {}, "type": "object"},
        },
    }
    task = {
        "role": "user",
        "content": "You are test role. test backstory\nYour personal goal is: test goal\nCurrent Task: How"
        " many customers does the company have?\n\nThis is the expected criteria for your final answer:"
        " The number of customers\nyou MUST return the actual complete content as the final answer, not"
        " a summary.\n\nThis is VERY important to you, your job depends on it!",
    }
    call = {
        "id": "call_Dk8G",
        "type": "function",
        "function": {"name": "comapny_customer_data", "arguments": "{}"},
    }
    history = [
        task,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_Dk8G", "content": "The company has 42 customers"},
        {
            "role": "user",
            "content": "Analyze the tool result. If requirements are met, provide the Final Answer."
            " Otherwise, call the next tool. Deliver only the answer without meta-commentary.",
        },
    ]
    fields = {"model": "o3-mini", "tools": [tool], "tool_choice": "auto"}
    assert await prompt_tokens(chat, messages=[task], **fields) == 113
    assert await prompt_tokens(chat, messages=history, **fields) == 178


async def test_the_current_turn_s_encrypted_reasoning_is_estimated_earlier_turns_cost_nothing(
    chat: ChatClient,
) -> None:
    # An estimate fitted on pydantic-ai's gpt-5 tool loops (docs/usage.md): the reasoning that led to
    # the calls being answered stays in the prompt, about (characters - 780) / 6.75 tokens; e.g.
    # test_tool_choice_matrix[auto-openai_responses] counts 149 where 1252 characters are estimated
    # at 70 (real 68). Reasoning before the last user message is dropped, as harmony drops it.
    question = {"content": "What's the weather in Paris?", "role": "user"}
    call = {
        "arguments": '{"city":"Paris"}',
        "call_id": "call_E4x",
        "id": "fc_1",
        "name": "get_weather",
        "type": "function_call",
    }
    output = {"call_id": "call_E4x", "output": "Sunny, 22C in Paris", "type": "function_call_output"}
    thought = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "g" * (780 + 675)}
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    fields = {"model": "gpt-5-mini", "tools": [tool]}
    plain = await _input_tokens(chat, input=[question, call, output], **fields)
    assert await _input_tokens(chat, input=[question, thought, call, output], **fields) == plain + 100
    again = {"content": "And in Rome?", "role": "user"}
    later = await _input_tokens(chat, input=[question, call, output, again], **fields)
    assert await _input_tokens(chat, input=[question, thought, call, output, again], **fields) == later


async def test_reasoning_chatdouble_wrote_costs_the_tokens_it_reported_plus_5(chat: ChatClient) -> None:
    # The real API charges a kept reasoning item and its call the reasoning tokens of the response
    # that wrote it, plus 7 more than the call's old price of 10 (fit, docs/usage.md: simonw/llm
    # gpt-5.5 test_responses_interleaved_reasoning_between_tool_calls keeps 1, 2, 3 items for 45 + 7,
    # 143 + 14, 339 + 21); a gpt-5-mini call costs 12, so the item its tokens + 5. Our own items
    # carry the count our response reported, so a client sending one back is charged exactly that.
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    question = {"content": "What's the weather in Paris?", "role": "user"}
    fields = {"model": "gpt-5-mini", "tools": [tool], "store": False}
    first = await chat.http.post(
        "/v1/responses",
        json={
            **fields,
            "input": [question],
            "tool_choice": "required",
            "reasoning": {"effort": "low"},
            "include": ["reasoning.encrypted_content"],
        },
    )
    assert first.status_code == 200, first.text
    answer = first.json()
    spent = answer["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert spent == 64
    thought = next(item for item in answer["output"] if item["type"] == "reasoning")
    call = next(item for item in answer["output"] if item["type"] == "function_call")
    output = {"call_id": call["call_id"], "output": "Sunny, 22C", "type": "function_call_output"}
    plain = await _input_tokens(chat, input=[question, call, output], **fields)
    kept = await _input_tokens(chat, input=[question, thought, call, output], **fields)
    assert kept == plain + spent + 5
    counted = await chat.http.post(
        "/v1/responses/input_tokens",
        json={"model": "gpt-5-mini", "tools": [tool], "input": [question, thought, call, output]},
    )
    assert counted.status_code == 200, counted.text
    assert counted.json()["input_tokens"] == kept


async def test_the_parameters_own_description_opens_the_type_as_a_comment(chat: ChatClient) -> None:
    # Recorded: pydantic-ai tests/cassettes/test_tool_search/
    # test_live_fallback_failover_capability_load_and_recovery.yaml, first request (gpt-5.6):
    # input_tokens 139. `parameters.description` is rendered as harmony renders an object's
    # description: `type load_capability = (_: // Typed arguments for …` (13 tokens).
    tool = {
        "description": "Load a listed capability whenever it is plausibly relevant to the task. Loading"
        " makes the capability instructions and any tools it provides available.",
        "name": "load_capability",
        "parameters": {
            "additionalProperties": False,
            "description": "Typed arguments for a `load_capability` tool call.",
            "properties": {"id": {"description": "The id of the capability to load.", "type": "string"}},
            "required": ["id"],
            "type": "object",
        },
        "strict": True,
        "type": "function",
    }
    body = {
        "model": "gpt-5.6",
        "instructions": "The following capabilities are deferred and can be loaded using the"
        " `load_capability` tool. A capability's tools stay hidden until it is loaded:\n- refunds:"
        " Refund policy tools.",
        "input": [{"content": "Can I get a refund on order-123? Use your tools.", "role": "user"}],
        "tools": [tool],
        "tool_choice": "auto",
    }
    assert await _input_tokens(chat, **body) == 139


async def test_tool_choice_none_costs_nothing_on_reasoning_models(chat: ChatClient) -> None:
    # Recorded: pydantic-ai tests/models/cassettes/test_tool_choice_matrix/
    # test_tool_choice_matrix[none-openai].yaml: prompt_tokens 132 (gpt-5-mini), what `auto` costs;
    # gpt-4o pays 1 for `none` (cookbook-era fit).
    tool = {
        "function": {
            "description": "Get the current weather for a city.",
            "name": "get_weather",
            "parameters": {
                "additionalProperties": False,
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "type": "object",
            },
            "strict": True,
        },
        "type": "function",
    }
    messages = [{"content": "What's the weather in Paris?", "role": "user"}]
    for model, extra in (("gpt-5-mini", 0), ("gpt-4o", 1)):
        auto = await prompt_tokens(chat, model=model, messages=messages, tools=[tool])
        none = await prompt_tokens(chat, model=model, messages=messages, tools=[tool], tool_choice="none")
        assert none == auto + extra
    assert (
        await prompt_tokens(chat, model="gpt-5-mini", messages=messages, tools=[tool], tool_choice="none")
        == 132
    )


async def test_cl100k_tool_calls_count_the_gpt_4o_way(chat: ChatClient) -> None:
    # Recorded: crewAI lib/crewai/tests/cassettes/agents/test_agent_execute_task_with_tool.yaml
    # (gpt-3.5-turbo): prompt_tokens 122, then 188 after the round trip. `tool_calls` and tool
    # results count as on gpt-4o; hmarr's legacy rule stays for `function_call` (above).
    tool = {
        "type": "function",
        "function": {
            "name": "dummy_tool",
            "description": "Useful for when you need to get a dummy result for a query.",
            "strict": True,
            "parameters": {
                "properties": {"query": {"title": "Query", "type": "string"}},
                "required": ["query"],
                "type": "object",
                "additionalProperties": False,
            },
        },
    }
    task = [
        {"role": "system", "content": "You are test role. test backstory\nYour personal goal is: test goal"},
        {
            "role": "user",
            "content": "\nCurrent Task: Use the dummy tool to get a result for 'test query'\n\nThis is the"
            " expected criteria for your final answer: The result from the dummy tool\nyou MUST return the"
            " actual complete content as the final answer, not a summary.",
        },
    ]
    call = {
        "id": "call_tBCg",
        "type": "function",
        "function": {"name": "dummy_tool", "arguments": '{"query":"test query"}'},
    }
    history = [
        *task,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {
            "role": "tool",
            "tool_call_id": "call_tBCg",
            "name": "dummy_tool",
            "content": "Dummy result for: test query",
        },
        {
            "role": "user",
            "content": "Analyze the tool result. If requirements are met, provide the Final Answer."
            " Otherwise, call the next tool. Deliver only the answer without meta-commentary.",
        },
    ]
    fields = {"model": "gpt-3.5-turbo", "tools": [tool], "tool_choice": "auto"}
    assert await prompt_tokens(chat, messages=task, **fields) == 122
    assert await prompt_tokens(chat, messages=history, **fields) == 188


FANTASY_WEATHER = {
    "function": {
        "name": "weather",
        "strict": False,
        "description": "Get weather information for a location",
        "parameters": {
            "properties": {"location": {"description": "the city", "type": "string"}},
            "required": ["location"],
            "type": "object",
        },
    },
    "type": "function",
}
FANTASY_QUESTION = [
    {"content": "You are a helpful assistant", "role": "system"},
    {"content": "What's the weather in Florence,Italy?", "role": "user"},
]


async def test_a_reasoning_model_s_system_message_is_the_instructions_beside_the_tools(
    chat: ChatClient,
) -> None:
    # Recorded: charmbracelet/fantasy providertests/testdata/TestOpenAICommon/openai-gpt-5/tool.yaml
    # #0 (gpt-5-2025-08-07): prompt_tokens 145. With tools the system message is harmony's
    # `# Instructions\n\n{text}\n\n` in the developer message that holds them (docs/usage.md).
    tools = [FANTASY_WEATHER]
    assert (
        await prompt_tokens(chat, model="gpt-5", messages=FANTASY_QUESTION, tools=tools, tool_choice="auto")
        == 145
    )


async def test_o4_mini_has_no_tool_preamble_and_writes_calls_the_gpt_5_way(chat: ChatClient) -> None:
    # Recorded: charmbracelet/fantasy providertests/testdata/TestOpenAICommon/openai-o4-mini/tool.yaml
    # #1 (o4-mini-2025-04-16): prompt_tokens 95, a round trip; its first turn (#0) is exact without
    # the gpt-5 family's hidden tool preamble, the call costs what it costs gpt-5 (docs/usage.md).
    call = {
        "tool_calls": [
            {
                "id": "call_gcwOMtZgMBLlxt6yBBUtJAXo",
                "function": {"arguments": '{"location":"Florence, Italy"}', "name": "weather"},
                "type": "function",
            }
        ],
        "role": "assistant",
    }
    result = {"content": "40 C", "tool_call_id": "call_gcwOMtZgMBLlxt6yBBUtJAXo", "role": "tool"}
    messages = [*FANTASY_QUESTION, call, result]
    assert await prompt_tokens(chat, model="o4-mini", messages=messages, tools=[FANTASY_WEATHER]) == 95


async def test_a_developer_message_holds_the_tools_as_a_system_message_does(chat: ChatClient) -> None:
    # Recorded: traceloop/openllmetry packages/opentelemetry-instrumentation-agno/tests/cassettes/
    # test_agent/test_agent_run_streaming_with_tools.yaml #0 (gpt-4o-mini-2024-07-18, agno):
    # prompt_tokens 59. The tools are appended to a developer message as to a system message: its
    # text ends with a newline and 4 fewer (the cookbook's system rule; docs/usage.md).
    multiply = {
        "type": "function",
        "function": {
            "name": "multiply",
            "description": "Multiply two numbers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"],
            },
        },
    }
    messages = [
        {"role": "developer", "content": "A sync streaming agent with tools"},
        {"role": "user", "content": "What is 6 times 7?"},
    ]
    assert await prompt_tokens(chat, model="gpt-4o-mini", messages=messages, tools=[multiply]) == 59


def _fantasy_arithmetic(name: str, verb: str) -> dict[str, Any]:
    number = {"type": "integer"}
    properties = {
        "a": {"description": "first number", **number},
        "b": {"description": "second number", **number},
    }
    parameters = {"properties": properties, "required": ["a", "b"], "type": "object"}
    function = {"name": name, "strict": False, "description": f"{verb} two numbers", "parameters": parameters}
    return {"function": function, "type": "function"}


async def test_a_reasoning_model_s_parallel_call_costs_what_gpt_4o_s_costs(chat: ChatClient) -> None:
    # Recorded: charmbracelet/fantasy providertests/testdata/TestOpenAICommon/openai-gpt-5/
    # multi_tool.yaml #1 (gpt-5-2025-08-07): prompt_tokens 266, two calls in one turn answered;
    # the `multi_tool_use.parallel` wrapper + 2, as on gpt-4o (docs/usage.md).
    calls = [
        {
            "id": f"call_{name}",
            "function": {"arguments": '{"a": 2, "b": 3}', "name": name},
            "type": "function",
        }
        for name in ("add", "multiply")
    ]
    messages = [
        {
            "content": "You are a helpful assistant. CRITICAL: Always use both add and multiply at the same time ALWAYS.",
            "role": "system",
        },
        {"content": "Add and multiply the number 2 and 3", "role": "user"},
        {"tool_calls": calls, "role": "assistant"},
        {"content": "5", "tool_call_id": "call_add", "role": "tool"},
        {"content": "6", "tool_call_id": "call_multiply", "role": "tool"},
    ]
    tools = [_fantasy_arithmetic("add", "Add"), _fantasy_arithmetic("multiply", "Multiply")]
    assert await prompt_tokens(chat, model="gpt-5", messages=messages, tools=tools, tool_choice="auto") == 266


async def test_gpt_3_5_turbo_0301_counts_4_per_message_and_a_name_for_its_role(chat: ChatClient) -> None:
    # Recorded: alexrudall/ruby-openai spec/fixtures/cassettes/gpt-3_5-turbo-0301_chat.yml #0:
    # prompt_tokens 10 for one "Hello!"; the cookbook's num_tokens_from_messages: 4 per message, a
    # name costs one less than itself (it replaces the role), 127 for its example conversation.
    hello = [{"role": "user", "content": "Hello!"}]
    assert await prompt_tokens(chat, model="gpt-3.5-turbo-0301", messages=hello) == 10
    assert await prompt_tokens(chat, model="gpt-3.5-turbo-0301", messages=CORPORATE) == 127
    assert await prompt_tokens(chat, model="gpt-3.5-turbo", messages=hello) == 9  # the current snapshot


async def test_a_hosted_tool_costs_a_constant_per_type_and_family(chat: ChatClient) -> None:
    # Recorded: langchain test_web_search.yaml.gz #0 (gpt-4o-mini, web_search_preview): 310;
    # dd-trace-py response_tools_stream.yaml (gpt-4.1, a dated variant's plain name): 303; langchain
    # test_apply_patch.yaml.gz #0 (gpt-5.1, apply_patch): 642. Each is 294 or 623 above the same
    # request without the tool, whatever the source, the date or the tool's options.
    question = [{"content": "What was a positive news story from today?", "role": "user", "type": "message"}]
    search = {"model": "gpt-4o-mini", "input": question}
    assert await _input_tokens(chat, **search, tools=[{"type": "web_search_preview"}]) == 310
    assert await _input_tokens(chat, **search) == 310 - 294
    located = {"type": "web_search_preview_2025_03_11", "search_context_size": "low"}
    assert await _input_tokens(chat, **search, tools=[located]) == 310
    assert (
        await _input_tokens(chat, model="gpt-4.1", input="Hello world", tools=[{"type": "web_search"}]) == 303
    )
    patch = {"content": "Create a new file named hello.txt containing the line: hello world", "role": "user"}
    body = {"model": "gpt-5.1", "input": [patch], "tools": [{"type": "apply_patch"}]}
    assert await _input_tokens(chat, **body) == 642
    counted = await chat.http.post("/v1/responses/input_tokens", json=body)
    assert counted.status_code == 200, counted.text
    assert counted.json()["input_tokens"] == 642
    # A type no recording prices costs nothing yet (an estimate, docs/usage.md).
    assert await _input_tokens(chat, **{**body, "tools": [{"type": "local_shell"}]}) == 642 - 623


async def test_a_reasoning_model_s_call_sent_back_costs_what_its_generation_charges(chat: ChatClient) -> None:
    # Recorded, round trips without reasoning items: charmbracelet/fantasy TestOpenAIResponsesCommon
    # tool.yaml (June 2026): gpt-5 63 then 92, o4-mini 60 then 89 (a call costs 12 + name +
    # arguments on both; o4-mini's tools 3 less); simonw/llm test_responses_tool_use.yaml (gpt-5.5): 58 then 94 (15, and the
    # client-written arguments `{"a": 1231, "b": 2331}` count compacted).
    weather = {
        "strict": False,
        "parameters": {
            "properties": {"location": {"description": "the city", "type": "string"}},
            "required": ["location"],
            "type": "object",
        },
        "name": "weather",
        "description": "Get weather information for a location",
        "type": "function",
    }
    opening = [
        {"content": "You are a helpful assistant", "role": "developer"},
        {
            "content": [{"text": "What's the weather in Florence,Italy?", "type": "input_text"}],
            "role": "user",
        },
    ]
    call = {
        "arguments": '{"location":"Florence, Italy"}',
        "call_id": "call_v",
        "name": "weather",
        "type": "function_call",
    }
    trip = [*opening, call, {"call_id": "call_v", "output": "40 C", "type": "function_call_output"}]
    body = {"store": False, "tool_choice": "auto", "tools": [weather]}
    assert await _input_tokens(chat, model="gpt-5", **body, input=opening) == 63
    assert await _input_tokens(chat, model="gpt-5", **body, input=trip) == 92
    assert await _input_tokens(chat, model="o4-mini", **body, input=opening) == 60
    assert await _input_tokens(chat, model="o4-mini", **body, input=trip) == 89
    multiply = {
        "type": "function",
        "name": "multiply",
        "description": "Multiply two numbers.",
        "parameters": {
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
            "type": "object",
        },
    }
    question = {"role": "user", "content": "What is 1231 * 2331? Use the multiply tool."}
    spaced = {
        "type": "function_call",
        "call_id": "call_n",
        "name": "multiply",
        "arguments": '{"a": 1231, "b": 2331}',
    }
    result = {"type": "function_call_output", "call_id": "call_n", "output": "2869461"}
    body = {"model": "gpt-5.5", "store": False, "tools": [multiply], "reasoning": {"effort": "low"}}
    assert await _input_tokens(chat, **body, input=[question]) == 58
    assert await _input_tokens(chat, **body, input=[question, spaced, result]) == 94


async def test_tools_added_mid_conversation_cost_their_rendering_and_the_hidden_preamble(
    chat: ChatClient,
) -> None:
    # Recorded: pydantic-ai test_supported_model_calls_additional_tool.yaml (gpt-5.6): 160; langchain
    # test_system_additional_tools.yaml.gz: 122. The `additional_tools` item costs its tools'
    # namespace plus 90 (chat's 9 and the hidden tool preamble of 81).
    refund = {
        "description": "Look up the refund policy for an order.",
        "name": "lookup_refund_policy",
        "parameters": {
            "additionalProperties": False,
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
            "type": "object",
        },
        "strict": True,
        "type": "function",
    }
    said = [
        {
            "content": "Call lookup_refund_policy with order_id order-123. Do not answer directly.",
            "role": "user",
        },
        {"content": "I will load the refund capability.", "role": "assistant"},
    ]
    added = {"role": "developer", "tools": [refund], "type": "additional_tools"}
    body = {"model": "gpt-5.6", "reasoning": {"context": "all_turns"}, "tool_choice": "auto"}
    assert await _input_tokens(chat, **body, input=[*said, added]) == 160
    get_time = {"type": "function", "name": "get_time", "description": "Get the current time."}
    get_time["parameters"] = {"type": "object", "properties": {}}
    question = {"content": "What time is it?", "role": "user", "type": "message"}
    item = {"type": "additional_tools", "role": "developer", "tools": [get_time]}
    assert await _input_tokens(chat, model="gpt-6-astra", input=[question, item]) == 122
    counted = await chat.http.post(
        "/v1/responses/input_tokens", json={"model": "gpt-6-astra", "input": [question, item]}
    )
    assert counted.status_code == 200, counted.text
    assert counted.json()["input_tokens"] == 122


async def test_a_name_follows_the_role_after_a_colon(chat: ChatClient) -> None:
    """Recorded: Arize openinference's autogen TestTeam (gpt-4o-2024-08-06) sends a user message named
    `user`; the API counted 15 for this one message, as `user:user` writes it (`:user` is one token),
    where the cookbook's name + 1 gives 16. A name that does not merge with the colon costs name + 1."""
    asked = [{"role": "user", "name": "user", "content": "What is the capital of France?"}]
    assert await prompt_tokens(chat, model="gpt-4o-2024-08-06", messages=asked) == 15
    primary = [{**asked[0], "name": "primary"}]
    assert await prompt_tokens(chat, model="gpt-4o-2024-08-06", messages=primary) == 16


async def test_consecutive_text_parts_are_one_text(chat: ChatClient) -> None:
    # Recorded: Mirascope python/tests/llm/clients/openai/cassettes/
    # test_assistant_message_with_multiple_text_parts.yaml (gpt-4o-mini-2024-07-18): 63, as the two
    # parts written as one text count (`Demerzel, ` + `who` would be one token more apart).
    parts = [
        {"text": "There once was a robot named Demerzel, ", "type": "text"},
        {"text": "who served the Cleonic dynasty through many generations, until suddenly", "type": "text"},
    ]
    messages = [
        {"role": "user", "content": "Please tell me a super short story that finishes in one sentence."},
        {"role": "assistant", "content": parts},
        {"role": "user", "content": "Please continue where you left off (but finish within one sentence)"},
    ]
    assert await prompt_tokens(chat, model="gpt-4o-mini", messages=messages) == 63


async def test_a_search_model_counts_the_message_texts_alone(chat: ChatClient) -> None:
    # Recorded: openai/openai-dotnet tests/SessionRecords/ChatTests/WebSearchWorks.json
    # (gpt-4o-search-preview-2025-03-11): 9, the tokens of the question alone, where a chat model
    # counts 16 (3 per message, the role, 3 priming the reply).
    question = [{"role": "user", "content": "What was a positive news story from today?"}]
    assert await prompt_tokens(chat, model="gpt-4o-search-preview", messages=question) == 9
    assert await prompt_tokens(chat, model="gpt-4o", messages=question) == 16


async def test_a_call_beside_text_is_a_message_of_its_own(chat: ChatClient) -> None:
    # Recorded: Mirascope python/tests/e2e/cassettes/resume_with_override_thinking_and_tools/
    # openai_completions/sync.yaml, second request (gpt-4o-2024-08-06): 106, 4 more than the same
    # history would cost if the call joined the text.
    tool = fib_tool(strict=False)
    call = {
        "id": "toolu_1",
        "type": "function",
        "function": {"name": "compute_fib", "arguments": '{"n": 100}'},
    }
    messages = [
        {"role": "user", "content": "What is the 100th fibonacci number?"},
        {
            "role": "assistant",
            "content": "I'll compute the 100th Fibonacci number for you.",
            "tool_calls": [call],
        },
        {"role": "tool", "content": "218922995834555169026", "tool_call_id": "toolu_1"},
    ]
    assert await prompt_tokens(chat, model="gpt-4o", messages=messages, tools=[tool]) == 106


async def test_a_legacy_function_result_is_a_tool_result_on_gpt_4o(chat: ChatClient) -> None:
    # Recorded: openai/openai-dotnet tests/SessionRecords/ChatToolTests/FunctionsWork.json, second
    # request (gpt-4o-mini-2024-07-18): 108. The `function` message is written as a tool result
    # from `functions.get_favorite_color_for_month` (hmarr's gpt-3.5 price would give 106).
    function = {
        "description": "gets the caller's favorite color for a given month",
        "name": "get_favorite_color_for_month",
        "parameters": {
            "type": "object",
            "properties": {
                "month_name": {
                    "type": "string",
                    "description": "the name of a calendar month, e.g. February or October.",
                }
            },
            "required": ["month_name"],
        },
    }
    messages = [
        {"role": "user", "content": "What's my favorite color in February?"},
        {
            "role": "assistant",
            "function_call": {
                "name": "get_favorite_color_for_month",
                "arguments": '{"month_name":"February"}',
            },
        },
        {"role": "function", "content": "chartreuse", "name": "get_favorite_color_for_month"},
    ]
    assert await prompt_tokens(chat, model="gpt-4o-mini", messages=messages, functions=[function]) == 108
