"""The `encrypted_content` of the reasoning items chatdouble writes, and reading it back.

The real API's is a Fernet token (version byte, creation time, random IV, ciphertext and MAC, so it
starts with `gAAAAA`) holding the reasoning a later turn continues from; the prompt of that turn
counts the reasoning's tokens (docs/usage.md). Ours has the same shape, and its "ciphertext" opens
with a marker and the number of hidden reasoning tokens the reply spent, so that a client sending
the item back is charged exactly what the reply reported. A token without the marker (the real
API's) yields None: its size is all that can be read.
"""

from __future__ import annotations

import base64
import binascii
import secrets

MARKER = b"chatdouble-rs\x01"
_HEADER = 1 + 8 + 16  # version byte, creation time, IV


def seal(created: int, hidden_tokens: int) -> str:
    """A Fernet-shaped token carrying `hidden_tokens` (the reply's reasoning tokens)."""
    body = MARKER + hidden_tokens.to_bytes(4, "big")
    token = b"\x80" + created.to_bytes(8, "big") + secrets.token_bytes(16)
    token += body + secrets.token_bytes(64 - len(body)) + secrets.token_bytes(32)
    return base64.urlsafe_b64encode(token).decode()


def unseal(content: str | None) -> int | None:
    """The reasoning tokens a token of ours carries; None for any other token."""
    if not content or not content.startswith("gAAAAA"):
        return None
    try:
        raw = base64.urlsafe_b64decode(content[: 4 * ((_HEADER + len(MARKER) + 4 + 2) // 3 + 1)])
    except (binascii.Error, ValueError):
        return None
    body = raw[_HEADER:]
    if not body.startswith(MARKER) or len(body) < len(MARKER) + 4:
        return None
    return int.from_bytes(body[len(MARKER) : len(MARKER) + 4], "big")
