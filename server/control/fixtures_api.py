"""`/_chatdouble/fixtures`: add, list and delete a namespace's runtime fixtures. Not OpenAI's API.

A body is one fixture, a list of them, or a document shaped like a fixture file (`fixtures: [...]`),
in JSON or, with a YAML content type, YAML; it is read by the fixture file loader, so it passes the
same checks and fails with the same messages (`body:LINE:COLUMN: field: problem`). A fixture sent
without an `id` gets one (`fx_...`); an `id` the namespace already holds is refused. Listed fixtures
are what was sent (with unset fields left out), their `id` first.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from backends.fixtures.loader import FixtureLoadError, load_text
from backends.fixtures.model import Fixture
from server.control.scope import scope
from server.errors import APIError, invalid_request
from server.http.body import read_body
from server.runtime import runtime_of
from server.state.fixtures import repeated

router = APIRouter(include_in_schema=False)

PATH = "/_chatdouble/fixtures"
YAML_TYPES = ("application/yaml", "text/yaml", "application/x-yaml")
BODY_NAME = "body"  # what a problem names as its file


def new_id() -> str:
    return "fx_" + secrets.token_hex(12)


def shown(fixture: Fixture) -> dict[str, Any]:
    sent = fixture.model_dump(mode="json", exclude_unset=True)
    return {"id": fixture.id, **{key: value for key, value in sent.items() if key != "id"}}


def listing(fixtures: list[Fixture]) -> JSONResponse:
    return JSONResponse({"object": "list", "data": [shown(fixture) for fixture in fixtures]})


def parse_fixtures(raw: bytes, content_type: str) -> list[Fixture]:
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_request("The body must be UTF-8 text.") from None
    loaded, problems = load_text(BODY_NAME, text, json_file=media not in YAML_TYPES, new_id=new_id)
    if problems:
        raise invalid_request(str(FixtureLoadError(problems)))
    if not loaded:
        raise invalid_request(
            'The body holds no fixture: send one fixture, a list of them or {"fixtures": [...]}.'
        )
    return [fixture for fixture, _ in loaded]


@router.post(PATH)
async def add_fixtures(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    target = scope(request, runtime)
    raw = await read_body(request, runtime.settings.max_body_bytes)
    fixtures = parse_fixtures(raw, request.headers.get("content-type", ""))
    taken = repeated(fixtures) or await runtime.fixtures.add(target, fixtures)
    if taken:
        raise invalid_request(
            f"invalid fixtures: duplicate fixture id {taken!r} (this namespace holds it already, or "
            "the body repeats it)",
            param="id",
        )
    return listing(fixtures)


@router.get(PATH)
async def list_fixtures(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    return listing(await runtime.fixtures.of(scope(request, runtime)))


@router.delete(PATH + "/{fixture_id}")
async def delete_fixture(request: Request, fixture_id: str) -> JSONResponse:
    runtime = runtime_of(request)
    if not await runtime.fixtures.remove(scope(request, runtime), fixture_id):
        raise APIError(404, f"Fixture with id '{fixture_id}' not found.")
    return JSONResponse({"id": fixture_id, "object": "chatdouble.fixture", "deleted": True})


@router.delete(PATH)
async def delete_fixtures(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    deleted = await runtime.fixtures.clear(scope(request, runtime))
    return JSONResponse({"object": "chatdouble.fixtures.deleted", "deleted": deleted})
