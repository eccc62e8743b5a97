"""Optional API keys, checked with the real API's wording."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from server.errors import APIError

MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using "
    "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
    "you're accessing the API from your browser and are prompted for a username and password. You can "
    "obtain an API key from https://platform.openai.com/account/api-keys."
)


def mask(key: str) -> str:
    """The API's masking: first 8 characters, a `*` per hidden character, last 4; short keys as they are."""
    if len(key) <= 12:
        return key
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def authenticate(headers: Mapping[str, str], keys: Sequence[str]) -> str:
    """The caller's key (its namespace), or a 401 when keys are configured and this one is not among them."""
    token = bearer(headers)
    if not keys:
        return token or ""
    if not token:
        raise APIError(401, MISSING_KEY)
    if not any(secrets.compare_digest(token, key) for key in keys):
        raise APIError(
            401,
            f"Incorrect API key provided: {mask(token)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    return token
