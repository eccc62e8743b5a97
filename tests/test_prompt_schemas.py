"""How schemas count in the prompt: tool parameters' defaults and `$ref`s, and json_schema response
formats (docs/usage.md lists the rules and their sources; the recorded numbers name their cassette).
"""

from __future__ import annotations

import pytest

from server.generation.conversation import OutputFormat, Tool
from server.generation.prompt import format_block
from server.generation.tool_rendering import render_functions
from tests.support.requests import ChatClient


async def _input_tokens(chat: ChatClient, **body: object) -> int:
    response = await chat.http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["input_tokens"])


def test_a_default_is_a_trailing_comment_as_harmony_writes_it() -> None:
    # openai/harmony's renderer (docs/usage.md): a string default quoted unless the property is an
    # enum, any other default as compact JSON.
    properties = {
        "unit": {"type": "string", "default": "c"},
        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    }
    lines = render_functions((Tool("f", {"type": "object", "properties": properties}),)).splitlines()
    assert lines[3:7] == [
        'unit?: string, // default: "c"',
        'mode?: "a" | "b", // default: a',
        "tags?: string[], // default: []",
        "note?: string | null, // default: null",
    ]


INT_SCHEMA = {
    "description": "Wrapper for primitive type int",
    "properties": {"output": {"title": "Output", "type": "integer"}},
    "required": ["output"],
    "title": "intOutput",
    "type": "object",
    "additionalProperties": False,
}


async def test_a_json_schema_format_costs_6_more_in_chat_than_in_responses(chat: ChatClient) -> None:
    # Recorded: Mirascope python/tests/e2e/input/cassettes/test_structured_output_resume/
    # openai_gpt_4o_{completions,responses}.yaml, first request: 62 in chat, 56 on /v1/responses.
    # Chat puts the block in a system message of its own (4) and primes the reply with the name
    # ("int": 1 + 2); Responses appends it to its hidden system prompt after a blank line (1).
    question = {"role": "user", "content": "Choose a lucky number between 1 and 10"}
    spec = {"name": "int", "schema": INT_SCHEMA, "strict": True}
    response = await chat.http.post(
        "/v1/chat/completions",
        json={
            "model": "gpt-4o",
            "messages": [question],
            "response_format": {"type": "json_schema", "json_schema": spec},
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["prompt_tokens"] == 62
    text = {"format": {"type": "json_schema", **spec}}
    assert await _input_tokens(chat, model="gpt-4o", input=[question], text=text) == 56
    # The format's own description is a `// ` line above the schema (the harmony guide).
    described = {"format": {"type": "json_schema", **spec, "description": "An answer."}}
    assert await _input_tokens(chat, model="gpt-4o", input=[question], text=described) == 56 + 4


def test_a_ref_is_rendered_as_the_type_it_names() -> None:
    # docs/usage.md: a `$ref` into `$defs` is the type it names; inside it, its own name is `any`.
    node = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}, "required": ["next"]}
    parameters = {"type": "object", "properties": {"head": {"$ref": "#/$defs/Node"}}, "$defs": {"Node": node}}
    lines = render_functions((Tool("f", parameters, strict=True),)).splitlines()
    assert lines[3:6] == ["head?: {", "  next: any,", "},"]
    # Not strict, a nested object's properties are not indented (docs/usage.md).
    assert render_functions((Tool("f", parameters),)).splitlines()[3:6] == ["head?: {", "next: any,", "},"]


