"""Identifiers in OpenAI's formats."""

from __future__ import annotations

import hashlib
import random
import string

ALPHANUMERIC = string.ascii_letters + string.digits
# Byte value -> letter or digit (the modulo bias over 62 symbols is irrelevant for an id).
_TO_ALNUM = bytes(ord(ALPHANUMERIC[value % 62]) for value in range(256))


# Ids are unique, not secret: they come from the standard library's shared generator (seeded from
# the OS at start and again in every forked child), not from `secrets`, whose two OS reads per
# request were 5% of a non-stream request's time.


def alphanumeric(length: int) -> bytes:
    """`length` random letters and digits."""
    return random.getrandbits(8 * length).to_bytes(length).translate(_TO_ALNUM)


def completion_id() -> str:
    """`chatcmpl-` followed by 29 letters and digits, as the real API's ids."""
    return "chatcmpl-" + alphanumeric(29).decode()


def tool_call_id() -> str:
    """`call_` followed by 24 letters and digits, as the real API's tool-call ids."""
    return "call_" + alphanumeric(24).decode()


def request_id() -> str:
    """`req_` followed by 32 hex digits, the form of the real API's `x-request-id`."""
    return "req_" + random.getrandbits(128).to_bytes(16).hex()


def fingerprint(seed: str) -> str:
    """A stable `system_fingerprint` (`fp_` + 10 hex digits) for a configuration."""
    return "fp_" + hashlib.sha256(seed.encode()).hexdigest()[:10]


def text_completion_id() -> str:
    """`cmpl-` followed by 29 letters and digits, as the legacy completions' ids
    (`cmpl-96c64EdfhOw8pjFFgVpLuT8k2MtdT`)."""
    return "cmpl-" + alphanumeric(29).decode()
