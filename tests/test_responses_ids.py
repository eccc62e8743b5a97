"""Ids as the Responses API writes them (server/responses/ids.py), as seen in real recordings: a
prefix and 50 lowercase hex digits, the first 16 shared by every id of one response, then `00`, the
creation second in 8 hex digits, and 24 random ones; another response has its own."""

from __future__ import annotations

import re

import httpx

RESPONSES = "/v1/responses"


async def _ids(client: httpx.AsyncClient) -> tuple[int, list[str]]:
    created = await client.post(
        RESPONSES, json={"model": "gpt-4o", "input": [{"role": "user", "content": "hi"}]}
    )
    assert created.status_code == 200, created.text
    body = created.json()
    listed = await client.get(f"{RESPONSES}/{body['id']}/input_items")
    assert listed.status_code == 200, listed.text
    items = [item["id"] for item in listed.json()["data"]]
    return body["created_at"], [body["id"], *(item["id"] for item in body["output"]), *items]


async def test_a_responses_ids_share_a_stem_that_holds_its_creation_second(client: httpx.AsyncClient) -> None:
    created, ids = await _ids(client)
    assert [one.split("_", 1)[0] for one in ids] == ["resp", "msg", "msg"]
    digits = [one.split("_", 1)[1] for one in ids]
    assert all(re.fullmatch(r"[0-9a-f]{50}", one) for one in digits), ids
    (stem,) = {one[:26] for one in digits}
    assert stem[16:18] == "00"
    assert int(stem[18:], 16) == created & 0xFFFFFFFF
    assert len({one[26:] for one in digits}) == len(digits)  # the rest differs


async def test_another_response_has_its_own_stem(client: httpx.AsyncClient) -> None:
    _, first = await _ids(client)
    _, second = await _ids(client)
    assert first[0][5:21] != second[0][5:21]
