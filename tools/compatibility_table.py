"""What chatdouble does with each request field of each endpoint: the hand-kept half of
docs/compatibility.md (tools/gen_compatibility.py renders it; tests/test_compatibility.py fails when
a wire schema has a field without a row here, or a row names no field).

Statuses:
- honoured: the field changes the answer as it would on the real API (the note says how).
- echoed: returned in the response object as sent, as the real API does; it changes nothing else.
- validated: checked as the real API checks it (type, range, the fields it needs), then unused.
- ignored: accepted (its type checked) and ignored.
"""

from __future__ import annotations

from typing import Literal

Status = Literal["honoured", "echoed", "validated", "ignored"]
Row = tuple[Status, str]

NO_CACHE = "no prompt cache is kept (`cached_tokens` is 0)"
SAMPLING = "range checked; replies are deterministic"

CHAT: dict[str, Row] = {
    "model": (
        "honoured",
        "routes the request to a backend (`routes`); names the tokenizer, how prompts are counted and the "
        "model's profile (window, output cap, refused parameters); echoed",
    ),
    "messages": (
        "honoured",
        "the conversation the backend answers; counted into `prompt_tokens`, images by size",
    ),
    "audio": ("ignored", "no audio is generated"),
    "frequency_penalty": ("validated", SAMPLING),
    "function_call": ("honoured", "legacy function calling: forbids, allows or forces a `function_call`"),
    "functions": ("honoured", "legacy functions offered; counted into `prompt_tokens`"),
    "logit_bias": (
        "validated",
        "token ids checked against the model's vocabulary, biases within -100..100; backends do not apply it",
    ),
    "logprobs": ("honoured", "logprobs of the reply's tokens"),
    "max_completion_tokens": ("honoured", "cuts the reply; `finish_reason: length`"),
    "max_tokens": ("honoured", "as `max_completion_tokens`, which wins when both are sent"),
    "metadata": ("honoured", "kept with a stored completion; filters `GET /v1/chat/completions`"),
    "modalities": ("ignored", "text only"),
    "moderation": ("ignored", ""),
    "n": ("honoured", "that many choices"),
    "parallel_tool_calls": (
        "honoured",
        "`false`: at most one tool call per reply (the contract guard enforces it)",
    ),
    "prediction": ("ignored", "no predicted-output tokens are counted"),
    "presence_penalty": ("validated", SAMPLING),
    "prompt_cache_key": ("ignored", NO_CACHE),
    "prompt_cache_options": ("ignored", NO_CACHE),
    "prompt_cache_retention": ("ignored", NO_CACHE),
    "reasoning_effort": (
        "honoured",
        "hidden reasoning tokens spent per effort on reasoning models; refused by models that do not reason",
    ),
    "response_format": (
        "honoured",
        "`json_object` and `json_schema` replies are JSON (schema-satisfying from echo); strict schemas checked as the API does",
    ),
    "safety_identifier": ("ignored", ""),
    "seed": ("honoured", "varies the values echo synthesizes for a JSON schema"),
    "service_tier": ("honoured", "echoed; `auto` is answered as `default`"),
    "stop": ("honoured", "cuts the reply before a stop sequence; `finish_reason: stop`"),
    "store": ("honoured", "`true` keeps the completion: retrieve, list, update, delete, messages"),
    "stream": ("honoured", "server-sent chunks, then `[DONE]`"),
    "stream_options": (
        "honoured",
        "`include_usage` adds the usage chunk; `include_obfuscation` the `obfuscation` padding",
    ),
    "temperature": ("validated", SAMPLING),
    "tool_choice": ("honoured", "forbids, allows, requires or names the tool call; checked against `tools`"),
    "tools": ("honoured", "function and custom tools offered; counted into `prompt_tokens`"),
    "top_logprobs": ("honoured", "alternatives per token; needs `logprobs`"),
    "top_p": ("validated", SAMPLING),
    "user": ("ignored", ""),
    "verbosity": ("ignored", ""),
    "web_search_options": ("ignored", "no web search is run"),
}

