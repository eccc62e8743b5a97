"""The official `openai` SDK's `client.completions.create` (the legacy text completions) against a
real server on loopback: whole and streamed, n > 1, stop, the default limit of 16 tokens, logprobs,
and the API's 404 for a chat model. Every body and frame is read raw and validated strictly against
the SDK's `Completion` model (no unknown keys at any level) before the SDK's parsed view is checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types import Completion

from server.generation.tokens import Tokenizer
from tests.servers import LiveServer
from tests.support import sse
from tests.support.contract import API_KEY, PROMPT, assert_known_keys, check_headers

MODEL = "gpt-3.5-turbo-instruct"
SHORT = "Say this is a test"
CL100K = Tokenizer.named("cl100k_base")


@pytest.fixture
def sdk(live_server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=live_server.base_url, api_key=API_KEY, max_retries=0) as client:
        yield client


def validate(raw: dict[str, Any]) -> Completion:
    completion = Completion.model_validate(raw, strict=True)
    assert_known_keys(raw, completion)
    assert raw["object"] == "text_completion"
    assert raw["id"].startswith("cmpl-")
    return completion


def create(sdk: openai.OpenAI, **params: Any) -> tuple[dict[str, Any], Completion]:
    response = sdk.completions.with_raw_response.create(**{"model": MODEL, "prompt": SHORT, **params})
    raw: dict[str, Any] = json.loads(response.http_response.content)
    validate(raw)
    parsed = response.parse()
    assert parsed.to_dict() == raw, "the SDK's object must round-trip the body"
    assert parsed._request_id == check_headers(response.headers)
    return raw, parsed


def frames(sdk: openai.OpenAI, **params: Any) -> list[dict[str, Any]]:
    params = {"model": MODEL, "prompt": SHORT, "stream": True, **params}
    with sdk.completions.with_streaming_response.create(**params) as response:
        check_headers(response.headers)
        assert response.headers["content-type"].startswith("text/event-stream")
        payloads = sse.openai_stream(b"".join(response.iter_bytes()))
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    for chunk in chunks:
        # The SDK's `CompletionChoice.finish_reason` is not nullable, but a choice still going has
        # `finish_reason: null` in the API's frames (recorded gpt-3.5-turbo-instruct streams:
        # vercel/ai's completion-model tests); the SDK reads frames without strict validation.
        validate(
            {
                **chunk,
                "choices": [
                    {**choice, "finish_reason": choice["finish_reason"] or "stop"}
                    for choice in chunk["choices"]
                ],
            }
        )
    return chunks


def test_create_returns_the_prompt_as_text_with_usage(sdk: openai.OpenAI) -> None:
    _, completion = create(sdk, prompt=PROMPT, max_tokens=200)
    assert completion.choices[0].text == PROMPT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == CL100K.count(PROMPT) == completion.usage.completion_tokens


def test_the_default_max_tokens_of_16_cuts_with_finish_reason_length(sdk: openai.OpenAI) -> None:
    _, completion = create(sdk, prompt=PROMPT)
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 16
    assert PROMPT.startswith(completion.choices[0].text)


def test_n_gives_that_many_choices_and_stop_cuts_each(sdk: openai.OpenAI) -> None:
    _, completion = create(sdk, n=3, stop=" a test")
    assert [choice.index for choice in completion.choices] == [0, 1, 2]
    assert {choice.text for choice in completion.choices} == {"Say this is"}
    assert {choice.finish_reason for choice in completion.choices} == {"stop"}


def test_logprobs_parse_into_the_sdk_s_legacy_object(sdk: openai.OpenAI) -> None:
    _, completion = create(sdk, logprobs=2)
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None
    assert logprobs.tokens is not None
    assert logprobs.text_offset is not None
    assert "".join(logprobs.tokens) == SHORT
    assert logprobs.text_offset[0] == len(SHORT)
    assert logprobs.top_logprobs is not None
    assert all(len(top) == 2 for top in logprobs.top_logprobs)


def test_a_stream_joins_to_the_whole_text_and_ends_with_usage(sdk: openai.OpenAI) -> None:
    chunks = frames(sdk, prompt=PROMPT, max_tokens=200, stream_options={"include_usage": True})
    assert "".join(chunk["choices"][0]["text"] for chunk in chunks[:-1]) == PROMPT
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == CL100K.count(PROMPT)


def test_the_sdk_s_stream_iterator_reads_every_choice(sdk: openai.OpenAI) -> None:
    texts = ["", ""]
    finishes: dict[int, str] = {}
    for chunk in sdk.completions.create(model=MODEL, prompt=SHORT, n=2, stream=True, max_tokens=3):
        assert isinstance(chunk, Completion)
        for choice in chunk.choices:
            texts[choice.index] += choice.text
            if choice.finish_reason is not None:
                finishes[choice.index] = choice.finish_reason
    assert texts == [CL100K.truncate(SHORT, 3)[0]] * 2
    assert finishes == {0: "length", 1: "length"}


def test_a_chat_model_raises_not_found_with_the_api_message(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.completions.create(model="gpt-4o", prompt=SHORT)
    assert caught.value.status_code == 404
    assert caught.value.param == "model"
    assert caught.value.code is None
    assert "This is a chat model and not supported in the v1/completions endpoint" in caught.value.message


def test_a_completions_model_on_chat_raises_not_found(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": SHORT}])
    assert "This is not a chat model" in caught.value.message
