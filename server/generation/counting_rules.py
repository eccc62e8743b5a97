"""How each model family, in each API dialect, turns a conversation into prompt tokens: one table.

`server/generation/prompt.py` walks the conversation and asks the row for its constants; every
constant and every switch is here, with where it comes from. Three kinds of source:

- cookbook: OpenAI's token-counting notebook, whose examples print the API's own counts
  (tests/test_prompt_tokens.py replays them).
- hmarr: hmarr/openai-chat-tokens, which recorded gpt-3.5's counts for legacy function calling.
- fit: an empirical fit on tests/data/usage_corpus.jsonl (real recorded traffic; the pairs named by
  `tools/score_usage.py -v`), from issue 11's findings, confirmed there. A fit is not a published
  rule: it reproduces the recordings listed in docs/usage.md and may be wrong elsewhere.

The module is past 400 lines on purpose: it is one table, and every field carries its evidence;
split, the rows and the recordings they were fitted on would drift apart.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Literal

from server.generation.conversation import Dialect
from server.generation.models import Family, family
from server.generation.tool_rendering import Titles

CallHistory = Literal["legacy", "typescript"]


@dataclass(frozen=True, slots=True)
class CountingRules:
    """One row of the table. Field docstrings give each constant's source."""

    per_message: int = 3
    """Tokens around each message, beside its role and content. cookbook: 3; gpt-3.5-turbo-0301: 4
    (the cookbook's `num_tokens_from_messages`; fit, 4932-pair corpus: ruby-openai's and
    dd-trace-py's 0301 recordings, -1 per message with 3)."""

    message_envelope: bool = True
    """Each message costs `per_message` + its role beside its content. False: only the contents
    count, with no reply priming either (fit, 4932-pair corpus: the search models, gpt-4o-search-
    preview and gpt-4o-mini-search-preview, report the tokens of the messages' texts alone:
    pydantic-ai test_openai_web_search_tool and its user-location twin, a system and a user
    message, 11 and 12; openai-dotnet WebSearchWorks 9; crmne/ruby_llm chat_citations 13; 4 pairs
    +7 and +11 -> exact)."""

    name_prefix: str = ":"
    """A message's `name` follows its role in the message's header, written `{role}{prefix}{name}`
    (openai/harmony renders an author's name as `:{name}` after the role, encoded apart from it),
    so it costs tokens(prefix + name) + `per_name`. This is the cookbook's name + 1 wherever `:`
    does not merge with the name, and 1 less where it does (`:user` is one token in both
    encodings). fit (4932-pair corpus): Arize openinference autogen TestTeam and
    test_instrumenting_model_client (gpt-4o-2024-08-06, a user message named `user` beside ones
    named `primary` and `critic`), 9 pairs +1 -> exact; the cookbook's `example_user` and
    `example_assistant` cost name + 1 either way. gpt-3.5-turbo-0301: "" (the name replaces the
    role, the cookbook's `num_tokens_from_messages`)."""

    per_name: int = 0
    """Tokens a message's `name` costs beside `name_prefix` + its own: 0; gpt-3.5-turbo-0301: -1
    (the name replaces the role)."""

    reply_priming: int = 3
    """Tokens priming the reply. cookbook: 3. fit (reasoning, 47 chat and 57 responses pairs
    without tools, e.g. Mirascope encodes-assistant-message): 2."""

    assistant_extra: int = 0
    """More per assistant message in the history. fit (reasoning: Mirascope resume cassettes, 2)."""

    tools_overhead: int = 9
    """Added once when function tools are offered, beside their rendering. cookbook: 9. fit:
    reasoning models in chat add a hidden tool preamble (90 = 9 + 81, 13 gpt-5 chat pairs with one
    to three tools, e.g. pydantic-ai test_openai_tool_call); Responses has no preamble (8, the
    9 gpt-5 pairs with one tool); gpt-4o in Responses: 3, with property titles rendered as in chat
    (fit, 4932-pair corpus: 608 -> 751 Responses pairs exact, none lost: activeagent, dd-trace-py,
    openllmetry-js and openai-dotnet first turns +3 -> exact, the OpenAI Agents SDK recordings of
    traceloop/openllmetry -35 -> exact, Mirascope `allowed_tools` -11 and developer-message -1 ->
    exact; it replaces an earlier fit of 6, 3 less per undescribed function, no titles and 1 more for a
    json_schema format beside tools)."""

    system_tools_discount: int = 4
    """Subtracted when tools are offered and a system message exists, whose text then ends with a
    newline: chat appends the tools to it. cookbook (weather example). Responses keeps the tools
    apart (0, no newline; fit: pydantic-ai test_prompted_output, 4 gpt-4o pairs with a system
    message, -4 -> exact; gpt-5 test_openai_responses_thinking_with_tool_calls,
    test_openai_responses_phase_live, test_unsupported_model_calls_the_tool, -3/-4 -> exact; 41
    reasoning pairs closer; Mirascope developer messages, never discounted, stay exact; one crewAI
    gpt-4.1 pair with long `instructions` moves from -1 to +3)."""

    instructions: bool = False
    """With tools, the first system (or developer) message is not a message of its own: its text is
    the instructions of harmony's developer message, which holds the tools too,
    `# Instructions\n\n{text}\n\n` before `# Tools` (openai/harmony, the developer message's
    sections), and costs just that (no 3 + role, no discount). fit (reasoning models in chat,
    4932-pair corpus: charmbracelet/fantasy gpt-5 and o4-mini tool tests with a system message,
    22 pairs -3 -> exact; 10 gpt-5 parallel round trips -2 -> +1; no pair moved away but crewAI's
    gpt-5-nano parallel calls, +1 -> +4)."""

    named_choice: int = 7
    """A named tool_choice costs this plus its name's tokens. cookbook-era fit on gpt-4o; fit
    (reasoning: costs nothing, gpt-5 named-choice pairs in both dialects)."""

    required_one_named: bool = False
    """`tool_choice: "required"` with exactly one function tool offered costs what naming that tool
    costs (`named_choice` + its name). fit (gpt-4o family on /v1/responses: activeagent
    test_agent_common_format_tool_choice_required, 47 like its named-choice twin, openai-dotnet
    OutputTextMethod and openllmetry test_responses_api_tool_call_finish_reason, all 9 below without
    it; `required` beside two tools, pydantic-ai test_tool_output, costs nothing). Chat: False (21
    chat pairs with `required` and one tool, ldp, openinference, openllmetry, are exact without)."""

    none_choice: int = 1
    """`tool_choice: "none"` (or legacy `function_call: "none"`) costs this. cookbook-era fit on
    gpt-4o; fit (reasoning, 0: pydantic-ai test_tool_choice_matrix[none-openai] and
    [none-openai_responses], gpt-5-mini, 1 above with 1, as a named choice costs them nothing)."""

    typescript_quirks: bool = True
    """The gpt-4o renderer's one-token quirk (fit, issue 11): one less per function with properties
    whose first property has no comment line (no description, nor a rendered title), unless that is
    its only property and it is an enum or an object (fit, 4932-pair corpus: langgraph's lone
    `city` enum, 34 chat pairs). (A multi-line description is no quirk: each of its lines is a
    comment line, tool_rendering.py.)"""

    property_titles: Titles = "line"
    """How a property's `title` is written (tool_rendering.py `Titles`). "line", `// {title}` above its
    description, parted from it by an empty `//` (fit: chat, 202 gpt-4o and gpt-4.1 pairs whose tools
    carry pydantic titles, from 2 to 99 exact, e.g. crewAI TestNativeToolCallingTokenUsage,
    test_agent_execution_with_tools, whose residue was the title's tokens + 2 per titled property;
    the empty `//` is free in o200k_base and costs 1 in cl100k_base, fit there (4932-pair corpus):
    crewAI test_increment_tool_errors on gpt-4-0125-preview, 6 titled and described properties, -6,
    crewAI platform tools on gpt-3.5-turbo -2 and Future-House ldp test_parameterizing_tool_from_
    arg_union on gpt-3.5-turbo-0125 -1, 10 pairs exact, 2 closer; Mirascope's gpt-4-0613 tools,
    already +20 to +28, 2 further; no title-only property gets it: magentic's and instructor's stay
    exact). Responses renders them too (fit, gpt-4o family, with `tools_overhead` 3: see there). The gpt-5 family: "harmony", `// {title}` and an
    empty `//` (openai/harmony src/encoding.rs; the parameters' own title is not written, as harmony
    writes no object's title), which costs what "line" costs before a description (`//\n//` is one
    token). fit (4932-pair corpus): crewAI's gpt-5-nano native tool calls, titled and described
    properties, 3 first turns -3 and -9 -> exact; their round trips after three parallel calls move
    from +3 to +12 (the history's residue, hidden before by the tools' -9). No titled Responses pair
    on a reasoning model; the row follows chat's."""

    call_history: CallHistory = "typescript"
    """How earlier calls and results count. typescript (fit, gpt-4o chat, pydantic-ai tool round
    trips): a result costs tokens("functions." + name) more, a legacy `function` result too, as a
    tool result from that function (fit, 4932-pair corpus: openai-dotnet FunctionsWork on
    gpt-4o-mini, -2 -> exact, the only such pair); one call costs its name, arguments and
    `single_call`; two or more are one `multi_tool_use.parallel` call (see prompt.py). legacy (hmarr,
    gpt-3.5): a legacy `function_call` costs its name, arguments and 3, its `function` result like
    any message; `tool_calls` and their results still count the typescript way (fit, cl100k:
    crewAI test_agent_execute_task_with_tool on gpt-3.5-turbo -5 -> exact, and
    test_agent_kickoff_with_platform_tools and test_increment_tool_errors on gpt-3.5-turbo and
    gpt-4-0125-preview, whose round trips now keep their first turn's residue, -2 and -6)."""

    described_first: int = 0
    """More when the first function offered has a description (fit, reasoning models, 1: pydantic-ai
    test_tool_choice_matrix and test_tool_search_eval first turns, whose tools are described, are
    1 above the fit on tools without one, in both dialects)."""

    single_call: int = 4
    """Added to an assistant message's one tool call in chat, beside its name and arguments. fit
    (gpt-4o family, 4: pydantic-ai tool round trips, e.g. test_openai_tool_call_roundtrip_wire_stable);
    reasoning models, 8 (fit, with `described_first`: gpt-5, gpt-5-mini and gpt-5.4-mini chat round
    trips, e.g. pydantic-ai test_tool_choice_matrix[auto-openai] and
    test_tool_search_eval[openai-chat], 4 below with 4; with `assistant_extra`, a reasoning round
    trip costs 6 more than gpt-4o's)."""

    call_beside_text: int = 4
    """More for an assistant message in chat that says something and calls a tool: the call is a
    message of its own beside the text, with its own 3 and role (as Responses prices an assistant
    message item before a call item, `call_item`). fit (gpt-4o family, 4932-pair corpus): Mirascope
    resume_with_override_thinking_and_tools, dd-trace-py test_multiple_agent_handoffs_with_chat_
    completions, activeagent travel_agent_custom_user_instructions, 4 pairs of 3 sources -4 ->
    exact, the only ones with text beside a call; the same for other families and for two or more
    calls, a choice without a recording. A legacy `function_call` keeps hmarr's price."""

    parallel_call: int = 2
    """Added to an assistant message's `multi_tool_use.parallel` call (two or more calls in chat),
    beside the wrapper's name and JSON. fit (gpt-4o family, 2: pydantic-ai test_temporal, test_dbos
    and test_prefect parallel round trips, 12 pairs from -1 to exact; Mirascope and crewAI parallel
    calls with arguments stay 7 to 15 below, reason unknown). Reasoning models in chat: 2 as well
    (fit, 4932-pair corpus: charmbracelet/fantasy gpt-5 multi_tool round trips, 10 pairs +1 -> exact
    once their system message counts as harmony's instructions; 3 was fit before that rule)."""

    joined_results: bool = False
    """The results of two or more calls made in one turn (a `multi_tool_use.parallel` call) are one
    message from `multi_tool_use.parallel`: its 4 and that name once, then per result 1 and the
    result's text as a JSON string (quoted, newlines and quotes escaped, non-ASCII `\\u`-escaped),
    1 more for a result that holds non-ASCII, the function not named. Two forum reports saw the API
    JSON-escape tool results, Unicode included, only when a turn made several calls
    (community.openai.com, "Bug: Unicode should not be escaped in multiple tool call results",
    2024, and "Massive token overestimation in multiple tool calls due to internal unicode
    escaping", gpt-4.1 and gpt-5.2). fit (gpt-4o family chat, 26 pairs exact: pydantic-ai
    test_dbos, test_prefect, test_temporal; Mirascope test_call_with_tools; crewAI's three parallel
    searches and reads), and crewAI's hierarchical delegations with long multi-line results from
    -11, -29, -47 to -1. Not on /v1/responses, where each result is a turn of its own
    (`run_as_client`). Non-ASCII (fit,
    4932-pair corpus): escaped and 1 more per such result, 7 pairs of 3 sources made exact
    (Mirascope test_parallel_tool_usage and test_call[tool_parallel_output_scenario], `64°F`, -10;
    openinference agno team_coordinate_run, a curly apostrophe and an em dash, -6 and -13;
    openinference agent-framework test_multiple_tools, -5), crewAI test_kickoff_response_format_with_planning_and_tools -535 ->
    +3 (three results of 87,000 characters), activeagent's multiple tools -14 -> -9; recorded from
    August 2025 to February 12, 2026. crewAI's hierarchical recordings of March and April 2026
    (gpt-4o, 6 pairs) count non-ASCII unescaped: the API seems to have changed then (listed so in
    tests/data/usage_unexplained.jsonl). Reasoning models in chat do not join the results (fit:
    crewAI's three parallel calls on gpt-5-nano, +1 separate, -12 joined)."""

    call_item: int = 0
    """Responses: each function call is an input item and a turn of its own, never wrapped in
    `multi_tool_use.parallel`, costing this plus its name and arguments; an assistant message item
    before it costs its own 4 even when empty (0: calls join the assistant message, as chat sends
    them). fit (gpt-4o family, 9: Mirascope ops resume cassettes, e.g.
    test_model_call_with_tool_outputs, and e2e test_structured_output_with_tools, exact; pydantic-ai
    test_text_output_function, whose empty assistant message costs 4)."""

    client_call_item: int = 0
    """Responses: a function call item without an `id` (one the client wrote, not the API's own
    `fc_…` output item sent back) costs this instead of `call_item`, its arguments counted as sent,
    not compacted. fit (gpt-4o family, 6: pydantic-ai test_openai_responses round trips, which send
    no item ids, e.g. test_openai_responses_model_simple_response_with_tool_call, test_tool_output,
    test_text_output_function and, on gpt-4.1, test_openai_responses_non_reasoning_model_no_item_ids,
    all 3 above with 9; Mirascope test_resume_with_override_thinking_and_tools, which sends
    `{"n": 100}` without an id, 2 above with 9 and compacted; all exact with 6 as sent)."""

    run_as_client: bool = False
    """Responses: each of two or more consecutive `function_call` items (calls made in one turn) is
    priced as a client-written call (`client_call_item`, arguments as sent), whatever its item id,
    and their results are separate turns, not joined (`joined_results` False). fit (gpt-4o family,
    4932-pair corpus): the same Mirascope test_call_with_tools round trip counts 136 with and without
    `fc_…` ids (20 pairs with ids -1 and 5 without -7 -> exact); charmbracelet/fantasy multi_tool
    gpt-4o and gpt-4o-mini without ids (12 pairs +2 -> exact); activeagent gpt-4.1
    test_agent_common_format_multiple_tools with ids and JSON results (+6 -> exact); only two
    recordings of March 2025, before the API change (docs/usage.md), move away (-14 -> -18,
    -215 -> -216). It replaces the joined results (+6 -> -1) on /v1/responses."""

    client_arguments_as_sent: bool = True
    """Responses: a client-written call's arguments count as sent, not compacted (fit, gpt-4o family:
    see `client_call_item`). Reasoning models compact them as they compact the API's own calls (fit:
    simonw/llm gpt-5.5 test_responses_tool_use, `{"a": 1231, "b": 2331}` without an item id, exact
    only compacted, 4 pairs)."""

    reasoning_chars_per_token: float = 0.0
    """An estimate, not a rule: the hidden reasoning of the current turn (Responses `reasoning` items
    after the last user message, sent back with the calls they led to) stays in the prompt, as
    harmony keeps the chain of thought of an unfinished turn (openai/harmony: earlier turns' analysis
    is dropped once a final message follows). Its tokens are not public, only its
    `encrypted_content`: estimated as (characters - `reasoning_envelope`) / this (0: not counted).
    fit (reasoning models on /v1/responses, 6.75 and 780 by least squares: pydantic-ai
    test_tool_choice_matrix, test_openai_responses_requires_function_call_status_none,
    test_thinking_with_tool_calls_from_other_model, test_openai_responses_phase_live, within 18 of
    the real counts instead of 41 to 321 below; reasoning of earlier turns costs nothing, 12 exact
    pairs)."""

    reasoning_item: int = 0
    """Responses: a reasoning item of the current turn whose reasoning tokens are known (an item
    chatdouble wrote carries the count its response reported, server/responses/sealed.py) costs
    them plus this. fit, with the reasoning tokens of the response that wrote each item, from the
    corpus: the item and the call it led to cost 7 more than the tokens and the call's old price of
    10 (simonw/llm gpt-5.5 test_responses_interleaved_reasoning_between_tool_calls #1, #2, #3, with
    1, 2, 3 items, test_responses_round_trips_encrypted_reasoning #1 and langchain gpt-5.2
    test_agent_loop_streaming #1, all exact), so 7 less what `call_item` adds to 10: 2 beside
    gpt-5.x's 15, 5 beside gpt-5's and the o-series' 12 (the rows below). The summary text does
    not count (langchain gpt-5.4 test_phase, 100 summary tokens). The real API's items carry no
    readable count, so theirs is estimated from their size (`reasoning_chars_per_token`)."""

    reasoning_envelope: int = 780
    """Characters of `encrypted_content` that carry no reasoning (see `reasoning_chars_per_token`)."""

    added_tools_overhead: int = 90
    """Responses: an `additional_tools` input item (a developer message adding function tools
    mid-conversation) costs its tools' `namespace functions` rendering plus this, and nothing for
    its role: chat's 9 for a tool block plus the hidden tool preamble of 81 (the gpt-5 chat rows'),
    which top-level Responses tools lack. fit, 4932-pair corpus: pydantic-ai gpt-5.6
    test_supported_model_calls_additional_tool (2 pairs -124 -> exact), langchain
    test_system_additional_tools (gpt-6-astra, a name counted by the gpt-4o row, -110 -> exact),
    pydantic-ai gpt-5 test_tool_availability_portability_matrix R1, R2, R4 (-121 -> -2) and gpt-5.4
    test_cross_provider_capability_replay (8 pairs -127 to -141 -> -3 to -17, with round trips
    around the item). No gpt-4o recording offers the item: the same 90, a choice."""

    hosted_tools: tuple[tuple[str, int], ...] = ()
    """Responses: what offering a hosted tool of a type costs (its hidden instructions, which are not
    public), once per type; a type not listed costs nothing (an estimate, docs/usage.md). fit, a
    constant across sources, dates and the tool's options (docs/usage.md lists the pairs): gpt-4o
    family, `web_search_preview` 294 (29 pairs of pydantic-ai, dd-trace-py, openinference, crewAI,
    langchain and openllmetry, gpt-4o, gpt-4o-mini and gpt-4.1, April 2025 to February 2026, with
    and without `search_context_size` and `user_location`, whether the model searched or not) and
    `web_search` 294 as well (pydantic-ai, gpt-4o in August and gpt-4.1 in November 2025; the
    `web_search` recordings of 2026 count the results of the searches the model made too, thousands
    more, so theirs stays an estimate); reasoning models, `apply_patch` 623 (langchain and
    openai-dotnet gpt-5.1, 10 pairs, March to August 2026)."""

    def hosted_cost(self, kinds: tuple[str, ...]) -> int:
        """What the hosted tools of these types cost together (`hosted_tools`)."""
        if not kinds:
            return 0
        costs = dict(self.hosted_tools)
        return sum(costs.get(kind, 0) for kind in kinds)

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

    format_blank_line: bool = True
    """On /v1/responses (`format_in_system` False), a blank line opens the block. fit (reasoning
    models, False: every o4-mini, gpt-5, gpt-5-nano and gpt-5.4-mini Responses format pair without
    tools, 14 pairs of pydantic-ai, langchain, ruby_llm, fantasy and activeagent recordings, was
    1 above with it)."""


