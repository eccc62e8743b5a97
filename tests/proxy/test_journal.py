"""The request journal: one JSON line per chat request, written once the request is over, with the
route, the request key, what answered, the outcome, status and duration; nothing when disabled. A
stream's usage and error are read from its last frames, however many went out in one piece."""

from __future__ import annotations

import json
import re
from collections import deque
from pathlib import Path
from typing import Any

import httpx
from hypothesis import example, given
from hypothesis import strategies as st

from backends.request_key import normalize, request_key
from server.control.last_frames import LAST_FRAMES, last_cut, read_last
from tests.servers import serve
from tests.support.proxies import proxy_app, upstream_app
from tests.support.requests import user

UPSTREAM_KEY = "sk-journal-upstream-1234567890"
KEYS = {
    "time",
    "model",
    "route",
    "backend",
    "mode",
    "hash",
    "fields",
    "outcome",
    "fixture",
    "source",
    "status",
    "error",
    "stream",
    "duration_ms",
}


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_chat_request_is_journaled(tmp_path: Path) -> None:
    journal, cassettes = tmp_path / "logs" / "journal.jsonl", tmp_path / "cassettes"
    settings = {"journal": str(journal)}
    with (
        serve(upstream_app(tmp_path, api_keys=[UPSTREAM_KEY])) as upstream,
        serve(
            proxy_app(
                upstream.base_url,
                mode="auto",
                cassettes=str(cassettes),
                api_key=UPSTREAM_KEY,
                settings=settings,
            )
        ) as proxy,
    ):
        url = proxy.base_url + "/chat/completions"
        first = {"model": "gpt-4o", "messages": user("journal me")}
        assert httpx.post(url, json=first).status_code == 200  # recorded
        assert httpx.post(url, json={**first, "stream": True}).status_code == 200  # replayed
        assert httpx.post(url, json={"model": "local-echo", "messages": user("hi")}).status_code == 200
        assert httpx.post(url, json={"model": "gpt-4o", "messages": user("forbidden")}).status_code == 403
        assert (
            httpx.post(url, content=b"{not json", headers={"content-type": "application/json"}).status_code
            == 400
        )
        broken = httpx.post(url, json={"model": "gpt-4o", "messages": user("drop"), "stream": True})
        assert broken.status_code == 200  # the upstream dropped mid-stream: an error frame, then [DONE]
        assert httpx.post(url, json={"model": "gpt-4o", "messages": user("flaky")}).status_code == 429
        assert httpx.post(url, json={"model": "gpt-4o", "messages": user("crash")}).status_code == 500
        assert httpx.post(url, json={"model": "gpt-4o", "messages": user("forbidden")}).status_code == 403
    lines = entries(journal)
    assert len(lines) == 9
    assert all(set(line) == KEYS for line in lines)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]) for line in lines)
    recorded, replayed, local, forbidden, garbage, dropped, limited, crashed, forbidden_again = lines
    key = request_key(normalize(first))
    assert recorded | {"time": 0, "duration_ms": 0, "source": 0} == {
        "time": 0,
        "model": "gpt-4o",
        "route": "*",
        "backend": "upstream",
        "mode": "auto",
        "hash": key,
        "fields": recorded["fields"],
        "outcome": "recorded",
        "fixture": f"gpt-4o--journal-me--{key}",
        "source": 0,
        "status": 200,
        "error": None,
        "stream": False,
        "duration_ms": 0,
    }
    assert set(recorded["fields"]) == {"model", "messages[0]"}
    assert recorded["source"] == str(cassettes / f"gpt-4o--journal-me--{key}.yaml")
    assert (replayed["outcome"], replayed["hash"], replayed["fixture"]) == (
        "replayed",
        key,
        recorded["fixture"],
    )
    assert replayed["stream"] is True
    assert replayed["source"] == recorded["source"] + ":4"
    assert (local["backend"], local["outcome"], local["mode"], local["route"]) == (
        "echo",
        "generated",
        None,
        "local-*",
    )
    # The outcome says what answered; status and error say whether the answer was an error.
    assert (forbidden["status"], forbidden["outcome"], forbidden["error"]) == (
        403,
        "recorded",
        "forbidden_here",
    )
    assert forbidden["fixture"].startswith("gpt-4o--forbidden--")
    assert (forbidden_again["status"], forbidden_again["outcome"], forbidden_again["fixture"]) == (
        403,
        "replayed",
        forbidden["fixture"],
    )
    assert (garbage["model"], garbage["status"], garbage["hash"], garbage["outcome"]) == (
        None,
        400,
        None,
        "error",
    )
    assert (dropped["status"], dropped["outcome"], dropped["error"]) == (
        200,
        "forwarded",
        "upstream_disconnected",
    )
    assert (limited["status"], limited["outcome"], limited["error"]) == (
        429,
        "forwarded",
        "rate_limit_exceeded",
    )
    assert (crashed["status"], crashed["outcome"], crashed["error"]) == (500, "forwarded", "server_error")
    assert UPSTREAM_KEY not in journal.read_text()


