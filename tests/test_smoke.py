from __future__ import annotations

import httpx


async def test_echo_replies_with_last_user_message(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello, world!"}]},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["choices"][0]["message"]["content"] == "Hello, world!"
    assert response.headers["x-request-id"].startswith("req_")