LEGACY = CountingRules(call_history="legacy")
"""cl100k models (gpt-4, gpt-3.5): the cookbook's and hmarr's rules; titles as in gpt-4o chat (fit:
one more crewAI gpt-4 pair exact); the one-token quirk as on gpt-4o (fit, 4932-pair corpus: 32
gpt-3.5-turbo-0125 chat pairs +1 per function with an undescribed first property -> exact, e.g.
langgraph many-tools (4 such tools, +4), instructor-rb, traceloop and dd-trace-py tools; none lost)."""

REASONING_CHAT = CountingRules(
    reply_priming=2,
    instructions=True,
    system_tools_discount=0,
    assistant_extra=2,
    tools_overhead=90,
    single_call=8,
    described_first=1,
    named_choice=0,
    none_choice=0,
    property_titles="harmony",
    compact_arguments=False,
)
"""gpt-5 family (not `-chat`) in chat."""

O_SERIES_CHAT = replace(
    REASONING_CHAT,
    tools_overhead=9,
    property_titles="line",
    single_call=4,
    assistant_extra=0,
    compact_arguments=True,
)
"""o1, o3, o4-mini in chat: primed with 2 like the gpt-5 family, but their tools and history are
written the gpt-4o way: no hidden tool preamble (the cookbook's 9), property titles as comment lines,
a call in the history name + compact arguments + 4, no extra per assistant message. fit: crewAI
test_agent_powered_by_new_o_model_family_* (o3-mini, two conversations with a round trip each: +74,
+83, +81, +87 -> all 4 exact) and pydantic-ai test_openai_model_thinking_part (o3-mini, an assistant
message in the history, +2 -> exact); no other o-series chat pair offers tools."""

