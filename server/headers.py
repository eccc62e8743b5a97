"""Header values as they came over the wire, and the bearer token among them.

A leaf that imports nothing of ours: the authentication of our own API and the proxy's upstream
client both read headers this way, and backends may not import HTTP code.
"""

from __future__ import annotations

from collections.abc import Mapping


def header_bytes(value: str) -> bytes:
    """A header value's bytes as they came over the wire (ASGI servers decode them as Latin-1)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire: text a caller built, beyond Latin-1
        return value.encode("utf-8")


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None
