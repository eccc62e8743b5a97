"""`GET /v1/models` shapes."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict


class Model(TypedDict):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(TypedDict):
    object: Literal["list"]
    data: list[Model]
