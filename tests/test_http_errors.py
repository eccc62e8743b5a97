"""Errors outside the request schema: URLs, methods, keys, models, sizes, crashes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.config import load_settings
from server.http.auth import MISSING_KEY, mask
from tests.support.backends import Raise, ScriptedBackend
from tests.support.requests import chat_body, in_process

CHAT = chat_body("hi")


async def test_unknown_path_is_invalid_url(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/foo", json=CHAT)
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "Invalid URL (POST /v1/foo)",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


async def test_a_trailing_slash_is_an_invalid_url(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions/", json=CHAT)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/chat/completions/)"


async def test_wrong_method_is_404_like_the_real_api(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/chat/completions", json=CHAT)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (PUT /v1/chat/completions)"


async def test_wrong_method_can_be_405(make_app: Any) -> None:
    async with in_process(make_app(method_not_allowed="405")) as http:
        response = await http.delete("/v1/chat/completions")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_missing_key_when_keys_configured(make_app: Any) -> None:
    async with in_process(make_app(api_keys=["sk-right-key-0123456789"])) as http:
        response = await http.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 401
    assert response.json()["error"] == {
        "message": MISSING_KEY,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


async def test_wrong_key_is_masked(make_app: Any) -> None:
    wrong = "sk-wrong-key-abcdefghijklmnop"
    async with in_process(make_app(api_keys=["sk-right-key-0123456789"])) as http:
        response = await http.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {wrong}"}
        )
        models = await http.get("/v1/models", headers={"authorization": f"Bearer {wrong}"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key"
    assert error["message"] == (
        "Incorrect API key provided: sk-wrong*****************mnop. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    assert wrong not in response.text
    assert models.status_code == 401


async def test_right_key_passes(make_app: Any) -> None:
    async with in_process(make_app(api_keys=["sk-a", "sk-right"])) as http:
        response = await http.post(
            "/v1/chat/completions", json=CHAT, headers={"authorization": "Bearer sk-right"}
        )
    assert response.status_code == 200


async def test_a_non_ascii_key_is_an_incorrect_key_not_a_crash(make_app: Any) -> None:
    wrong = "sk-clé-secrète-0123456789"
    headers = [(b"authorization", b"Bearer " + wrong.encode())]
    async with in_process(make_app(api_keys=["sk-right-key-0123456789"])) as http:
        chat = await http.post("/v1/chat/completions", json=CHAT, headers=headers)
        models = await http.get("/v1/models", headers=headers)
        reset = await http.post("/_chatdouble/fixtures/reset", headers=headers)
        latin1 = await http.get("/v1/models", headers=[(b"authorization", b"Bearer sk-\xff\xfe-9876")])
    for response in (chat, models, reset):
        assert response.status_code == 401, response.text
        assert response.json()["error"] == {
            "message": "Incorrect API key provided: sk-clé-s*************6789. "
            "You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    assert latin1.status_code == 401
    assert latin1.json()["error"]["code"] == "invalid_api_key"


async def test_a_configured_non_ascii_key_matches_its_utf8_bytes(make_app: Any) -> None:
    key = "sk-clé-0123456789"
    async with in_process(make_app(api_keys=[key])) as http:
        response = await http.get("/v1/models", headers=[(b"authorization", b"Bearer " + key.encode())])
    assert response.status_code == 200, response.text


def test_mask_keeps_short_keys() -> None:
    assert mask("test-key") == "test-key"
    assert mask("sk-1234567890abcdef") == "sk-12345" + "*" * 7 + "cdef"


async def test_unknown_model() -> None:
    settings = load_settings(
        env={},
        overrides={
            "backends": {"echo": {"type": "echo"}},
            "routes": [{"model": "gpt-4o", "backend": "echo"}],
        },
    )
    async with in_process(create_app(settings)) as http:
        response = await http.post("/v1/chat/completions", json={**CHAT, "model": "gpt-9"})
        retrieved = await http.get("/v1/models/gpt-9")
    assert response.status_code == 404
    # The real API sends this one with four-space indentation, a newline and an explicit charset.
    assert response.content == (
        b'{\n    "error": {\n        "message": "The model `gpt-9` does not exist or you do not have access to it.",\n'
        b'        "type": "invalid_request_error",\n        "param": null,\n        "code": "model_not_found"\n    }\n}\n'
    )
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert retrieved.status_code == 404


async def test_oversized_body_by_content_length(make_app: Any) -> None:
    async with in_process(make_app(max_body_bytes=1000)) as http:
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 2000}]}
        response = await http.post("/v1/chat/completions", json=big)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["message"].startswith("Maximum content size limit (1000) exceeded (")
    assert error["type"] == "server_error"


async def test_oversized_chunked_body(make_app: Any) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 500

    async with in_process(make_app(max_body_bytes=1000)) as http:
        response = await http.post(
            "/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413


@pytest.mark.parametrize("stream", [False, True])
async def test_backend_crash_is_a_500_without_traceback(make_app: Any, stream: bool) -> None:
    exploding = ScriptedBackend([Raise(RuntimeError("secret internal detail"))])
    async with in_process(make_app(backend=exploding)) as http:
        response = await http.post("/v1/chat/completions", json={**CHAT, "stream": stream})
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"].startswith("req_")


async def test_models_list_and_retrieve(client: httpx.AsyncClient) -> None:
    listing = await client.get("/v1/models")
    assert listing.status_code == 200
    body = listing.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert "gpt-4o" in ids
    assert all(m["object"] == "model" and isinstance(m["created"], int) for m in body["data"])
    one = await client.get("/v1/models/gpt-4o-mini")
    assert one.json()["id"] == "gpt-4o-mini"
