"""What a model's profile refuses before anything is generated, in the real API's words: parameters
the model does not take, a reply cap above the model's own, and a prompt (plus the reply it asks
room for) beyond the context window. Each dialect names its parameters; the rules are shared. The
legacy endpoints (completions, embeddings) word the window their own, older way (`check_prompt_window`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from server.errors import APIError, invalid_request
from server.generation.profiles import Profile

Dialect = Literal["chat", "responses"]
# A parameter at its default asks nothing of the model: SDKs send these and the API takes them.
_DEFAULTS: dict[str, object] = {
    "temperature": 1,
    "top_p": 1,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "logprobs": False,
}


# With reasoning off (`effort: "none"`, gpt-5.1 and later) a reasoning model samples like any other
# and takes these (vercel/ai#10932; a gpt-5.6 recording in tests/data/usage_corpus.jsonl answered
# `temperature: 0.5` with effort none).
_SAMPLING = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs"})


def check_parameters(
    profile: Profile, given: Mapping[str, object], dialect: Dialect, effort: str | None = None
) -> None:
    """Refuse the first parameter in `given` (name -> value, None: absent) that `profile` refuses."""
    for name, value in given.items():
        if value is None or name not in profile.refuses or value == _DEFAULTS.get(name, object()):
            continue
        if effort == "none" and name in _SAMPLING:
            continue
        raise _refusal(name, value, dialect)


def _refusal(name: str, value: object, dialect: Dialect) -> APIError:
    if name == "max_tokens":
        return _unsupported(name, " Use 'max_completion_tokens' instead.")
    if name == "temperature" and dialect == "chat" and isinstance(value, int | float):
        return invalid_request(
            f"Unsupported value: 'temperature' does not support {value:g} with this model. Only the "
            "default (1) value is supported.",
            param="temperature",
            code="unsupported_value",
        )
    if name == "reasoning_effort" and dialect == "chat":
        # A chat model does not know the field at all (davidmigloz/langchain_dart#712).
        return invalid_request("Unrecognized request argument supplied: reasoning_effort")
    if name == "reasoning_effort":
        return _unsupported("reasoning.effort")
    return _unsupported(name)


def _unsupported(param: str, hint: str = "") -> APIError:
    return invalid_request(
        f"Unsupported parameter: '{param}' is not supported with this model.{hint}",
        param=param,
        code="unsupported_parameter",
    )


def check_output_cap(profile: Profile, param: str, requested: int | None) -> None:
    """A reply cap above the model's (`max_tokens` on gpt-4o: at most 16384). The API's words for
    `max_tokens`, code `invalid_value` (tailcallhq/forgecode#1185; older answers had code null,
    openai/openai-python#687). No answer naming `max_completion_tokens` or `max_output_tokens` was
    found: they are worded alike, naming the parameter sent (our choice)."""
    if requested is not None and requested > profile.max_output_tokens:
        raise invalid_request(
            f"{param} is too large: {requested}. This model supports at most {profile.max_output_tokens} "
            f"completion tokens, whereas you provided {requested}.",
            param=param,
            code="invalid_value",
        )


def check_window(profile: Profile, prompt_tokens: int, requested: int | None, dialect: Dialect) -> None:
    """The prompt, and the reply it asks room for, must fit the context window."""
    window = profile.context_window
    if prompt_tokens + (requested or 0) <= window:
        return
    if dialect == "responses":
        # The API's words, param `input` (the-open-agent/openagent#2344, james-6-23/codex2api#415).
        raise invalid_request(
            "Your input exceeds the context window of this model. Please adjust your input and try again.",
            param="input",
            code="context_length_exceeded",
        )
    if requested is None:
        message = (
            f"This model's maximum context length is {window} tokens. However, your messages resulted in "
            f"{prompt_tokens} tokens. Please reduce the length of the messages."
        )
    else:
        message = (
            f"This model's maximum context length is {window} tokens. However, you requested "
            f"{prompt_tokens + requested} tokens ({prompt_tokens} in the messages, {requested} in the "
            "completion). Please reduce the length of the messages or completion."
        )
    raise invalid_request(message, param="messages", code="context_length_exceeded")


def reply_limit(profile: Profile, prompt_tokens: int, requested: int | None) -> int:
    """The most tokens a reply may hold: the request's cap, else what the model and its window leave.
    Never unbounded, so `n` long replies cannot make one request allocate without end."""
    if requested is not None:
        return requested
    return max(1, min(profile.max_output_tokens, profile.context_window - prompt_tokens))


def check_prompt_window(window: int, prompt_tokens: int, completion: int) -> None:
    """The legacy endpoints' window: one prompt (of `POST /v1/completions`, with its `max_tokens`) or
    one input (of `POST /v1/embeddings`, with no completion) must fit it. The API's words, param and
    code null: "This model's maximum context length is 4097 tokens, however you requested 4322 tokens
    (4066 in your prompt; 256 for the completion). Please reduce your prompt; or completion length."
    (completions: nicknochnack/LangchainDocuments#2, tatsu-lab/stanford_alpaca#47, run-llama/llama_index
    #948; embeddings: pingcap/autoflow#265 (text-embedding-3-small), Significant-Gravitas/AutoGPT#3140).
    """
    total = prompt_tokens + completion
    if total > window:
        raise invalid_request(
            f"This model's maximum context length is {window} tokens, however you requested {total} tokens "
            f"({prompt_tokens} in your prompt; {completion} for the completion). Please reduce your prompt; "
            "or completion length."
        )
