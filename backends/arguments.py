"""Deterministic JSON values that satisfy a JSON Schema, for synthesized tool-call arguments.

Each schema node offers candidate values, best first, and the first that the contract guard's own
validator accepts is taken, so keywords the generator does not model (`not`, `if`, `contains`'s
counts, `dependentSchemas`, ...) are still honoured by trying the next candidate. Candidates follow
`type` (or the keywords that imply one, then every other type), `const`/`enum`, the branches of
`anyOf`/`oneOf`/`if`-`then`-`else`, and merged `allOf` parts; `seed` picks among valid values.

A recursion (a `$ref` met again below itself) and anything nested deeper than a few levels is built
"lean": the cheapest instance, with optional properties left out, arrays at `minItems`, and null or
the simplest type first. Lean values are memoised per schema; meeting a schema inside its own lean
build is a cycle that cannot be the cheapest instance, so that branch is abandoned for another.

When no value fits, or none fits within the size caps (`backends/synthesis.py`), `Unsatisfiable`
names the keyword and where it sits; request validation answers that as a 400 before any backend
runs. Values are checked with formats asserted too, so a client that parses them gets real ones.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from fractions import Fraction
from itertools import islice
from typing import Any

from backends import scalars
from backends.composite import arrays, objects
from backends.schema_merge import ANNOTATIONS, merge, without
from backends.synthesis import MAX_DEPTH, Cycle, Unsatisfiable, place
from server.generation.schemas import Validator, canonical, validator

_MAX_WORK = 200_000  # schema nodes visited while building one value
_MAX_CHARS = 2_000_000  # characters in all the strings of one value
_LEAN_FROM = 12  # from this depth on, values are built lean
_TRIES = 48  # candidates tried per node
_TYPES = ("string", "integer", "number", "boolean", "null", "object", "array")
_LEAN_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


class _Work:
    """What one synthesis shares across seeds: validators, lean values, and its budgets."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.resolver = validator(root)._resolver  # `$ref`s in subschemas resolve against the root
        self.checks: dict[int, tuple[Any, Any]] = {}
        self.lean: dict[str, Any] = {}
        self.active: set[str] = set()
        self.cycles = 0
        self.steps = 0
        self.chars = 0

    def valid(self, schema: Any, value: Any) -> bool:
        return bool(self.check(schema).is_valid(value))

    def check(self, schema: Any) -> Any:
        held = self.checks.get(id(schema))
        if held is None or held[0] is not schema:
            # Formats are checked too (the guard does not), so clients that parse them get real ones.
            checker = Validator(schema, _resolver=self.resolver, format_checker=Validator.FORMAT_CHECKER)
            held = (schema, checker)  # holding the schema pins its id
            self.checks[id(schema)] = held
        return held[1]

    def tick(self, where: str) -> None:
        self.steps += 1
        if self.steps > _MAX_WORK:
            raise Unsatisfiable(
                f"the schema needs more work than the server spends on one value (at '{place(where)}')"
            )


Thunk = Callable[[], Any]


