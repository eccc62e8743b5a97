"""The Responses API through the proxy, with another chatdouble on loopback as the upstream: passed
through byte for byte (streamed with its `event:` lines and comments, no `[DONE]`; whole with the
upstream's ids), a broken stream told as an `error` event; recorded into the same cassette format
(text, calls, reasoning summary, hosted-tool items, chunking, model) and replayed with the upstream
stopped, through the fixtures engine and the Responses writer; `cassettes check` reads the journal
of a Responses run as of a chat one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from backends.fixtures import load
from server.__main__ import main
from tests.servers import LiveServer, serve
from tests.support import sse
from tests.support.proxies import Exchange, proxy_app, responses_posts, upstream_app

DEAD_UPSTREAM = "http://127.0.0.1:9/v1"  # replay never connects
SAVE = {
    "type": "function",
    "name": "save",
    "parameters": {"type": "object", "properties": {}},
    "strict": False,
}
RESEARCH = {"model": "gpt-4o", "input": "research chatdouble", "tools": [SAVE]}


def post(base_url: str, body: dict[str, Any], **fields: Any) -> httpx.Response:
    return httpx.post(
        base_url + "/responses", json={**body, **fields}, headers={"authorization": "Bearer sk-c"}
    )


def said(response: httpx.Response) -> dict[str, Any]:
    """What an answer said, streamed or whole, ids and timestamps aside: each output item's kind
    and content, and a stream's pieces in order."""
    if response.headers["content-type"].startswith("text/event-stream"):
        events = [frame.json() for frame in sse.frames(response.text)]
        final = events[-1]["response"]
        pieces = [e["delta"] for e in events if e["type"].endswith(".delta")]
    else:
        final, pieces = response.json(), []
    output = []
    for item in final["output"]:
        shown = {k: v for k, v in item.items() if k != "id"}
        output.append(shown)
    return {"model": final["model"], "status": final["status"], "output": output, "pieces": pieces}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, captured: list[Exchange]) -> Iterator[LiveServer]:
    with serve(
        upstream_app(
            tmp_path_factory.mktemp("upstream"), captured, sse_ping_seconds=0.05, unknown_fields="accept"
        )
    ) as live:
        yield live


@pytest.fixture(scope="module")
def proxy(upstream: LiveServer) -> Iterator[LiveServer]:
    with serve(proxy_app(upstream.base_url, api_key="sk-upstream-5c1f0e7a9b3d2468")) as live:
        yield live


def test_a_whole_response_is_the_upstreams_bytes(proxy: LiveServer, captured: list[Exchange]) -> None:
    response = post(proxy.base_url, {"model": "gpt-4o", "input": "dated", "unknown_field": 1})
    sent = responses_posts(captured)[-1]
    assert json.loads(sent.body)["unknown_field"] == 1  # forwarded before any validation
    assert response.status_code == sent.status == 200
    assert response.content == sent.response
    assert response.json()["id"].startswith("resp_")
    assert response.json()["model"] == "gpt-4o-mini-2024-07-18"
    assert response.headers["x-request-id"] == sent.response_headers["x-request-id"]


def test_a_stream_is_the_upstreams_events_and_comments_without_done(
    proxy: LiveServer, captured: list[Exchange]
) -> None:
    response = post(proxy.base_url, {"model": "gpt-4o", "input": "paced"}, stream=True)
    sent = responses_posts(captured)[-1].response
    assert b"\n\n: ping\n\n" in sent  # the upstream kept its slow stream alive between events
    assert response.content == sent
    frames = [frame for frame in sse.frames(response.text) if frame.data is not None]
    assert all(frame.event == frame.json()["type"] for frame in frames)
    assert frames[-1].event == "response.completed"
    assert b"[DONE]" not in response.content


def test_the_sdk_reads_a_passed_through_stream(proxy: LiveServer) -> None:
    with (
        openai.OpenAI(base_url=proxy.base_url, api_key="sk-c", max_retries=0) as sdk,
        sdk.responses.stream(model="gpt-4o", input="research it", tools=[SAVE]) as stream,  # type: ignore[list-item]  # a plain dict, as a client sends it
    ):
        final = stream.get_final_response()
    kinds = [item.type for item in final.output]
    assert kinds == ["reasoning", "web_search_call", "message", "function_call"]
    assert final.output_text == "Found it."


def test_an_upstream_error_is_passed_through(proxy: LiveServer) -> None:
    response = post(proxy.base_url, {"model": "gpt-4o", "input": "forbidden"}, stream=True)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_here"


