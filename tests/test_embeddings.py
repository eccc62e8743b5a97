"""`POST /v1/embeddings` through the official SDK and as raw bytes.

Proven: the SDK's default request (base64, decoded by the SDK) and `encoding_format: float` give the
same unit-length vectors of the model's size or of `dimensions`; token-id inputs are embedded as the
text they spell; usage counts cl100k tokens exactly; the body is laid out as the API writes it;
malformed requests get the API's refusals in its wording; a backend may answer with its own vectors,
and a wrong-sized answer is a 500, not a malformed body.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI

from server.generation.tokens import Tokenizer
from tests.conftest import MakeApp
from tests.support.backends import ScriptedBackend
from tests.support.requests import in_process

EMBEDDINGS = "/v1/embeddings"
SMALL = "text-embedding-3-small"
INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
)


@pytest.fixture
async def sdk(app: FastAPI) -> AsyncIterator[openai.AsyncOpenAI]:
    async with in_process(app) as http:
        yield openai.AsyncOpenAI(
            base_url="http://testserver/v1", api_key="sk-test", http_client=http, max_retries=0
        )


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


async def error_of(client: httpx.AsyncClient, body: dict[str, Any], status: int = 400) -> dict[str, Any]:
    response = await client.post(EMBEDDINGS, json=body)
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


# ---------------------------------------------------------------- through the SDK


async def test_the_sdk_default_base64_decodes_to_the_same_vectors_as_floats(sdk: openai.AsyncOpenAI) -> None:
    texts = ["The cat sat on the mat.", "Stocks fell sharply today."]
    decoded = await sdk.embeddings.create(model=SMALL, input=texts)
    floats = await sdk.embeddings.create(model=SMALL, input=texts, encoding_format="float")
    assert [d.index for d in decoded.data] == [0, 1]
    for a, b in zip(decoded.data, floats.data, strict=True):
        assert len(a.embedding) == len(b.embedding) == 1536
        # The float text is the float32's shortest decimal: it reads back as the same float32.
        assert [struct.unpack("<f", struct.pack("<f", x))[0] for x in b.embedding] == a.embedding
        assert math.isclose(sum(x * x for x in a.embedding), 1.0, abs_tol=1e-5)


async def test_base64_is_the_little_endian_float32_bytes(client: httpx.AsyncClient) -> None:
    body = {"model": SMALL, "input": "hello", "encoding_format": "base64"}
    encoded = (await client.post(EMBEDDINGS, json=body)).json()["data"][0]["embedding"]
    floats = (await client.post(EMBEDDINGS, json={**body, "encoding_format": "float"})).json()["data"][0]
    raw = base64.b64decode(encoded)
    assert len(raw) == 4 * 1536
    assert list(struct.unpack("<1536f", raw)) == [
        struct.unpack("<f", struct.pack("<f", x))[0] for x in floats["embedding"]
    ]


async def test_the_vector_size_is_the_models_or_the_requested_dimensions(sdk: openai.AsyncOpenAI) -> None:
    large = await sdk.embeddings.create(model="text-embedding-3-large", input="x")
    ada = await sdk.embeddings.create(model="text-embedding-ada-002", input="x")
    short = await sdk.embeddings.create(model="text-embedding-3-large", input="x", dimensions=256)
    assert len(large.data[0].embedding) == 3072
    assert len(ada.data[0].embedding) == 1536
    assert len(short.data[0].embedding) == 256
    assert math.isclose(sum(v * v for v in short.data[0].embedding), 1.0, abs_tol=1e-5)
    # As the v3 models shorten: the leading coordinates, scaled back to unit length.
    assert cosine(short.data[0].embedding, large.data[0].embedding[:256]) > 0.9999


async def test_the_same_text_always_gives_the_same_vector(sdk: openai.AsyncOpenAI) -> None:
    first = await sdk.embeddings.create(model=SMALL, input="A sentence to embed.")
    again = await sdk.embeddings.create(model=SMALL, input=["other", "A sentence to embed."])
    assert first.data[0].embedding == again.data[1].embedding


async def test_texts_sharing_words_are_nearer_than_unrelated_texts(sdk: openai.AsyncOpenAI) -> None:
    query = "What is the capital of France?"
    documents = [
        "Bananas are a good source of potassium.",
        "Paris is the capital and largest city of France.",
        "The stock market closed higher on Friday.",
    ]
    result = await sdk.embeddings.create(model=SMALL, input=[query, *documents])
    vectors = [d.embedding for d in result.data]
    scores = [cosine(vectors[0], v) for v in vectors[1:]]
    assert scores.index(max(scores)) == 1
    assert scores[1] > 0.5
    assert scores[1] - max(scores[0], scores[2]) > 0.3


async def test_token_id_inputs_embed_as_the_text_they_spell(sdk: openai.AsyncOpenAI) -> None:
    encoding = Tokenizer.named("cl100k_base")
    texts = ["hello world", "embeddings from tokens"]
    as_text = await sdk.embeddings.create(model=SMALL, input=texts, encoding_format="float")
    as_tokens = await sdk.embeddings.create(
        model=SMALL, input=[encoding.encode(t) for t in texts], encoding_format="float"
    )
    one = await sdk.embeddings.create(model=SMALL, input=encoding.encode(texts[0]), encoding_format="float")
    assert [d.embedding for d in as_tokens.data] == [d.embedding for d in as_text.data]
    assert one.data[0].embedding == as_text.data[0].embedding


async def test_usage_counts_the_inputs_tokens(sdk: openai.AsyncOpenAI) -> None:
    encoding = Tokenizer.named("cl100k_base")
    texts = ["The food was delicious and the waiter...", "naïve café ☕", "x"]
    result = await sdk.embeddings.create(model="text-embedding-ada-002", input=texts)
    expected = sum(len(encoding.encode(t)) for t in texts)
    assert result.usage.prompt_tokens == result.usage.total_tokens == expected
    tokens = await sdk.embeddings.create(model=SMALL, input=[[1, 2, 3], [4, 5]])
    assert tokens.usage.prompt_tokens == 5
    assert result.model == "text-embedding-ada-002"
    assert result.object == "list"


# ---------------------------------------------------------------- the bytes


async def test_the_body_is_laid_out_as_the_api_writes_it(client: httpx.AsyncClient) -> None:
    body = {"model": SMALL, "input": "The food was delicious", "dimensions": 3, "encoding_format": "float"}
    response = await client.post(EMBEDDINGS, json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    head = '{\n  "object": "list",\n  "data": [\n    {\n      "object": "embedding",\n      "index": 0,\n'
    head += '      "embedding": [\n'
    tail = '\n      ]\n    }\n  ],\n  "model": "text-embedding-3-small",\n  "usage": {\n'
    tail += '    "prompt_tokens": 4,\n    "total_tokens": 4\n  }\n}\n'
    text = response.text
    assert text.startswith(head)
    assert text.endswith(tail)
    values = text[len(head) : -len(tail)].split(",\n")
    assert len(values) == 3
    assert all(re.fullmatch(r"        -?0\.\d{1,9}", value) for value in values), values


async def test_small_values_are_written_without_an_exponent(make_app: MakeApp) -> None:
    backend = ScriptedBackend([], vectors=[[0.000028388287, -0.68893695, 1.0, 0.0]])
    async with in_process(make_app(backend=backend)) as client:
        response = await client.post(
            EMBEDDINGS,
            json={"model": "my-embedder", "input": "x", "dimensions": 4, "encoding_format": "float"},
        )
    assert response.status_code == 200, response.text
    assert "        0.000028388287,\n        -0.68893695,\n        1,\n        0\n      ]" in response.text


# ---------------------------------------------------------------- backends


async def test_a_backend_answers_with_its_own_vectors(make_app: MakeApp) -> None:
    backend = ScriptedBackend([], vectors=[[0.6, 0.8], [1.0, 0.0]])
    async with in_process(make_app(backend=backend)) as http:
        sdk = openai.AsyncOpenAI(
            base_url="http://testserver/v1", api_key="k", http_client=http, max_retries=0
        )
        result = await sdk.embeddings.create(model="my-embedder", input=["a", "b c"], dimensions=2)
    assert [d.embedding for d in result.data] == [
        [struct.unpack("<f", struct.pack("<f", 0.6))[0], struct.unpack("<f", struct.pack("<f", 0.8))[0]],
        [1.0, 0.0],
    ]
    (request,) = backend.embeddings
    assert request.texts == ["a", "b c"]
    assert request.dimensions == 2
    encoding = Tokenizer.named("cl100k_base")
    assert request.tokens == [encoding.encode("a"), encoding.encode("b c")]


async def test_a_backend_answer_of_the_wrong_size_is_a_server_error(make_app: MakeApp) -> None:
    backend = ScriptedBackend([], vectors=[[0.6, 0.8]])
    async with in_process(make_app(backend=backend)) as client:
        error = await error_of(client, {"model": SMALL, "input": "x"}, status=500)
    assert error["type"] == "server_error"


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "value",
    [
        "",
        ["a", ""],
        [],
        [[1, 2], []],
        [1, "a"],
        [["a"]],
        42,
        None,
        {"text": "a"},
        [True, False],
        ["x"] * 2049,
    ],
)
async def test_a_malformed_input_gets_the_apis_one_message(client: httpx.AsyncClient, value: Any) -> None:
    error = await error_of(client, {"model": SMALL, "input": value})
    assert error == {"message": INVALID_INPUT, "type": "invalid_request_error", "param": None, "code": None}


async def test_2048_inputs_are_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(EMBEDDINGS, json={"model": SMALL, "input": ["x"] * 2048, "dimensions": 1})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 2048


async def test_ada_refuses_dimensions_even_null(client: httpx.AsyncClient) -> None:
    for dimensions in (512, None):
        error = await error_of(
            client, {"model": "text-embedding-ada-002", "input": "x", "dimensions": dimensions}
        )
        assert error == {
            "message": "This model does not support specifying dimensions.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }


async def test_dimensions_out_of_range_are_refused(client: httpx.AsyncClient) -> None:
    below = await error_of(client, {"model": SMALL, "input": "x", "dimensions": 0})
    above = await error_of(client, {"model": SMALL, "input": "x", "dimensions": 1537})
    assert (
        below["message"]
        == "Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got 0 instead."
    )
    assert above["message"] == (
        "Invalid 'dimensions': integer above maximum value. Expected a value <= 1536, but got 1537 instead."
    )
    assert below["param"] == above["param"] == "dimensions"


async def test_an_unknown_encoding_format_names_both_choices(client: httpx.AsyncClient) -> None:
    error = await error_of(client, {"model": SMALL, "input": "x", "encoding_format": "int8"})
    assert error["message"] == "Invalid value: 'int8'. Supported values are: 'float' and 'base64'."
    assert error["param"] == "encoding_format"


async def test_an_input_over_8192_tokens_exceeds_the_context(client: httpx.AsyncClient) -> None:
    fits = await client.post(EMBEDDINGS, json={"model": SMALL, "input": [[100] * 8192], "dimensions": 1})
    assert fits.status_code == 200
    error = await error_of(client, {"model": SMALL, "input": [[1, 2], [100] * 8193]})
    assert error == {
        "message": "This model's maximum context length is 8192 tokens, however you requested 8193 tokens "
        "(8193 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


async def test_more_than_300000_tokens_in_a_request_are_refused(client: httpx.AsyncClient) -> None:
    error = await error_of(client, {"model": SMALL, "input": [[7] * 8000] * 38})
    assert error == {
        "message": "Requested 304000 tokens, max 300000 tokens per request",
        "type": "max_tokens_per_request",
        "param": None,
        "code": "max_tokens_per_request",
    }


async def test_a_chat_model_is_not_allowed_to_embed(client: httpx.AsyncClient) -> None:
    error = await error_of(client, {"model": "gpt-4o", "input": "x"}, status=403)
    assert error["message"] == "You are not allowed to generate embeddings from this model"


async def test_unknown_parameters_and_a_missing_input_are_named(client: httpx.AsyncClient) -> None:
    unknown = await error_of(client, {"model": SMALL, "input": "x", "truncate": True})
    missing = await error_of(client, {"model": SMALL})
    assert unknown["message"] == "Unknown parameter: 'truncate'."
    assert missing["message"] == "Missing required parameter: 'input'."
