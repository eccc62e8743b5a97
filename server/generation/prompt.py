"""`usage.prompt_tokens` (`input_tokens` on /v1/responses) as the API counts it.

The walk is here; the constants and switches are one row of `counting_rules.py` per model family
and dialect, each with its source (docs/usage.md lists them and the score on recorded traffic).
Messages follow the OpenAI cookbook: 3 tokens per message, plus its role, content and name, 1 more
for a name. Function and tool definitions are counted as the API renders them for the model: a
TypeScript-like `namespace functions { ... }` block (tool_rendering.py). Images are priced by their
size and detail as the API prices them (image_tokens.py), audio by its length and files by their
text (media_tokens.py).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from server.generation.conversation import (
    LEGACY_CALL_ID,
    PLAIN_ROLES,
    Conversation,
    Message,
    OutputFormat,
    ToolCall,
)
from server.generation.counting_rules import CountingRules, rules_for
from server.generation.media_tokens import parts_tokens
from server.generation.tokens import Tokenizer
from server.generation.tool_rendering import quirks, render_functions

TOKENS_PER_MESSAGE = 3
PARALLEL = "multi_tool_use.parallel"  # the recipient of two or more calls made in one turn
SYSTEM_ROLES = ("system", "developer")  # the roles whose message the tools are appended to
INSTRUCTIONS = "# Instructions\n\n"  # harmony's header of a developer message's instructions
ROLE_TOKENS = 1  # every role name is a single token in both encodings (tests/test_vocab.py checks)


def count_prompt_tokens(conversation: Conversation, tokenizer: Tokenizer) -> int:
    rules = rules_for(conversation.model, conversation.dialect)
    # custom tools and a client's tool search are written among them; a deferred tool only once a
    # tool search loads it (OpenAI's tool search guide)
    functions = conversation.functions
    if conversation.tools:
        functions = tuple(t for t in conversation.tools if not t.deferred) + functions
    total = rules.reply_priming + _format_tokens(conversation, bool(functions), rules, tokenizer)
    padded_system = False
    names: dict[str, str] = {}  # call id -> function name, for the results that answer them
    batches: dict[str, int] = {}  # call id -> the index of its turn, for results joined in one message
    opened: set[int] = set()  # the turns whose joined result message is counted
    turn = _current_turn(conversation) if rules.reasoning_chars_per_token else len(conversation.messages)
    envelope = rules.per_message + ROLE_TOKENS if rules.message_envelope else 0
    for index, message in enumerate(conversation.messages):
        if (
            not functions
            and message.role in PLAIN_ROLES
            and message.parts is None
            and not (
                message.name
                or message.calls
                or message.tools
                or message.reasoning
                or message.reasoning_tokens
            )
        ):
            # Most messages: a role and a text, and no tools to write beside them. They cost their
            # envelope and their text; none of the rules below has anything to add.
            total += envelope + tokenizer.count(message.text)
            continue
        if index > turn:  # the current turn's reasoning stays in the prompt
            if message.reasoning:
                total += _reasoning_estimate(message.reasoning, rules)
            total += sum(message.reasoning_tokens) + rules.reasoning_item * len(message.reasoning_tokens)
        if message.tools:  # tools added mid-conversation: a developer message holding only them
            added = render_functions(message.tools, rules.property_titles)
            total += tokenizer.count(added) + rules.added_tools_overhead
            continue
        batch = batches.get(message.call_id or "") if message.role == "tool" else None
        if batch is not None:  # one of the joined results of a parallel call
            total += _joined_result_tokens(message, batch not in opened, tokenizer)
            opened.add(batch)
            continue
        if rules.message_envelope:
            total += rules.per_message + ROLE_TOKENS
        if message.parts is not None:
            total += parts_tokens(conversation, tokenizer, message.parts)
        elif functions and rules.system_tools_discount and not padded_system and message.role in SYSTEM_ROLES:
            total += tokenizer.count(message.text + "\n")
            padded_system = True
        elif functions and rules.instructions and not padded_system and message.role in SYSTEM_ROLES:
            # harmony's developer message: the instructions, then the tools, in one message
            total += tokenizer.count(INSTRUCTIONS + message.text + "\n\n") - rules.per_message - ROLE_TOKENS
            padded_system = True
        elif message.text:
            total += tokenizer.count(message.text)
        if message.role == "function" and rules.call_history == "typescript":  # a tool result
            total += tokenizer.count("functions." + (message.name or ""))
        elif message.role == "function":  # the function's name stands in for the role
            total += tokenizer.count(message.name or "") - ROLE_TOKENS
        elif message.name:  # after the role: `{role}:{name}` (`CountingRules.name_prefix`)
            total += tokenizer.count(rules.name_prefix + message.name) + rules.per_name
        if message.role == "assistant":
            total += rules.assistant_extra
        if message.calls:
            if not rules.call_item:
                total += _calls_tokens(message.calls, rules, tokenizer)
                if message.text.strip() and message.calls[0].id != LEGACY_CALL_ID:
                    total += rules.call_beside_text  # the calls are a message of their own
            else:  # calls are turns of their own; a message only they opened costs nothing itself
                run = len(message.calls) > 1  # consecutive call items: calls made in one turn
                total += sum(_call_item_tokens(call, rules, tokenizer, run) for call in message.calls)
                if not message.said:
                    total -= TOKENS_PER_MESSAGE + ROLE_TOKENS + rules.assistant_extra
            names.update((call.id, call.name) for call in message.calls)
            if rules.joined_results and len(message.calls) > 1:
                batches.update((call.id, index) for call in message.calls)
        if message.role == "tool":
            name = names.get(message.call_id or "")
            if name is not None:
                total += tokenizer.count("functions." + name)
    if functions:
        total += tokenizer.count(render_functions(functions, rules.property_titles)) + rules.tools_overhead
        if functions[0].description:
            total += rules.described_first
        if rules.typescript_quirks:
            total -= sum(quirks(function, rules.property_titles) for function in functions)
        if any(m.role in SYSTEM_ROLES for m in conversation.messages):
            total -= rules.system_tools_discount
    total += rules.hosted_cost(conversation.hosted_tools)
    return total + _choice_tokens(conversation, rules, tokenizer)


def _current_turn(conversation: Conversation) -> int:
    """The index of the last user message: the reasoning after it is the current turn's."""
    return max((i for i, message in enumerate(conversation.messages) if message.role == "user"), default=-1)