def test_a_stream_that_breaks_off_ends_with_an_error_event_numbered_after_the_last(proxy: LiveServer) -> None:
    response = post(proxy.base_url, {"model": "gpt-4o", "input": "drop"}, stream=True)
    frames = sse.frames(response.text)
    last, error = frames[-2].json(), frames[-1]
    assert error.event == "error"
    assert error.json() == {
        "type": "error",
        "error": {
            "type": "server_error",
            "code": "upstream_disconnected",
            "message": error.json()["error"]["message"],
            "param": None,
        },
        "sequence_number": last["sequence_number"] + 1,
    }
    assert "broke off the stream" in error.json()["error"]["message"]
    assert b"[DONE]" not in response.content


@pytest.mark.parametrize("stream", [True, False])
def test_record_then_replay_with_the_upstream_stopped(tmp_path: Path, stream: bool) -> None:
    cassettes = tmp_path / "cassettes"
    log: list[Exchange] = []
    requests = [
        ({"model": "gpt-4o", "input": "tell me a story"}, {}),
        (RESEARCH, {}),
        ({"model": "gpt-4o", "input": "dated"}, {}),
        ({"model": "o3", "input": "an echo, please"}, {}),
    ]
    with (
        serve(upstream_app(tmp_path, log)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        recorded = [said(post(proxy.base_url, body, stream=stream, **more)) for body, more in requests]
    assert len(responses_posts(log)) == len(list(cassettes.glob("*.yaml"))) == 4
    with serve(proxy_app(DEAD_UPSTREAM, mode="replay", cassettes=str(cassettes), timing_factor=0)) as proxy:
        replayed = [said(post(proxy.base_url, body, stream=stream, **more)) for body, more in requests]
    assert len(responses_posts(log)) == 4  # nothing more reached the upstream
    assert replayed == recorded
    story, research, dated, echo = replayed
    if stream:
        assert story["pieces"] == ["Once", " upon", " a", " time", "."]
    assert [item["type"] for item in research["output"]] == [
        "reasoning",
        "web_search_call",
        "message",
        "function_call",
    ]
    assert research["output"][0]["summary"][1] == {"type": "summary_text", "text": "Reading the results."}
    assert research["output"][3]["call_id"].startswith("call_")
    assert dated["model"] == "gpt-4o-mini-2024-07-18"  # the recorded model, not the requested one
    assert echo["output"][0]["type"] == "reasoning"  # a reasoning model's own item, replayed as such


def test_a_recorded_stream_keeps_its_pieces_in_the_fixture(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        assert post(proxy.base_url, RESEARCH, stream=True).status_code == 200
    [loaded] = load([str(cassettes)])
    reply = loaded.fixture.response
    assert reply is not None
    assert reply.chunks == ["Found", " it", "."]
    assert reply.reasoning is not None
    assert "".join(reply.reasoning[0]) == "Planning the **search**."
    assert reply.items is not None
    assert reply.items[0]["action"] == {"type": "search", "query": "chatdouble"}
    assert reply.tool_calls is not None
    assert reply.tool_calls[0].arguments == '{"note":"found"}'
    assert loaded.fixture.recorded is not None
    assert loaded.fixture.recorded.obfuscation is True
    assert loaded.fixture.match.request == {
        "model": "gpt-4o",
        "input": "research chatdouble",
        "tools": [SAVE],
    }
    assert (loaded.fixture.timing.delays or []) != []


def test_a_stream_that_fails_midway_is_passed_on_but_not_recorded(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        response = post(proxy.base_url, {"model": "gpt-4o", "input": "break midway"}, stream=True)
    events = [frame.event for frame in sse.frames(response.text)]
    assert events[-2:] == ["error", "response.failed"]
    assert list(cassettes.glob("*.yaml")) == []


def replay(cassettes: Path, journal: Path, body: dict[str, Any], **fields: Any) -> int:
    app = proxy_app(
        DEAD_UPSTREAM, mode="replay", cassettes=str(cassettes), settings={"journal": str(journal)}
    )
    with serve(app) as proxy:
        return post(proxy.base_url, body, **fields).status_code


def test_cassettes_check_reads_a_responses_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cassettes, journal = tmp_path / "cassettes", tmp_path / "journal.jsonl"
    note = {"role": "developer", "content": "Be terse."}
    first = {"model": "gpt-4o", "input": [note, {"role": "user", "content": "alpha"}]}
    changed = {"model": "gpt-4o", "input": [note, {"role": "user", "content": "alpha, reworded"}]}
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(proxy_app(upstream.base_url, mode="record", cassettes=str(cassettes))) as proxy,
    ):
        assert post(proxy.base_url, first).status_code == 200
    assert replay(cassettes, journal, first, stream=True) == 200
    assert main(["cassettes", "check", str(cassettes), "--journal", str(journal)]) == 0
    assert "ok: every recording was used" in capsys.readouterr().out
    journal.unlink()
    assert replay(cassettes, journal, changed) == 400
    assert main(["cassettes", "check", str(cassettes), "--journal", str(journal)]) == 1
    out = "".join(capsys.readouterr())
    assert "stale: " in out
    assert "(differs in input[1])" in out
    assert "missing: " in out
