"""`GET /v1/responses/{id}/input_items`: a request's input listed back, every item with an id and a
`type`, in pages."""

from __future__ import annotations

from typing import Any

import httpx

RESPONSES = "/v1/responses"


async def listed(client: httpx.AsyncClient, request_input: Any, **query: Any) -> dict[str, Any]:
    created = await client.post(RESPONSES, json={"model": "gpt-4o", "input": request_input})
    assert created.status_code == 200, created.text
    page = await client.get(f"{RESPONSES}/{created.json()['id']}/input_items", params=query)
    assert page.status_code == 200, page.text
    body: dict[str, Any] = page.json()
    return body


async def test_a_string_input_is_one_user_message(client: httpx.AsyncClient) -> None:
    page = await listed(client, "Hello.")
    assert list(page) == ["object", "data", "first_id", "last_id", "has_more"]
    (item,) = page["data"]
    assert item["type"] == "message"
    assert item["role"] == "user"
    assert item["content"] == [{"type": "input_text", "text": "Hello."}]
    assert page["first_id"] == page["last_id"] == item["id"]
    assert page["has_more"] is False


async def test_pages_go_newest_first_by_default_and_follow_after(client: httpx.AsyncClient) -> None:
    messages = [{"role": "user", "content": f"m{i}"} for i in range(3)]
    first = await listed(client, messages, limit=2)
    assert [item["content"][0]["text"] for item in first["data"]] == ["m2", "m1"]
    assert first["has_more"] is True


async def test_an_item_reference_without_a_type_is_listed_with_its_type(client: httpx.AsyncClient) -> None:
    # The SDK tells listed items apart by `type`; a reference sent without one was listed without one.
    page = await listed(client, [{"role": "user", "content": "hi"}, {"id": "msg_earlier"}], order="asc")
    reference = page["data"][1]
    assert reference == {"id": "msg_earlier", "type": "item_reference"}
