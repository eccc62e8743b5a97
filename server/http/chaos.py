"""Chaos: seeded faults of the kinds a client of the real API meets, chosen per request.

A `ChaosSpec` gives the probability of each outcome: an HTTP error (`errors`, per status: 429, 500,
503, with the API's bodies and headers), a `timeout` (the request is held unanswered until the
client gives up, at most `chaos_timeout_seconds`, then the connection is closed), a `drop` (the
connection closes after `after_chunks` pieces of the reply, or before any answer when the reply is
whole) and a `stream_error` (the API's in-stream error after `after_chunks` pieces: chat's error frame
and `[DONE]`, the Responses API's `error` and `response.failed`; a whole response becomes a 500).
One uniform draw per request picks at most one outcome (docs/latency-and-chaos.md).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, model_validator

from backends.base import DropConnection
from server.errors import APIError, server_error
from server.options import FieldError, Strict

STATUSES = (429, 500, 503)
Probability = Annotated[float, Field(ge=0, le=1)]
Kind = Literal["error", "timeout", "drop", "stream_error"]

# The real API's 503 when a model is overloaded (a body seen from api.openai.com, type server_error,
# param and code null); it names the request id, as the API's own does.
OVERLOADED = (
    "That model is currently overloaded with other requests. You can retry your request, or contact us "
    "through our help center at help.openai.com if the error persists. (Please include the request ID "
    "{request_id} in your message.)"
)
# The real API's 429 wording for a request-rate limit. Chaos has no real limit: the numbers it names
# are nominal (a chosen limit of NOMINAL_RPM requests a minute, all used), and the wait is `retry_after_ms`.
RATE_LIMITED = (
    "Rate limit reached for {model} in organization org-chatdouble on requests per min (RPM): "
    "Limit {limit}, Used {limit}, Requested 1. Please try again in {wait}. "
    "Visit https://platform.openai.com/account/rate-limits to learn more."
)
NOMINAL_RPM = 60


class ChaosSpec(Strict):
    errors: dict[int, Probability] = Field(
        default_factory=dict, description="Probability of each HTTP error, by status (429, 500, 503)."
    )
    timeout: Probability = Field(default=0, description="Hold the request unanswered.")
    drop: Probability = Field(default=0, description="Close the connection part-way.")
    stream_error: Probability = Field(default=0, description="End the reply with the API's in-stream error.")
    after_chunks: int = Field(default=1, ge=0, description="Pieces sent before a drop or a stream error.")
    retry_after_ms: int = Field(default=1000, ge=0, description="The wait a 429 or 503 asks for.")
    seed: int = Field(default=0, description="Same seed and same requests: same faults.")

    @model_validator(mode="after")
    def _sane(self) -> ChaosSpec:
        for status in self.errors:
            if status not in STATUSES:
                known = ", ".join(map(str, STATUSES))
                raise FieldError(("errors", status), f"chaos errors are {known}, not {status}")
        if self.total > 1:
            raise FieldError((), f"the probabilities add up to {self.total:g}; at most 1")
        return self

    @property
    def total(self) -> float:
        return sum(self.errors.values()) + self.timeout + self.drop + self.stream_error

    def roll(self, rng: random.Random) -> Outcome | None:
        """At most one outcome, from one uniform draw over the cumulative probabilities."""
        draw = rng.random()
        edge = 0.0
        for status in sorted(self.errors):
            edge += self.errors[status]
            if draw < edge:
                return Outcome("error", status)
        kinds: tuple[tuple[Kind, float], ...] = (
            ("timeout", self.timeout),
            ("drop", self.drop),
            ("stream_error", self.stream_error),
        )
        for kind, chance in kinds:
            edge += chance
            if draw < edge:
                return Outcome(kind)
        return None


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Kind
    status: int = 0  # an error's


def http_error(status: int, spec: ChaosSpec, model: str, request_id: str) -> APIError:
    """The API's error for `status`, with the headers a client's backoff reads."""
    if status == 500:
        return server_error()
    wait = {
        "retry-after-ms": str(spec.retry_after_ms),
        "retry-after": str(math.ceil(spec.retry_after_ms / 1000)),
    }
    if status == 503:
        return APIError(503, OVERLOADED.format(request_id=request_id), type="server_error", headers=wait)
    headers = {
        **wait,
        "x-ratelimit-limit-requests": str(NOMINAL_RPM),
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": duration(spec.retry_after_ms),
    }
    message = RATE_LIMITED.format(model=model, limit=NOMINAL_RPM, wait=duration(spec.retry_after_ms))
    return APIError(429, message, type="requests", code="rate_limit_exceeded", headers=headers)


def duration(ms: int) -> str:
    """A wait as the API writes it: `120ms`, `1s`, `1.5s`, `6m0s`."""
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms / 1000, 60)
    seconds = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{seconds}" if minutes else seconds


def mid_reply_fault(outcome: Outcome) -> Callable[[], BaseException]:
    """What ends the reply part-way for a drop or a stream error."""
    if outcome.kind == "drop":
        return lambda: DropConnection("chaos drops the connection")
    return server_error
