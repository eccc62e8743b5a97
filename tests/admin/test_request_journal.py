"""The in-memory request journal over HTTP (`/_chatdouble/requests`).

Proven: every /v1 endpoint (chat, Responses, completions, embeddings) is journaled in the caller's
namespace, oldest first, with the endpoint, model, status, error code, what answered, timings and
usage; `since` and `limit` page through it; bodies appear only with `journal.bodies`, scrubbed of
keys; a namespace keeps at most `journal.memory` entries; `memory: 0` keeps none; sessions of one key
and other keys are isolated; clearing and reset empty it. A stream's last frames, which tell its
error and usage, are read when its entry is first listed, not on the stream's way out, unless they
are long (then at once, not kept).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from server.app import create_app
from server.config import load_settings
from server.control.entries import Answer
from server.namespaces import namespace
from tests.support.requests import chat_body, in_process

REQUESTS = "/_chatdouble/requests"
KEY = "sk-journal-secret-key-123456"
A1 = {"Authorization": f"Bearer {KEY}", "X-Chatdouble-Session": "one"}
A2 = {"Authorization": f"Bearer {KEY}", "X-Chatdouble-Session": "two"}


def app_with(**settings: Any) -> Any:
    return create_app(load_settings(env={}, overrides=settings))


async def listed(http: httpx.AsyncClient, headers: dict[str, str] = A1, **params: Any) -> dict[str, Any]:
    answer = await http.get(REQUESTS, headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_every_endpoint_is_journaled_with_what_answered_timings_and_usage() -> None:
    async with in_process(app_with()) as http:
        chat = await http.post("/v1/chat/completions", json=chat_body("hi"), headers=A1)
        await http.post("/v1/chat/completions", json=chat_body("hi", stream=True), headers=A1)
        await http.post("/v1/responses", json={"model": "gpt-4o", "input": "hi"}, headers=A1)
        await http.post(
            "/v1/completions", json={"model": "gpt-3.5-turbo-instruct", "prompt": "hi"}, headers=A1
        )
        await http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "hi"}, headers=A1)
        await http.post("/v1/chat/completions", json={"model": "gpt-4o"}, headers=A1)  # invalid
        journal = await listed(http)
    entries = journal["data"]
    assert journal["object"] == "list"
    assert journal["has_more"] is False
    assert [e["endpoint"] for e in entries] == [
        "chat.completions",
        "chat.completions",
        "responses",
        "completions",
        "embeddings",
        "chat.completions",
    ]
    first = entries[0]
    assert first["object"] == "chatdouble.request"
    assert first["id"] == chat.headers["x-request-id"]
    assert (first["method"], first["path"], first["model"], first["stream"]) == (
        "POST",
        "/v1/chat/completions",
        "gpt-4o",
        False,
    )
    assert (first["status"], first["error"]) == (200, None)
    assert first["answered_by"] == {"backend": "echo", "kind": "echo", "fixture": None}
    assert first["usage"] == chat.json()["usage"]
    assert first["timings"]["ttft_ms"] is None
    assert first["timings"]["total_ms"] >= 0
    assert isinstance(first["created"], float)
    assert "request" not in first
    assert "response" not in first
    streamed = entries[1]
    assert streamed["stream"] is True
    assert streamed["timings"]["ttft_ms"] is not None
    assert entries[2]["usage"]["input_tokens"] > 0  # the Responses API's usage
    assert entries[4]["usage"]["prompt_tokens"] == 1
    invalid = entries[5]
    assert (invalid["status"], invalid["error"]) == (400, "missing_required_parameter")
    assert invalid["answered_by"]["kind"] == "server"
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)


async def test_since_and_limit_page_oldest_first() -> None:
    async with in_process(app_with()) as http:
        for text in ("a", "b", "c"):
            await http.post("/v1/chat/completions", json=chat_body(text), headers=A1)
        everything = (await listed(http))["data"]
        page = await listed(http, limit=2)
        assert [e["seq"] for e in page["data"]] == [e["seq"] for e in everything[:2]]
        assert page["has_more"] is True
        rest = await listed(http, since=page["data"][-1]["seq"])
        assert [e["seq"] for e in rest["data"]] == [everything[2]["seq"]]
        assert rest["has_more"] is False
        bad = await http.get(REQUESTS, headers=A1, params={"limit": "0"})
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "limit"
        bad = await http.get(REQUESTS, headers=A1, params={"since": "x"})
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "since"


async def test_sessions_and_keys_are_isolated_and_clearing_is_per_namespace() -> None:
    async with in_process(app_with()) as http:
        await http.post("/v1/chat/completions", json=chat_body("one"), headers=A1)
        await http.post("/v1/chat/completions", json=chat_body("two"), headers=A2)
        assert len((await listed(http, A1))["data"]) == 1
        assert len((await listed(http, A2))["data"]) == 1
        assert (await listed(http, {"Authorization": f"Bearer {KEY}"}))["data"] == []
        cleared = await http.delete(REQUESTS, headers=A1)
        assert cleared.json() == {"object": "chatdouble.requests.deleted", "deleted": 1}
        assert (await listed(http, A1))["data"] == []
        assert len((await listed(http, A2))["data"]) == 1
        reset = await http.post("/_chatdouble/reset", json={"journal": True, "fixtures": False}, headers=A2)
        assert reset.json()["journal"] == 1
        assert (await listed(http, A2))["data"] == []


async def test_bodies_are_kept_only_when_asked_and_scrubbed_of_keys() -> None:
    body = chat_body(f"my key is {KEY} and sk-proj-abcdefghijklmnopqrstuvwxyz0123456789")
    async with in_process(app_with(journal={"bodies": True})) as http:
        await http.post("/v1/chat/completions", json=body, headers=A1)
        await http.post("/v1/chat/completions", json={**body, "stream": True}, headers=A1)
        plain, streamed = (await listed(http))["data"]
    text = str(plain) + str(streamed)
    assert KEY not in text
    assert "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789" not in text
    assert plain["request"]["model"] == "gpt-4o"
    assert "<scrubbed>" in plain["request"]["messages"][0]["content"]
    assert plain["response"]["object"] == "chat.completion"
    assert isinstance(streamed["response"], list)
    assert {chunk["object"] for chunk in streamed["response"]} == {"chat.completion.chunk"}


async def test_memory_is_bounded_per_namespace_and_zero_turns_it_off() -> None:
    async with in_process(app_with(journal={"memory": 3})) as http:
        for text in "abcde":
            await http.post("/v1/chat/completions", json=chat_body(text), headers=A1)
        kept = (await listed(http))["data"]
    assert len(kept) == 3
    assert kept[0]["seq"] < kept[1]["seq"] < kept[2]["seq"]
    app = app_with(journal={"memory": 0})
    assert app.state.runtime.requests is None
    async with in_process(app) as http:
        await http.post("/v1/chat/completions", json=chat_body("a"), headers=A1)
        # Said plainly, not an empty list that would pass for "nothing was sent".
        for answer in (
            await http.get("/_chatdouble/requests", headers=A1),
            await http.post("/_chatdouble/verify", json={"match": {}}, headers=A1),
        ):
            assert answer.status_code == 400
            assert answer.json()["error"]["code"] == "journal_off"
            assert "memory: 1000" in answer.json()["error"]["message"]


async def test_a_runtime_fixture_is_named_as_what_answered() -> None:
    async with in_process(app_with()) as http:
        await http.post("/_chatdouble/fixtures", json={"id": "greet", "response": {"text": "hi"}}, headers=A1)
        await http.post("/v1/chat/completions", json=chat_body("x"), headers=A1)
        (entry,) = (await listed(http))["data"]
    assert entry["answered_by"] == {"backend": "echo", "kind": "runtime_fixture", "fixture": "greet"}


def test_the_journal_setting_takes_a_path_a_mapping_or_null(tmp_path: Path) -> None:
    path = load_settings(env={}, overrides={"journal": "run.jsonl"}).journal
    assert (path.file, path.memory, path.bodies) == ("run.jsonl", 1000, False)
    mapping = load_settings(env={}, overrides={"journal": {"file": None, "memory": 5, "bodies": True}})
    assert (mapping.journal.file, mapping.journal.memory, mapping.journal.bodies) == (None, 5, True)
    config = tmp_path / "config.yaml"
    config.write_text("journal: null\n")
    assert load_settings(config, env={}).journal.memory == 0
    assert load_settings(env={}).journal.memory == 1000  # on out of the box
    assert load_settings(env={"CHATDOUBLE_JOURNAL": "x.jsonl"}).journal.file == "x.jsonl"


async def _answers(app: Any) -> list[Answer]:
    """What the journal holds of each answer in A1's namespace, oldest first."""
    entries = await app.state.runtime.requests.of(namespace(KEY, "one"))
    return [entry.build.answer for entry in entries]  # `build` is the journal's `_Ended`


async def test_a_streams_last_frames_are_read_when_its_entry_is_listed_and_long_ones_at_once() -> None:
    app = app_with()
    usage = {"stream_options": {"include_usage": True}}
    async with in_process(app) as http:
        await http.post("/v1/chat/completions", json=chat_body("hi", stream=True, **usage), headers=A1)
        long = {"model": "gpt-4o", "input": "word " * 3000, "stream": True}  # its last event: 15 kB
        await http.post("/v1/responses", json=long, headers=A1)
        short, whole = await _answers(app)
        assert short.last is not None  # kept unread
        assert whole.last is None  # read already
        assert whole.usage_frame is not None
        entries = (await listed(http))["data"]
    assert short.last is None  # read for the listing
    assert [entry["error"] for entry in entries] == [None, None]
    assert entries[0]["usage"]["completion_tokens"] == 1
    assert entries[1]["usage"]["output_tokens"] > 3000  # the echo of 3,000 words and spaces
