"""`GET`, `PUT` and `DELETE /_chatdouble/chaos`: the faults in force, switched at runtime. Not OpenAI's API.

The body of `PUT` is shaped as the config writes chaos: `{"chaos": {...}}` for every route and
`{"routes": [{"model": "...", "chaos": {...}}]}` for some (docs/latency-and-chaos.md). It applies to
the caller's own namespace (its key, and its `X-Chatdouble-Session`), or to the one named by
`"session"` (of the caller's key) or `"key"` (+ `"session"`), or with `"all": true` to every
namespace; the same scope keys select what `DELETE` turns off (in the body) and what `GET` shows
(in the query). Another key's namespace, or all, needs the admin token, as for the fixtures reset
(server/control/admin.py), unless neither `api_keys` nor `admin_token` is configured. The routes
are documented by server/openapi/chaos.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from server.errors import APIError, invalid_request
from server.fieldpath import field_path
from server.headers import bearer
from server.http.auth import authenticate, is_admin
from server.http.body import read_body
from server.http.chaos_board import ChaosPlan
from server.namespaces import SESSION_HEADER, namespace
from server.options import FieldError
from server.runtime import Runtime, runtime_of

router = APIRouter()
PATH = "/_chatdouble/chaos"
SCOPE_KEYS = ("key", "session", "all")
INSUFFICIENT = (
    "You have insufficient permissions for this operation. Setting chaos for another key's namespace, "
    "or for all of them, needs the admin token: send `Authorization: Bearer <admin_token>` (the "
    "`admin_token` setting)."
)


def _scope(request: Request, runtime: Runtime, options: Mapping[str, Any]) -> str | None:
    """The namespace the call is about, or None for all; a 401 when the caller may not touch it."""
    settings = runtime.settings
    admin = is_admin(request.headers, settings.admin_token)
    own_key = (bearer(request.headers) or "") if admin else authenticate(request.headers, settings.api_keys)
    for name in ("key", "session"):
        if name in options and not isinstance(options[name], str):
            raise invalid_request(f"`{name}` must be a string.", param=name)
    if "all" in options and options["all"] is not True:
        raise invalid_request("`all` must be true when given.", param="all")
    key = options.get("key", own_key)
    open_to_all = not settings.api_keys and settings.admin_token is None
    if (options.get("all") or key != own_key) and not (admin or open_to_all):
        raise APIError(401, INSUFFICIENT)
    if options.get("all"):
        return None
    given = "key" in options or "session" in options
    session = options.get("session") if given else request.headers.get(SESSION_HEADER)
    # Namespaces hold header text (bytes read as Latin-1); a name in the body is the UTF-8 of its text.
    return namespace(_as_header(key), _as_header(session) if session else None)


def _as_header(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


async def _body(request: Request) -> dict[str, Any]:
    raw = await read_body(request, 1024 * 1024)
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise invalid_request("The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise invalid_request("The body must be a JSON object.")
    return body


def _plan(body: Mapping[str, Any]) -> ChaosPlan:
    try:
        return ChaosPlan.model_validate({k: v for k, v in body.items() if k not in SCOPE_KEYS})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc, message = error["loc"], error["msg"].removeprefix("Value error, ")
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            loc, message = (*loc, *cause.path), str(cause)
        param = field_path(loc) or None
        raise invalid_request(f"Invalid chaos: {param or 'body'}: {message}", param=param) from None


def _shown(runtime: Runtime, scope: str | None) -> JSONResponse:
    plan = runtime.chaos_board.effective(scope)
    return JSONResponse(
        {
            "object": "chatdouble.chaos",
            "all": scope is None,
            **plan.model_dump(mode="json", exclude_defaults=False),
        }
    )


@router.get(PATH, summary="Show the chaos in force", include_in_schema=False)
async def get_chaos(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    query: dict[str, Any] = dict(request.query_params)
    if "all" in query:
        query["all"] = query["all"] == "true" or query["all"]
    return _shown(runtime, _scope(request, runtime, query))


@router.put(PATH, summary="Set chaos for a namespace or for all", include_in_schema=False)
async def put_chaos(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    body = await _body(request)
    scope = _scope(request, runtime, body)
    plan = _plan(body)
    runtime.chaos_board.set(scope, plan)
    runtime.with_chaos(runtime.chaos_board)
    return _shown(runtime, scope)


@router.delete(PATH, summary="Turn chaos off for a namespace or for all", include_in_schema=False)
async def delete_chaos(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    scope = _scope(request, runtime, await _body(request))
    runtime.chaos_board.off(scope)
    runtime.with_chaos(runtime.chaos_board)
    return _shown(runtime, scope)
