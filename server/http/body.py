"""Reading a request body within the configured size limit."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import ClientDisconnect, Request

from server.errors import APIError, invalid_request


def too_large(limit: int, read: int) -> APIError:
    return APIError(
        413, f"Maximum content size limit ({limit}) exceeded ({read} bytes read)", type="server_error"
    )


def check_content_type(headers: Mapping[str, str]) -> None:
    value = headers.get("content-type")
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
    # Straight from the ASGI channel: a body usually arrives in one message.
    parts: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            raise too_large(limit, size)
        parts.append(part)
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)
