"""Ids as the Responses API writes them.

Seen in real recordings: a prefix (`resp_`, `msg_`, `fc_`, `rs_`, ...) and 50 lowercase hex digits:
16 shared by every id of one response, `00`, the creation second as 8 hex digits, then 24 random
ones. (A call id, `call_` and 24 letters and digits, is `server.generation.ids.tool_call_id`.)
"""

from __future__ import annotations

import secrets


class ResponseIds:
    """The ids of one response's object and items."""

    def __init__(self, created: int) -> None:
        self._stem = f"{secrets.token_hex(8)}00{created & 0xFFFFFFFF:08x}"

    def make(self, prefix: str) -> str:
        return f"{prefix}_{self._stem}{secrets.token_hex(12)}"