def test_a_format_is_shown_as_python_writes_it_without_the_constraints_the_sampler_enforces() -> None:
    # docs/usage.md: required, additionalProperties, defaults and bounds dropped at every depth,
    # titles and descriptions kept in the order sent, non-ASCII escaped (crewAI StepObservation).
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Score",
        "type": "object",
        "properties": {
            "value": {"title": "Value", "type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 9}, "maxItems": 3},
            "note": {"description": "not \u2014 this", "anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["value", "tags", "note"],
        "additionalProperties": False,
    }
    assert format_block(OutputFormat("json_schema", schema, "Score", True, "Rate it.")) == (
        "# Response Formats\n\n## Score\n\n// Rate it.\n"
        '{"title":"Score","type":"object","properties":{"value":{"title":"Value","type":"number"},'
        '"tags":{"type":"array","items":{"type":"string"}},'
        '"note":{"description":"not \\u2014 this","anyOf":[{"type":"string"},{"type":"null"}]}}}'
    )
    assert format_block(OutputFormat("json_object")) is None


SIMPLE_MODEL = {
    "properties": {"name": {"title": "Name", "type": "string"}, "age": {"title": "Age", "type": "integer"}},
    "required": ["name", "age"],
    "title": "SimpleModel",
    "type": "object",
    "additionalProperties": False,
}
CALCULATION = {
    "description": "Structured output for calculation results.",
    "properties": {
        "operation": {
            "description": "The mathematical operation performed",
            "title": "Operation",
            "type": "string",
        },
        "result": {"description": "The result of the calculation", "title": "Result", "type": "integer"},
        "explanation": {
            "description": "Brief explanation of the calculation",
            "title": "Explanation",
            "type": "string",
        },
    },
    "required": ["operation", "result", "explanation"],
    "title": "CalculationResult",
    "type": "object",
    "additionalProperties": False,
}
ADD_NUMBERS = {
    "type": "function",
    "function": {
        "name": "add_numbers",
        "description": "Add two numbers together and return the sum.",
        "strict": True,
        "parameters": {
            "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}},
            "required": ["a", "b"],
            "type": "object",
            "additionalProperties": False,
        },
    },
}
LUCKY = {"role": "user", "content": "Choose a lucky number between 1 and 10"}
RECORDED = [
    pytest.param(
        # crewAI lib/crewai/tests/cassettes/utilities/test_convert_with_instructions.yaml #0: the
        # block ends the system message (after a blank line), the reply is primed with the name.
        "gpt-4o-mini",
        [
            {
                "role": "system",
                "content": "Please convert the following text into valid JSON.\n\nOutput ONLY the valid "
                "JSON and nothing else.\n\nThe JSON must follow this schema exactly:\n```json\n{\n    "
                "name: str,\n    age: int\n}\n```",
            },
            {"role": "user", "content": "Name: Alice, Age: 30"},
        ],
        {"name": "SimpleModel", "schema": SIMPLE_MODEL, "strict": True},
        [],
        108,
        id="system-message",
    ),
    pytest.param(
        # Mirascope python/tests/e2e/input/cassettes/test_structured_output_resume/
        # openai_gpt_4o_completions.yaml #1: an earlier reply is marked with the name too.
        "gpt-4o",
        [
            LUCKY,
            {"role": "assistant", "content": '{"output":7}'},
            {"role": "user", "content": "Ok, now choose a different lucky number"},
        ],
        {"name": "int", "schema": INT_SCHEMA, "strict": True},
        [],
        86,
        id="earlier-reply",
    ),
    pytest.param(
        # pydantic-ai tests/models/cassettes/test_openai/test_openai_native_output.yaml #0 (not
        # strict): with tools the block follows their namespace and the reply is not primed.
        "gpt-4o",
        [{"content": "What is the largest city in the user country?", "role": "user"}],
        {
            "name": "result",
            "schema": {
                "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                "required": ["city", "country"],
                "type": "object",
            },
            "strict": False,
        },
        [
            {
                "type": "function",
                "function": {
                    "description": "",
                    "name": "get_user_country",
                    "parameters": {"additionalProperties": False, "properties": {}, "type": "object"},
                },
            }
        ],
        71,
        id="tools",
    ),
    pytest.param(
        # crewAI lib/crewai/tests/cassettes/llms/openai/
        # test_openai_agent_kickoff_structured_output_with_tools.yaml #0: tools and a system message.
        "gpt-4o-mini",
        [
            {
                "role": "system",
                "content": "You are Calculator. You are a calculator assistant that uses tools to compute "
                "results.\nYour personal goal is: Perform calculations using available tools",
            },
            {
                "role": "user",
                "content": "\nCurrent Task: Calculate 15 + 27 using your add_numbers tool. Report the result.",
            },
        ],
        {"name": "CalculationResult", "schema": CALCULATION, "strict": True},
        [ADD_NUMBERS],
        188,
        id="tools-and-system-message",
    ),
]


@pytest.mark.parametrize(("model", "messages", "spec", "tools", "real"), RECORDED)
async def test_recorded_json_schema_formats_count_exactly(
    chat: ChatClient,
    model: str,
    messages: list[object],
    spec: dict[str, object],
    tools: list[object],
    real: int,
) -> None:
    body: dict[str, object] = {
        "model": model,
        "messages": messages,
        "response_format": {"type": "json_schema", "json_schema": spec},
    }
    if tools:
        body["tools"] = tools
    response = await chat.http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["prompt_tokens"] == real


async def test_the_format_name_counts_twice_in_chat_without_tools_once_with_them(chat: ChatClient) -> None:
    # The block names the format once; chat primes a reply that must follow it with the name again.
    async def prompt(name: str, **extra: object) -> int:
        spec = {"name": name, "schema": SIMPLE_MODEL, "strict": True}
        body = {
            "model": "gpt-4o",
            "messages": [LUCKY],
            "response_format": {"type": "json_schema", "json_schema": spec},
        }
        response = await chat.http.post("/v1/chat/completions", json=body | extra)
        assert response.status_code == 200, response.text
        return int(response.json()["usage"]["prompt_tokens"])

    longer = "TaskEvaluationPydanticOutput"  # 6 tokens; "S" is 1
    assert await prompt(longer) - await prompt("S") == 2 * 5
    assert await prompt(longer, tools=[ADD_NUMBERS]) - await prompt("S", tools=[ADD_NUMBERS]) == 5
    text = {"format": {"type": "json_schema", "name": longer, "schema": SIMPLE_MODEL, "strict": True}}
    short = {"format": {"type": "json_schema", "name": "S", "schema": SIMPLE_MODEL, "strict": True}}
    tokens = await _input_tokens(chat, model="gpt-4o", input=[LUCKY], text=text)
    assert tokens - await _input_tokens(chat, model="gpt-4o", input=[LUCKY], text=short) == 5


async def _chat_prompt(chat: ChatClient, messages: list[dict[str, object]], **fields: object) -> int:
    response = await chat.http.post(
        "/v1/chat/completions", json={"model": "gpt-4o", "messages": messages, **fields}
    )
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["prompt_tokens"])


SCORE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "ScoreOutput", "schema": SIMPLE_MODEL, "strict": True},  # the name: 2 tokens
}


