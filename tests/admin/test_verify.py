"""`POST /_chatdouble/verify` and `POST /_chatdouble/reset`.

Proven: verify counts the namespace's journaled requests that a match (the fixtures' own language)
accepts, against `eq`, `min`, `max` or a combination (default at least one), optionally on one
endpoint; when the count is not met it names the closest requests and every condition they failed,
as the matcher words them. It matches without `journal.bodies`, including `match.request` and
embeddings inputs. Bad bodies are 400s. Reset clears each part on its own or all together, and
the older `/_chatdouble/fixtures/reset` resets runtime fixtures' sequences too.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.app import create_app
from server.config import load_settings
from tests.support.requests import chat_body, error_of, in_process, text_of

VERIFY = "/_chatdouble/verify"
A1 = {"Authorization": "Bearer sk-a", "X-Chatdouble-Session": "one"}
A2 = {"Authorization": "Bearer sk-a", "X-Chatdouble-Session": "two"}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def app_with(**settings: Any) -> Any:
    return create_app(load_settings(env={}, overrides=settings))


async def verify(
    http: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] = A1
) -> dict[str, Any]:
    answer = await http.post(VERIFY, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def chat(http: httpx.AsyncClient, text: str, headers: dict[str, str] = A1, **fields: Any) -> None:
    answer = await http.post("/v1/chat/completions", json=chat_body(text, **fields), headers=headers)
    assert answer.status_code == 200


async def test_a_met_count_is_ok_with_the_matched_seqs() -> None:
    async with in_process(app_with()) as http:
        await chat(http, "weather in Paris", tools=[WEATHER])
        await chat(http, "hello")
        await chat(http, "weather in Rome", tools=[WEATHER])
        result = await verify(http, {"match": {"tools": {"include": ["get_weather"]}}, "count": {"eq": 2}})
        seqs = [e["seq"] for e in (await http.get("/_chatdouble/requests", headers=A1)).json()["data"]]
    assert result == {
        "object": "chatdouble.verification",
        "ok": True,
        "count": 2,
        "expected": {"eq": 2},
        "matched": [seqs[0], seqs[2]],
        "near_misses": [],
    }


async def test_a_miss_names_the_closest_requests_and_why() -> None:
    async with in_process(app_with()) as http:
        await chat(http, "weather in Paris")
        await chat(http, "something unrelated")
        result = await verify(
            http, {"match": {"last_user": {"contains": "weather"}, "tools": {"include": ["get_weather"]}}}
        )
    assert result["ok"] is False
    assert result["count"] == 0
    assert result["expected"] == {"min": 1}
    closest, other = result["near_misses"]
    # The request whose text matched comes first: it failed only the tool condition.
    assert closest["reasons"] == ["match.tools.include: 'get_weather' is not offered (offered: none)"]
    assert (
        other["reasons"][0]
        == "match.last_user.contains: wanted text containing 'weather', got 'something unrelated'"
    )
    assert len(other["reasons"]) == 2


@pytest.mark.parametrize(
    ("count", "ok"),
    [
        ({"eq": 2}, True),
        ({"eq": 1}, False),
        ({"min": 3}, False),
        ({"max": 1}, False),
        ({"min": 1, "max": 2}, True),
    ],
)
async def test_count_conditions(count: dict[str, int], ok: bool) -> None:
    async with in_process(app_with()) as http:
        await chat(http, "a")
        await chat(http, "a")
        result = await verify(http, {"match": {"last_user": {"equals": "a"}}, "count": count})
    assert result["ok"] is ok
    assert result["count"] == 2
    assert (result["near_misses"] == []) or not ok


async def test_endpoint_and_namespace_narrow_what_is_counted() -> None:
    async with in_process(app_with()) as http:
        await chat(http, "a")
        await http.post("/v1/responses", json={"model": "gpt-4o", "input": "a"}, headers=A1)
        await http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "a"}, headers=A1)
        await chat(http, "a", headers=A2)
        everything = await verify(http, {"match": {"last_user": {"equals": "a"}}})
        responses = await verify(http, {"match": {"last_user": {"equals": "a"}}, "endpoint": "responses"})
        embeddings = await verify(http, {"match": {"last_user": {"equals": "a"}}, "endpoint": "embeddings"})
        other = await verify(http, {"match": {}, "count": {"eq": 1}}, headers=A2)
    assert everything["count"] == 3
    assert responses["count"] == 1
    assert embeddings["count"] == 1
    assert other["ok"] is True


async def test_match_request_and_params_work_without_bodies() -> None:
    async with in_process(app_with(journal={"bodies": False})) as http:
        await chat(http, "exact", temperature=0.5)
        exact = chat_body("exact", temperature=0.5)
        result = await verify(http, {"match": {"request": exact}, "count": {"eq": 1}})
        params = await verify(http, {"match": {"params": {"temperature": 0.5}}, "count": {"eq": 1}})
        listed = (await http.get("/_chatdouble/requests", headers=A1)).json()["data"][0]
    assert result["ok"] is True
    assert params["ok"] is True
    assert "request" not in listed


@pytest.mark.parametrize(
    ("body", "wanted"),
    [
        ({"match": {"last_user": {"typo": "x"}}}, "last_user"),
        ({"count": {"eq": -1}}, "count"),
        ({"count": {}}, "count"),
        ({"endpoint": "images"}, "endpoint"),
        ({"nope": 1}, "nope"),
    ],
)
async def test_a_bad_verify_body_is_a_400(body: dict[str, Any], wanted: str) -> None:
    async with in_process(app_with()) as http:
        answer = await http.post(VERIFY, json=body, headers=A1)
        not_json = await http.post(VERIFY, content=b"{", headers=A1)
    assert answer.status_code == 400
    error = error_of(answer)
    assert error["type"] == "invalid_request_error"
    assert wanted in (error["param"] or "") + error["message"]
    assert not_json.status_code == 400


async def test_reset_parts_on_their_own_and_together() -> None:
    sequence = {"id": "s", "sequence": [{"text": "first"}, {"text": "second"}]}
    async with in_process(app_with()) as http:
        await http.post("/_chatdouble/fixtures", json=sequence, headers=A1)

        async def said() -> str | None:
            answer = await http.post("/v1/chat/completions", json=chat_body("x"), headers=A1)
            return text_of(answer.json())

        assert await said() == "first"
        only_journal = await http.post(
            "/_chatdouble/reset", json={"fixtures": False, "sequences": False}, headers=A1
        )
        assert only_journal.json() == {
            "object": "chatdouble.reset",
            "fixtures": 0,
            "sequences": False,
            "journal": 1,
        }
        assert await said() == "second"  # the sequence went on
        legacy = await http.post("/_chatdouble/fixtures/reset", headers=A1)
        assert legacy.status_code == 200
        assert await said() == "first"  # the older route resets runtime fixtures' sequences too
        everything = await http.post("/_chatdouble/reset", headers=A1)
        assert everything.json() == {
            "object": "chatdouble.reset",
            "fixtures": 1,
            "sequences": True,
            "journal": 2,
        }
        assert await said() == "x"  # echo again
        bad = await http.post("/_chatdouble/reset", json={"fixtures": "yes"}, headers=A1)
        assert bad.status_code == 400


async def test_reset_of_another_keys_namespace_needs_the_admin_token() -> None:
    app = app_with(api_keys=["sk-a", "sk-b"], admin_token="admin-secret")
    async with in_process(app) as http:
        await http.post("/v1/chat/completions", json=chat_body("x"), headers={"Authorization": "Bearer sk-b"})
        denied = await http.post(
            "/_chatdouble/reset", params={"key": "sk-b"}, headers={"Authorization": "Bearer sk-a"}
        )
        assert denied.status_code == 401
        admin = {"Authorization": "Bearer admin-secret"}
        allowed = await http.post("/_chatdouble/reset", params={"key": "sk-b"}, headers=admin)
        assert allowed.json()["journal"] == 1
        peek = await http.get("/_chatdouble/requests", params={"key": "sk-b"}, headers=admin)
        assert peek.json()["data"] == []
