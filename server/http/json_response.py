"""HTTP responses in the API's byte layouts."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from server.errors import APIError
from server.http.json import ascii_body_bytes, body_bytes, error_bytes


class _Body(Response):
    """A 200 with a JSON body and just its two headers, as Starlette's `Response` would send them
    (made without its general header handling: one of these answers every non-stream request)."""

    media_type = "application/json"

    def __init__(self, content: Any) -> None:
        self.status_code, self.background = 200, None
        self.body = self.render(content)
        self.raw_headers = [
            (b"content-length", str(len(self.body)).encode()),
            (b"content-type", b"application/json"),
        ]


class JSONBody(_Body):
    """A JSON body with the API's two-space indentation."""

    def render(self, content: Any) -> bytes:
        return body_bytes(content)


class ASCIIJSONBody(_Body):
    """A JSON body as the Responses API lays it out (server.http.json.ascii_body_bytes)."""

    def render(self, content: Any) -> bytes:
        return ascii_body_bytes(content)


def error_response(exc: APIError) -> Response:
    if exc.code == "model_not_found":
        # This one comes from a different front layer: four spaces, a newline, an explicit charset.
        content = (json.dumps(exc.envelope(), indent=4) + "\n").encode()
        return Response(content, exc.status, dict(exc.headers), "application/json; charset=utf-8")
    return Response(error_bytes(exc.envelope()), exc.status, dict(exc.headers), "application/json")
