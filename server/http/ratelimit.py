"""Rate limits and quotas as the real API applies them (docs/limits.md).

A generation endpoint (chat, Responses, completions, embeddings) calls `Limiter.admit` once it knows
the request's model and token estimate: the prompt's tokens plus the completion budget it asked for.
Admission draws one request and those tokens from the key's per-minute budgets for that model
(`server/state/budgets.py`), or refuses with the API's 429:

- over a limit: `rate_limit_exceeded`, type `requests` or `tokens`, the message naming the limit,
  what is used, what was requested and the wait, and `retry-after-ms` / `retry-after` headers that
  the SDKs' backoff honours;
- a request larger than the whole token limit: "Request too large", which no wait can cure;
- a spent quota: `insufficient_quota`, with `x-should-retry: false`.

Every response of an admitted request, and every 429, carries the `x-ratelimit-*` headers. The app
wraps an endpoint with `limited` only when limits are configured; without them the routes do
nothing but find `runtime.limiter` None.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from server.errors import APIError
from server.http.durations import go_duration, whole_ms
from server.http.ratelimit_options import RateLimits
from server.namespaces import key_of
from server.state.budgets import Budgets, Draw

Endpoint = Callable[[Request], Awaitable[Response]]
Clock = Callable[[], float]

HEADERS = "ratelimit_headers"  # where admission leaves its headers, in the request's scope state
LEARN_MORE = "Visit https://platform.openai.com/account/rate-limits to learn more."
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)
_NAMES = {"requests": "requests per min (RPM)", "tokens": "tokens per min (TPM)"}


@dataclass(frozen=True, slots=True)
class _Budget:
    kind: str  # "requests" or "tokens"
    draw: Draw


class Limiter:
    def __init__(self, config: RateLimits, budgets: Budgets, clock: Clock) -> None:
        self.config, self.budgets, self.clock = config, budgets, clock

    async def admit(self, request: Request, namespace: str, model: str, tokens: int) -> None:
        """Count the request against its key's budgets for `model`, or raise the API's 429."""
        key = key_of(namespace)
        limits = self.config.limits_for(key, model)
        budgets = [
            _Budget(kind, Draw(f"{key}\n{limits.scope}\n{kind}", limit, amount))
            for kind, limit, amount in (("requests", limits.requests, 1), ("tokens", limits.tokens, tokens))
            if limit is not None
        ]
        draws = [one.draw for one in budgets]
        now = self.clock()
        quota = f"{key}\nquota"
        if limits.quota is not None and await self.budgets.spent(quota) >= limits.quota:
            headers = _headers(budgets, await self.budgets.peek(draws, now))
            raise APIError(
                429,
                QUOTA_MESSAGE,
                type="insufficient_quota",
                code="insufficient_quota",
                # The SDKs retry every 429 unless told not to; a spent quota does not come back.
                headers={**headers, "x-should-retry": "false"},
            )
        if limits.tokens is not None and tokens > limits.tokens:
            headers = _headers(budgets, await self.budgets.peek(draws, now))
            raise APIError(
                429,
                f"Request too large for {model} in organization {self.config.organization} on "
                f"{_NAMES['tokens']}: Limit {limits.tokens}, Requested {tokens}. The input or output "
                f"tokens must be reduced in order to run successfully. {LEARN_MORE}",
                type="tokens",
                code="rate_limit_exceeded",
                headers=headers,
            )
        drawn = await self.budgets.draw(draws, now)
        headers = _headers(budgets, drawn.used)
        if not drawn.granted:
            raise self._over(model, budgets, drawn.used, headers)
        if limits.quota is not None:
            await self.budgets.spend(quota, tokens)
        request.scope.setdefault("state", {})[HEADERS] = headers

    def _over(
        self, model: str, budgets: list[_Budget], used: tuple[float, ...], headers: dict[str, str]
    ) -> APIError:
        """The 429 for the first budget the request does not fit; the wait given in the headers is
        the time until it fits them all."""
        waits = [
            (one, level, (level + one.draw.amount - one.draw.limit) / one.draw.per_second)
            for one, level in zip(budgets, used, strict=True)
            if level + one.draw.amount > one.draw.limit
        ]
        first, level, wait = waits[0]
        longest = max(seconds for _, _, seconds in waits)
        message = (
            f"Rate limit reached for {model} in organization {self.config.organization} on "
            f"{_NAMES[first.kind]}: Limit {first.draw.limit}, Used {_in_use(level)}, Requested "
            f"{first.draw.amount}. Please try again in {go_duration(whole_ms(wait))}. {LEARN_MORE}"
        )
        # Rounded up, so that a client waiting exactly this long finds room (the message, like the
        # API's, cuts to the millisecond).
        retry_ms = max(1, math.ceil(longest * 1000 - 1e-6))
        retry = {"retry-after-ms": str(retry_ms), "retry-after": str(math.ceil(retry_ms / 1000))}
        return APIError(
            429, message, type=first.kind, code="rate_limit_exceeded", headers={**headers, **retry}
        )


def _in_use(level: float) -> int:
    """Use as a whole number: a bucket part drained still holds the request that filled it."""
    return math.ceil(level - 1e-9)


def _headers(budgets: list[_Budget], used: tuple[float, ...]) -> dict[str, str]:
    """The `x-ratelimit-*` headers, in the API's order, for the budgets that are limited."""
    limit: dict[str, str] = {}
    remaining: dict[str, str] = {}
    reset: dict[str, str] = {}
    for one, level in zip(budgets, used, strict=True):
        limit[f"x-ratelimit-limit-{one.kind}"] = str(one.draw.limit)
        remaining[f"x-ratelimit-remaining-{one.kind}"] = str(max(0, one.draw.limit - _in_use(level)))
        # Limits replenish continuously: the budget is whole again once its use has drained.
        reset[f"x-ratelimit-reset-{one.kind}"] = go_duration(whole_ms(level / one.draw.per_second))
    return {**limit, **remaining, **reset}


def limited(endpoint: Endpoint) -> Endpoint:
    """`endpoint` with its admission's headers on whatever it answers, a failure included."""

    async def wrapped(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except APIError as exc:
            headers = request.scope.get("state", {}).get(HEADERS)
            if headers:
                exc.headers = {**headers, **exc.headers}
            raise
        headers = request.scope.get("state", {}).get(HEADERS)
        if headers:
            response.headers.update(headers)
        return response

    return wrapped
