"""JSON Schemas that requests carry (function `parameters`, `response_format.json_schema`).

They are checked once when a request is validated: a schema that is not a valid JSON Schema, or
that points outside itself (`$ref` to a URL), is the client's error, a 400. Validators are built
with an empty registry, so no `$ref` ever makes the server fetch anything. Checks and validators are
memoised by the schema's canonical JSON: agent loops send the same tools with every request.

`multipleOf` is judged in decimal, as JSON Schema defines it: jsonschema divides floats, so it
finds 0.3 no multiple of 0.1, and a model's `0.3` would be reported as a contract violation.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry

NO_REMOTE = Registry()


def exact(number: int | float) -> Fraction:
    """The value a JSON number's text denotes (a float by its shortest repr, as it was written)."""
    return Fraction(number) if isinstance(number, int) else Fraction(Decimal(repr(number)))


def _multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "number"):
        return
    try:
        failed = exact(instance) % exact(step) != 0
    except (ArithmeticError, InvalidOperation, ValueError):  # inf or nan: no multiple of anything
        failed = True
    if failed:
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


Validator: Any = validators.extend(  # type: ignore[no-untyped-call]  # jsonschema leaves `extend` untyped
    Draft202012Validator, {"multipleOf": _multiple_of}
)


def canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def resolve_ref(root: Any, ref: str) -> Any:
    """The node a local `$ref` (`#/$defs/x`: a JSON pointer into `root`) names; {} where it names
    nothing, and for a remote ref, which is never fetched."""
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref.lstrip("#").split("/"):
        if part:
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node


def _remote_ref(node: Any) -> str | None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return ref
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _remote_ref(child)
        if found is not None:
            return found
    return None


@functools.lru_cache(maxsize=1024)
def _problem(text: str) -> str | None:
    schema = json.loads(text)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"{exc.message}" + (f" (at '{where}')" if where else "")
    except RecursionError:
        return "the schema is nested too deeply"
    remote = _remote_ref(schema)
    if remote is not None:
        return f"only local references ('#/...') are supported, not '{remote}'"
    return None


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a usable JSON Schema, or None."""
    try:
        return _problem(canonical(schema))
    except (ValueError, RecursionError):
        return "the schema is not valid JSON or is nested too deeply"


@functools.lru_cache(maxsize=1024)
def _validator(text: str) -> Any:
    return Validator(json.loads(text), registry=NO_REMOTE)


def validator(schema: Any) -> Any:
    """The validator the contract guard applies to `schema` (a schema already checked)."""
    return _validator(canonical(schema))


def first_error(schema: dict[str, Any] | None, value: Any) -> str | None:
    """The first way `value` fails `schema` (a schema already checked), or None."""
    if not schema:
        return None
    try:
        errors = validator(schema).iter_errors(value)
        error = min(errors, key=lambda e: list(map(str, e.path)), default=None)
    except Exception as exc:  # a schema jsonschema cannot apply (e.g. an unresolvable ref)
        return f"the schema cannot be applied: {type(exc).__name__}"
    if error is None:
        return None
    where = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.path)
    return str(error.message) + (f" at {where}" if where else "")