class Synthesizer:
    """Builds one value for a schema; `$ref`s resolve against the root document."""

    def __init__(self, root: dict[str, Any], seed: int = 0, work: _Work | None = None) -> None:
        self.root = root
        self.seed = seed
        self.work = work or _Work(root)
        self.refs: list[tuple[str, int]] = []  # the `$ref`s being followed, with the depth each was met at
        self.breadth = 24  # candidates per type; wider when distinct values are drawn

    def build(self) -> Any:
        try:
            value = self.value(self.root, "#", 0, False)
        except RecursionError:
            raise Unsatisfiable("the schema is nested too deeply to build a value") from None
        if not self.work.valid(self.root, value):
            raise Unsatisfiable("no value satisfying the schema was found")
        return value

    def value(self, schema: Any, where: str, depth: int, lean: bool, name: str = "") -> Any:
        self.work.tick(where)
        if schema is False:
            raise Unsatisfiable(f"the schema at '{place(where)}' is false: no value is allowed")
        if not isinstance(schema, dict):
            return None if lean else name or "value"
        if depth > MAX_DEPTH:
            raise Unsatisfiable(f"a value at '{place(where)}' would be nested deeper than {MAX_DEPTH} levels")
        lean = lean or depth >= _LEAN_FROM
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._ref(schema, ref, where, depth, lean, name)
        if not lean:
            return self._pick(schema, where, depth, False, name)
        key = canonical(schema)
        work = self.work
        if key in work.lean:
            found = work.lean[key]
            if isinstance(found, Unsatisfiable):
                raise found
            return found
        if key in work.active:
            work.cycles += 1
            raise Cycle(f"the schema at '{place(where)}' only recurses: no finite value satisfies it")
        cycles = work.cycles
        work.active.add(key)
        try:
            found = self._pick(schema, where, depth, True, name)
        except Unsatisfiable as exc:
            if work.cycles == cycles:  # a failure that did not hang on an unfinished schema is final
                work.lean[key] = exc
            raise
        finally:
            work.active.discard(key)
        work.lean[key] = found
        return found

    def _ref(self, schema: dict[str, Any], ref: str, where: str, depth: int, lean: bool, name: str) -> Any:
        if (ref, depth) in self.refs:
            raise Unsatisfiable(
                f"'$ref' at '{place(where)}' leads back to itself without nesting: the schema never ends"
            )
        target = self.resolve(ref)
        rest = without(schema, "$ref", *ANNOTATIONS)
        again = any(seen == ref for seen, _ in self.refs)  # a recursion: end it at its cheapest instance
        self.refs.append((ref, depth))
        try:
            if rest:
                return self._pick(schema, where, depth, lean or again, name, generate=merge(rest, target))
            return self.value(target, ref, depth, lean or again, name)
        finally:
            self.refs.pop()

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for part in ref[1:].split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                node = node.get(part, {}) if isinstance(node, dict) else {}
        return node

    def _pick(
        self, schema: dict[str, Any], where: str, depth: int, lean: bool, name: str, generate: Any = None
    ) -> Any:
        """The first candidate for `generate` (default: `schema`) that `schema` accepts."""
        reason: Unsatisfiable | None = None
        last: list[Any] = []
        for thunk in islice(
            self.candidates(schema if generate is None else generate, where, depth, lean, name), _TRIES
        ):
            try:
                value = thunk()
            except Unsatisfiable as exc:
                reason = reason if reason is not None and not isinstance(reason, Cycle) else exc
                continue
            if self.work.valid(schema, value):
                return value
            last = [value]
        if reason is not None and not last:
            raise reason
        raise Unsatisfiable(self._why(schema, where, last, reason))

    def _why(self, schema: dict[str, Any], where: str, last: list[Any], reason: Unsatisfiable | None) -> str:
        if reason is not None and not isinstance(reason, Cycle):
            return str(reason)
        if last:
            error = min(self.work.check(schema).iter_errors(last[0]), key=lambda e: len(e.path), default=None)
            if error is not None:
                spot = where + "".join(f"/{p}" for p in error.schema_path if p != error.validator)
                return f"no value satisfies '{error.validator}' at '{place(spot)}'"
        return str(reason) if reason is not None else f"no value satisfies the schema at '{place(where)}'"

    def candidates(
        self, schema: dict[str, Any], where: str, depth: int, lean: bool, name: str
    ) -> Iterator[Thunk]:
        if "const" in schema:
            yield lambda: schema["const"]
            return
        if isinstance(schema.get("enum"), list):
            options = schema["enum"]
            turn = 0 if lean or not options else self.seed % len(options)
            for option in options[turn:] + options[:turn]:
                yield functools.partial(_same, option)
            return
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                others = without(schema, key)
                order = sorted(range(len(branches)), key=lambda i: _null(branches[i]) != lean)
                for i in order:
                    yield from self._sub(merge(others, branches[i]), f"{where}/{key}/{i}", depth, lean, name)
                return
        if isinstance(schema.get("allOf"), list):
            merged = without(schema, "allOf")
            for part in schema["allOf"]:
                if isinstance(part, dict) and isinstance(part.get("$ref"), str):
                    part = merge(without(part, "$ref"), self.resolve(part["$ref"]))
                merged = merge(merged, part)
            yield from self._sub(merged, where, depth, lean, name)
            return
        if "if" in schema:
            rest = without(schema, "if", "then", "else")
            for key in ("then", "else"):
                yield from self._sub(merge(rest, schema.get(key)), where, depth, lean, name, 8)
            yield from self._typed(rest, where, depth, lean, name)
            return
        yield from self._typed(schema, where, depth, lean, name)

    def _sub(
        self, schema: dict[str, Any], where: str, depth: int, lean: bool, name: str, limit: int = 16
    ) -> Iterator[Thunk]:
        if isinstance(schema.get("$ref"), str):
            yield lambda: self.value(schema, where, depth, lean, name)
            return
        yield from islice(self.candidates(schema, where, depth, lean, name), limit)

    def _typed(
        self, schema: dict[str, Any], where: str, depth: int, lean: bool, name: str
    ) -> Iterator[Thunk]:
        for kind in _types(schema, lean):
            if kind == "object":
                yield from objects(self, schema, where, depth, lean)
            elif kind == "array":
                yield from arrays(self, schema, where, depth, lean)
            elif kind in ("integer", "number"):
                start = Fraction(self.seed % 10) if kind == "integer" else Fraction(1, 2) + self.seed % 10
                try:
                    found = scalars.numbers(schema, kind, where, Fraction(0) if lean else start, self.breadth)
                except Unsatisfiable as exc:
                    yield functools.partial(_raise, exc)
                    continue
                for number in found:
                    yield functools.partial(_same, number)
            elif kind == "boolean":
                yield lambda: self.seed % 2 == 0
                yield lambda: self.seed % 2 != 0
            elif kind == "null":
                yield lambda: None
            else:
                yield from self._strings(schema, where, name)

    def _strings(self, schema: dict[str, Any], where: str, name: str) -> Iterator[Thunk]:
        text = name or "value"
        if self.seed:
            text = f"{text}{self.seed % 1000}"
        try:
            for found in scalars.strings(schema, where, text, self.seed, self.breadth):
                yield functools.partial(self._counted, found)
        except Unsatisfiable as exc:
            yield functools.partial(_raise, exc)

    def _counted(self, text: str) -> str:
        self.work.chars += len(text)
        if self.work.chars > _MAX_CHARS:
            raise Unsatisfiable(f"the value would hold more than {_MAX_CHARS} characters of strings")
        return text

    def variant(self, offset: int, breadth: int = 24) -> Synthesizer:
        """The same synthesis under another seed, sharing this one's work (for distinct values)."""
        other = Synthesizer(self.root, self.seed + offset, self.work)
        other.refs = list(self.refs)
        other.breadth = breadth
        return other

    def valid_values(self, schema: Any, where: str, depth: int, lean: bool) -> Iterator[Any]:
        """Every candidate `schema` accepts, in order (a `$ref` followed first)."""
        while isinstance(schema, dict) and set(schema) - set(ANNOTATIONS) == {"$ref"}:
            schema = self.resolve(schema["$ref"])
        if not isinstance(schema, dict) or isinstance(schema.get("$ref"), str):
            yield self.value(schema, where, depth, lean)
            return
        for thunk in self.candidates(schema, where, depth, lean, ""):
            try:
                value = thunk()
            except Unsatisfiable:
                continue
            if self.work.valid(schema, value):
                yield value


