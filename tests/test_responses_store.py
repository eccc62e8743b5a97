"""Stored responses: what `GET`, `input_items` and `previous_response_id` read. The in-process store
keeps at most `stored_responses` responses and evicts the oldest first; `store: false` keeps none."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.config import load_settings
from server.options import ConfigError
from tests.support.requests import in_process

RESPONSES = "/v1/responses"


async def create(client: httpx.AsyncClient, text: str, **fields: Any) -> str:
    response = await client.post(RESPONSES, json={"model": "gpt-4o", "input": text, **fields})
    assert response.status_code == 200, response.text
    response_id: str = response.json()["id"]
    return response_id


async def test_the_oldest_response_goes_first_when_the_store_is_full(make_app: Any) -> None:
    async with in_process(make_app(stored_responses=2)) as client:
        first, second, third = [await create(client, text) for text in ("one", "two", "three")]
        gone = await client.get(f"{RESPONSES}/{first}")
        assert gone.status_code == 404
        assert gone.json()["error"]["message"] == f"Response with id '{first}' not found."
        for kept in (second, third):
            assert (await client.get(f"{RESPONSES}/{kept}")).json()["id"] == kept
        chained = await client.post(
            RESPONSES, json={"model": "gpt-4o", "input": "four", "previous_response_id": first}
        )
        assert chained.status_code == 400
        assert chained.json()["error"]["code"] == "previous_response_not_found"


async def test_a_response_not_stored_takes_no_place(make_app: Any) -> None:
    async with in_process(make_app(stored_responses=1)) as client:
        kept = await create(client, "kept")
        unstored = await create(client, "not kept", store=False)
        assert (await client.get(f"{RESPONSES}/{unstored}")).status_code == 404
        assert (await client.get(f"{RESPONSES}/{kept}")).status_code == 200


async def test_a_chained_request_continues_the_stored_conversation(client: httpx.AsyncClient) -> None:
    first = await create(client, "Remember the word 'teal'.")
    count = await client.post(
        f"{RESPONSES}/input_tokens", json={"model": "gpt-4o", "input": "And?", "previous_response_id": first}
    )
    alone = await client.post(f"{RESPONSES}/input_tokens", json={"model": "gpt-4o", "input": "And?"})
    assert count.json()["input_tokens"] > alone.json()["input_tokens"]


def test_the_store_size_comes_from_the_environment() -> None:
    assert load_settings(env={}).stored_responses == 1000
    assert load_settings(env={"CHATDOUBLE_STORED_RESPONSES": "5"}).stored_responses == 5


def test_a_store_of_no_responses_is_refused() -> None:
    with pytest.raises(ConfigError, match="stored_responses"):
        load_settings(env={"CHATDOUBLE_STORED_RESPONSES": "0"})