O4_CHAT = replace(
    O_SERIES_CHAT, single_call=REASONING_CHAT.single_call, assistant_extra=REASONING_CHAT.assistant_extra
)
"""o3, o4-mini and later in chat: no hidden tool preamble, as o3-mini, but a call in the history costs
what it costs the gpt-5 family (single_call 8, 2 more per assistant message). fit: charmbracelet/fantasy
TestOpenAICommon/openai-o4-mini tool and tool_streaming round trips (6 pairs -6 -> exact with them;
their first turns are exact without the preamble); o3 grouped with o4-mini by release (April 2025),
a choice without a recording."""

REASONING_RESPONSES = CountingRules(
    reply_priming=2,
    reasoning_chars_per_token=6.75,
    reasoning_item=5,
    call_item=12,
    client_call_item=12,
    client_arguments_as_sent=False,
    system_tools_discount=0,
    assistant_extra=2,
    tools_overhead=8,
    named_choice=0,
    none_choice=0,
    property_titles="harmony",
    described_first=1,
    format_in_system=False,
    format_blank_line=False,
    hosted_tools=(("apply_patch", 623),),
)

"""gpt-5, gpt-5-mini and gpt-5-nano (the snapshots of August 2025) on /v1/responses. Each function
call sent back is a turn of its own costing 12 + name + compact arguments, whoever wrote it (fit,
4932-pair corpus, round trips without reasoning items, answered in 2026: charmbracelet/fantasy gpt-5
tool, tool_streaming, thinking and thinking-streaming, 6 pairs -2 -> exact, and multi_tool and
multi_tool_streaming, two calls, 4 pairs +8/+9 -> exact; pydantic-ai gpt-5 tool availability R5
-2 -> exact; crmne/ruby_llm gpt-5-nano function calling, 4 pairs -2/-4 -> exact; llm-openai-plugin
gpt-5-mini test_tools, a result after a user message, -3 -> -1; the same fantasy requests answered in October 2025 cost 3 more per
call, an API change). A reasoning item of the current turn costs its tokens + 5: with its call, 7
more than the call's old price of 10, as gpt-5.x (below). Checked with the reasoning tokens of the
response that wrote the item (the previous pair of its cassette): ruby_llm gpt-5-nano 192 + 5 once,
the others more, by 2 to 61 (pydantic-ai gpt-5 and gpt-5-mini, langchain gpt-5, ruby_llm
gpt-5-nano: 20 items; two ruby_llm pairs with other residues aside, 84 more and 3 less): these snapshots report their reasoning tokens rounded down to a multiple of
64 (every count they report is one: 0, 64, 128, 192, ...; gpt-5.x report 26, 29, 45, 98), while the
prompt counts them all, so an item costs its reported tokens + 5 + 0 to 63 (three gpt-5-mini items
reported as 0 reasoning tokens cost 36, 50 and 61). The real API's items stay an estimate either
way (their `encrypted_content` holds 3.6 to 6.3 bytes per reasoning token on these snapshots)."""