RESPONSES: dict[str, Row] = {
    "model": (
        "honoured",
        "routes the request to a backend (`routes`); names the tokenizer and how input is counted; echoed",
    ),
    "input": (
        "honoured",
        "the conversation the backend answers; counted into `input_tokens`, images by size",
    ),
    "instructions": ("honoured", "a system message before the input; echoed"),
    "previous_response_id": ("honoured", "continues a stored response's conversation (docs/responses.md)"),
    "conversation": (
        "validated",
        "refused beside `previous_response_id`; the Conversations API is not served",
    ),
    "tools": ("honoured", "function and custom tools offered; hosted tools accepted and echoed, never run"),
    "tool_choice": ("honoured", "forbids, allows, requires or names the tool call; echoed"),
    "parallel_tool_calls": ("honoured", "`false`: at most one tool call; echoed"),
    "text": ("honoured", "`format` shapes the reply (`json_schema`, `json_object`); echoed"),
    "reasoning": ("honoured", "`summary` adds a reasoning item's summary on reasoning models; echoed"),
    "truncation": ("echoed", "default `disabled`"),
    "background": ("honoured", "answered `queued`, run as a task, polled and cancelled"),
    "context_management": ("ignored", ""),
    "include": (
        "honoured",
        "`reasoning.encrypted_content` adds the reasoning item's encrypted content; other values ignored",
    ),
    "max_output_tokens": ("honoured", "cuts the reply; `status: incomplete`"),
    "max_tool_calls": ("echoed", ""),
    "metadata": ("echoed", ""),
    "moderation": ("ignored", ""),
    "prompt": (
        "ignored",
        "prompt templates are not served; with a prompt, `model` may be left out (served as gpt-4o)",
    ),
    "prompt_cache_key": ("echoed", NO_CACHE),
    "prompt_cache_options": ("ignored", NO_CACHE),
    "prompt_cache_retention": ("echoed", NO_CACHE),
    "safety_identifier": ("echoed", ""),
    "service_tier": ("echoed", "`auto` is answered as `default`"),
    "store": ("honoured", "`false`: not kept for retrieval or chaining"),
    "stream": ("honoured", "numbered server-sent events (docs/responses.md)"),
    "stream_options": ("honoured", "`include_obfuscation: false` drops the `obfuscation` padding"),
    "temperature": ("echoed", SAMPLING),
    "top_logprobs": ("echoed", ""),
    "top_p": ("echoed", SAMPLING),
    "user": ("echoed", ""),
}

COMPLETIONS: dict[str, Row] = {
    "model": (
        "honoured",
        "routes the request to a backend; a chat model is refused as the API does; its window bounds each prompt",
    ),
    "prompt": ("honoured", "each prompt (text or token ids) answered with its own choices"),
    "best_of": ("validated", "at least `n`, and not with `stream`"),
    "echo": ("honoured", "the prompt is prepended to each choice's text"),
    "frequency_penalty": ("validated", SAMPLING),
    "logit_bias": ("validated", "token ids checked against the model's vocabulary; backends do not apply it"),
    "logprobs": ("honoured", "legacy logprobs with that many alternatives (0..5)"),
    "max_tokens": (
        "honoured",
        "cuts each choice (default 16); `finish_reason: length`; each prompt plus it must fit the window",
    ),
    "n": ("honoured", "that many choices per prompt"),
    "presence_penalty": ("validated", SAMPLING),
    "seed": ("ignored", "replies are deterministic; passed to backends"),
    "stop": ("honoured", "cuts a choice before a stop sequence"),
    "stream": ("honoured", "server-sent `text_completion` chunks, then `[DONE]`"),
    "stream_options": ("honoured", "`include_usage` adds the usage chunk"),
    "suffix": ("honoured", "counted into `prompt_tokens`; the reply does not use it"),
    "temperature": ("validated", SAMPLING),
    "top_p": ("validated", SAMPLING),
    "user": ("ignored", ""),
}

EMBEDDINGS: dict[str, Row] = {
    "input": ("honoured", "one deterministic vector per input (text or token ids), with the API's limits"),
    "model": (
        "honoured",
        "routes the request; its profile names the vector size, input window and tokenizer",
    ),
    "dimensions": ("honoured", "the vector's size; refused above the model's own or on models without it"),
    "encoding_format": ("honoured", "`float` lists or `base64` of little-endian float32"),
    "user": ("ignored", ""),
}
