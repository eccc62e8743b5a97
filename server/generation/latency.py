"""Latency profiles: how long a reply takes to start and how fast its tokens come, as distributions.

A profile gives the time to first token (`ttft`) and the delay between tokens (`inter_token`), each
one of four distributions with its parameters in milliseconds: `fixed`, `uniform`, `normal` and
`lognormal` (normal and lognormal give their mean and standard deviation in milliseconds; a normal
draw below zero counts as zero). A bare number is a fixed delay. Draws come from a seeded
`random.Random`, so the same seed gives the same delays (docs/latency-and-chaos.md).
"""

from __future__ import annotations

import math
import random
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from server.options import FieldError, Strict


class Fixed(Strict):
    distribution: Literal["fixed"]
    ms: float = Field(ge=0, description="The delay, in milliseconds.")

    def draw(self, rng: random.Random) -> float:
        return self.ms


class Uniform(Strict):
    distribution: Literal["uniform"]
    min_ms: float = Field(ge=0)
    max_ms: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.max_ms < self.min_ms:
            raise FieldError(("max_ms",), f"must be at least min_ms ({self.min_ms:g}), not {self.max_ms:g}")
        return self

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.min_ms, self.max_ms)


class Normal(Strict):
    """A normal draw below zero is zero: a delay cannot be negative."""

    distribution: Literal["normal"]
    mean_ms: float = Field(ge=0)
    stddev_ms: float = Field(ge=0)

    def draw(self, rng: random.Random) -> float:
        return max(0.0, rng.gauss(self.mean_ms, self.stddev_ms))


class Lognormal(Strict):
    """Given by the mean and standard deviation of the delays themselves (not of their logarithm),
    so its parameters read like the normal's: the skewed, long-tailed shape real latencies have."""

    distribution: Literal["lognormal"]
    mean_ms: float = Field(gt=0)
    stddev_ms: float = Field(ge=0)

    def draw(self, rng: random.Random) -> float:
        # For a lognormal with mean m and deviation s: sigma² = ln(1 + s²/m²), mu = ln m - sigma²/2.
        sigma2 = math.log1p((self.stddev_ms / self.mean_ms) ** 2)
        return rng.lognormvariate(math.log(self.mean_ms) - sigma2 / 2, math.sqrt(sigma2))


Distribution = Annotated[Fixed | Uniform | Normal | Lognormal, Field(discriminator="distribution")]


def _bare_number_is_fixed(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"distribution": "fixed", "ms": value}
    return value


class LatencyProfile(Strict):
    """A route's (or a backend's) pacing: one draw of `ttft` per reply, one of `inter_token` per
    token after the first. Either may be left out (no wait there)."""

    ttft: Distribution | None = Field(default=None, description="Time to the first token.")
    inter_token: Distribution | None = Field(default=None, description="Delay before each further token.")
    seed: int = Field(default=0, description="Same seed and same requests: same delays.")

    @field_validator("ttft", "inter_token", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return _bare_number_is_fixed(value)


class Paced(Strict):
    """A backend config that may carry a default latency profile for the routes it serves."""

    latency: LatencyProfile | None = Field(
        default=None, description="Default latency profile of the routes this backend answers."
    )


class Delays:
    """The delays of one reply, in seconds, drawn in the order they are asked for."""

    __slots__ = ("profile", "rng")

    def __init__(self, profile: LatencyProfile, rng: random.Random) -> None:
        self.profile = profile
        self.rng = rng

    def ttft(self) -> float:
        spec = self.profile.ttft
        return 0.0 if spec is None else spec.draw(self.rng) / 1000

    def tokens(self, count: int) -> float:
        """The time `count` more tokens take: one draw per token."""
        spec = self.profile.inter_token
        if spec is None:
            return 0.0
        return sum(spec.draw(self.rng) for _ in range(count)) / 1000
