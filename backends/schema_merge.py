"""One schema for generating a value that must satisfy two (an `allOf`, a `$ref` with siblings, a
branch of `anyOf` under its parent's keywords). Bounds take the tighter side, `properties` and
subschemas combine under `allOf`, `type` and `enum` intersect; `not`s join, `anyOf`s cross;
any other clash keeps the first. The
merge only guides generation: values are always checked against the original schema.
"""

from __future__ import annotations

from typing import Any

ANNOTATIONS = ("title", "description", "$comment", "examples", "default", "deprecated", "$schema", "$id")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_SUBSCHEMAS = ("items", "additionalProperties", "contains", "propertyNames")


def without(schema: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in keys}


def _types(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [t for t in value if isinstance(t, str)]


def _intersect_types(first: Any, second: Any) -> list[str]:
    one, two = _types(first), _types(second)
    out = [t for t in one if t in two]
    out += ["integer" for t in one if t == "number" and "integer" in two and "integer" not in out]
    out += ["integer" for t in two if t == "number" and "integer" in one and "integer" not in out]
    return out


def merge(base: dict[str, Any], extra: Any) -> dict[str, Any]:
    if not isinstance(extra, dict):
        return dict(base)
    out = dict(base)
    for key, value in extra.items():
        if key not in out:
            out[key] = value
            continue
        mine = out[key]
        if key == "properties" and isinstance(mine, dict) and isinstance(value, dict):
            out[key] = {
                **mine,
                **{n: ({"allOf": [mine[n], s]} if n in mine else s) for n, s in value.items()},
            }
        elif key == "required" and isinstance(mine, list) and isinstance(value, list):
            out[key] = list(dict.fromkeys([*mine, *value]))
        elif key in _LOWER and _numeric(mine, value):
            out[key] = max(mine, value)
        elif key in _UPPER and _numeric(mine, value):
            out[key] = min(mine, value)
        elif key == "type" and isinstance(mine, str | list) and isinstance(value, str | list):
            out[key] = _intersect_types(mine, value)
        elif key == "enum" and isinstance(mine, list) and isinstance(value, list):
            out[key] = [v for v in mine if v in value]
        elif key in _SUBSCHEMAS and mine != value:
            out[key] = {"allOf": [mine, value]}
        elif key == "allOf" and isinstance(mine, list) and isinstance(value, list):
            out[key] = [*mine, *value]
        elif key == "not" and mine != value:
            out[key] = {"anyOf": [mine, value]}
        elif (
            key == "anyOf"
            and isinstance(mine, list)
            and isinstance(value, list)
            and len(mine) * len(value) <= 64
        ):
            out[key] = [{"allOf": [a, b]} for a in mine for b in value]
    return out


def _numeric(first: Any, second: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in (first, second))
