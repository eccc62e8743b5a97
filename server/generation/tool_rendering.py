"""The function tools as the model reads them: a TypeScript-like `namespace functions { ... }` block.

The API renders the tools a request offers into the prompt as harmony does (openai/harmony
`src/encoding.rs`, json_schema_to_typescript), with the differences the real counts show (docs/usage.md,
issue 11): descriptions and titles as comment lines, defaults as trailing comments, `$ref`s resolved,
nesting indented only for strict functions. `prompt.py` counts the block; each rule's source is here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from server.generation.conversation import Tool

Titles = Literal["none", "line", "harmony"]
"""How a property's `title` is written: not at all; "line", the comment is the title and the
description parted by a blank line, `// {title}`, `//`, `// {description}` (the gpt-4o family's and
cl100k models' renderer, a fit: with no description, `// {title}` alone); or "harmony", `// {title}`
then an empty `//` whether a description follows or not (openai/harmony src/encoding.rs, which
writes no object's title, only its description). In o200k_base `//\n//` is one token, so the empty
line costs nothing before a description there; in cl100k_base it costs 1."""

FREEFORM = "(_: string)"
"""A custom (free-form) tool's input, written as one string argument, among the functions in the order
offered. fit (4932-pair corpus): langchain test_custom_tool (gpt-5 /v1/responses, `execute_code`
without a format, 2 pairs -31 -> exact); dd-trace-py's custom tool with a Lark grammar, in chat and
/v1/responses (82 apart, as every gpt-5 tool prompt), counts 110 more, what the grammar costs (not
known: it stays listed). `(FREEFORM)` would count the same; the string argument is a choice."""

Defs = Mapping[str, Any]
"""The definitions a schema's `$ref`s may name (`$defs`, or `definitions`, of the parameters)."""


@dataclass(frozen=True, slots=True)
class _Style:
    titles: Titles  # how property titles are written
    step: int  # the indent of a nested object's properties (`nested_indent`)


def nested_indent(function: Tool) -> int:
    """A strict function's nested objects are indented by 2 per level, any other's not at all (fit,
    issue 11, docs/usage.md; a strict schema is rewritten for the sampler first, perhaps why)."""
    return 2 if function.strict else 0


def _format_type(schema: Any, indent: int, style: _Style, defs: Defs, shown: bool = True) -> str:
    """`schema` as a type; `shown`: its own comment lines (title, description) are already written
    above it, as a property's are. An object whose are not (an array's items, a `$ref`'s target)
    opens with them (`_opening`)."""
    if not isinstance(schema, dict):
        return "any"
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in defs:
        # A `$ref` is rendered as the type it names (fit, issue 11: every pair with one moves closer,
        # e.g. Mirascope test_structured_output/tool -26 -> -3, crewAI's TaskEvaluation -56 -> +11,
        # pydantic-ai test_dbos -10 -> +1). Inside it, its own name is `any`: a recursive model ends.
        name = ref.rsplit("/", 1)[-1]
        rest = {k: v for k, v in defs.items() if k != name}
        return _format_type(defs[name], indent, style, rest, shown)
    if "anyOf" in schema:
        return " | ".join(_format_type(member, indent, style, defs) for member in schema["anyOf"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_format_type({**schema, "type": k}, indent, style, defs) for k in kind)
    enum = schema.get("enum")
    if kind == "string":
        return " | ".join(f'"{v}"' for v in enum) if enum else "string"
    if kind in ("number", "integer"):
        return " | ".join(str(v) for v in enum) if enum else "number"
    if kind in ("boolean", "null"):
        return str(kind)
    if kind == "object":
        body = "{\n" + _format_properties(schema, indent + style.step, style, defs) + "\n}"
        return body if shown else _opening(schema, style) + body
    if kind == "array":
        if "items" not in schema:
            return "any[]"
        return _format_type(schema["items"], indent, style, defs, shown=False) + "[]"
    return "any"


ITEMS_INDENT = "    "  # harmony's indent of a nested type, one level (openai/harmony src/encoding.rs)


def _opening(schema: dict[str, Any], style: _Style) -> str:
    """The comment lines an array's items object opens with: its title (where titles are rendered)
    and description, as harmony renders an object's description above its braces, each line and the
    opening brace one level in. fit (4932-pair corpus): sublayer's `a single review` and `a single
    step` items (2 gpt-4o pairs, -7 -> exact) and crewAI's TaskEvaluation, whose `entities` items
    are a `$ref` to a definition titled `Entity` (8 gpt-4o and gpt-4o-mini pairs, -5 -> exact); the
    indent is a choice among renderings of equal cost (the closing brace indented instead of the
    opening one counts the same). Items without comments (pydantic-ai's `answers`) stay exact. A
    property's own schema or a `$ref` it names opens with nothing: its comments are the property's
    (Mirascope's titled `$ref` properties move away if the definition's are added)."""
    lines = _object_comments(schema, style.titles)
    if not lines or not schema.get("properties"):
        return ""
    return "".join(ITEMS_INDENT + line + "\n" for line in lines) + ITEMS_INDENT


def _comments(prop: Any, titles: Titles) -> list[str]:
    """The comment lines above a property: its title (where titles are rendered), its description."""
    if not isinstance(prop, dict):
        return []
    lines = [f"// {prop['title']}"] if titles != "none" and prop.get("title") else []
    if lines and (titles == "harmony" or prop.get("description")):
        lines.append("//")  # the blank line between the title and the description (`Titles`)
    if prop.get("description"):
        lines.append(f"// {prop['description']}")
    return lines


def _object_comments(schema: Any, titles: Titles) -> list[str]:
    """The comment lines an object's own type opens with (the parameters', an array's items'): as a
    property's, but harmony writes an object's description only."""
    return _comments(schema, "none" if titles == "harmony" else titles)


def _format_properties(schema: dict[str, Any], indent: int, style: _Style, defs: Defs) -> str:
    required = set(schema.get("required") or [])
    lines: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        lines.extend(_comments(prop, style.titles))
        optional = "" if name in required else "?"
        lines.append(f"{name}{optional}: {_format_type(prop, indent, style, defs)},{_default(prop)}")
    return "\n".join(" " * indent + line for line in lines)


def _default(prop: Any) -> str:
    """A property's `default` as a trailing comment, as the harmony renderer writes it
    (openai/harmony src/encoding.rs, json_schema_to_typescript): a string quoted unless the property is
    an enum, any other value as compact JSON (`null`, `false`, `[]`). fit: 5 chat pairs made exact
    and every changed pair closer (Mirascope test_model_call_with_tools, crewAI platform tools and
    planning tools, pydantic-ai test_dbos), none moved away."""
    if not isinstance(prop, dict) or "default" not in prop:
        return ""
    value = prop["default"]
    if isinstance(value, str):
        return f" // default: {value}" if prop.get("enum") else f' // default: "{value}"'
    return f" // default: {json.dumps(value, separators=(',', ':'), ensure_ascii=False)}"


def _description_lines(description: str) -> list[str]:
    """A function's description as comment lines: the description stripped, then every line of it its
    own `// ` line, stripped, and a blank line inside it an empty `//` (fit, issue 11: crewAI's
    two-line delegation and max-iteration tool descriptions, 23 chat pairs made exact, e.g.
    test_hierarchical_process; Mirascope test_caching_tool, a long description that opens with a
    blank line and has blank lines after `!` and `---`, +4 -> exact in chat and +7 -> +3 on
    /v1/responses, with no pair moved away; after a line ending in `.` an empty `//` costs what a
    blank line costs, so pydantic-ai's docstrings do not tell the two apart)."""
    return [f"// {line.strip()}" if line.strip() else "//" for line in description.strip().split("\n")]


def _has_defs(function: Tool) -> bool:
    parameters = function.parameters or {}
    return bool(parameters.get("$defs") or parameters.get("definitions"))


def render_functions(functions: tuple[Tool, ...], titles: Titles = "none") -> str:
    """The function (and custom) tools as the model sees them; `titles`: property titles are comments.

    When any function offered has `$defs` (or `definitions`), no function's parameters show their
    own title; their properties' titles still show. fit (4932-pair corpus): Mirascope's strict
    `DetailedBook` tool (chat, gpt-4o-mini, 3 pairs +4 -> exact) and the OpenAI Agents SDK recipe
    agents of traceloop/openllmetry (/v1/responses, gpt-4o, 12 pairs +15 -> exact: `search_recipes`
    without `$defs` loses its title beside `plan_and_apply_recipe_modifications` with them), none
    moved away; every other titled schema (no `$defs` in the request) keeps its title. Whether the
    rule is per request or per function only the recipe agents tell (per function: 12 pairs +6);
    per request is a choice, fitted on them."""
    own: Titles = "none" if any(_has_defs(function) for function in functions) else titles
    lines = ["namespace functions {", ""]
    for function in functions:
        if function.description:
            lines.extend(_description_lines(function.description))
        parameters = function.parameters or {}
        if parameters.get("properties"):
            opening = _object_comments(parameters, own)
            if opening:
                # The parameters' own description opens the type as a comment, as harmony renders an
                # object's description (openai/harmony src/encoding.rs, json_schema_to_typescript);
                # their title too, where titles are rendered.
                lines.append(f"type {function.name} = (_: " + "\n".join(opening))
                lines.append("{")
            else:
                lines.append(f"type {function.name} = (_: {{")
            defs = parameters.get("$defs") or parameters.get("definitions")
            defs = defs if isinstance(defs, dict) else {}
            style = _Style(titles, nested_indent(function))
            lines.append(_format_properties(parameters, 0, style, defs))
            lines.append("}) => any;")
        elif function.kind == "custom":
            lines.append(f"type {function.name} = {FREEFORM} => any;")
        else:
            lines.append(f"type {function.name} = () => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def quirks(function: Tool, titles: Titles) -> int:
    """`CountingRules.typescript_quirks`: one less for a function whose first property has no comment
    line, unless that is its only property, written as a literal (an enum's values, an object)."""
    properties = (function.parameters or {}).get("properties")
    if not properties or not isinstance(properties, dict):
        return 0
    first = next(iter(properties.values()))
    literal = isinstance(first, dict) and bool(first.get("enum") or first.get("type") == "object")
    return int(not _comments(first, titles) and not (len(properties) == 1 and literal))
