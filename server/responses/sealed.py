"""The `encrypted_content` of the reasoning items chatdouble writes, and reading it back.

The real API's is a Fernet token (version byte, creation time, random IV, ciphertext and MAC, so it
starts with `gAAAAA`) holding the reasoning a later turn continues from; the prompt of that turn
counts the reasoning's tokens (docs/usage.md). Ours has the same shape, and its "ciphertext" opens
with a marker and the number of hidden reasoning tokens the reply spent, so that a client sending
the item back is charged exactly what the reply reported. A token without the marker (the real
API's) yields None: its size is all that can be read.

A client may send a reasoning item back by its id alone, without `encrypted_content` (langchain does
with `store: true`); the real API then reads the item it stored and counts its tokens (langchain's
gpt-5.4 test_phase, docs/usage.md). So the ids of ours carry the count too: their last 24 hex digits
are 6 random ones, the count in 8 and 10 of a check that a real id matches by chance once in 2^40.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
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


def sealed_id(item_id: str, hidden_tokens: int) -> str:
    """A reasoning item's id (`rs_` and 50 hex digits, server/responses/ids.py) carrying
    `hidden_tokens` in place of its last 18 random digits."""
    head = item_id[:-18] + f"{hidden_tokens:08x}"
    return head + _check(head)


def unseal_id(item_id: str | None) -> int | None:
    """The reasoning tokens an id of ours carries; None for any other id."""
    if not item_id or len(item_id) < 21 or _check(item_id[:-10]) != item_id[-10:]:
        return None
    try:
        return int(item_id[-18:-10], 16)
    except ValueError:
        return None


def _check(text: str) -> str:
    return hashlib.sha256(MARKER + text.encode()).hexdigest()[:10]
