"""Stored chat completions: `store: true` keeps the completion (a stream's assembled at its end)
for the caller's namespace only; it is read back with its metadata, listed with the API's filters
and cursor pages, updated, deleted, and its request messages listed; the store keeps at most
`stored_completions` and evicts the oldest first."""

from __future__ import annotations

from typing import Any

import httpx

from backends.base import BackendError, TextDelta
from server.config import load_settings
from tests.support.backends import Raise, ScriptedBackend
from tests.support.requests import CHAT, ChatClient, chat_body, chat_client, in_process


async def stored(chat: ChatClient, text: str = "hello there", **fields: Any) -> dict[str, Any]:
    return await chat.ask(text, store=True, **fields)


async def test_a_stored_completion_reads_back_as_created_with_its_metadata(chat: ChatClient) -> None:
    created = await stored(chat, metadata={"team": "blue"})
    assert "metadata" not in created  # the create response does not echo it, as the API's
    got = await chat.http.get(f"{CHAT}/{created['id']}")
    assert got.status_code == 200
    assert got.json() == {**created, "metadata": {"team": "blue"}}


async def test_a_streamed_completion_is_stored_whole_once_its_stream_ends(chat: ChatClient) -> None:
    chunks = await chat.chunks("one two three", store=True, metadata={"k": "v"})
    completion_id = chunks[0]["id"]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    got = (await chat.http.get(f"{CHAT}/{completion_id}")).json()
    assert got["object"] == "chat.completion"
    assert got["choices"][0]["message"]["content"] == text
    assert got["choices"][0]["finish_reason"] == "stop"
    assert got["metadata"] == {"k": "v"}
    assert got["usage"]["completion_tokens"] > 0


async def test_a_completion_not_stored_is_not_found_in_the_apis_words(chat: ChatClient) -> None:
    created = await chat.ask("hi")
    missing = await chat.http.get(f"{CHAT}/{created['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "message": f"Chat completion with id '{created['id']}' not found.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    for method, path in (("POST", ""), ("DELETE", ""), ("GET", "/messages")):
        response = await chat.http.request(method, f"{CHAT}/{created['id']}{path}", json={"metadata": {}})
        assert response.status_code == 404, (method, path)


async def test_another_callers_completions_are_invisible(make_app: Any) -> None:
    app = make_app()
    async with chat_client(app, {"Authorization": "Bearer sk-alice"}) as alice:
        created = await stored(alice)
    async with in_process(app, {"Authorization": "Bearer sk-bob"}) as bob:
        assert (await bob.get(f"{CHAT}/{created['id']}")).status_code == 404
        assert (await bob.get(CHAT)).json()["data"] == []
        assert (await bob.delete(f"{CHAT}/{created['id']}")).status_code == 404
    async with in_process(app, {"Authorization": "Bearer sk-alice"}) as again:
        assert [c["id"] for c in (await again.get(CHAT)).json()["data"]] == [created["id"]]


async def test_the_list_filters_by_model_and_every_metadata_pair(chat: ChatClient) -> None:
    a = await stored(chat, metadata={"team": "blue", "env": "test"})
    b = await stored(chat, metadata={"team": "blue"}, model="gpt-4o-mini")
    await stored(chat, metadata={"team": "red"})
    await chat.ask("not stored", metadata={"team": "blue"})

    async def ids(**params: str) -> list[str]:
        response = await chat.http.get(CHAT, params=params)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["data"]]

    assert await ids(**{"metadata[team]": "blue"}) == [a["id"], b["id"]]
    assert await ids(**{"metadata[team]": "blue", "metadata[env]": "test"}) == [a["id"]]
    assert await ids(model="gpt-4o-mini") == [b["id"]]
    assert await ids(model="gpt-4o", **{"metadata[team]": "red"}) != []


async def test_the_list_pages_by_cursor_in_either_order(chat: ChatClient) -> None:
    made = [(await stored(chat, str(i)))["id"] for i in range(5)]
    first = (await chat.http.get(CHAT, params={"limit": 2})).json()
    assert first["object"] == "list"
    assert [c["id"] for c in first["data"]] == made[:2]
    assert (first["first_id"], first["last_id"], first["has_more"]) == (made[0], made[1], True)
    rest = (await chat.http.get(CHAT, params={"after": made[1], "limit": 5})).json()
    assert [c["id"] for c in rest["data"]] == made[2:]
    assert rest["has_more"] is False
    newest = (await chat.http.get(CHAT, params={"order": "desc", "limit": 2})).json()
    assert [c["id"] for c in newest["data"]] == made[::-1][:2]
    empty = (await chat.http.get(CHAT, params={"limit": 0})).json()
    assert (empty["data"], empty["first_id"], empty["has_more"]) == ([], None, True)


