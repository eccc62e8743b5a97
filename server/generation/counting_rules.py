"""How each model family, in each API dialect, turns a conversation into prompt tokens: one table.

`server/generation/prompt.py` walks the conversation and asks the row for its constants; every
constant and every switch is here, with where it comes from. Three kinds of source:

- cookbook: OpenAI's token-counting notebook, whose examples print the API's own counts
  (tests/test_prompt_tokens.py replays them).
- hmarr: hmarr/openai-chat-tokens, which recorded gpt-3.5's counts for legacy function calling.
- fit: an empirical fit on tests/data/usage_corpus.jsonl (real recorded traffic; the pairs named by
  `tools/score_usage.py -v`), from issue 11's findings, confirmed there. A fit is not a published
  rule: it reproduces the recordings listed in docs/usage.md and may be wrong elsewhere.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from server.generation.conversation import Dialect
from server.generation.models import Family, family

CallHistory = Literal["legacy", "typescript"]


@dataclass(frozen=True, slots=True)
class CountingRules:
    """One row of the table. Field docstrings give each constant's source."""

    reply_priming: int = 3
    """Tokens priming the reply. cookbook: 3. fit (reasoning, 47 chat and 57 responses pairs
    without tools, e.g. Mirascope encodes-assistant-message): 2."""

    assistant_extra: int = 0
    """More per assistant message in the history. fit (reasoning: Mirascope resume cassettes, 2)."""

    tools_overhead: int = 9
    """Added once when function tools are offered, beside their rendering. cookbook: 9. fit:
    reasoning models in chat add a hidden tool preamble (90 = 9 + 81, 13 gpt-5 chat pairs with one
    to three tools, e.g. pydantic-ai test_openai_tool_call); Responses has no preamble (8, the
    9 gpt-5 pairs with one tool); gpt-4o in Responses: 6 (15 pairs, e.g. pydantic-ai responses
    tool cassettes)."""

    system_tools_discount: int = 4
    """Subtracted when tools are offered and a system message exists. cookbook (weather example)."""

    named_choice: int = 7
    """A named tool_choice costs this plus its name's tokens. cookbook-era fit on gpt-4o; fit
    (reasoning: costs nothing, gpt-5 named-choice pairs in both dialects)."""

    typescript_quirks: bool = True
    """The gpt-4o renderer's one-token quirk (fit, issue 11): one less per function with properties
    whose first property has no comment line (no description, nor a rendered title). (A multi-line
    description is no quirk: each of its lines is a comment line, prompt.py.)"""

    property_titles: bool = True
    """A property's `title` is rendered as a comment line `// {title}` above its description (fit:
    chat, 202 gpt-4o and gpt-4.1 pairs whose tools carry pydantic titles, from 2 to 99 exact, e.g.
    crewAI TestNativeToolCallingTokenUsage, test_agent_execution_with_tools, whose residue was the
    title's tokens + 2 per titled property). Responses does not render titles (fit: Mirascope
    gpt-4o-mini resume cassettes, exact without them)."""

    call_history: CallHistory = "typescript"
    """How earlier tool calls and results count. legacy (hmarr, gpt-3.5): a call costs its name,
    arguments and 3; a result costs like any message. typescript (fit, gpt-4o chat, pydantic-ai
    tool round trips): a result costs tokens("functions." + name) more; one call costs 1 more;
    two or more are one `multi_tool_use.parallel` call (see prompt.py)."""

    described_first: int = 0
    """More when the first function offered has a description (fit, reasoning models, 1: pydantic-ai
    test_tool_choice_matrix and test_tool_search_eval first turns, whose tools are described, are
    1 above the fit on tools without one, in both dialects)."""

    undescribed: int = 0
    """Less per function offered without a description (fit, gpt-4o family on Responses, 3: pydantic-ai
    test_openai_responses cassettes whose tools have `description` null or empty, e.g.
    test_text_output_function and test_tool_output, 3 below the rendering otherwise)."""

    single_call: int = 4
    """Added to an assistant message's one tool call in chat, beside its name and arguments. fit
    (gpt-4o family, 4: pydantic-ai tool round trips, e.g. test_openai_tool_call_roundtrip_wire_stable);
    reasoning models, 8 (fit, with `described_first`: gpt-5, gpt-5-mini and gpt-5.4-mini chat round
    trips, e.g. pydantic-ai test_tool_choice_matrix[auto-openai] and
    test_tool_search_eval[openai-chat], 4 below with 4; with `assistant_extra`, a reasoning round
    trip costs 6 more than gpt-4o's)."""

    parallel_call: int = 2
    """Added to an assistant message's `multi_tool_use.parallel` call (two or more calls in chat),
    beside the wrapper's name and JSON. fit (gpt-4o family, 2: pydantic-ai test_temporal, test_dbos
    and test_prefect parallel round trips, 12 pairs from -1 to exact; Mirascope and crewAI parallel
    calls with arguments stay 7 to 15 below, reason unknown). Reasoning models in chat: 3 (fit,
    3 gpt-5 pairs exact with it)."""

    call_item: int = 0
    """Responses: each function call is an input item and a turn of its own, never wrapped in
    `multi_tool_use.parallel`, costing this plus its name and arguments; an assistant message item
    before it costs its own 4 even when empty (0: calls join the assistant message, as chat sends
    them). fit (gpt-4o family, 9: Mirascope ops resume cassettes, e.g.
    test_model_call_with_tool_outputs, and e2e test_structured_output_with_tools, exact; pydantic-ai
    test_text_output_function, whose empty assistant message costs 4)."""

    compact_arguments: bool = True
    """Earlier calls' arguments are parsed and counted as compact JSON, whatever spacing the client
    sent (fit: gpt-4o and gpt-4.1 chat round trips, 84 -> 104 of 181 exact, e.g. Mirascope
    test_call_with_tools and crewAI native tool calling, which send `{"a": 1}`). Reasoning models in
    chat count them as sent (fit: 3 gpt-5 chat round trips turn inexact when compacted)."""

    format_in_system: bool = True
    """Where a json_schema format's block goes (prompt.py `_format_tokens`). True (chat): at the end
    of the first system or developer message, after a blank line; in a system message of its own
    (3 + role) when there is none; after the tools' namespace when tools are offered (fit: all 152
    chat format pairs exact, e.g. crewAI LLMGuardrailResult, whose residue followed how the system
    message's last character merges with the blank line, Mirascope test_refusal and
    test_structured_output_resume without a system message, crewAI and pydantic-ai structured
    outputs beside tools). False (Responses): after a blank line at the end of the hidden system
    prompt the API always writes, a developer message or not (fit: Mirascope
    test_structured_output_resume, test_refusal, test_structured_output and
    test_structured_output_with_formatting_instructions gpt-4o responses, crewAI and Mirascope
    gpt-4o-mini json formats)."""

    format_reply_name: int = 0
    """In chat, a json_schema format marks the reply with its name (unless tools are offered: the
    model may call one instead) and each earlier assistant message with text (tools or not): the
    name's tokens plus this each. fit (gpt-4o family, 2: once the block was rendered right, the
    residue of every chat format pair without tools was the name's tokens + 2, e.g. crewAI
    TaskEvaluationPydanticOutput 6 + 2, Mirascope int 1 + 2; earlier replies: Mirascope
    test_structured_output_resume, crewAI test_output_pydantic_to_another_task and, beside tools,
    test_lite_agent_structured_output #3). Responses marks nothing (the same Mirascope resume)."""

    format_with_tools: int = 0
    """More for a json_schema format when function tools are offered too. fit (gpt-4o family in
    Responses, 1: Mirascope e2e test_structured_output_with_tools gpt-4o responses, 18 of 28 pairs
    exact, the rest its round trips' scatter; pydantic-ai test_native_output +1). Chat: 0 (the
    same test's chat cassettes, 28 exact)."""


