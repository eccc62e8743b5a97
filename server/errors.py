"""One exception type for every error a client can see, and its rendering into OpenAI's envelope."""

from __future__ import annotations

from collections.abc import Mapping

from server.wire.errors import ErrorEnvelope

INVALID_REQUEST = "invalid_request_error"
SERVER_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"
SHUTTING_DOWN_MESSAGE = "The server is shutting down and cut this response short. Please retry your request."


class APIError(Exception):
    """An error answered in OpenAI's envelope `{"error": {message, type, param, code}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def envelope(self) -> ErrorEnvelope:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def __repr__(self) -> str:
        return f"APIError({self.status}, {self.message!r}, type={self.type!r}, code={self.code!r})"


def invalid_request(message: str, *, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def server_error() -> APIError:
    return APIError(
        500,
        SERVER_ERROR_MESSAGE,
        type="server_error",
    )


def shutting_down() -> APIError:
    """A stream still running when the shutdown grace period is over (it ends with this frame)."""
    return APIError(503, SHUTTING_DOWN_MESSAGE, type="server_error")