async def test_bad_page_parameters_are_refused_in_the_apis_words(client: httpx.AsyncClient) -> None:
    order = await client.get(CHAT, params={"order": "sideways"})
    assert order.status_code == 400
    assert order.json()["error"]["param"] == "order"
    assert (
        order.json()["error"]["message"]
        == "Invalid value: 'sideways'. Supported values are: 'asc' and 'desc'."
    )
    for limit in ("101", "-1", "ten"):
        response = await client.get(CHAT, params={"limit": limit})
        assert response.status_code == 400, limit
        assert response.json()["error"]["param"] == "limit"


async def test_an_update_replaces_the_metadata_whole(chat: ChatClient) -> None:
    created = await stored(chat, metadata={"a": "1", "b": "2"})
    url = f"{CHAT}/{created['id']}"
    updated = await chat.http.post(url, json={"metadata": {"c": "3"}})
    assert updated.status_code == 200
    assert updated.json() == {**created, "metadata": {"c": "3"}}
    assert (await chat.http.get(url)).json()["metadata"] == {"c": "3"}
    cleared = await chat.http.post(url, json={"metadata": None})
    assert cleared.json()["metadata"] == {}


async def test_an_update_without_metadata_is_refused(chat: ChatClient) -> None:
    created = await stored(chat)
    response = await chat.http.post(f"{CHAT}/{created['id']}", json={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"
    assert response.json()["error"]["param"] == "metadata"
    wrong = await chat.http.post(f"{CHAT}/{created['id']}", json={"metadata": {"k": 1}})
    assert wrong.status_code == 400


async def test_a_deleted_completion_is_gone(chat: ChatClient) -> None:
    created = await stored(chat)
    url = f"{CHAT}/{created['id']}"
    deleted = await chat.http.delete(url)
    assert deleted.json() == {"object": "chat.completion.deleted", "id": created["id"], "deleted": True}
    assert (await chat.http.get(url)).status_code == 404
    assert (await chat.http.delete(url)).status_code == 404
    assert (await chat.http.get(CHAT)).json()["data"] == []


async def test_the_messages_are_the_requests_with_ids_by_position(chat: ChatClient) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "name": "ann",
            "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "you"}],
        },
    ]
    created = await chat.ask(messages, store=True)
    cid = created["id"]
    listed = (await chat.http.get(f"{CHAT}/{cid}/messages")).json()
    assert listed == {
        "object": "list",
        "data": [
            {"id": f"{cid}-0", "role": "system", "content": "Be brief.", "name": None, "content_parts": None},
            {
                "id": f"{cid}-1",
                "role": "user",
                "content": "Hi you",
                "name": "ann",
                "content_parts": messages[1]["content"],
            },
        ],
        "first_id": f"{cid}-0",
        "last_id": f"{cid}-1",
        "has_more": False,
    }
    page = (await chat.http.get(f"{CHAT}/{cid}/messages", params={"order": "desc", "limit": 1})).json()
    assert ([m["id"] for m in page["data"]], page["has_more"]) == ([f"{cid}-1"], True)


async def test_the_oldest_completion_goes_first_when_the_store_is_full(make_app: Any) -> None:
    async with chat_client(make_app(stored_completions=2)) as chat:
        first, second, third = [(await stored(chat, text))["id"] for text in ("one", "two", "three")]
        assert (await chat.http.get(f"{CHAT}/{first}")).status_code == 404
        assert [c["id"] for c in (await chat.http.get(CHAT)).json()["data"]] == [second, third]


async def test_a_request_that_fails_stores_nothing(client: httpx.AsyncClient) -> None:
    refused = await client.post(CHAT, json=chat_body("x", store=True, n=0))
    assert refused.status_code == 400
    assert (await client.get(CHAT)).json()["data"] == []


async def test_a_stream_that_fails_after_its_first_chunk_stores_nothing(make_app: Any) -> None:
    overloaded = BackendError(503, "The engine is currently overloaded, please try again later.")
    async with chat_client(
        make_app(backend=ScriptedBackend([TextDelta("Hello"), Raise(overloaded)]))
    ) as chat:
        chunks = await chat.chunks("x", store=True)
        assert "error" in chunks[-1]
        assert (await chat.http.get(CHAT)).json()["data"] == []


def test_the_store_size_comes_from_the_environment() -> None:
    assert load_settings(env={}).stored_completions == 1000
    assert load_settings(env={"CHATDOUBLE_STORED_COMPLETIONS": "5"}).stored_completions == 5