LEGACY = CountingRules(typescript_quirks=False, call_history="legacy")
"""cl100k models (gpt-4, gpt-3.5): the cookbook's and hmarr's rules; titles as in gpt-4o chat (fit:
one more crewAI gpt-4 pair exact)."""

TABLE: dict[tuple[Family, Dialect], CountingRules] = {
    ("cl100k", "chat"): LEGACY,
    ("cl100k", "responses"): LEGACY,
    ("gpt-4o", "chat"): CountingRules(format_reply_name=2),
    ("gpt-4o", "responses"): CountingRules(
        tools_overhead=6,
        property_titles=False,
        undescribed=3,
        call_item=9,
        format_in_system=False,
        format_with_tools=1,
    ),
    ("reasoning", "chat"): CountingRules(
        reply_priming=2,
        assistant_extra=2,
        tools_overhead=90,
        single_call=8,
        parallel_call=3,
        described_first=1,
        named_choice=0,
        property_titles=False,
        compact_arguments=False,
    ),
    ("reasoning", "responses"): CountingRules(
        reply_priming=2,
        assistant_extra=2,
        tools_overhead=8,
        named_choice=0,
        property_titles=False,
        described_first=1,
        format_in_system=False,
    ),
}
"""One row per family (server/generation/models.py names a model's family) and dialect."""


@functools.lru_cache(maxsize=256)  # on the hot path: a model's row is found once, not per request
def rules_for(model: str, dialect: Dialect) -> CountingRules:
    return TABLE[(family(model), dialect)]
