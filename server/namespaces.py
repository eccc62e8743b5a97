"""A client's namespace: where fixture lifetimes and sequence positions are counted for it.

A namespace is the caller's key (the key it authenticated with, or whatever bearer it sent when no
keys are configured), or that key and an `X-Chatdouble-Session`. A session lives inside its key: a
client that sends another client's key as its session reaches a namespace of its own, never the
other client's. A key alone is its own namespace, as before sessions were scoped; a key and a
session are joined by a line feed, which cannot occur in an HTTP header value (it ends the header
line), so no key and session spell the namespace of another key, or of another pair.
"""

from __future__ import annotations

from collections.abc import Mapping

SESSION_HEADER = "x-chatdouble-session"
SEPARATOR = "\n"


def namespace(key: str, session: str | None = None) -> str:
    return key if session is None else f"{key}{SEPARATOR}{session}"


def of_request(headers: Mapping[str, str], key: str) -> str:
    """The caller's namespace: its key, and its session when it sends a non-empty one."""
    return namespace(key, headers.get(SESSION_HEADER) or None)


def key_of(name: str) -> str:
    """The key a namespace belongs to, without its session."""
    return name.split(SEPARATOR, 1)[0]
