"""A chat request validated with the real API's wording (server/http/validation.py) and chat's own
cross-field rules (server/chat/rules.py)."""

from __future__ import annotations

from server.chat.rules import check_semantics
from server.http.validation import parse_body
from server.wire.chat_request import ROLES, ChatCompletionRequest


def parse_request(raw: bytes, *, reject_unknown: bool) -> ChatCompletionRequest:
    """Validate a body into the request model, or raise the API's 400."""
    return parse_body(
        raw, ChatCompletionRequest, reject_unknown=reject_unknown, roles=ROLES, rules=check_semantics
    )