LATER_GPT5_RESPONSES = replace(REASONING_RESPONSES, call_item=15, client_call_item=15, reasoning_item=2)
"""gpt-5.1 and later gpt-5.x on /v1/responses: a function call sent back costs 15 + name + compact
arguments (fit, 4932-pair corpus: langchain gpt-5.4 test_agent_loop, crmne/ruby_llm gpt-5.4 tool
callbacks, simonw/llm gpt-5.5 test_responses_tool_use and its streaming twin, 8 pairs -5 -> exact,
one -6 -> -1; pydantic-ai's gpt-5.2 deferred capability round trips, which mix calls with and without
item ids, -7 and -12 -> +3); a current-turn reasoning item its tokens + 2 (checked with the
reasoning tokens of the responses that wrote the items, from the corpus: simonw/llm gpt-5.5
test_responses_interleaved_reasoning_between_tool_calls keeps 1, 2, 3 items for 45 + 2, 143 + 4,
339 + 6 and test_responses_round_trips_encrypted_reasoning 63 + 2, langchain gpt-5.2
test_agent_loop_streaming 10 + 2, all exact; langchain gpt-5.4 test_phase 168 + 3 and pydantic-ai
gpt-5.5 test_openai_responses_phase_live 29 + 4, 1 and 2 more)."""

