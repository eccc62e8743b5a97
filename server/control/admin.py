"""`POST /_chatdouble/reset` and `POST /_chatdouble/fixtures/reset`. Not OpenAI's API.

`/_chatdouble/reset` resets one namespace (chosen as every admin route chooses it,
`server.control.scope`): its runtime fixtures, its sequence positions and its journal, or the parts
named in the body. `/_chatdouble/fixtures/reset`, the older route, forgets fixture lifetimes and
sequence positions only.

Authenticated like the chat route, or with the admin token (`Authorization: Bearer <admin_token>`,
as OpenAI's own admin keys are sent). With no body the caller's own namespace is reset (its key, and
its `X-Chatdouble-Session` when sent); `{"session": "..."}` names a session of the caller's key.
`{"key": "...", "session": "..."}` names another key's namespace (the key alone without a session);
`{"all": true}` every namespace: both need the admin token, unless neither `api_keys` nor
`admin_token` is configured (a server for local use, where anyone may reset anything).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from backends.fixtures import FixturesBackend
from server.control.scope import INSUFFICIENT, scope
from server.errors import APIError, invalid_request
from server.headers import bearer
from server.http.auth import authenticate, is_admin
from server.http.body import read_body
from server.namespaces import SESSION_HEADER, namespace
from server.runtime import Runtime, runtime_of

router = APIRouter()

BODY_RULE = (
    'The body must be empty or one of {"session": "..."}, {"key": "...", "session": "..."} '
    '(session optional) and {"all": true}.'
)


def parse_options(raw: bytes) -> dict[str, Any]:
    try:
        options = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise invalid_request(BODY_RULE) from None
    if not isinstance(options, dict) or set(options) - {"key", "session", "all"}:
        raise invalid_request(BODY_RULE)
    if "all" in options and (options["all"] is not True or len(options) > 1):
        raise invalid_request(BODY_RULE)
    if not all(isinstance(options.get(name, ""), str) for name in ("key", "session")):
        raise invalid_request(BODY_RULE)
    # Namespaces hold header text (bytes read as Latin-1); a name in the body is the UTF-8 of its text.
    return {name: as_header(value) if isinstance(value, str) else value for name, value in options.items()}


def as_header(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


@router.post(
    "/_chatdouble/fixtures/reset", summary="Reset fixture lifetimes and sequences", include_in_schema=False
)
async def reset_fixtures(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    settings = runtime.settings
    admin = is_admin(request.headers, settings.admin_token)
    own_key = (bearer(request.headers) or "") if admin else authenticate(request.headers, settings.api_keys)
    options = parse_options(await read_body(request, 64 * 1024))
    key = options.get("key", own_key)
    open_to_all = not settings.api_keys and settings.admin_token is None
    if (options.get("all") or key != own_key) and not (admin or open_to_all):
        raise APIError(401, INSUFFICIENT)
    target: str | None = None
    if not options.get("all"):
        # The session header only completes the caller's own namespace; a named one is named whole.
        session = options.get("session") if options else request.headers.get(SESSION_HEADER)
        target = namespace(key, session or None)
    reset = await reset_sequences(runtime, target)
    return JSONResponse({"object": "chatdouble.fixtures.reset", "all": target is None, "backends": reset})


async def reset_sequences(runtime: Runtime, target: str | None) -> list[str]:
    """Forget fixture lifetimes and sequence positions of one namespace (None: of all), in the
    fixtures backends and among the runtime fixtures; the names of the backends reset."""
    await runtime.fixtures.reset_sequences(target)
    reset = []
    for name, backend in runtime.backends.items():
        if isinstance(backend, FixturesBackend):
            await backend.reset(target)
            reset.append(name)
    return reset


RESET_PARTS = ("fixtures", "sequences", "journal")
RESET_RULE = 'The body must be empty or an object of booleans among "fixtures", "sequences" and "journal".'


@router.post("/_chatdouble/reset", include_in_schema=False)
async def reset_namespace(request: Request) -> JSONResponse:
    """A namespace's runtime fixtures, sequence positions and journal, all or the parts named."""
    runtime = runtime_of(request)
    target = scope(request, runtime)
    raw = await read_body(request, 64 * 1024)
    try:
        parts = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise invalid_request(RESET_RULE) from None
    if not isinstance(parts, dict) or set(parts) - set(RESET_PARTS):
        raise invalid_request(RESET_RULE)
    if not all(isinstance(value, bool) for value in parts.values()):
        raise invalid_request(RESET_RULE)
    wanted = {part: parts.get(part, True) for part in RESET_PARTS}
    fixtures = await runtime.fixtures.clear(target) if wanted["fixtures"] else 0
    if wanted["sequences"]:
        await reset_sequences(runtime, target)
    journal = (
        await runtime.requests.clear(target) if wanted["journal"] and runtime.requests is not None else 0
    )
    return JSONResponse(
        {
            "object": "chatdouble.reset",
            "fixtures": fixtures,
            "sequences": wanted["sequences"],
            "journal": journal,
        }
    )
