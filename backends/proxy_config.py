"""The proxy backend's options, as a config file writes them under `backends.<name>`, and the
upstream key they lead to."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import Field, field_validator, model_validator

from backends.base import RecordMode
from server.generation.latency import Paced
from server.options import FieldError

log = logging.getLogger("chatdouble.proxy")


class ProxyConfig(Paced):
    type: Literal["proxy"]
    base_url: str = Field(description="The upstream's API root, e.g. https://api.openai.com/v1.")
    api_key: str | None = Field(default=None, description="The upstream key (prefer api_key_env).")
    api_key_env: str | None = Field(default=None, description="An environment variable holding the key.")
    authorization: Literal["replace", "forward"] = Field(
        default="replace",
        description="replace: send the configured key upstream; forward: pass the client's Authorization.",
    )
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=600.0, gt=0)
    models: bool = Field(default=False, description="Also forward GET /v1/models to the upstream.")
    mode: RecordMode = Field(
        default="passthrough",
        description="passthrough; record (write every exchange); replay (offline); auto (record misses).",
    )
    cassettes: str | None = Field(
        default=None, description="Directory of recordings (fixture files); needed unless passthrough."
    )
    timing_factor: float = Field(
        default=1.0, ge=0, description="Replayed timing is the recorded one times this; 0: no pauses."
    )
    scrub: list[str] = Field(
        default_factory=list, description="Regular expressions scrubbed from recordings (keys always are)."
    )
    ignore_fields: list[str] = Field(
        default_factory=list, description="Request fields ignored when matching, besides the volatile ones."
    )

    @field_validator("scrub")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for index, pattern in enumerate(value):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise FieldError((index,), f"does not compile: {exc}") from None
        return value

    @model_validator(mode="after")
    def _cassettes_for_recording(self) -> ProxyConfig:
        if self.mode != "passthrough" and not self.cassettes:
            raise FieldError(("mode",), f"{self.mode!r} needs `cassettes` (a directory of recordings)")
        return self

    def upstream_key(self, env: Mapping[str, str]) -> str | None:
        """The upstream key. When `api_key_env` names an unset variable, a proxy that must forward
        every request (`passthrough`, `record`) refuses to start, since each would fail upstream with
        a 401; `auto` warns, as it can still replay; `replay` never sends a key."""
        key = (env.get(self.api_key_env) or self.api_key) if self.api_key_env else self.api_key
        if key is not None or not self.api_key_env or self.authorization == "forward":
            return key
        problem = f"the environment variable {self.api_key_env} is not set"
        if self.mode in ("passthrough", "record"):
            raise FieldError(
                ("api_key_env",),
                f"{problem}, so mode {self.mode!r} would send every request upstream without a key. "
                "Set it (or use mode `replay` to answer from recordings).",
            )
        if self.mode == "auto":
            log.warning("%s: requests without a recording go upstream without a key", problem)
        return key
