"""Request validation with the real API's wording: pydantic errors become OpenAI's 400 envelopes.
Shared by every endpoint; a dialect adds its own cross-field rules.

The messages follow the API's current ("typed") validator: `Invalid type for 'temperature': expected
a decimal, but got a string instead.`, `Invalid 'n': integer below minimum value. ...`, with `param`
naming the field (`messages[0].content`) and `code` such as `invalid_type` or `empty_array`. The
checks the API words differently (tool-message sequencing, parameter combinations) follow its
wording too, typo included.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from server.errors import APIError, invalid_request
from server.fieldpath import field_path
from server.wire.base import Open

log = logging.getLogger("chatdouble.validation")

JSON_PARSE_ERROR = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. "
    "If you have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"
)
DECIMAL_FIELDS = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a decimal",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def locate(data: Any, error: ErrorDetails) -> tuple[str, Any]:
    """The API-style path of an error and the value there, skipping pydantic's union-member tags."""
    node = data
    parts: list[str | int] = []
    loc = error["loc"]
    for position, segment in enumerate(loc):
        in_list = isinstance(segment, int) and isinstance(node, list) and 0 <= segment < len(node)
        in_dict = isinstance(segment, str) and isinstance(node, dict) and segment in node
        if in_list or in_dict:
            parts.append(segment)
            node = node[segment]
        elif position == len(loc) - 1 and error["type"] == "missing":
            parts.append(segment)
            node = None
    return field_path(parts), node


def _choices(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)  # "Supported values are: 'float' and 'base64'."
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _literal_values(expected: str) -> list[str]:
    return [v.strip().strip("'") for v in expected.replace(" or ", ", ").split(",") if v.strip()]


def _number(value: Any) -> str:
    return repr(value) if not isinstance(value, float) or not value.is_integer() else str(int(value))


def _depth(data: Any, error: ErrorDetails) -> int:
    path, _ = locate(data, error)
    return path.count(".") + path.count("[") + (1 if error["type"].startswith("union_tag") else 0)


def pick(data: Any, errors: list[ErrorDetails]) -> ErrorDetails:
    """The error to report: the first field's, and within a union the member that got furthest.

    For `content: [{"type": "text"}]` pydantic reports both "not a string" and "part missing text";
    the deeper one is what the client got wrong.
    """
    field = errors[0]["loc"][:1]
    same_field = [e for e in errors if e["loc"][:1] == field]
    # At equal depth, an error from the member whose type did match (too long, out of range) wins.
    return max(same_field, key=lambda e: (_depth(data, e), e["type"] not in _EXPECTED))