O_RESPONSES = replace(REASONING_RESPONSES, tools_overhead=5, property_titles="line")
"""o-series on /v1/responses: 3 less for the tools than the gpt-5 family (5 instead of 8), a call sent
back priced as gpt-5's (12 + name + compact arguments); property titles as in o-series chat (a
choice: no titled o-series Responses pair). fit: charmbracelet/fantasy o4-mini tool,
tool_streaming, thinking and thinking-streaming: the first turns (4 pairs, a developer message and one
described tool) +3 -> exact and their round trips (9 pairs of October 2025 to June 2026) +1 -> exact,
each 3 below gpt-5's count of the same request; o4-mini without tools (fantasy simple, openinference,
Mirascope, crewAI) and with a json_schema format is exact either way."""

O_SERIES_RESPONSES = replace(O_RESPONSES, assistant_extra=0)
"""o1 and o3-mini on /v1/responses: nothing more per assistant message in the history, as in chat
(`O_SERIES_CHAT`), where o3 and o4-mini add 2. fit (4932-pair corpus): openai-dotnet
TwoTurnCrossModel (o3-mini continuing a gpt-4o-mini answer through `previous_response_id`) and
pydantic-ai test_openai_responses_model_thinking_part (September 2025), +2 -> exact; its April 2025
recording, whose reasoning item follows the assistant message it led to, -5 -> -7."""

