"""What every endpoint taking a JSON body does first: the caller's key and namespace, the content
type, the body read within its limit, and the bytes handed to the journal's trace when one is kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request

from backends.base import Notes
from server.http.auth import authenticate
from server.http.body import check_content_type, read_body
from server.http.trace import Trace
from server.namespaces import of_request


@dataclass(slots=True)
class Intake:
    namespace: str
    raw: bytes
    notes: Notes | None  # what the backend notes for the journal; None when none is kept


async def take(
    request: Request, api_keys: Sequence[str], max_body_bytes: int, trace: Trace | None = None
) -> Intake:
    headers = request.headers
    namespace = of_request(headers, authenticate(headers, api_keys))
    if trace is not None:
        trace.namespace = namespace  # journaled in it from here on, even if the body is refused
    check_content_type(headers)
    raw = await read_body(request, max_body_bytes)
    if trace is None:
        return Intake(namespace, raw, None)
    trace.raw = raw
    return Intake(namespace, raw, trace.notes)
