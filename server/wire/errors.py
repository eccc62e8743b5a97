"""The error envelope every non-2xx response (and every in-stream error frame) carries."""

from __future__ import annotations

from typing_extensions import TypedDict


class ErrorDetail(TypedDict):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorEnvelope(TypedDict):
    error: ErrorDetail