async def test_the_block_ends_the_system_message_so_its_last_word_may_merge_with_the_blank_line(
    chat: ChatClient,
) -> None:
    # crewAI LLMGuardrailResult: a system message ending in "." costs one less than one ending in a
    # word, because ".\n\n" is one token (docs/usage.md).
    async def format_cost(system: str) -> int:
        messages: list[dict[str, object]] = [{"role": "system", "content": system}, LUCKY]
        return await _chat_prompt(chat, messages, response_format=SCORE_FORMAT) - await _chat_prompt(
            chat, messages
        )

    assert await format_cost("Be brief.") == await format_cost("Be brief") - 1


@pytest.mark.parametrize("tools", [[], [ADD_NUMBERS]], ids=["no-tools", "tools"])
async def test_an_earlier_reply_is_marked_with_the_format_name(chat: ChatClient, tools: list[object]) -> None:
    # crewAI test_lite_agent_structured_output #3 (tools) and Mirascope's resume (none): each earlier
    # assistant message with text costs the name's tokens + 2 more while a format is in force.
    reply = [LUCKY, {"role": "assistant", "content": '{"name":"a","age":1}'}, LUCKY]
    extra: dict[str, object] = {"tools": tools} if tools else {}

    async def format_cost(messages: list[dict[str, object]]) -> int:
        with_format = await _chat_prompt(chat, messages, response_format=SCORE_FORMAT, **extra)
        return with_format - await _chat_prompt(chat, messages, **extra)

    assert await format_cost(reply) - await format_cost([LUCKY]) == 2 + 2


async def _chat_tokens(chat: ChatClient, **body: object) -> int:
    response = await chat.http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["prompt_tokens"])


async def test_the_parameters_title_opens_the_type_as_a_comment_in_chat(chat: ChatClient) -> None:
    # Recorded: DataDog/dd-trace-py tests/contrib/openai_agents/cassettes/
    # test_oai_agents_with_guardrail_spans.yaml #0 (gpt-4o-2024-08-06, the OpenAI Agents SDK):
    # prompt_tokens 75. The schema's own `title` (`add_args`) is a comment where the type opens,
    # `type add = (_: // add_args`, 4 tokens (docs/usage.md).
    parameters = {
        "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}},
        "required": ["a", "b"],
        "title": "add_args",
        "type": "object",
        "additionalProperties": False,
    }
    tool = {
        "type": "function",
        "function": {"name": "add", "description": "Add two numbers together", "parameters": parameters},
    }
    messages = [
        {"content": "You are a helpful assistant specialized in addition calculations.", "role": "system"},
        {"role": "user", "content": "What is the sum of 1 and 2?"},
    ]
    assert await _chat_tokens(chat, model="gpt-4o", messages=messages, tools=[tool]) == 75


def _travel_tool(name: str, description: str, properties: dict[str, object], required: list[str]) -> object:
    schema = {"type": "object", "properties": properties, "required": required}
    nested = {"type": "object", "properties": {"params": schema}, "required": ["params"]}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": nested}}


