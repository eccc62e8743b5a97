"""Everything decided about a chat request before its backend runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from server.generation.admission import check_window, reply_limit
from server.generation.conversation import Conversation
from server.generation.events import AnsweredAs
from server.generation.ids import completion_id
from server.generation.pipeline import Plan
from server.generation.profiles import Profile
from server.generation.prompt import count_prompt_tokens
from server.generation.tokens import Tokenizer
from server.wire.chat_request import ChatCompletionRequest


@dataclass(slots=True)
class ChatPlan:
    """The generation's limits, and what the chat renderers add around its events."""

    plan: Plan
    id: str
    created: int
    model: str
    include_usage: bool
    logprobs: bool
    top_logprobs: int
    service_tier: str
    system_fingerprint: str

    def as_recorded(self, recorded: AnsweredAs | None) -> ChatPlan:
        """This plan with a replayed recording's model and fingerprint, where it gives them."""
        if recorded is None or not (recorded.model or recorded.system_fingerprint):
            return self  # the usual case: nothing recorded, nothing to copy
        return replace(
            self,
            model=recorded.model or self.model,
            system_fingerprint=recorded.system_fingerprint or self.system_fingerprint,
        )


def service_tier(requested: str | None) -> str:
    """The tier the response reports: `auto` (or nothing) is served as `default`."""
    return "default" if requested in (None, "auto") else requested


def plan_chat(
    body: ChatCompletionRequest,
    conversation: Conversation,
    tokenizer: Tokenizer,
    system_fingerprint: str,
    profile: Profile,
) -> ChatPlan:
    options = body.stream_options
    prompt_tokens = count_prompt_tokens(conversation, tokenizer)
    asked = body.completion_limit
    check_window(profile, prompt_tokens, asked, "chat")
    # The fields in order, not by keyword: a class called with keywords first puts them in a dict.
    plan = Plan(
        body.n or 1,  # n
        body.stop_sequences,  # stop
        reply_limit(profile, prompt_tokens, asked),  # limit
        prompt_tokens,
        tokenizer,
        profile.hidden_tokens(body.reasoning_effort),  # reasoning_tokens
    )
    return ChatPlan(
        plan,
        completion_id(),  # id
        int(time.time()),  # created
        body.model,
        bool(options and options.include_usage),  # include_usage
        bool(body.logprobs),  # logprobs
        body.top_logprobs or 0,  # top_logprobs
        service_tier(body.service_tier),
        system_fingerprint,
    )