TABLE: dict[tuple[Family, Dialect], CountingRules] = {
    ("cl100k", "chat"): LEGACY,
    ("cl100k", "responses"): LEGACY,
    ("gpt-4o", "chat"): CountingRules(format_reply_name=2, joined_results=True),
    ("gpt-4o", "responses"): CountingRules(
        tools_overhead=3,
        call_item=9,
        client_call_item=6,
        run_as_client=True,
        system_tools_discount=0,
        format_in_system=False,
        required_one_named=True,
        hosted_tools=(("web_search_preview", 294), ("web_search", 294)),
    ),
    ("reasoning", "chat"): REASONING_CHAT,
    ("reasoning", "responses"): REASONING_RESPONSES,
    ("o-series", "chat"): O_SERIES_CHAT,
    ("o-series", "responses"): O_SERIES_RESPONSES,
    ("o4", "chat"): O4_CHAT,
    ("o4", "responses"): O_RESPONSES,
}
"""One row per family (server/generation/models.py names a model's family) and dialect."""


LATER_GPT5 = "gpt-5."
"""The prefix of the gpt-5.x models after the August 2025 snapshots (gpt-5.1, gpt-5.2, gpt-5.4, ...)."""

SEARCH = CountingRules(message_envelope=False, reply_priming=0)
"""The search models (`-search-preview`): only the messages' texts count (`message_envelope`)."""

SEARCH_MARK = "-search-preview"
"""What a search model's name holds (gpt-4o-search-preview, gpt-4o-mini-search-preview, dated or not)."""

SNAPSHOTS: dict[str, CountingRules] = {
    "gpt-3.5-turbo-0301": replace(LEGACY, per_message=4, name_prefix="", per_name=-1),
}
"""Snapshots whose prompt is written differently from their family's, where the request names them
(cookbook: gpt-3.5-turbo-0301 writes each message as `<|start|>{role or name}\n{content}<|end|>\n`).
A request for the bare alias is counted as the family's current snapshot."""


@functools.lru_cache(maxsize=256)  # on the hot path: a model's row is found once, not per request
def rules_for(model: str, dialect: Dialect) -> CountingRules:
    if SEARCH_MARK in model:
        return SEARCH
    snapshot = next((rules for name, rules in SNAPSHOTS.items() if model.startswith(name)), None)
    rules = snapshot or TABLE[(family(model), dialect)]
    if rules is REASONING_RESPONSES and model.startswith(LATER_GPT5):
        return LATER_GPT5_RESPONSES
    return rules
