"""Which namespace an admin request acts on, and whether the caller may.

By default the caller's own: its key (authenticated as on the /v1 routes) and its
`X-Chatdouble-Session` when sent. `?key=...&session=...` name a namespace explicitly (a session alone
names a session of the caller's key; a key alone is that key's namespace, without a session).
Another key's namespace needs the admin token (`Authorization: Bearer <admin_token>`), unless
neither `api_keys` nor `admin_token` is configured: a server for local use, where anyone may act on
anything. With the admin token and no `key`, the namespace is the token's own (its bearer).
"""

from __future__ import annotations

from starlette.requests import Request

from server.errors import APIError
from server.headers import bearer
from server.http.auth import authenticate, is_admin
from server.namespaces import SESSION_HEADER, namespace
from server.runtime import Runtime

# The real API's wording when a key lacks a permission (a restricted or non-admin key): a 401.
INSUFFICIENT = (
    "You have insufficient permissions for this operation. Acting on another key's namespace, or on "
    "all of them, needs the admin token: send `Authorization: Bearer <admin_token>` (the `admin_token` "
    "setting)."
)


def caller(request: Request, runtime: Runtime) -> tuple[str, bool]:
    """The caller's key and whether it holds the admin token (then the key is not checked)."""
    settings = runtime.settings
    if is_admin(request.headers, settings.admin_token):
        return bearer(request.headers) or "", True
    return authenticate(request.headers, settings.api_keys), False


def may_act_for_others(runtime: Runtime, admin: bool) -> bool:
    settings = runtime.settings
    return admin or (not settings.api_keys and settings.admin_token is None)


def scope(request: Request, runtime: Runtime) -> str:
    """The namespace this admin request acts on (a 401 when the caller may not)."""
    own, admin = caller(request, runtime)
    query = request.query_params
    key, session = query.get("key"), query.get("session")
    if key is None and session is None:
        return namespace(own, request.headers.get(SESSION_HEADER) or None)
    # A name in the query is the UTF-8 of its text; namespaces hold header text (bytes as Latin-1).
    key = as_header(key) if key is not None else own
    if key != own and not may_act_for_others(runtime, admin):
        raise APIError(401, INSUFFICIENT)
    return namespace(key, as_header(session) if session else None)


def as_header(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")
