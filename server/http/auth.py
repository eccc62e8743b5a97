"""Optional API keys and the admin token, checked with the real API's wording.

Secrets are compared as bytes, in constant time. A header arrives as bytes, which the ASGI server
decodes as Latin-1, so any byte may reach us: turning the text back into its bytes lets a non-ASCII
key be just another wrong key (`secrets.compare_digest` refuses non-ASCII text with a TypeError).
Configured secrets are UTF-8, so a client sending a configured key's UTF-8 bytes matches it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from server.errors import APIError
from server.headers import bearer, header_bytes

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


def shown(value: str) -> str:
    """A header value as a person reads it: its bytes as UTF-8 when they are, else as they came."""
    try:
        return header_bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return value


def same_secret(token: str, secret: str) -> bool:
    return secrets.compare_digest(header_bytes(token), secret.encode("utf-8"))


def is_admin(headers: Mapping[str, str], admin_token: str | None) -> bool:
    """Whether the caller presents the admin token, as `Authorization: Bearer <admin_token>`."""
    token = bearer(headers)
    return admin_token is not None and token is not None and same_secret(token, admin_token)


def authenticate(headers: Mapping[str, str], keys: Sequence[str]) -> str:
    """The caller's key (its namespace), or a 401 when keys are configured and this one is not among them."""
    token = bearer(headers)
    if not keys:
        return token or ""
    if not token:
        raise APIError(401, MISSING_KEY)
    if not any(same_secret(token, key) for key in keys):
        raise APIError(
            401,
            f"Incorrect API key provided: {mask(shown(token))}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    return token