def test_fixtures_and_misses_are_journaled(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    with serve(upstream_app(tmp_path, journal=str(journal))) as server:
        url = server.base_url + "/chat/completions"
        httpx.post(url, json={"model": "gpt-4o", "messages": user("tell me a story"), "stream": True})
        httpx.post(url, json={"model": "gpt-4o", "messages": user("echo")})
        httpx.post(url, json={"model": "gpt-4o", "messages": user("forbidden")})
    story, echoed, refused = entries(journal)
    assert (refused["outcome"], refused["fixture"], refused["status"]) == ("fixture", "refused", 403)
    assert (story["outcome"], story["fixture"], story["backend"]) == ("fixture", "story", "scripted")
    assert story["source"].endswith("upstream-fixtures.yaml:3")
    assert story["duration_ms"] >= 700  # journaled when the stream ended, not when it began
    assert (echoed["outcome"], echoed["fixture"]) == ("generated", None)


def test_no_journal_by_default(tmp_path: Path) -> None:
    app = upstream_app(tmp_path)
    assert app.state.runtime.journal is None


def test_an_upstream_that_cannot_be_reached_is_an_error_outcome(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    settings = {"journal": str(journal)}
    with serve(proxy_app("http://127.0.0.1:9/v1", settings=settings)) as proxy:
        answer = httpx.post(
            proxy.base_url + "/chat/completions", json={"model": "gpt-4o", "messages": user("hi")}
        )
    assert answer.status_code == 502
    (line,) = entries(journal)
    assert (line["outcome"], line["status"], line["error"]) == ("error", 502, "upstream_unreachable")


def test_embeddings_requests_are_journaled_with_their_recording(tmp_path: Path) -> None:
    journal, cassettes = tmp_path / "journal.jsonl", tmp_path / "cassettes"
    body = {"model": "text-embedding-3-small", "input": "journal my vector", "dimensions": 4}
    with (
        serve(upstream_app(tmp_path)) as upstream,
        serve(
            proxy_app(
                upstream.base_url, mode="auto", cassettes=str(cassettes), settings={"journal": str(journal)}
            )
        ) as proxy,
    ):
        assert httpx.post(proxy.base_url + "/embeddings", json=body).status_code == 200  # recorded
        assert httpx.post(proxy.base_url + "/embeddings", json=body).status_code == 200  # replayed
    recorded, replayed = entries(journal)
    key = request_key(normalize(body))
    assert (recorded["outcome"], recorded["hash"], recorded["status"]) == ("recorded", key, 200)
    assert (replayed["outcome"], replayed["hash"], replayed["fixture"]) == (
        "replayed",
        key,
        recorded["fixture"],
    )
    assert replayed["source"].startswith(recorded["source"])


def test_a_passed_through_stream_is_journaled_with_its_usage_and_its_upstream_error(
    tmp_path: Path,
) -> None:
    """The upstream sends a stream's ready frames together, and they are passed on together: the
    journal still finds the usage in the last chunk and the code of the upstream's own error frame."""
    with serve(upstream_app(tmp_path)) as upstream, serve(proxy_app(upstream.base_url)) as proxy:
        url = proxy.base_url + "/chat/completions"
        usage = {"stream": True, "stream_options": {"include_usage": True}}
        counted = httpx.post(url, json={"model": "gpt-4o", "messages": user("count these words"), **usage})
        broken = httpx.post(url, json={"model": "gpt-4o", "messages": user("break midway"), "stream": True})
        listed = httpx.get(proxy.url + "/_chatdouble/requests").json()["data"]
    assert counted.status_code == broken.status_code == 200
    assert '"code":"model_broke"' in broken.text
    last_chunk = json.loads(counted.text.split("data: ")[-2])
    assert [entry["usage"] for entry in listed] == [last_chunk["usage"], None]
    assert [entry["error"] for entry in listed] == [None, "model_broke"]


FRAMES = [
    b'data: {"choices":[{"delta":{"content":"a"}}]}',
    b'data: {"choices":[],"usage":{"total_tokens":3}}',
    b'data: {"error":{"message":"broke","code":"model_broke"}}',
    b": keep-alive",
    b'event: error\ndata: {"type":"error","error":{"code":"upstream_gone"}}',
]


@given(st.lists(st.sampled_from(FRAMES), min_size=1, max_size=30), st.lists(st.integers(1, 12), max_size=30))
def test_the_last_frames_are_read_alike_however_the_stream_went_out(
    frames: list[bytes], sizes: list[int]
) -> None:
    """A stream's usage and error are read from its last frames, whether each went out alone or
    several in one piece (a proxied stream's, as they came): of a piece only the last are cut."""
    pieces, rest = [], [frame + b"\n\n" for frame in frames]
    for size in [*sizes, len(rest)]:
        if rest:
            pieces.append(b"".join(rest[:size]))
            rest = rest[size:]
    alone = read_last([frame + b"\n\n" for frame in frames[-LAST_FRAMES:]])
    assert read_last(deque(pieces, maxlen=LAST_FRAMES)) == alone


@given(st.lists(st.sampled_from([b"", b"a", b"b\n", b"\nc"]), max_size=30).map(b"\n\n".join))
@example(b"\n\n".join([str(n).encode() for n in range(12)] + [b"", b"", b"last"]))
def test_a_piece_is_cut_into_the_same_last_frames_as_when_cut_whole(piece: bytes) -> None:
    """Only a piece's last frames are cut, from its end, into the frames `split` makes of it whole:
    with three newlines in a row and blank parts too."""
    whole = [frame for frame in piece.split(b"\n\n") if frame]
    assert last_cut(piece)[-LAST_FRAMES:] == whole[-LAST_FRAMES:]
