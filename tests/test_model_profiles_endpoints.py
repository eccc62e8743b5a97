"""Model profiles on the endpoints beside chat and `POST /v1/responses`.

Proven here: the legacy completions refuse a prompt plus its `max_tokens` (16 when unset) beyond the
model's window in that endpoint's own words (gpt-3.5-turbo-instruct 4,096, davinci-002 16,384), and a
`max_tokens` above a route's cap; embeddings take their vector size and input window from the same
table, which a route may override; `models: strict` answers an unknown name with 404 on completions,
embeddings, input token counts and compaction; an input token count is given even past the window,
while compaction refuses an input it cannot read; `GET /v1/models` shows the completions and
embedding models' `created` and `owned_by`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from server.generation.profiles import builtin_profile
from server.generation.tokens import Tokenizer
from tests.conftest import MakeApp
from tests.support.requests import in_process

COMPLETIONS = "/v1/completions"
EMBEDDINGS = "/v1/embeddings"
INPUT_TOKENS = "/v1/responses/input_tokens"
COMPACT = "/v1/responses/compact"
CL100K = Tokenizer.named("cl100k_base")


def refusal(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def legacy_window(window: int, prompt: int, completion: int) -> str:
    return (
        f"This model's maximum context length is {window} tokens, however you requested "
        f"{prompt + completion} tokens ({prompt} in your prompt; {completion} for the completion). "
        "Please reduce your prompt; or completion length."
    )


# ---------------------------------------------------------------- legacy completions


async def test_a_prompt_over_the_instruct_window_is_refused_in_the_endpoint_s_words(
    client: httpx.AsyncClient,
) -> None:
    prompt = "word " * 4090
    tokens = CL100K.count(prompt)
    assert 4096 - 16 < tokens <= 4096  # fits alone; the default 16-token reply does not
    response = await client.post(COMPLETIONS, json={"model": "gpt-3.5-turbo-instruct", "prompt": prompt})
    error = refusal(response)
    assert error == {
        "message": legacy_window(4096, tokens, 16),
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


async def test_max_tokens_past_the_window_is_worded_as_the_window(client: httpx.AsyncClient) -> None:
    body = {"model": "gpt-3.5-turbo-instruct-0914", "prompt": "hi", "max_tokens": 4096}
    error = refusal(await client.post(COMPLETIONS, json=body))
    assert error["message"] == legacy_window(4096, 1, 4096)


async def test_davinci_002_has_room_for_16384_tokens(client: httpx.AsyncClient) -> None:
    fits = await client.post(COMPLETIONS, json={"model": "davinci-002", "prompt": "hi", "max_tokens": 4097})
    assert fits.status_code == 200, fits.text
    body = {"model": "babbage-002", "prompt": "hi", "max_tokens": 16384}
    assert refusal(await client.post(COMPLETIONS, json=body))["message"] == legacy_window(16384, 1, 16384)


async def test_each_prompt_of_a_list_must_fit(client: httpx.AsyncClient) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["hi", "word " * 4095], "max_tokens": 1}
    error = refusal(await client.post(COMPLETIONS, json=body))
    assert error["message"] == legacy_window(4096, CL100K.count("word " * 4095), 1)


async def test_a_route_s_output_cap_bounds_max_tokens_on_completions(make_app: MakeApp) -> None:
    routes = [{"model": "mine", "backend": "echo", "profile": {"max_output_tokens": 10}}]
    async with in_process(make_app(routes=routes)) as http:
        ok = await http.post(COMPLETIONS, json={"model": "mine", "prompt": "hi", "max_tokens": 10})
        over = await http.post(COMPLETIONS, json={"model": "mine", "prompt": "hi", "max_tokens": 11})
    assert ok.status_code == 200, ok.text
    error = refusal(over)
    assert (error["param"], error["code"]) == ("max_tokens", "invalid_value")
    assert error["message"].startswith("max_tokens is too large: 11. This model supports at most 10 ")


# ---------------------------------------------------------------- embeddings


def test_embedding_models_take_their_size_and_window_from_the_profile_table() -> None:
    sizes = {
        name: builtin_profile(name).dimensions
        for name in ("text-embedding-3-small", "text-embedding-3-large")
    }
    assert sizes == {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
    ada = builtin_profile("text-embedding-ada-002")
    assert (ada.dimensions, ada.context_window, "dimensions" in ada.refuses) == (1536, 8192, True)


async def test_a_route_gives_a_local_embedding_model_its_size_and_window(make_app: MakeApp) -> None:
    routes = [
        {"model": "my-embedder", "backend": "echo", "profile": {"dimensions": 8, "context_window": 20}},
        {"model": "*", "backend": "echo"},
    ]
    async with in_process(make_app(routes=routes)) as http:
        ok = await http.post(
            EMBEDDINGS, json={"model": "my-embedder", "input": "hello", "encoding_format": "float"}
        )
        long = await http.post(EMBEDDINGS, json={"model": "my-embedder", "input": "word " * 30})
        large = await http.post(
            EMBEDDINGS, json={"model": "text-embedding-3-large", "input": "x", "encoding_format": "float"}
        )
    assert len(ok.json()["data"][0]["embedding"]) == 8
    assert refusal(long)["message"] == legacy_window(20, CL100K.count("word " * 30), 0)
    assert len(large.json()["data"][0]["embedding"]) == 3072


# ---------------------------------------------------------------- strict names, counting, compaction


@pytest.fixture
def strict_app(make_app: MakeApp) -> FastAPI:
    return make_app(models="strict", routes=[{"model": "*", "backend": "echo"}])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (COMPLETIONS, {"model": "mine", "prompt": "hi"}),
        (EMBEDDINGS, {"model": "mine", "input": "hi"}),
        (INPUT_TOKENS, {"model": "mine", "input": "hi"}),
        (COMPACT, {"model": "mine", "input": "hi"}),
    ],
)
async def test_strict_models_answer_an_unknown_name_with_404_on_every_endpoint(
    strict_app: FastAPI, path: str, body: dict[str, Any]
) -> None:
    async with in_process(strict_app) as http:
        error = refusal(await http.post(path, json=body), 404)
    assert error["code"] == "model_not_found"
    assert error["message"] == "The model `mine` does not exist or you do not have access to it."


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (COMPLETIONS, {"model": "davinci-002", "prompt": "hi"}),
        (EMBEDDINGS, {"model": "text-embedding-3-small", "input": "hi"}),
        (INPUT_TOKENS, {"model": "gpt-4.1", "input": "hi"}),
        (COMPACT, {"model": "gpt-4o-mini", "input": "hi"}),
    ],
)
async def test_strict_models_serve_a_known_name_on_every_endpoint(
    strict_app: FastAPI, path: str, body: dict[str, Any]
) -> None:
    async with in_process(strict_app) as http:
        response = await http.post(path, json=body)
    assert response.status_code == 200, response.text


@pytest.fixture
def small_app(make_app: MakeApp) -> FastAPI:
    return make_app(
        routes=[
            {"model": "gpt-4o", "backend": "echo", "profile": {"context_window": 40}},
            {"model": "*", "backend": "echo"},
        ]
    )


async def test_input_tokens_are_counted_even_past_the_window(small_app: FastAPI) -> None:
    async with in_process(small_app) as http:
        response = await http.post(INPUT_TOKENS, json={"model": "gpt-4o", "input": "word " * 60})
    assert response.status_code == 200, response.text
    assert response.json()["input_tokens"] > 40


async def test_compaction_refuses_an_input_past_the_window(small_app: FastAPI) -> None:
    async with in_process(small_app) as http:
        fits = await http.post(COMPACT, json={"model": "gpt-4o", "input": "hi"})
        over = await http.post(COMPACT, json={"model": "gpt-4o", "input": "word " * 60})
    assert fits.status_code == 200, fits.text
    error = refusal(over)
    assert (error["code"], error["param"]) == ("context_length_exceeded", "input")


async def test_models_list_the_completions_and_embedding_models_as_the_api_does(make_app: MakeApp) -> None:
    names = ["davinci-002", "babbage-002", "text-embedding-3-small", "text-embedding-ada-002"]
    app = make_app(routes=[{"model": "*", "backend": "echo", "models": names}])
    async with in_process(app) as http:
        listing = (await http.get("/v1/models")).json()["data"]
    assert [(m["id"], m["created"], m["owned_by"]) for m in listing] == [
        ("davinci-002", 1692634301, "system"),
        ("babbage-002", 1692634615, "system"),
        ("text-embedding-3-small", 1705948997, "system"),
        ("text-embedding-ada-002", 1671217299, "openai-internal"),
    ]