def _reasoning_estimate(chars: int, rules: CountingRules) -> int:
    """Kept hidden reasoning, estimated from its size (`CountingRules.reasoning_chars_per_token`)."""
    return max(0, round((chars - rules.reasoning_envelope) / rules.reasoning_chars_per_token))


def _joined_result_tokens(message: Message, first: bool, tokenizer: Tokenizer) -> int:
    """A result answering one of two or more calls made in one turn (`CountingRules.joined_results`):
    the turn's results are one message from `multi_tool_use.parallel`, opened with the first; each
    result in it costs 1 and its text as a JSON string, non-ASCII escaped (`\\u00b0`), and 1 more
    when it holds any non-ASCII character."""
    opening = TOKENS_PER_MESSAGE + ROLE_TOKENS + tokenizer.count(PARALLEL) if first else 0
    escaped = 0 if message.text.isascii() else 1
    return opening + 1 + escaped + tokenizer.count(json.dumps(message.text))


@functools.lru_cache(maxsize=4096)  # a history's calls are counted again on every later turn
def compact(arguments: str) -> str:
    """Arguments written back without spaces (`CountingRules.compact_arguments`); not JSON: as sent."""
    try:
        return json.dumps(json.loads(arguments), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return arguments


def _call_item_tokens(call: ToolCall, rules: CountingRules, tokenizer: Tokenizer, run: bool) -> int:
    """A call that is an input item of its own (Responses): a turn of its own, never wrapped; `run`:
    one of two or more consecutive call items (`CountingRules.run_as_client`)."""
    # written by the client, not the API's own item sent back, or priced so
    client = call.item_id is None or (run and rules.run_as_client)
    as_sent = not rules.compact_arguments or (client and rules.client_arguments_as_sent)
    shown = call.arguments if as_sent else compact(call.arguments)
    cost = rules.client_call_item if client else rules.call_item
    return cost + tokenizer.count(call.name) + tokenizer.count(shown)


def _calls_tokens(calls: tuple[ToolCall, ...], rules: CountingRules, tokenizer: Tokenizer) -> int:
    if rules.call_history == "legacy" and calls[0].id == LEGACY_CALL_ID:  # a `function_call`
        return sum(tokenizer.count(c.name) + tokenizer.count(c.arguments) + 3 for c in calls)
    shown = compact if rules.compact_arguments else str
    if len(calls) == 1:
        return tokenizer.count(calls[0].name) + tokenizer.count(shown(calls[0].arguments)) + rules.single_call
    uses = ",".join(
        f'{{"recipient_name":"functions.{c.name}","parameters":{shown(c.arguments)}}}' for c in calls
    )
    wrapper = tokenizer.count(f'{{"tool_uses":[{uses}]}}')
    return tokenizer.count(PARALLEL) + wrapper + rules.parallel_call


FORMAT_UNSHOWN = frozenset(
    {
        "required",
        "additionalProperties",
        "$schema",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "format",
    }
)
"""Keywords a json_schema response format's schema loses before it is shown to the model, at any
depth: what the sampler enforces, not what describes the value. fit, issue 11: `required`,
`additionalProperties`, `default`, `minimum`, `maximum` and `maxItems` seen removed (crewAI
MemoryAnalysis and AgentResponse, among 152 chat pairs, all exact); `$schema` after
openai/openai-cookbook issue 2140. The other numeric bounds (lengths, counts, exclusive bounds,
`multipleOf`, `uniqueItems`) are removed by analogy, a choice without a recording. `format` is
removed too (fit, 4932-pair corpus: activeagent structured_output_json_parsing and
structured_output_with_active_record_schema, `email` and `date-time`, +4 and +14 -> exact, the
only format pairs that carry one); `pattern` is kept, a choice without a recording."""


def _shown_schema(schema: Any) -> Any:
    """The schema as the model sees it: the unshown keywords removed, everything else (titles,
    descriptions, `const`, `$defs` and `$ref`s) kept in the order sent."""
    if isinstance(schema, dict):
        return {
            key: {name: _shown_schema(sub) for name, sub in value.items()}
            if key in ("properties", "$defs", "definitions") and isinstance(value, dict)
            else _shown_schema(value)
            for key, value in schema.items()
            if key not in FORMAT_UNSHOWN
        }
    if isinstance(schema, list):
        return [_shown_schema(item) for item in schema]
    return schema


def format_block(output: OutputFormat | None) -> str | None:
    """A json_schema response format as the model sees it: harmony's `# Response Formats` section
    (openai-cookbook articles/openai-harmony.md, "Structured output"; the same header and layout
    were read back from gpt-4.1, ghost.ai.moda "OpenAI Internals: Structured Outputs to System
    Prompts"), its schema written by Python's `json.dumps` with compact separators and
    `ensure_ascii` (fit: crewAI StepObservation's em dashes count as `\\u2014` escapes). None for
    other formats (json_object costs nothing: fit, 30 json_object pairs match without it)."""
    if output is None or output.kind != "json_schema" or output.schema is None:
        return None
    schema = json.dumps(_shown_schema(output.schema), separators=(",", ":"))
    comment = f"// {output.description}\n" if output.description else ""
    return f"# Response Formats\n\n## {output.name}\n\n{comment}{schema}"


def _format_tokens(
    conversation: Conversation, tools: bool, rules: CountingRules, tokenizer: Tokenizer
) -> int:
    """What a json_schema response format adds to the prompt (docs/usage.md; fit, issue 11).

    Its block (`format_block`) ends the system prompt, after a blank line: in chat, after the tools'
    namespace when tools are offered, else at the end of the first system or developer message, or
    in a system message of its own (`CountingRules.format_in_system`); on /v1/responses, at the end
    of the hidden system prompt the API always writes. In chat each earlier assistant message with text is marked with the format's name, and
    so is the reply unless tools are offered (the model may call one instead): name +
    `format_reply_name` each."""
    output = conversation.output
    block = format_block(output)
    if block is None or output is None:
        return 0
    total = 0
    if rules.format_reply_name:
        named = tokenizer.count(output.name) + rules.format_reply_name
        replies = sum(m.role == "assistant" and bool(m.text or m.parts) for m in conversation.messages)
        total += named * (replies if tools else 1 + replies)
    if not rules.format_in_system:
        return total + tokenizer.count(("\n\n" if rules.format_blank_line else "") + block)
    system = next((m for m in conversation.messages if m.role in ("system", "developer")), None)
    if tools or (system is not None and system.parts is not None):
        # after the tools' namespace, which ends the system prompt; or a text part more
        return total + tokenizer.count("\n\n" + block)
    if system is None:
        return total + TOKENS_PER_MESSAGE + ROLE_TOKENS + tokenizer.count(block)
    return total + tokenizer.count(system.text + "\n\n" + block) - tokenizer.count(system.text)


def _choice_tokens(conversation: Conversation, rules: CountingRules, tokenizer: Tokenizer) -> int:
    legacy, choice = conversation.function_choice, conversation.tool_choice
    if legacy.mode == "none" or choice.mode == "none":
        return rules.none_choice
    if legacy.named is not None:
        return 4 + tokenizer.count(legacy.named)
    named = choice.named
    functions = conversation.function_tools
    if rules.required_one_named and named is None and choice.mode == "required" and len(functions) == 1:
        named = functions[0].name  # `CountingRules.required_one_named`
    if named is not None:
        return rules.named_choice and rules.named_choice + tokenizer.count(named)
    return 0
