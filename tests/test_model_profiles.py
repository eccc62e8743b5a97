"""Model profiles: each OpenAI family's window, output cap and refusals, as the real API applies them.

Proven here: names resolve as the API resolves them (snapshots, `-latest`, fine-tunes, unknown names
get the permissive profile); a prompt over the window, a reply cap over the model's, and a parameter
the model refuses each get the API's 400 in its words, on chat and on the Responses API; reasoning
models spend hidden reasoning tokens that count against the reply's budget; the output cap bounds a
request with no cap of its own; a route's profile overrides the table; `GET /v1/models` shows the
profiles' `created` and `owned_by`; `models: strict` answers an unknown name with 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI

from server.generation.profiles import FAMILIES, PERMISSIVE, builtin_profile, family_of
from tests.conftest import MakeApp
from tests.servers import serve
from tests.support.requests import CHAT, chat_body, in_process
from tests.support.responses import PATH


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    return error


@pytest.fixture
def small_app(make_app: MakeApp) -> FastAPI:
    """gpt-4o with a 40-token window; every other name as the table says."""
    return make_app(
        routes=[
            {"model": "gpt-4o", "backend": "echo", "profile": {"context_window": 40}},
            {"model": "*", "backend": "echo"},
        ]
    )


@pytest.fixture
async def small(small_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(small_app) as http:
        yield http


# ---------------------------------------------------------------- resolving names


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("chatgpt-4o-latest", "chatgpt-4o"),
        ("gpt-5-chat-latest", "gpt-5-chat"),
        ("gpt-4-0613", "gpt-4"),
        ("gpt-4-1106-preview", "gpt-4-turbo"),
        ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("o1-preview-2024-09-12", "o1-preview"),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "gpt-4o-mini"),
        ("gpt-4o-audio-preview", "gpt-4o"),
        ("gpt-5-codex", "gpt-5"),
        ("codex-mini-latest", "codex-mini"),
        ("llama3", None),
        ("gpt-4o-but-mine", "gpt-4o"),
    ],
)
def test_a_name_resolves_to_its_family_as_the_api_resolves_it(model: str, family: str | None) -> None:
    assert family_of(model) == family


def test_a_name_no_family_claims_gets_the_permissive_profile() -> None:
    profile = builtin_profile("my-local-model")
    assert profile is PERMISSIVE
    assert not profile.known
    assert not profile.refuses
    assert not profile.reasoning


def test_every_family_keeps_its_reply_within_its_window() -> None:
    for name, profile in FAMILIES.items():
        if profile.dimensions is not None:  # an embedding model writes no reply
            assert profile.max_output_tokens == 0, name
            continue
        assert 0 < profile.max_output_tokens <= profile.context_window, name
        assert profile.reasoning == (profile.refuses >= {"max_tokens", "temperature"}), name


# ---------------------------------------------------------------- the context window


async def test_messages_over_the_window_get_context_length_exceeded(small: httpx.AsyncClient) -> None:
    response = await small.post(CHAT, json=chat_body("word " * 60))
    error = error_of(response)
    assert error["code"] == "context_length_exceeded"
    assert error["param"] == "messages"
    assert error["message"].startswith("This model's maximum context length is 40 tokens. However, your ")
    assert error["message"].endswith("tokens. Please reduce the length of the messages.")


async def test_messages_plus_the_requested_completion_over_the_window_say_both(
    small: httpx.AsyncClient,
) -> None:
    ok = await small.post(CHAT, json=chat_body("hi"))
    prompt = ok.json()["usage"]["prompt_tokens"]
    response = await small.post(CHAT, json=chat_body("hi", max_tokens=40))
    error = error_of(response)
    assert error["code"] == "context_length_exceeded"
    assert error["message"] == (
        f"This model's maximum context length is 40 tokens. However, you requested {prompt + 40} tokens "
        f"({prompt} in the messages, 40 in the completion). Please reduce the length of the messages or "
        "completion."
    )


async def test_responses_input_over_the_window_gets_context_length_exceeded(small: httpx.AsyncClient) -> None:
    response = await small.post(PATH, json={"model": "gpt-4o", "input": "word " * 60})
    error = error_of(response)
    assert (error["code"], error["param"]) == ("context_length_exceeded", "input")


# ---------------------------------------------------------------- the output cap


async def test_max_tokens_above_the_model_s_cap_is_refused(client: httpx.AsyncClient) -> None:
    error = error_of(await client.post(CHAT, json=chat_body(max_tokens=20480)))
    assert error == {
        "message": "max_tokens is too large: 20480. This model supports at most 16384 completion tokens, "
        "whereas you provided 20480.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "invalid_value",
    }
    ok = await client.post(CHAT, json=chat_body(max_tokens=16384))
    assert ok.status_code == 200, ok.text


async def test_max_completion_tokens_above_the_cap_names_that_parameter(client: httpx.AsyncClient) -> None:
    error = error_of(await client.post(CHAT, json=chat_body(model="gpt-4", max_completion_tokens=9000)))
    assert error["param"] == "max_completion_tokens"
    assert "supports at most 8192" in error["message"]


async def test_max_output_tokens_above_the_cap_is_refused_on_responses(client: httpx.AsyncClient) -> None:
    response = await client.post(PATH, json={"model": "gpt-4o", "input": "x", "max_output_tokens": 20000})
    error = error_of(response)
    assert (error["param"], error["code"]) == ("max_output_tokens", "invalid_value")


async def test_a_reply_without_a_cap_is_bounded_by_the_model_s_output_cap(make_app: MakeApp) -> None:
    app = make_app(routes=[{"model": "*", "backend": "echo", "profile": {"max_output_tokens": 3}}])
    async with in_process(app) as http:
        body = (await http.post(CHAT, json=chat_body("one two three four five six", n=4))).json()
    assert [choice["finish_reason"] for choice in body["choices"]] == ["length"] * 4
    assert body["usage"]["completion_tokens"] == 12


# ---------------------------------------------------------------- parameters a model refuses


async def test_a_reasoning_model_refuses_max_tokens(client: httpx.AsyncClient) -> None:
    error = error_of(await client.post(CHAT, json=chat_body(model="o3-mini", max_tokens=100)))
    assert error == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
        "'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }


async def test_a_reasoning_model_refuses_a_temperature_other_than_one(client: httpx.AsyncClient) -> None:
    error = error_of(await client.post(CHAT, json=chat_body(model="gpt-5", temperature=0.2)))
    assert error["message"] == (
        "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value "
        "is supported."
    )
    assert (error["param"], error["code"]) == ("temperature", "unsupported_value")
    ok = await client.post(CHAT, json=chat_body(model="gpt-5", temperature=1))
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("top_p", 0.5), ("presence_penalty", 0.5), ("frequency_penalty", -1), ("logprobs", True)],
)
async def test_a_reasoning_model_refuses_sampling_parameters(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    error = error_of(await client.post(CHAT, json=chat_body(model="o4-mini", **{field: value})))
    assert error["message"] == f"Unsupported parameter: '{field}' is not supported with this model."
    assert (error["param"], error["code"]) == (field, "unsupported_parameter")


async def test_a_reasoning_model_with_reasoning_off_takes_sampling_parameters(
    client: httpx.AsyncClient,
) -> None:
    fields = {"temperature": 0.5, "top_p": 0.9, "logprobs": True}
    response = await client.post(CHAT, json=chat_body(model="gpt-5.1", reasoning_effort="none", **fields))
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    body = {"model": "gpt-5.1", "input": "x", "reasoning": {"effort": "none"}, "temperature": 0.5}
    assert (await client.post(PATH, json=body)).status_code == 200


async def test_a_model_that_does_not_reason_refuses_a_reasoning_effort(client: httpx.AsyncClient) -> None:
    error = error_of(await client.post(CHAT, json=chat_body(reasoning_effort="low")))
    assert error["message"] == "Unrecognized request argument supplied: reasoning_effort"
    response = await client.post(
        PATH, json={"model": "gpt-4.1", "input": "x", "reasoning": {"effort": "low"}}
    )
    error = error_of(response)
    assert error["message"] == "Unsupported parameter: 'reasoning.effort' is not supported with this model."
    assert (error["param"], error["code"]) == ("reasoning.effort", "unsupported_parameter")


async def test_a_local_model_name_refuses_nothing(client: httpx.AsyncClient) -> None:
    fields = {"max_tokens": 50000, "temperature": 0.2, "top_p": 0.3, "reasoning_effort": "high"}
    response = await client.post(CHAT, json=chat_body(model="my-llama", **fields))
    assert response.status_code == 200, response.text


# ---------------------------------------------------------------- hidden reasoning tokens


async def test_a_reasoning_model_spends_reasoning_tokens_by_effort(client: httpx.AsyncClient) -> None:
    def details(body: dict[str, Any]) -> tuple[int, int]:
        usage = body["usage"]
        return usage["completion_tokens"], usage["completion_tokens_details"]["reasoning_tokens"]

    low = (await client.post(CHAT, json=chat_body("hello", model="o3", reasoning_effort="low"))).json()
    high = (await client.post(CHAT, json=chat_body("hello", model="o3", reasoning_effort="high"))).json()
    plain = (await client.post(CHAT, json=chat_body("hello"))).json()
    assert details(low)[1] == 64
    assert details(high)[1] == 512
    assert details(plain)[1] == 0
    # the hidden tokens are part of the completion: the visible reply costs the same either way
    assert details(high)[0] - 512 == details(low)[0] - 64 == plain["usage"]["completion_tokens"]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_budget_reasoning_spends_ends_with_length_and_empty_content(
    client: httpx.AsyncClient, stream: bool
) -> None:
    body = chat_body("hello", model="o3", max_completion_tokens=100, stream=stream)
    if stream:
        body["stream_options"] = {"include_usage": True}
        async with client.stream("POST", CHAT, json=body) as response:
            text = (await response.aread()).decode()
        assert '"finish_reason":"length"' in text
        assert '"reasoning_tokens":100' in text
        assert '"content":"h' not in text
        return
    reply = (await client.post(CHAT, json=body)).json()
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "length"
    assert not choice["message"]["content"]
    assert reply["usage"]["completion_tokens"] == 100
    assert reply["usage"]["completion_tokens_details"]["reasoning_tokens"] == 100


async def test_responses_report_reasoning_tokens_and_stop_at_the_budget(client: httpx.AsyncClient) -> None:
    body = (await client.post(PATH, json={"model": "o3", "input": "hello", "max_output_tokens": 64})).json()
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["usage"]["output_tokens"] == 64
    assert body["usage"]["output_tokens_details"]["reasoning_tokens"] == 64


async def test_a_route_sets_the_reasoning_tokens(make_app: MakeApp) -> None:
    route = {"model": "*", "backend": "echo", "profile": {"reasoning_tokens": {"medium": 7}}}
    async with in_process(make_app(routes=[route])) as http:
        body = (await http.post(CHAT, json=chat_body(model="o1"))).json()
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 7


# ---------------------------------------------------------------- listing and strict names


async def test_models_are_listed_with_their_profiles_created_and_owner(make_app: MakeApp) -> None:
    app = make_app(created=1234, routes=[{"model": "*", "backend": "echo", "models": ["gpt-5", "mine"]}])
    async with in_process(app) as http:
        listing = (await http.get("/v1/models")).json()["data"]
        one = (await http.get("/v1/models/gpt-4o")).json()
    assert [(m["id"], m["created"], m["owned_by"]) for m in listing] == [
        ("gpt-5", 1754425777, "system"),
        ("mine", 1234, "chatdouble"),
    ]
    assert (one["created"], one["owned_by"]) == (1715367049, "system")


async def test_strict_models_answer_an_unknown_name_with_model_not_found(make_app: MakeApp) -> None:
    routes = [
        {"model": "known-local", "backend": "echo", "profile": {"context_window": 4096}},
        {"model": "*", "backend": "echo", "models": ["gpt-4o", "mine"]},
    ]
    async with in_process(make_app(models="strict", routes=routes)) as http:
        chat = await http.post(CHAT, json=chat_body(model="mine"))
        responses = await http.post(PATH, json={"model": "mine", "input": "x"})
        retrieved = await http.get("/v1/models/mine")
        listing = (await http.get("/v1/models")).json()["data"]
        local = await http.post(CHAT, json=chat_body(model="known-local"))
        snapshot = await http.post(CHAT, json=chat_body(model="gpt-4o-2024-08-06"))
    for response in (chat, responses, retrieved):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "model_not_found"
        assert response.json()["error"]["message"] == (
            "The model `mine` does not exist or you do not have access to it."
        )
    assert [m["id"] for m in listing] == ["known-local", "gpt-4o"]
    assert local.status_code == 200
    assert snapshot.status_code == 200


def test_the_profile_lookup_is_memoised_per_model_name(app: FastAPI) -> None:
    runtime = app.state.runtime
    route = runtime.route("gpt-4o")
    assert runtime.profile(route, "gpt-4o") is runtime.profile(route, "gpt-4o")


# ---------------------------------------------------------------- through the SDK


@pytest.fixture
def sdk(small_app: FastAPI) -> Iterator[openai.OpenAI]:
    with serve(small_app) as server, openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-x") as client:
        yield client


def test_the_sdk_raises_its_bad_request_error_for_each_refusal(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as window:
        sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "word " * 60}])
    assert window.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(
            model="o3-mini", messages=[{"role": "user", "content": "x"}], max_tokens=10
        )
    assert refused.value.code == "unsupported_parameter"
    assert refused.value.param == "max_tokens"
    with pytest.raises(openai.BadRequestError) as capped:
        sdk.responses.create(model="gpt-4.1", input="x", max_output_tokens=40000)
    assert capped.value.code == "invalid_value"
