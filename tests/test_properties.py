"""Property-based checks: synthesized arguments satisfy their schemas (with the contract guard's
validator, formats checked too), recursive and deep ones, `not`, `if`/`then`/`else`, `contains`,
`uniqueItems`, fractional `multipleOf` and patterns with length bounds included; a schema that may
have no value yields one or a named `Unsatisfiable`, never anything else. Cuts never overrun or split."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from backends.arguments import synthesize
from backends.synthesis import Unsatisfiable
from server.generation.channel import Channel
from server.generation.schemas import NO_REMOTE, Validator
from server.generation.tokens import Tokenizer

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


def _string() -> st.SearchStrategy[dict[str, Any]]:
    def build(low: int, extra: int, fmt: str | None) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "minLength": low, "maxLength": low + extra}
        if fmt:
            schema = {"type": "string", "format": fmt}
        return schema

    enum = st.lists(st.text(max_size=5), min_size=1, max_size=4, unique=True).map(
        lambda values: {"type": "string", "enum": values}
    )
    sized = st.builds(
        build, st.integers(0, 5), st.integers(0, 10), st.sampled_from([None, "date-time", "email", "uuid"])
    )
    return st.one_of(sized, enum)


def _number(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    def build(low: int | None, span: int, exclusive: bool, step: int | float | None) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": kind}
        if low is not None:
            start = low / 4 if kind == "number" else low
            schema["exclusiveMinimum" if exclusive else "minimum"] = start
            schema["maximum"] = start + span + 6  # wide enough for any step below
        if step:
            schema["multipleOf"] = step
        return schema

    steps = [None, 2, 3, 5] + ([0.1, 0.25, 0.01, 1.5, 0.3] if kind == "number" else [])
    return st.builds(
        build,
        st.one_of(st.none(), st.integers(-50, 50)),
        st.integers(0, 20),
        st.booleans(),
        st.sampled_from(steps),
    )


PATTERNS = ["^[a-z]+$", "^[A-Z]{2}-[0-9]+$", "[0-9]{3}", "^(ab|cd)+x?$", "^\\w+@\\w+\\.com$"]


def _patterned() -> st.SearchStrategy[dict[str, Any]]:
    def build(pattern: str, low: int, extra: int) -> dict[str, Any]:
        return {"type": "string", "pattern": pattern, "minLength": low, "maxLength": low + 12 + extra}

    return st.builds(build, st.sampled_from(PATTERNS), st.integers(0, 30), st.integers(0, 10))


LEAVES = st.one_of(
    _string(),
    _patterned(),
    _number("integer"),
    _number("number"),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.builds(lambda v: {"const": v}, st.one_of(st.integers(), st.text(max_size=4), st.booleans())),
)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    def obj(props: dict[str, dict[str, Any]], required: list[bool], closed: bool) -> dict[str, Any]:
        names = list(props)
        return {
            "type": "object",
            "properties": props,
            "required": [n for n, r in zip(names, required, strict=False) if r],
            "additionalProperties": not closed,
        }

    def arr(items: dict[str, Any], low: int, extra: int) -> dict[str, Any]:
        return {"type": "array", "items": items, "minItems": low, "maxItems": low + extra}

    def unique(low: int) -> dict[str, Any]:
        # items from endless domains, so any count of distinct ones exists
        return {"type": "array", "items": {"type": "string"}, "minItems": low, "uniqueItems": True}

    def contains(child: dict[str, Any], low: int) -> dict[str, Any]:
        return {"type": "array", "contains": child, "minContains": low, "maxContains": low + 1}

    def conditional(props: dict[str, dict[str, Any]], flag: bool) -> dict[str, Any]:
        names = list(props)
        return {
            "type": "object",
            "properties": {"flag": {"type": "boolean"}, **props},
            "required": ["flag"],
            "if": {"properties": {"flag": {"const": flag}}},
            "then": {"required": names[:1]},
            "else": {"required": names[1:2]},
        }

    def negated(child: dict[str, Any]) -> dict[str, Any]:
        # "not" of a type the child never is (a string or an object, depending on the child)
        kind = "object" if child.get("type") != "object" else "string"
        return {**child, "not": {"type": kind}} if "type" in child else child

    return st.one_of(
        st.builds(
            obj,
            st.dictionaries(NAMES, children, max_size=4),
            st.lists(st.booleans(), max_size=4),
            st.booleans(),
        ),
        st.builds(arr, children, st.integers(0, 3), st.integers(0, 3)),
        st.builds(lambda branches: {"anyOf": branches}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda kinds: {"type": kinds}, st.just(["string", "null"])),
        st.builds(unique, st.integers(0, 40)),
        st.builds(contains, children, st.integers(1, 3)),
        st.builds(
            conditional,
            st.dictionaries(NAMES.filter(lambda n: n != "flag"), children, min_size=2, max_size=3),
            st.booleans(),
        ),
        st.builds(negated, children),
    )


SCHEMAS = st.recursive(LEAVES, _extend, max_leaves=12)


def with_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Move the schema under $defs and point at it, so $ref resolution is exercised too."""
    return {
        "$defs": {"inner": schema},
        "type": "object",
        "properties": {"value": {"$ref": "#/$defs/inner"}},
        "required": ["value"],
    }


