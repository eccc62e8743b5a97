"""Everything decided about a Responses request before its backend runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from server.generation.admission import check_window, reply_limit
from server.generation.conversation import Conversation
from server.generation.events import AnsweredAs
from server.generation.pipeline import Plan
from server.generation.profiles import Profile
from server.generation.prompt import count_prompt_tokens
from server.generation.tokens import Tokenizer
from server.responses.ids import ResponseIds
from server.wire.responses_request import ResponseCreateRequest


@dataclass(slots=True)
class ResponsesPlan:
    """The generation's limits, the response's identity, and the request it echoes."""

    plan: Plan
    body: ResponseCreateRequest
    id: str
    created_at: int
    ids: ResponseIds
    reasoning: bool  # the model reasons: its output starts with a reasoning item
    obfuscation: bool
    sealed_reasoning: bool = False  # `include: ["reasoning.encrypted_content"]`
    input_items: list[dict[str, object]] = field(default_factory=list)
    model: str = ""  # the model shown: the one requested, or the one a replayed recording answered as

    def __post_init__(self) -> None:
        self.model = self.model or self.body.model

    def as_recorded(self, recorded: AnsweredAs | None) -> None:
        """A replayed recording's model, and no obfuscation pad if its events had none (a client's
        `include_obfuscation: false` turns it off either way)."""
        if recorded is None:
            return
        self.model = recorded.model or self.model
        if recorded.obfuscation is False:
            self.obfuscation = False


def plan_response(
    body: ResponseCreateRequest, conversation: Conversation, tokenizer: Tokenizer, profile: Profile
) -> ResponsesPlan:
    created = int(time.time())
    ids = ResponseIds(created)
    options = body.stream_options
    prompt_tokens = count_prompt_tokens(conversation, tokenizer)
    check_window(profile, prompt_tokens, body.max_output_tokens, "responses")
    effort = body.reasoning.effort if body.reasoning is not None else None
    return ResponsesPlan(
        plan=Plan(
            n=1,
            stop=(),
            limit=reply_limit(profile, prompt_tokens, body.max_output_tokens),
            prompt_tokens=prompt_tokens,
            tokenizer=tokenizer,
            reasoning_tokens=profile.hidden_tokens(effort),
        ),
        body=body,
        id=ids.make("resp"),
        created_at=created,
        ids=ids,
        reasoning=profile.reasoning,
        obfuscation=not (options is not None and options.include_obfuscation is False),
        sealed_reasoning="reasoning.encrypted_content" in (body.include or ()),
    )
