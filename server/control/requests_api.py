"""`/_chatdouble/requests`: a namespace's journaled requests, oldest first; and clearing them. Not
OpenAI's API. The in-memory journal must be kept (`journal.memory` above 0); without it both
routes answer as for an empty journal, and nothing is listed."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from server.control.scope import scope
from server.errors import invalid_request
from server.runtime import Runtime, runtime_of
from server.state.requests import Requests

router = APIRouter(include_in_schema=False)

PATH = "/_chatdouble/requests"
LIMIT, MAX_LIMIT = 100, 1000


def whole(text: str | None, name: str, default: int, low: int, high: int | None = None) -> int:
    """A query parameter that must be a whole number in `low..high`, worded as the API words it."""
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid_request(
            f"Invalid '{name}': expected an integer, but got '{text}' instead.", param=name
        ) from None
    if value < low or (high is not None and value > high):
        most = f" and at most {high}" if high is not None else ""
        raise invalid_request(f"Invalid '{name}': must be at least {low}{most}, got {value}.", param=name)
    return value


JOURNAL_OFF = (
    "The in-memory request journal is off (the `journal` setting has `memory: 0`, or is null), so "
    "there are no requests to list or verify. Set `journal: {memory: 1000}` in the config file."
)


def kept(runtime: Runtime) -> Requests:
    """The in-memory journal, or the API's 400 saying that none is kept (not an empty answer that
    would pass for one)."""
    if runtime.requests is None:
        raise invalid_request(JOURNAL_OFF, code="journal_off")
    return runtime.requests


@router.get(PATH)
async def list_requests(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    target = scope(request, runtime)
    since = whole(request.query_params.get("since"), "since", 0, 0)
    limit = whole(request.query_params.get("limit"), "limit", LIMIT, 1, MAX_LIMIT)
    entries, more = await kept(runtime).after(target, since, limit)
    return JSONResponse({"object": "list", "data": [entry.listed for entry in entries], "has_more": more})


@router.delete(PATH)
async def clear_requests(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    target = scope(request, runtime)
    deleted = await runtime.requests.clear(target) if runtime.requests is not None else 0
    return JSONResponse({"object": "chatdouble.requests.deleted", "deleted": deleted})
