"""The rate-limit headers and the 429 of the generation endpoints (docs/limits.md), described once in
`components.headers` and referenced from each operation that may carry them."""

from __future__ import annotations

from typing import Any

from server.openapi.common import error

GENERATION = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses")
_DURATION = "a Go duration at millisecond resolution, such as `6ms`, `1.08s` or `1m0s`"

HEADERS: dict[str, dict[str, Any]] = {
    "x-ratelimit-limit-requests": {
        "description": "Requests per minute allowed.",
        "schema": {"type": "integer"},
    },
    "x-ratelimit-limit-tokens": {"description": "Tokens per minute allowed.", "schema": {"type": "integer"}},
    "x-ratelimit-remaining-requests": {
        "description": "Requests that fit now, this one counted.",
        "schema": {"type": "integer"},
    },
    "x-ratelimit-remaining-tokens": {
        "description": "Tokens that fit now, this request's estimate (prompt plus completion budget) counted.",
        "schema": {"type": "integer"},
    },
    "x-ratelimit-reset-requests": {
        "description": f"Until the request budget is whole again (it replenishes continuously): {_DURATION}.",
        "schema": {"type": "string"},
    },
    "x-ratelimit-reset-tokens": {
        "description": f"Until the token budget is whole again: {_DURATION}.",
        "schema": {"type": "string"},
    },
}
RETRY_HEADERS: dict[str, dict[str, Any]] = {
    "retry-after-ms": {"description": "Milliseconds until the request fits.", "schema": {"type": "integer"}},
    "retry-after": {
        "description": "The same wait in whole seconds, rounded up.",
        "schema": {"type": "integer"},
    },
    "x-should-retry": {
        "description": "`false` on `insufficient_quota`: the SDKs then do not retry.",
        "schema": {"type": "string", "enum": ["false"]},
    },
}


def _refs(names: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def describe_limits(document: dict[str, Any]) -> None:
    """Add the headers (present when `rate_limits` is configured) and the 429 to the generation
    operations of `document`."""
    document.setdefault("components", {})["headers"] = {**HEADERS, **RETRY_HEADERS}
    too_many = error(
        "With `rate_limits`: over a per-minute limit (`rate_limit_exceeded`, type `requests` or `tokens`) "
        "or a spent quota (`insufficient_quota`)"
    )
    too_many["headers"] = _refs({**HEADERS, **RETRY_HEADERS})
    for path in GENERATION:
        responses = document["paths"][path]["post"]["responses"]
        responses["200"] = {**responses["200"], "headers": _refs(HEADERS)}
        responses["429"] = too_many