def translate(data: Any, exc: ValidationError, roles: Sequence[str] = ()) -> APIError:
    """The first validation problem, worded as the API words it."""
    errors = exc.errors()
    first = pick(data, errors)
    kind = first["type"]
    path, value = locate(data, first)
    ctx = first.get("ctx", {})
    if kind == "json_invalid":
        return invalid_request(JSON_PARSE_ERROR)
    if kind == "string_too_short" and path == "model":
        return invalid_request("you must provide a model parameter")
    if kind == "missing":
        if path == "model":
            return invalid_request("you must provide a model parameter")
        if path.endswith(".tool_call_id") and path.startswith("messages["):
            index = path[len("messages[") : path.index("]")]
            return invalid_request(
                "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.",
                param=f"messages.[{index}].tool_call_id",
            )
        return invalid_request(
            f"Missing required parameter: '{path}'.", param=path, code="missing_required_parameter"
        )
    if kind == "union_tag_not_found":
        tag = str(ctx.get("discriminator", "type")).strip("'")
        full = f"{path}.{tag}" if path else tag
        return invalid_request(
            f"Missing required parameter: '{full}'.", param=full, code="missing_required_parameter"
        )
    if kind == "union_tag_invalid":
        tag = str(ctx.get("discriminator", "type")).strip("'")
        full = f"{path}.{tag}" if path else tag
        got = ctx.get("tag")
        allowed = (
            list(roles) if tag == "role" and roles else _literal_values(str(ctx.get("expected_tags", "")))
        )
        return invalid_request(
            f"Invalid value: '{got}'. Supported values are: {_choices(allowed)}.",
            param=full,
            code="invalid_value",
        )
    if kind == "literal_error" or kind == "enum":
        allowed = _literal_values(str(ctx.get("expected", "")))
        if not isinstance(value, str):
            return _type_error(data, errors, path, value)
        return invalid_request(
            f"Invalid value: '{value}'. Supported values are: {_choices(allowed)}.",
            param=path,
            code="invalid_value",
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        family = "decimal" if path in DECIMAL_FIELDS or isinstance(value, float) else "integer"
        above = kind.startswith("less")
        bound = next(iter(ctx.values()), None)
        relation = "<=" if above else ">="
        word = "above maximum" if above else "below minimum"
        return invalid_request(
            f"Invalid '{path}': {family} {word} value. Expected a value {relation} {_number(bound)}, "
            f"but got {_number(value)} instead.",
            param=path,
            code=f"{family}_{'above_max' if above else 'below_min'}_value",
        )
    if kind == "too_short":
        if isinstance(value, list) and not value:
            return invalid_request(
                f"Invalid '{path}': empty array. Expected an array with minimum length "
                f"{ctx.get('min_length', 1)}, but got an empty array instead.",
                param=path,
                code="empty_array",
            )
        return invalid_request(
            f"Invalid '{path}': array too short. Expected an array with minimum length {ctx.get('min_length')}, "
            f"but got an array with length {len(value) if isinstance(value, list) else 0} instead.",
            param=path,
            code="array_below_min_length",
        )
    if kind == "too_long":
        return invalid_request(
            f"Invalid '{path}': array too long. Expected an array with maximum length {ctx.get('max_length')}, "
            f"but got an array with length {len(value) if isinstance(value, list) else 0} instead.",
            param=path,
            code="array_above_max_length",
        )
    if kind == "string_too_long":
        return invalid_request(
            f"Invalid '{path}': string too long. Expected a string with maximum length {ctx.get('max_length')}, "
            f"but got a string with length {len(value) if isinstance(value, str) else 0} instead.",
            param=path,
            code="string_above_max_length",
        )
    if kind == "string_pattern_mismatch":
        return invalid_request(
            f"Invalid '{path}': string does not match pattern. Expected a string that matches the pattern "
            f"'{ctx.get('pattern')}'.",
            param=path,
            code="invalid_value",
        )
    if kind in _EXPECTED:
        return _type_error(data, errors, path, value)
    return invalid_request(
        f"Invalid value for '{path}': {first['msg']}.", param=path or None, code="invalid_value"
    )


def _type_error(data: Any, errors: list[ErrorDetails], path: str, value: Any) -> APIError:
    if path == "":
        return invalid_request(JSON_PARSE_ERROR)
    wanted: list[str] = []
    for error in errors:
        if locate(data, error)[0] != path:
            continue
        expected = _EXPECTED.get(error["type"])
        if error["type"] == "literal_error":
            expected = "a string" if not isinstance(value, str) else None
        if error["type"] == "list_type":
            expected = "an array of objects" if _holds_objects(error) else "an array of strings"
        if expected and expected not in wanted:
            wanted.append(expected)
    if value is None and path.endswith(".content") and path.startswith("messages["):
        index = path[len("messages[") : path.index("]")]
        return invalid_request(
            "Invalid value for 'content': expected a string, got null.", param=f"messages.[{index}].content"
        )
    # The API words unions as "one of a string or array of objects": only the first keeps its article.
    rest = [w.removeprefix("a ").removeprefix("an ") for w in wanted[1:]]
    what = wanted[0] if not rest else "one of " + " or ".join([wanted[0], *rest])
    return invalid_request(
        f"Invalid type for '{path}': expected {what}, but got {json_type(value)} instead.",
        param=path,
        code="invalid_type",
    )


def _holds_objects(error: ErrorDetails) -> bool:
    loc = [str(part) for part in error["loc"]]
    return (
        not any(part.startswith("list[str]") for part in loc)
        and "stop" not in loc
        and "modalities" not in loc
    )


def unknown_fields(model: BaseModel, prefix: str = "", ignoring: bool = False) -> list[str]:
    """Paths of every key the schema does not know and the API does not ignore, depth first in
    document order.

    A shape's `unknown_keys` (server.wire.base.Wire) decides whether its own unknown keys count and
    is passed down to the shapes inside it that inherit. Only the fields the client sent
    (`model_fields_set`, a few of a request's many) that hold models are visited, in declaration
    order (the order of the model's `__dict__`), so the report does not depend on set ordering.
    """
    if isinstance(model, Open):
        return []  # accepted as sent (server.wire.base.Open)
    policy = getattr(model, "unknown_keys", "inherit")
    if policy != "inherit":
        ignoring = policy == "ignore"
    extra = None if ignoring else model.__pydantic_extra__
    found = [f"{prefix}.{key}" if prefix else key for key in extra] if extra else []
    fields = model.__dict__  # the set also names the extra keys, which are not in it
    inner = [name for name in model.model_fields_set if isinstance(fields.get(name), (BaseModel, list))]
    if len(inner) > 1:
        order = list(fields)
        inner.sort(key=order.index)
    for name in inner:
        child = fields[name]
        if isinstance(child, BaseModel):
            found.extend(unknown_fields(child, f"{prefix}.{name}" if prefix else name, ignoring))
        elif isinstance(child, list):
            path = f"{prefix}.{name}" if prefix else name
            for index, item in enumerate(child):
                if isinstance(item, BaseModel):
                    found.extend(unknown_fields(item, f"{path}[{index}]", ignoring))
    return found


M = TypeVar("M", bound=BaseModel)


def parse_body(
    raw: bytes,
    model: type[M],
    *,
    reject_unknown: bool,
    roles: Sequence[str] = (),
    rules: Callable[[M], None] | None = None,
) -> M:
    """Validate a body into `model` and its `rules`, or raise the API's 400."""
    try:
        return _parse(raw, model, reject_unknown, rules)
    except ValidationError as exc:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise invalid_request(JSON_PARSE_ERROR) from None
        raise translate(data, exc, roles) from None
    except RecursionError:
        raise invalid_request(JSON_PARSE_ERROR) from None


def _parse(raw: bytes, model: type[M], reject_unknown: bool, rules: Callable[[M], None] | None) -> M:
    try:
        # The usual body holds no key its schema does not know. Validated as if such keys were
        # errors, it needs no search for them; any error sends it the full way, which finds the
        # unknown keys the API ignores or refuses, and any other error, as before.
        body = model.model_validate_json(raw, extra="forbid")
    except ValidationError:
        body = _with_unknown_keys(raw, model, reject_unknown)
    if rules is not None:
        rules(body)
    return body


def _with_unknown_keys(raw: bytes, model: type[M], reject_unknown: bool) -> M:
    body = model.model_validate_json(raw)
    extra = unknown_fields(body)
    if extra:
        if reject_unknown:
            raise invalid_request(
                f"Unknown parameter: '{extra[0]}'.", param=extra[0], code="unknown_parameter"
            )
        log.info("ignoring unknown parameters: %s", ", ".join(extra))
    return body
