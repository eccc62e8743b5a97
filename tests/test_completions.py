"""`POST /v1/completions`, in process: the `text_completion` body and stream in the API's shapes and
key orders, prompts in every form (one choice set per prompt, indexes prompt*n + i), the default
limit of 16 tokens, stop, echo, the legacy logprobs object, the cross-field rules, and which models
each endpoint refuses with the API's 404."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.generation.events import Finish, TextDelta
from server.generation.models import chat_model, completions_model
from server.generation.tokens import Tokenizer
from tests.support import sse
from tests.support.backends import ScriptedBackend
from tests.support.requests import in_process

PATH = "/v1/completions"
MODEL = "gpt-3.5-turbo-instruct"
CL100K = Tokenizer.named("cl100k_base")
LONG = " ".join(f"word{i}" for i in range(40))


async def complete(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(PATH, json={"model": MODEL, "prompt": "Say this is a test", **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stream(client: httpx.AsyncClient, **fields: Any) -> list[dict[str, Any]]:
    body = {"model": MODEL, "prompt": "Say this is a test", "stream": True, **fields}
    response = await client.post(PATH, json=body)
    assert response.status_code == 200, response.text
    payloads = sse.openai_stream(response.content)
    assert payloads[-1] == "[DONE]"
    return sse.chunks(response.content)


async def refused(client: httpx.AsyncClient, status: int, path: str = PATH, **body: Any) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


# ---------------------------------------------------------------- shapes


async def test_a_body_has_the_text_completion_keys_in_the_api_order(client: httpx.AsyncClient) -> None:
    body = await complete(client)
    assert list(body) == ["id", "object", "created", "model", "choices", "usage"]
    assert body["id"].startswith("cmpl-")
    assert len(body["id"]) == len("cmpl-") + 29
    assert body["object"] == "text_completion"
    assert body["model"] == MODEL
    assert list(body["choices"][0]) == ["text", "index", "logprobs", "finish_reason"]
    assert body["choices"][0] == {
        "text": "Say this is a test",
        "index": 0,
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}


async def test_stream_frames_are_text_completions_ending_with_a_finish_frame_and_done(
    client: httpx.AsyncClient,
) -> None:
    chunks = await stream(client, stream_options={"include_usage": True})
    *texts, finish, usage = chunks
    assert len({chunk["id"] for chunk in chunks}) == 1
    for chunk in [*texts, finish]:
        assert list(chunk) == ["id", "object", "created", "choices", "model"]
        assert chunk["object"] == "text_completion"
    assert "".join(chunk["choices"][0]["text"] for chunk in texts) == "Say this is a test"
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in texts)
    assert finish["choices"] == [{"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}]
    assert list(usage) == ["id", "object", "created", "model", "usage", "choices"]
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}


async def test_a_stream_without_include_usage_has_no_usage_frame(client: httpx.AsyncClient) -> None:
    chunks = await stream(client)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in chunk for chunk in chunks)


# ---------------------------------------------------------------- limits, stop, n, prompts


async def test_max_tokens_defaults_to_16_and_cuts_with_finish_reason_length(
    client: httpx.AsyncClient,
) -> None:
    body = await complete(client, prompt=LONG)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length"
    assert CL100K.count(choice["text"]) == 16 == body["usage"]["completion_tokens"]
    assert LONG.startswith(choice["text"])


async def test_max_tokens_zero_gives_an_empty_text_cut_for_length(client: httpx.AsyncClient) -> None:
    body = await complete(client, max_tokens=0)
    assert body["choices"][0]["text"] == ""
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 0


async def test_a_stop_sequence_cuts_the_text_before_it(client: httpx.AsyncClient) -> None:
    body = await complete(client, stop=[" is"])
    assert body["choices"][0]["text"] == "Say this"
    assert body["choices"][0]["finish_reason"] == "stop"


async def test_each_prompt_gets_n_choices_indexed_prompt_times_n_plus_i(client: httpx.AsyncClient) -> None:
    body = await complete(client, prompt=["first prompt", "second"], n=2)
    assert [(c["index"], c["text"]) for c in body["choices"]] == [
        (0, "first prompt"),
        (1, "first prompt"),
        (2, "second"),
        (3, "second"),
    ]
    assert body["usage"]["prompt_tokens"] == CL100K.count("first prompt") + CL100K.count("second")
    assert body["usage"]["completion_tokens"] == 2 * CL100K.count("first prompt") + 2 * CL100K.count("second")


async def test_a_streamed_list_of_prompts_finishes_every_choice(client: httpx.AsyncClient) -> None:
    chunks = await stream(client, prompt=["a b", "c"], n=2)
    texts: dict[int, str] = {}
    finished: list[int] = []
    for chunk in chunks:
        [choice] = chunk["choices"]
        texts[choice["index"]] = texts.get(choice["index"], "") + choice["text"]
        if choice["finish_reason"] is not None:
            finished.append(choice["index"])
    assert texts == {0: "a b", 1: "a b", 2: "c", 3: "c"}
    assert sorted(finished) == [0, 1, 2, 3]


async def test_token_prompts_are_decoded_and_counted_as_sent(client: httpx.AsyncClient) -> None:
    tokens = CL100K.encode("Hello world")
    body = await complete(client, prompt=[tokens, tokens[:1]])
    assert [c["text"] for c in body["choices"]] == ["Hello world", "Hello"]
    assert body["usage"]["prompt_tokens"] == len(tokens) + 1
    single = await complete(client, prompt=tokens)
    assert single["choices"][0]["text"] == "Hello world"


async def test_a_token_outside_the_vocabulary_is_a_400_naming_the_prompt(client: httpx.AsyncClient) -> None:
    error = await refused(client, 400, model=MODEL, prompt=[9906, 100300])
    assert error["param"] == "prompt"
    assert "100300" in error["message"]


async def test_a_null_prompt_is_the_document_separator_one_token(client: httpx.AsyncClient) -> None:
    body = await complete(client, prompt=None)
    assert body["usage"]["prompt_tokens"] == 1


async def test_suffix_is_accepted_and_its_tokens_are_prompt_tokens(client: httpx.AsyncClient) -> None:
    body = await complete(client, suffix=" and done")
    assert body["choices"][0]["text"] == "Say this is a test"
    assert body["usage"]["prompt_tokens"] == 5 + CL100K.count(" and done")


# ---------------------------------------------------------------- echo and logprobs


async def test_echo_puts_the_prompt_before_the_completion(client: httpx.AsyncClient) -> None:
    body = await complete(client, echo=True, max_tokens=2)
    generated = CL100K.truncate("Say this is a test", 2)[0]
    assert body["choices"][0]["text"] == "Say this is a test" + generated
    assert body["usage"]["completion_tokens"] == 2
    chunks = await stream(client, echo=True, max_tokens=2)
    assert chunks[0]["choices"][0]["text"] == "Say this is a test"
    assert "".join(c["choices"][0]["text"] for c in chunks) == "Say this is a test" + generated


async def test_logprobs_use_the_legacy_object_with_offsets_after_the_prompt(
    client: httpx.AsyncClient,
) -> None:
    prompt = "Héllo wörld"
    body = await complete(client, prompt=prompt, logprobs=3)
    choice = body["choices"][0]
    logprobs = choice["logprobs"]
    assert list(logprobs) == ["tokens", "token_logprobs", "top_logprobs", "text_offset"]
    assert "".join(logprobs["tokens"]) == choice["text"] == prompt
    assert len(logprobs["token_logprobs"]) == len(logprobs["tokens"]) == len(logprobs["text_offset"])
    offsets = [len(prompt)]
    for token in logprobs["tokens"][:-1]:
        offsets.append(offsets[-1] + len(token))
    assert logprobs["text_offset"] == offsets
    for token, logprob, top in zip(
        logprobs["tokens"], logprobs["token_logprobs"], logprobs["top_logprobs"], strict=True
    ):
        assert len(top) == 3
        assert top[token] == logprob <= 0, "the sampled token is among the alternatives"


async def test_logprobs_zero_gives_only_the_sampled_token(client: httpx.AsyncClient) -> None:
    body = await complete(client, logprobs=0)
    logprobs = body["choices"][0]["logprobs"]
    assert logprobs["top_logprobs"] == [
        {t: lp} for t, lp in zip(logprobs["tokens"], logprobs["token_logprobs"], strict=True)
    ]


async def test_streamed_logprobs_continue_offsets_and_end_with_an_empty_object(
    client: httpx.AsyncClient,
) -> None:
    chunks = await stream(client, logprobs=1)
    *texts, finish = chunks
    offsets = [o for chunk in texts for o in chunk["choices"][0]["logprobs"]["text_offset"]]
    tokens = [t for chunk in texts for t in chunk["choices"][0]["logprobs"]["tokens"]]
    assert "".join(tokens) == "Say this is a test"
    assert offsets[0] == len("Say this is a test")
    assert offsets == sorted(offsets)
    assert len(set(offsets)) == len(offsets)
    assert finish["choices"][0]["logprobs"] == {
        "tokens": [],
        "token_logprobs": [],
        "top_logprobs": [],
        "text_offset": [],
    }


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("fields", "param", "words"),
    [
        ({"echo": True, "logprobs": 1}, None, "Setting 'echo' and 'logprobs' at the same time"),
        ({"n": 3, "best_of": 2}, "best_of", "best_of must be greater than or equal to n"),
        ({"stream": True, "best_of": 2}, "best_of", "Cannot stream"),
        ({"stream_options": {"include_usage": True}}, "stream_options", "only allowed when 'stream'"),
        ({"logprobs": 6}, "logprobs", "Invalid 'logprobs'"),
        ({"prompt": []}, "prompt", "empty array"),
        ({"logit_bias": {"x": 1}}, "logit_bias", "Invalid key in 'logit_bias'"),
        ({"max_tokens": -1}, "max_tokens", "Invalid 'max_tokens'"),
        ({"unknown": 1}, "unknown", "Unknown parameter"),
    ],
)
async def test_invalid_requests_are_400s_in_the_api_words(
    client: httpx.AsyncClient, fields: dict[str, Any], param: str | None, words: str
) -> None:
    error = await refused(client, 400, **{"model": MODEL, "prompt": "x", **fields})
    assert error["param"] == param
    assert words in error["message"]
    assert error["type"] == "invalid_request_error"


async def test_best_of_equal_to_n_is_accepted(client: httpx.AsyncClient) -> None:
    body = await complete(client, n=2, best_of=2)
    assert len(body["choices"]) == 2


# ---------------------------------------------------------------- which endpoint serves which model


async def test_a_chat_model_on_completions_gets_the_api_404(client: httpx.AsyncClient) -> None:
    error = await refused(client, 404, model="gpt-4o", prompt="x")
    assert error == {
        "message": "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }


@pytest.mark.parametrize("model", ["gpt-3.5-turbo-instruct", "davinci-002", "babbage-002"])
async def test_a_completions_model_on_chat_gets_the_api_404(client: httpx.AsyncClient, model: str) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "x"}]}
    error = await refused(client, 404, "/v1/chat/completions", **body)
    assert error == {
        "message": "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }


async def test_a_model_name_of_the_config_s_own_is_served_on_both_endpoints(
    client: httpx.AsyncClient,
) -> None:
    body = await complete(client, model="my-local-model")
    assert body["choices"][0]["text"] == "Say this is a test"
    chat = await client.post(
        "/v1/chat/completions",
        json={"model": "my-local-model", "messages": [{"role": "user", "content": "x"}]},
    )
    assert chat.status_code == 200


@pytest.mark.parametrize(
    ("model", "completions", "chat"),
    [
        ("gpt-3.5-turbo-instruct", True, False),
        ("gpt-3.5-turbo-instruct-0914", True, False),
        ("ft:davinci-002:org::abc123", True, False),
        ("babbage-002", True, False),
        ("text-davinci-003", True, False),
        ("gpt-3.5-turbo", False, True),
        ("gpt-4o-mini", False, True),
        ("o3-mini", False, True),
        ("ft:gpt-4o-mini-2024-07-18:org::x", False, True),
        ("my-model", False, False),
        ("davinci-like-local", False, False),
    ],
)
def test_a_model_name_says_which_endpoint_serves_it(model: str, completions: bool, chat: bool) -> None:
    assert completions_model(model) is completions
    assert chat_model(model) is chat


# ---------------------------------------------------------------- backends


async def test_a_backend_answers_each_prompt_as_a_user_message_with_n_choices(make_app: Any) -> None:
    backend = ScriptedBackend([TextDelta("ok"), Finish()], every_choice=True)
    async with in_process(make_app(backend=backend)) as client:
        body = await complete(client, prompt=["p one", "p two"], n=3)
    assert [request.conversation.last_user_text() for request in backend.requests] == ["p one", "p two"]
    assert [request.n for request in backend.requests] == [3, 3]
    assert [c["index"] for c in body["choices"]] == list(range(6))
    assert {c["text"] for c in body["choices"]} == {"ok"}
