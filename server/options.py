"""What every config model is made of: the strict base and the errors a bad option raises.

A leaf that imports nothing of ours. Each backend owns its config model and builds it on `Strict`
here, so backends never import the settings (`server.config`), which compose their models.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigError(Exception):
    """A configuration problem, with the file and field it concerns."""


class FieldError(ValueError):
    """A validator's error about a field below the model it checks: `path` is relative to that model,
    so the message names the field the user wrote (`backends.p.mode`), not the model (`(top level)`).
    A backend that finds a setting unusable while it is built raises it too, relative to its config."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


class Strict(BaseModel):
    """Frozen, and a key the model does not know is an error, so a typo is never a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)
