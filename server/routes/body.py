"""Reading a request body within the configured size limit."""

from __future__ import annotations

from starlette.requests import Request

from server.errors import APIError, invalid_request


def too_large(limit: int, read: int) -> APIError:
    return APIError(
        413, f"Maximum content size limit ({limit}) exceeded ({read} bytes read)", type="server_error"
    )


def check_content_type(request: Request) -> None:
    value = request.headers.get("content-type")
    if value is None:
        return
    media = value.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise invalid_request(
            f"Invalid Content-Type header ({media or 'empty'}). The OpenAI API expects a JSON payload: "
            "send the body with 'Content-Type: application/json'."
        )


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit, int(declared))
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise too_large(limit, size)
        parts.append(part)
    return b"".join(parts)