def recursive(schema: dict[str, Any]) -> dict[str, Any]:
    """A tree of `schema` values: each node may hold children of its own kind, by `$ref`."""
    return {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": schema,
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                    "parent": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
                    "root": {"$ref": "#"},
                },
                "required": ["value", "children", "parent"],
            }
        },
        "$ref": "#/$defs/node",
    }


def deep(schema: dict[str, Any], levels: int) -> dict[str, Any]:
    for index in range(levels):
        schema = {"type": "object", "properties": {f"l{index}": schema}, "required": [f"l{index}"]}
    return schema


SHAPES = st.sampled_from(["plain", "referenced", "recursive", "deep"])


def shaped(schema: dict[str, Any], shape: str, levels: int) -> dict[str, Any]:
    return {"plain": schema, "referenced": with_refs(schema), "recursive": recursive(schema)}.get(
        shape, deep(schema, levels)
    )


def errors_of(root: dict[str, Any], value: Any) -> list[str]:
    checker = Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER, registry=NO_REMOTE)
    return [e.message for e in checker.iter_errors(value)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCHEMAS, st.integers(0, 1000), SHAPES, st.integers(1, 45))
def test_synthesized_arguments_satisfy_schema(
    schema: dict[str, Any], seed: int, shape: str, levels: int
) -> None:
    root = shaped(schema, shape, levels)
    value = synthesize(root, seed)
    assert errors_of(root, value) == [], (root, value)


def _risky(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Combinations that may have no value at all: `not` of anything, contradicting branches."""
    return st.one_of(
        st.builds(lambda a, b: {**a, "not": b}, children, children),
        st.builds(lambda a, b: {"allOf": [a, b]}, children, children),
        st.builds(lambda a, b: {"if": a, "then": b, "else": {"not": b}}, children, children),
        st.builds(lambda a: {"type": "array", "items": a, "minItems": 3, "uniqueItems": True}, children),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(LEAVES, lambda c: st.one_of(_extend(c), _risky(c)), max_leaves=8), st.integers(0, 50))
def test_any_schema_gets_a_valid_value_or_a_named_refusal(schema: dict[str, Any], seed: int) -> None:
    try:
        value = synthesize(schema, seed)
    except Unsatisfiable as exc:
        refusal = str(exc)
        assert "'" in refusal  # it names a keyword or a place
        return
    assert errors_of(schema, value) == [], (schema, value)


TOKENIZER = Tokenizer.named("cl100k_base")


def split(units: list[str], sizes: list[int]) -> list[str]:
    """Deltas of `sizes` units each (characters or tokens), the rest in a last delta."""
    deltas: list[str] = []
    for size in sizes:
        if units:
            deltas.append("".join(units[:size]))
            units = units[size:]
    if units:
        deltas.append("".join(units))
    return deltas


TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    TEXT,
    st.lists(st.integers(1, 12), min_size=1, max_size=20),
    st.lists(st.text(min_size=1, max_size=3), max_size=4),
    st.one_of(st.none(), st.integers(0, 25)),
)
def test_cuts_never_overrun_or_split_characters(
    text: str, sizes: list[int], stops: list[str], limit: int | None
) -> None:
    deltas = split(list(text), sizes)
    channel = Channel(TOKENIZER, stop=tuple(stops), budget=limit)
    released: list[str] = []
    cut = None
    for delta in deltas:
        pieces, cut = channel.feed(delta)
        released += pieces
        if cut is not None:
            break
    if cut is None:
        released += channel.flush()
    final = "".join(released)
    assert final == channel.text
    assert text.startswith(final)  # nothing past the cut, nothing invented
    assert "\ufffd" not in final or "\ufffd" in text
    if stops:
        assert not any(s in final for s in stops)
    if cut is not None and cut.reason == "stop":
        assert any(text[len(final) :].startswith(s) for s in stops)
    if limit is not None:
        assert TOKENIZER.count(final) <= limit
    if cut is None:
        assert final == text
    # whole deltas before the cut keep their boundaries
    joined = 0
    for piece, delta in zip(released, deltas, strict=False):
        if joined + len(delta) <= len(final):
            assert piece == delta
        joined += len(delta)


def _run(deltas: list[str], stops: list[str], limit: int | None) -> tuple[str, str | None]:
    channel = Channel(TOKENIZER, stop=tuple(stops), budget=limit)
    released: list[str] = []
    for delta in deltas:
        pieces, cut = channel.feed(delta)
        released += pieces
        if cut is not None:
            return "".join(released), cut.reason
    return "".join(released + channel.flush()), None


@settings(max_examples=300, deadline=None)
@given(
    TEXT,
    st.lists(st.integers(1, 4), min_size=1, max_size=30),
    st.lists(st.text(min_size=1, max_size=4), max_size=3),
    st.one_of(st.none(), st.integers(0, 20)),
)
def test_streamed_and_whole_replies_agree(
    text: str, sizes: list[int], stops: list[str], limit: int | None
) -> None:
    """The same reply is cut the same way whether it arrives whole or in deltas made of its tokens
    (as a model streams it: a delta never splits a token)."""
    deltas = split(TOKENIZER.pieces(text), sizes)
    whole = _run([text] if text else [], stops, limit)
    pieces = _run(deltas, stops, limit)
    assert pieces == whole