def _same(value: Any) -> Any:
    return value


def _raise(exc: Exception) -> Any:
    raise exc


def _null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _types(schema: dict[str, Any], lean: bool) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        kinds = [declared]
    elif isinstance(declared, list):
        kinds = [k for k in declared if isinstance(k, str)]
    else:
        implied = [k for k, keys in _IMPLIED if any(key in schema for key in keys)]
        kinds = implied + [k for k in _TYPES if k not in implied]
    order = _LEAN_TYPES if lean else (*[k for k in kinds if k != "null"], "null")
    return sorted(dict.fromkeys(kinds), key=lambda k: order.index(k) if k in order else len(order))


_IMPLIED = (
    ("object", ("properties", "required", "additionalProperties", "minProperties", "patternProperties")),
    ("array", ("items", "prefixItems", "contains", "minItems", "uniqueItems")),
    ("string", ("pattern", "minLength", "maxLength", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)


def synthesize(schema: dict[str, Any] | None, seed: int = 0) -> Any:
    """A value valid under `schema` (an empty object for a tool without parameters).

    Raises `Unsatisfiable` when there is none within the caps; request validation has already
    answered such a schema with a 400 (`impossibility`). A seed whose choices lead nowhere falls
    back to seed 0, whose value validation has seen built.
    """
    if not schema:
        return {}
    try:
        return Synthesizer(schema, seed).build()
    except Unsatisfiable:
        if not seed:
            raise
    return Synthesizer(schema, 0).build()


@functools.lru_cache(maxsize=512)
def _impossibility(text: str) -> str | None:
    try:
        Synthesizer(json.loads(text), 0).build()
    except Unsatisfiable as exc:
        return str(exc)
    return None


def impossibility(schema: dict[str, Any] | None) -> str | None:
    """Why no value can be synthesized for `schema` (a schema already checked), or None."""
    return _impossibility(canonical(schema)) if schema else None
