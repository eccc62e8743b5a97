"""Ids as the Responses API writes them.

Seen in real recordings: a prefix (`resp_`, `msg_`, `fc_`, `rs_`, ...) and 50 lowercase hex digits:
16 shared by every id of one response, `00`, the creation second as 8 hex digits, then 24 random
ones. (A call id, `call_` and 24 letters and digits, is `server.generation.ids.tool_call_id`.)

Unique, not secret: the digits come from the standard library's shared generator, as chat's ids
do (server/generation/ids.py), not from the OS through `secrets` (345 ns an id instead of 564).
"""

from __future__ import annotations

import random


class ResponseIds:
    """The ids of one response's object and items."""

    def __init__(self, created: int) -> None:
        self._stem = f"{random.getrandbits(64):016x}00{created & 0xFFFFFFFF:08x}"

    def make(self, prefix: str) -> str:
        return f"{prefix}_{self._stem}{random.getrandbits(96):024x}"
