"""The pipeline applies stop, length and n to any backend's deltas, streamed and not alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from backends.base import Finish, TextDelta
from tests.support.backends import ScriptedBackend
from tests.support.requests import chat_client


def scripted(deltas: Sequence[str]) -> ScriptedBackend:
    """Fixed deltas for every choice, then each choice's finish, as a fixture backend would send."""
    return ScriptedBackend([*(TextDelta(delta) for delta in deltas), Finish()], every_choice=True)


async def run(
    make_app: Any, deltas: Sequence[str], **fields: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The non-stream body and the stream's chunks for the same request."""
    async with chat_client(make_app(backend=scripted(deltas))) as chat:
        body = await chat.ask(**fields)
        chunks = await chat.chunks(**fields, stream_options={"include_usage": True})
    return body, chunks


def streamed(chunks: list[dict[str, Any]], index: int = 0) -> tuple[list[str], str | None]:
    pieces = [
        c["choices"][0]["delta"]["content"]
        for c in chunks
        if c["choices"] and c["choices"][0]["index"] == index and c["choices"][0]["delta"].get("content")
    ]
    finish = next(
        c["choices"][0]["finish_reason"]
        for c in chunks
        if c["choices"] and c["choices"][0]["index"] == index and c["choices"][0]["finish_reason"]
    )
    return pieces, finish


async def test_chunking_is_preserved_without_limits(make_app: Any) -> None:
    body, chunks = await run(make_app, ["Hello", " wor", "ld", "!"])
    assert body["choices"][0]["message"]["content"] == "Hello world!"
    assert streamed(chunks) == (["Hello", " wor", "ld", "!"], "stop")


async def test_stop_spanning_two_deltas(make_app: Any) -> None:
    body, chunks = await run(make_app, ["The answer", " is EN", "D of text", " and more"], stop=["END"])
    assert body["choices"][0]["message"]["content"] == "The answer is "
    assert body["choices"][0]["finish_reason"] == "stop"
    pieces, finish = streamed(chunks)
    assert "".join(pieces) == "The answer is "
    assert finish == "stop"
    assert pieces[0] == "The answer"  # whole deltas before the cut keep their boundaries


async def test_earliest_of_several_stops_wins(make_app: Any) -> None:
    body, _ = await run(make_app, ["a b c d"], stop=["c", "b"])
    assert body["choices"][0]["message"]["content"] == "a "


@pytest.mark.parametrize("limit_field", ["max_tokens", "max_completion_tokens"])
async def test_length_cut_at_exact_token_count(make_app: Any, limit_field: str) -> None:
    deltas = ["One", " two", " three", " four", " five", " six"]
    body, chunks = await run(make_app, deltas, **{limit_field: 3})
    assert body["choices"][0]["message"]["content"] == "One two three"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3
    pieces, finish = streamed(chunks)
    assert pieces == ["One", " two", " three"]
    assert finish == "length"
    assert chunks[-1]["usage"] == body["usage"]


async def test_max_completion_tokens_wins_over_max_tokens(make_app: Any) -> None:
    body, _ = await run(make_app, ["a", " b", " c", " d"], max_tokens=1, max_completion_tokens=2)
    assert body["choices"][0]["message"]["content"] == "a b"


async def test_length_never_splits_a_character(make_app: Any) -> None:
    # Emoji take several tokens each in cl100k/o200k; a cut inside one must drop the partial bytes.
    body, _ = await run(make_app, ["🙂🙂🙂"], max_tokens=2)
    content = body["choices"][0]["message"]["content"]
    assert "\ufffd" not in content
    assert "🙂🙂🙂".startswith(content)


async def test_n_choices_have_their_own_indexes_and_usage_counts_all(make_app: Any) -> None:
    body, chunks = await run(make_app, ["Hi", " there"], n=3)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert all(c["message"]["content"] == "Hi there" for c in body["choices"])
    assert body["usage"]["completion_tokens"] == 3 * 2
    indexes = [c["choices"][0]["index"] for c in chunks if c["choices"]]
    assert indexes[:2] == [0, 0]  # role chunk then first delta of choice 0
    assert sorted(set(indexes)) == [0, 1, 2]
    finishes = [c["choices"][0]["index"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert finishes == [0, 1, 2]
    first_finish = next(i for i, c in enumerate(chunks) if c["choices"] and c["choices"][0]["finish_reason"])
    assert all(c["choices"][0]["finish_reason"] for c in chunks[first_finish:-1])


async def test_backend_is_closed_once_every_choice_is_cut(make_app: Any) -> None:
    backend = scripted(["b", *["a"] * 1000])
    async with chat_client(make_app(backend=backend)) as chat:
        response = await chat.post(stop=["aaa"])
    assert response.json()["choices"][0]["message"]["content"] == "b"
    assert backend.stopped.is_set()
    assert backend.sent < 10
