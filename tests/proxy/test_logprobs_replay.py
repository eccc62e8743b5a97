"""Logprobs recorded and replayed: an upstream's own token logprobs (here a fixture's, unlike the
server's synthesized ones) are kept in the cassette for chat and the legacy completions, whole and
streamed, and replay answers them with the upstream stopped; where the recorded tokens do not
spell the text sent, the server's own are given instead, never entries for text not sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from server.generation.logprobs import ReplyLogprobs, TokenLogprob, logprobs_for
from server.generation.tokens import Tokenizer
from tests.servers import serve
from tests.support import sse
from tests.support.proxies import Exchange, proxy_app, upstream_app

DEAD_UPSTREAM = "http://127.0.0.1:9/v1"  # replay never connects
SCORED = {"Once": -0.5, " upon": -0.25, " a": -0.125, " time": -1.0, ".": -0.0625}
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "a scored tale", "logprobs": 2}),
    (
        "/completions",
        {"model": "gpt-3.5-turbo-instruct", "prompt": "a scored tale", "logprobs": 2, "stream": True},
    ),
    (
        "/chat/completions",
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "a scored tale"}],
            "logprobs": True,
            "top_logprobs": 2,
            "stream": True,
        },
    ),
    (
        "/chat/completions",
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "a scored tale"}],
            "logprobs": True,
            "top_logprobs": 2,
        },
    ),
]


def token_logprobs(response: httpx.Response) -> list[tuple[str, float, dict[str, float]]]:
    """(token, logprob, alternatives) for every token of the first choice, whichever the shape."""
    assert response.status_code == 200, response.text
    if response.content.startswith(b"data: "):
        choices = [c["choices"][0] for c in sse.chunks(response.content) if c.get("choices")]
    else:
        choices = [response.json()["choices"][0]]
    out: list[tuple[str, float, dict[str, float]]] = []
    for choice in choices:
        logprobs = choice["logprobs"]
        if not logprobs:
            continue
        if "content" in logprobs:
            out += [
                (e["token"], e["logprob"], {t["token"]: t["logprob"] for t in e["top_logprobs"]})
                for e in logprobs["content"] or []
            ]
        else:
            out += list(
                zip(logprobs["tokens"], logprobs["token_logprobs"], logprobs["top_logprobs"], strict=True)
            )
    return out


def post_all(base_url: str) -> list[httpx.Response]:
    return [httpx.post(base_url + path, json=body) for path, body in REQUESTS]


def test_recorded_logprobs_replay_with_the_upstream_stopped(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    log: list[Exchange] = []
    with (
        serve(upstream_app(tmp_path, log)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        recorded = [token_logprobs(r) for r in post_all(proxy.base_url)]
    # One cassette per request whatever its `stream`: the last one recorded is kept, a stream for
    # the completions and a whole body for chat, so both ways of recording are replayed.
    assert len(list(cassettes.glob("*.yaml"))) == 2
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=str(cassettes), timing_factor=0)) as proxy:
        replayed = [token_logprobs(r) for r in post_all(proxy.base_url)]
    assert replayed == recorded
    for answer in replayed:
        assert [(token, value) for token, value, _ in answer] == list(SCORED.items())
        assert answer[0][2] == {"Once": -0.5, "Twice": -2.5}


# ---------------------------------------------------------------- which entries a piece gets

O200K = Tokenizer.named("o200k_base")


def entry(token: str, value: float) -> TokenLogprob:
    return TokenLogprob(token, value, token.encode(), ())


RECORDED = [entry("Once", -0.5), entry(" upon", -0.25), entry(" a", -0.125)]


def test_pieces_spelled_by_the_recording_get_its_entries_in_order() -> None:
    source = ReplyLogprobs(O200K, 0, [RECORDED])
    assert source.entries(0, "Once upon") == RECORDED[:2]
    assert source.entries(0, " a") == RECORDED[2:]


@pytest.mark.parametrize("text", ["Once upon a time", "Twice", "Onc"])
def test_text_the_recording_does_not_spell_gets_synthesized_entries(text: str) -> None:
    source = ReplyLogprobs(O200K, 0, [RECORDED])
    assert source.entries(0, text) == logprobs_for(O200K, text, 0)


def test_after_one_miss_the_rest_of_the_choice_is_synthesized_at_its_position() -> None:
    source = ReplyLogprobs(O200K, 0, [RECORDED])
    first = source.entries(0, "Once up")
    assert source.entries(0, "on a") == logprobs_for(O200K, "on a", 0, len(first))


def test_a_choice_without_a_recording_and_a_refusal_are_synthesized() -> None:
    source = ReplyLogprobs(O200K, 1, [None, RECORDED])
    assert source.entries(0, "Once") == logprobs_for(O200K, "Once", 1)
    assert source.entries(1, "Once", recorded=False) == logprobs_for(O200K, "Once", 1)
