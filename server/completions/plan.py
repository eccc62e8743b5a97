"""Everything decided about a completions request before its backend runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from server.completions.prompts import Prompt
from server.generation.events import AnsweredAs
from server.generation.ids import text_completion_id
from server.generation.pipeline import Plan
from server.generation.tokens import Tokenizer
from server.wire.completions_request import CompletionRequest


@dataclass(frozen=True, slots=True)
class CompletionPlan:
    """The generation's limits over every choice of every prompt (choice `p * n + i` is the `i`th of
    prompt `p`), and what the renderers add around its events."""

    plan: Plan
    id: str
    created: int
    model: str
    prompts: tuple[Prompt, ...]
    per_prompt: int  # the request's n
    echo: bool
    logprobs: int | None  # the alternatives asked for per token; None: no logprobs
    include_usage: bool

    def prompt_of(self, choice: int) -> Prompt:
        return self.prompts[choice // self.per_prompt]

    def as_recorded(self, recorded: AnsweredAs | None) -> CompletionPlan:
        """This plan with a replayed recording's model, where it gives one."""
        if recorded is None or recorded.model is None:
            return self
        return replace(self, model=recorded.model)


def plan_completion(body: CompletionRequest, prompts: list[Prompt], tokenizer: Tokenizer) -> CompletionPlan:
    n = body.n or 1
    options = body.stream_options
    return CompletionPlan(
        plan=Plan(
            n=n * len(prompts),
            stop=body.stop_sequences,
            limit=body.completion_limit,
            prompt_tokens=sum(prompt.tokens for prompt in prompts),
            tokenizer=tokenizer,
        ),
        id=text_completion_id(),
        created=int(time.time()),
        model=body.model,
        prompts=tuple(prompts),
        per_prompt=n,
        echo=bool(body.echo),
        logprobs=body.logprobs,
        include_usage=bool(options and options.include_usage),
    )