async def test_a_nested_object_is_not_indented_unless_the_function_is_strict(chat: ChatClient) -> None:
    # Recorded: activeagents/activeagent test/fixtures/vcr_cassettes/travel_agent_book_llm.yml #0
    # (gpt-4o-mini-2024-07-18): prompt_tokens 285. Each tool's only property is an object
    # (`params: {...}`) whose own properties are written without indent; 2 spaces per line (what
    # strict functions get, test_a_ref_is_rendered_as_the_type_it_names) would cost 13 more here.
    # Nor does the one-token quirk apply: the only property is written as a literal (2 fewer).
    def described(text: str, kind: str = "string") -> dict[str, str]:
        return {"type": kind, "description": text}

    confirm = _travel_tool(
        "confirm",
        "Confirm a flight booking",
        {
            "confirmation_number": described("The booking confirmation number"),
            "send_email": described("Whether to send confirmation email", "boolean"),
        },
        ["confirmation_number"],
    )
    search = {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search for available flights to a destination",
            "parameters": {
                "type": "object",
                "properties": {
                    "departure": described("Departure city or airport code"),
                    "destination": described("Destination city or airport code"),
                    "date": described("Travel date in YYYY-MM-DD format"),
                },
                "required": ["destination"],
            },
        },
    }
    book = _travel_tool(
        "book",
        "Book a specific flight",
        {
            "flight_id": described("The flight identifier to book"),
            "passenger_name": described("Name of the passenger"),
            "passenger_email": described("Email address for booking confirmation"),
        },
        ["flight_id", "passenger_name"],
    )
    system = (
        "This agent is currently interacting with Guest to find a hotel near their travel destination.\n"
        "The agent should use the following actions to achieve the desired outcome:\n\n"
        "  confirm: Confirm a flight booking\n  search: Search for available flights to a destination\n"
        "  book: Book a specific flight\n\nrequirements:\n"
        "- The agent should use the `search` action to find hotels in the requested location.\n"
        "- The agent should use the `book` action to book a hotel for the user.\n"
        "- The agent should use the `confirm` action to confirm the booking with the user."
    )
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": "Book flight AA123 for John Doe"},
    ]
    body = {"model": "gpt-4o-mini", "messages": messages, "temperature": 0.7}
    assert await _chat_tokens(chat, **body, tools=[confirm, search, book]) == 285


async def test_the_one_token_quirk_skips_a_lone_enum(chat: ChatClient) -> None:
    # Recorded: langchain-ai/langgraph docs/cassettes/create-react-agent_187479f9-….yaml #0
    # (gpt-4o-2024-05-13): prompt_tokens 55, with one undescribed enum property; 34 such chat pairs
    # (langgraph's get_weather, gpt-4o and gpt-4o-mini) count no quirk. An undescribed string in its
    # place costs one less than its rendering (the quirk, cookbook-era fit).
    def weather(city: dict[str, object]) -> dict[str, object]:
        parameters = {"type": "object", "properties": {"city": city}, "required": ["city"]}
        function = {
            "name": "get_weather",
            "description": "Use this to get weather information.",
            "parameters": parameters,
        }
        return {"type": "function", "function": function}

    body = {
        "model": "gpt-4o",
        "messages": [{"content": "who built you?", "role": "user"}],
        "temperature": 0.0,
    }
    assert await _chat_tokens(chat, **body, tools=[weather({"enum": ["nyc", "sf"], "type": "string"})]) == 55
    # ` "nyc" | "sf",\n` is 8 tokens, ` string,\n` 2: 6 fewer for the text, 1 fewer for the quirk.
    assert await _chat_tokens(chat, **body, tools=[weather({"type": "string"})]) == 55 - 6 - 1


async def test_cl100k_models_have_the_one_token_quirk_too(chat: ChatClient) -> None:
    # Recorded: traceloop/openllmetry packages/opentelemetry-instrumentation-openai/tests/traces/
    # cassettes/test_finish_reasons/TestFinishReasonMapping.test_finish_reason_tool_calls_mapped_
    # correctly.yaml #0 (gpt-3.5-turbo-0125): prompt_tokens 50, one less than the rendering, as on
    # gpt-4o: the only property is undescribed (docs/usage.md; 32 such gpt-3.5 pairs).
    parameters = {"type": "object", "properties": {"location": {"type": "string"}}}
    function = {"name": "get_weather", "description": "Get the current weather", "parameters": parameters}
    messages = [{"role": "user", "content": "What's the weather in Boston?"}]
    tools = [{"type": "function", "function": function}]
    assert await _chat_tokens(chat, model="gpt-3.5-turbo", messages=messages, tools=tools) == 50
