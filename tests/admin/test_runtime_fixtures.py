"""Runtime fixtures over the admin API (`/_chatdouble/fixtures`).

Proven: a fixture added as JSON or YAML (one, a list, or a file-shaped document) answers chat,
Responses and completions requests of its namespace before the route's backend, whether that is
echo or a fixtures backend, with the features of file fixtures (sequences, errors, templates);
requests it does not match reach the route's backend as before. Bodies are checked as fixture files
are, with the same messages. Listing and deleting one or all work per namespace, two sessions of
one key do not see each other's fixtures, another key's namespace needs the admin token, and a
reset makes them vanish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.config import load_settings
from tests.support import sse
from tests.support.fixture_apps import fixture_app, write
from tests.support.requests import chat_body, error_of, in_process, text_of

FIXTURES = "/_chatdouble/fixtures"
A = {"Authorization": "Bearer sk-a"}
A1 = {**A, "X-Chatdouble-Session": "one"}
A2 = {**A, "X-Chatdouble-Session": "two"}
HELLO = {"match": {"last_user": {"contains": "hello"}}, "response": {"text": "Hi from a runtime fixture"}}


def echo_app(**settings: Any) -> Any:
    return create_app(load_settings(env={}, overrides=settings))


async def add(http: httpx.AsyncClient, body: Any, headers: dict[str, str] = A1, **kw: Any) -> httpx.Response:
    return await http.post(FIXTURES, json=body, headers=headers, **kw)


async def ask(
    http: httpx.AsyncClient, text: str, headers: dict[str, str] = A1, **fields: Any
) -> httpx.Response:
    return await http.post("/v1/chat/completions", json=chat_body(text, **fields), headers=headers)


async def test_a_runtime_fixture_answers_before_echo_and_others_still_reach_echo() -> None:
    async with in_process(echo_app()) as http:
        added = await add(http, HELLO)
        assert added.status_code == 200
        (fixture,) = added.json()["data"]
        assert added.json()["object"] == "list"
        assert fixture["id"].startswith("fx_")
        assert fixture["match"] == HELLO["match"]
        assert fixture["response"] == HELLO["response"]
        assert text_of((await ask(http, "hello there")).json()) == "Hi from a runtime fixture"
        assert text_of((await ask(http, "something else")).json()) == "something else"  # echo


async def test_a_runtime_fixture_answers_responses_and_completions_and_streams() -> None:
    async with in_process(echo_app()) as http:
        await add(http, HELLO)
        response = await http.post("/v1/responses", json={"model": "gpt-4o", "input": "hello"}, headers=A1)
        assert response.json()["output"][0]["content"][0]["text"] == "Hi from a runtime fixture"
        legacy = await http.post(
            "/v1/completions", json={"model": "gpt-3.5-turbo-instruct", "prompt": "hello"}, headers=A1
        )
        assert legacy.json()["choices"][0]["text"] == "Hi from a runtime fixture"
        streamed = await ask(http, "hello", stream=True)
        pieces = [
            c["choices"][0]["delta"].get("content") or "" for c in sse.chunks(streamed.text) if c["choices"]
        ]
        assert "".join(pieces) == "Hi from a runtime fixture"


async def test_a_runtime_fixture_answers_before_the_file_fixtures(tmp_path: Path) -> None:
    path = write(tmp_path, "fixtures:\n  - id: file\n    response: {text: from the file}\n")
    async with in_process(fixture_app([path])) as http:
        assert text_of((await ask(http, "hello")).json()) == "from the file"
        await add(http, HELLO)
        assert text_of((await ask(http, "hello")).json()) == "Hi from a runtime fixture"
        assert text_of((await ask(http, "other")).json()) == "from the file"


async def test_yaml_bodies_one_fixture_a_list_and_a_file_document_are_read_alike() -> None:
    yaml_headers = {**A1, "Content-Type": "application/yaml"}
    one = b"id: greet\nmatch: {last_user: {equals: a}}\nresponse: {text: one}\n"
    listed = b"- match: {last_user: {equals: b}}\n  response: {text: two}\n"
    document = b"fixtures:\n  - match: {last_user: {equals: c}}\n    response: {text: three}\n"
    async with in_process(echo_app()) as http:
        for body in (one, listed, document):
            added = await http.post(FIXTURES, content=body, headers=yaml_headers)
            assert added.status_code == 200, added.text
        for text, wanted in (("a", "one"), ("b", "two"), ("c", "three")):
            assert text_of((await ask(http, text)).json()) == wanted
        listing = (await http.get(FIXTURES, headers=A1)).json()
        assert next(f["id"] for f in listing["data"]) == "greet"  # an id sent is kept, in order added
        assert [f["response"]["text"] for f in listing["data"]] == ["one", "two", "three"]
        json_list = await add(http, [{"response": {"text": "x"}}, {"response": {"text": "y"}}])
        assert len(json_list.json()["data"]) == 2


@pytest.mark.parametrize(
    ("body", "content_type", "wanted"),
    [
        (
            b"- response:\n    txt: 1\n",
            "application/yaml",
            "body:2:5: fixtures[0].response.txt: Extra inputs",
        ),
        (
            b'{"response": {"text": "a"}, "sequence": [{"text": "b"}]}',
            "application/json",
            "give exactly one of",
        ),
        (b"[1, 2", "application/json", "body:1:6: not valid JSON"),
        (b"a: [", "text/yaml", "not valid YAML"),
        (b'{"match": {"last_user": {"regex": "("}}, "response": {"text": "x"}}', "application/json", "regex"),
        (b"[]", "application/json", "holds no fixture"),
    ],
)
async def test_a_bad_body_is_a_400_naming_the_problem_as_the_loader_does(
    body: bytes, content_type: str, wanted: str
) -> None:
    async with in_process(echo_app()) as http:
        answer = await http.post(FIXTURES, content=body, headers={**A1, "Content-Type": content_type})
        assert answer.status_code == 400
        error = error_of(answer)
        assert error["type"] == "invalid_request_error"
        assert wanted in error["message"]
        assert (await http.get(FIXTURES, headers=A1)).json()["data"] == []


async def test_a_duplicate_id_is_refused() -> None:
    async with in_process(echo_app()) as http:
        assert (await add(http, {"id": "x", "response": {"text": "a"}})).status_code == 200
        again = await add(http, {"id": "x", "response": {"text": "b"}})
        assert again.status_code == 400
        assert "duplicate fixture id 'x'" in error_of(again)["message"]


async def test_sequences_errors_and_templates_work_as_in_files() -> None:
    async with in_process(echo_app()) as http:
        await add(
            http,
            [
                {
                    "match": {"last_user": {"equals": "seq"}},
                    "sequence": [{"text": "first"}, {"text": "second"}],
                },
                {
                    "match": {"last_user": {"equals": "fail"}},
                    "response": {"error": {"status": 429, "code": "x"}},
                },
                {
                    "match": {"last_user": {"contains": "echo"}},
                    "response": {"text": "You said {{last_user}}", "template": True},
                },
            ],
        )
        assert [text_of((await ask(http, "seq")).json()) for _ in range(3)] == ["first", "second", "seq"]
        failed = await ask(http, "fail")
        assert failed.status_code == 429
        assert error_of(failed)["code"] == "x"
        assert text_of((await ask(http, "echo me")).json()) == "You said echo me"
        reset = await http.post("/_chatdouble/reset", json={"fixtures": False, "journal": False}, headers=A1)
        assert reset.json() == {"object": "chatdouble.reset", "fixtures": 0, "sequences": True, "journal": 0}
        assert text_of((await ask(http, "seq")).json()) == "first"


async def test_two_sessions_of_one_key_do_not_see_each_others_fixtures() -> None:
    async with in_process(echo_app()) as http:
        await add(http, HELLO, headers=A1)
        assert text_of((await ask(http, "hello", headers=A2)).json()) == "hello"
        assert text_of((await ask(http, "hello", headers=A)).json()) == "hello"
        assert (await http.get(FIXTURES, headers=A2)).json()["data"] == []
        assert len((await http.get(FIXTURES, headers=A1)).json()["data"]) == 1
        # The same namespace named in the query.
        assert len((await http.get(FIXTURES, params={"session": "one"}, headers=A)).json()["data"]) == 1


async def test_delete_one_then_all_and_an_unknown_id_is_a_404() -> None:
    async with in_process(echo_app()) as http:
        ids = [f["id"] for f in (await add(http, [HELLO, HELLO, HELLO])).json()["data"]]
        gone = await http.delete(f"{FIXTURES}/{ids[0]}", headers=A1)
        assert gone.json() == {"id": ids[0], "object": "chatdouble.fixture", "deleted": True}
        missing = await http.delete(f"{FIXTURES}/{ids[0]}", headers=A1)
        assert missing.status_code == 404
        assert error_of(missing) == {
            "message": f"Fixture with id '{ids[0]}' not found.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
        assert (await http.delete(FIXTURES, headers=A1)).json() == {
            "object": "chatdouble.fixtures.deleted",
            "deleted": 2,
        }
        assert text_of((await ask(http, "hello")).json()) == "hello"
        assert app_is_empty(http)


def app_is_empty(http: httpx.AsyncClient) -> bool:
    transport = http._transport
    assert isinstance(transport, httpx.ASGITransport)
    return bool(transport.app.state.runtime.fixtures.empty)  # type: ignore[attr-defined]  # FastAPI app


async def test_a_reset_makes_runtime_fixtures_vanish() -> None:
    async with in_process(echo_app()) as http:
        await add(http, HELLO)
        reset = await http.post("/_chatdouble/reset", headers=A1)
        assert reset.json()["fixtures"] == 1
        assert text_of((await ask(http, "hello")).json()) == "hello"
        assert (await http.get(FIXTURES, headers=A1)).json()["data"] == []


@pytest.mark.parametrize("admin_token", [None, "admin-secret"])
async def test_another_keys_namespace_needs_the_admin_token(admin_token: str | None) -> None:
    app = echo_app(api_keys=["sk-a", "sk-b"], admin_token=admin_token)
    async with in_process(app) as http:
        denied = await http.post(FIXTURES, json=HELLO, params={"key": "sk-b"}, headers=A)
        assert denied.status_code == 401
        assert error_of(denied)["message"].startswith("You have insufficient permissions for this operation.")
        unknown = await http.get(FIXTURES, headers={"Authorization": "Bearer sk-nope"})
        assert unknown.status_code == 401
        assert error_of(unknown)["code"] == "invalid_api_key"
        if admin_token is not None:
            admin = {"Authorization": f"Bearer {admin_token}"}
            added = await http.post(FIXTURES, json=HELLO, params={"key": "sk-b"}, headers=admin)
            assert added.status_code == 200
            b = {"Authorization": "Bearer sk-b"}
            assert text_of((await ask(http, "hello", headers=b)).json()) == "Hi from a runtime fixture"


async def test_without_keys_or_token_anyone_may_name_any_namespace() -> None:
    async with in_process(echo_app()) as http:
        added = await http.post(FIXTURES, json=HELLO, params={"key": "sk-b", "session": "s"})
        assert added.status_code == 200
        b_s = {"Authorization": "Bearer sk-b", "X-Chatdouble-Session": "s"}
        assert text_of((await ask(http, "hello", headers=b_s)).json()) == "Hi from a runtime fixture"
        assert text_of((await ask(http, "hello", headers={"Authorization": "Bearer sk-b"})).json()) == "hello"


async def test_no_runtime_fixture_means_the_route_backend_is_used_as_is() -> None:
    app = echo_app()
    runtime = app.state.runtime
    route = runtime.settings.routes[0]
    assert runtime.fixtures.empty
    assert await runtime.backend(route, "sk-a") is runtime.backends[route.backend]
    async with in_process(app) as http:
        await add(http, HELLO)
        assert not runtime.fixtures.empty
        assert await runtime.backend(route, "sk-other") is runtime.backends[route.backend]
        await http.post("/_chatdouble/reset", headers=A1)
    assert runtime.fixtures.empty


async def test_an_embedding_runtime_fixture_answers_embeddings_and_others_get_the_servers_vectors() -> None:
    fixture = {"match": {"last_user": {"contains": "refund"}}, "response": {"embedding": [0.5, -0.5, 0.25]}}
    body = {"model": "text-embedding-3-small", "dimensions": 3}
    async with in_process(echo_app()) as http:
        await add(http, fixture)
        pinned = await http.post("/v1/embeddings", json={**body, "input": "a refund please"}, headers=A1)
        other = await http.post("/v1/embeddings", json={**body, "input": "hello"}, headers=A1)
        elsewhere = await http.post("/v1/embeddings", json={**body, "input": "a refund please"}, headers=A2)
    assert pinned.json()["data"][0]["embedding"] == [0.5, -0.5, 0.25]
    assert other.json()["data"][0]["embedding"] != [0.5, -0.5, 0.25]
    assert elsewhere.json()["data"][0]["embedding"] != [0.5, -0.5, 0.25]


async def test_a_responses_request_without_messages_is_answered_while_runtime_fixtures_exist() -> None:
    # A request that carries a stored prompt and no input has no message for the fixtures to read
    # (dd-trace-py and openai-dotnet recorded such requests); it reaches echo, not a 500.
    async with in_process(echo_app()) as http:
        assert (await add(http, HELLO)).status_code == 200
        body = {"model": "gpt-4o", "prompt": {"id": "pmpt_1"}}
        response = await http.post("/v1/responses", json=body, headers=A1)
        assert response.status_code == 200, response.text
        assert (await add(http, {"response": {"text": "any request"}})).status_code == 200
        answered = await http.post("/v1/responses", json=body, headers=A1)
        assert answered.json()["output"][-1]["content"][0]["text"] == "any request"
