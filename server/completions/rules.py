"""Cross-field rules of a completions request that its schema cannot express, in the API's words."""

from __future__ import annotations

from collections.abc import Sequence

from server.completions.prompts import Prompt
from server.errors import invalid_request
from server.generation.admission import check_output_cap, check_prompt_window
from server.generation.profiles import Profile
from server.http.logit_bias import check_logit_bias
from server.wire.completions_request import CompletionRequest


def check_completion(body: CompletionRequest) -> None:
    n = body.n or 1
    # `best_of` "must be greater than n" says the reference; equal is accepted (Azure/azure-sdk-for-net
    # #36258: "Any request where both properties are equal is valid in server side"). The wording of
    # these two messages is ours: no recording of the API's was found.
    if body.best_of is not None and body.best_of < n:
        raise invalid_request(
            f"best_of must be greater than or equal to n. Got best_of={body.best_of} and n={n}.",
            param="best_of",
        )
    if body.stream and (body.best_of or 1) > 1:
        raise invalid_request("Cannot stream results when best_of is greater than 1.", param="best_of")
    # The API refuses the pair for every model it still serves on this endpoint
    # (keirp/automatic_prompt_engineer#25, fastai/lm-hackers#7, gpt-3.5-turbo-instruct).
    if body.echo and body.logprobs is not None:
        raise invalid_request(
            "Setting 'echo' and 'logprobs' at the same time is not supported for this model."
        )
    if body.stream_options is not None and not body.stream:
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
        )
    check_logit_bias(body.logit_bias)


def check_for_model(body: CompletionRequest, prompts: Sequence[Prompt], profile: Profile) -> None:
    """Each prompt with the reply it asks room for (`max_tokens`, 16 when unset, the API's default)
    must fit the model's window, in this endpoint's words; then the reply cap must be the model's.
    The window comes first: the API words a `max_tokens` past a 4,097-token model's window as the
    window (community.openai.com/t/1111015). The completions models' caps equal their windows, so
    the cap speaks only for a route's own profile or a name no family claims."""
    for prompt in prompts:
        check_prompt_window(profile.context_window, prompt.tokens, body.completion_limit)
    check_output_cap(profile, "max_tokens", body.max_tokens)
