"""`POST /_chatdouble/fixtures/reset`: forget fixture lifetimes and sequence positions. Not OpenAI's API.

With no body the caller's own namespace is reset (its `X-Chatdouble-Session`, else its API key);
`{"namespace": "..."}` names another, `{"all": true}` resets every namespace. Authenticated like the
chat route.
"""

from __future__ import annotations

import json

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from backends.fixtures import FixturesBackend
from server.auth import authenticate
from server.errors import invalid_request
from server.routes.body import read_body
from server.runtime import Runtime

router = APIRouter()


@router.post(
    "/_chatdouble/fixtures/reset", summary="Reset fixture lifetimes and sequences", include_in_schema=False
)
async def reset_fixtures(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    namespace: str | None = authenticate(request.headers, runtime.settings.api_keys)
    namespace = request.headers.get("x-chatdouble-session") or namespace
    raw = await read_body(request, 64 * 1024)
    try:
        options = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise invalid_request("The body must be empty or a JSON object.") from None
    if not isinstance(options, dict) or set(options) - {"namespace", "all"}:
        raise invalid_request("The body may only hold `namespace` (a string) or `all` (true).")
    if options.get("all") is True:
        namespace = None
    elif isinstance(options.get("namespace"), str):
        namespace = options["namespace"]
    reset = []
    for name, backend in runtime.backends.items():
        if isinstance(backend, FixturesBackend):
            backend.reset(namespace)
            reset.append(name)
    return JSONResponse({"object": "chatdouble.fixtures.reset", "all": namespace is None, "backends": reset})
