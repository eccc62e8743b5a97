"""What every request-side wire shape shares: strict types, unknown keys kept for inspection, the
`null` rule, and how a `stop` (chat's and legacy completions') is read. Imports nothing of ours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

JSONObject = dict[str, Any]

UnknownKeys = Literal["reject", "ignore", "inherit"]
"""What the API does with a key a shape does not know: answer 400 `Unknown parameter`, drop it
unread, or do what the enclosing shape does (the request itself rejects)."""


@dataclass(frozen=True, slots=True)
class _NotNull:
    """Reject an explicit `null` where the API's schema has no null (the field may still be omitted),
    and publish the same: the field's JSON Schema loses its `null` branch, so a schema-valid request
    (the OpenAPI document's, a fuzzer's) is never turned down for a `null` the schema allowed."""

    error_type: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        def check(value: Any) -> Any:
            if value is None:
                raise PydanticCustomError(self.error_type, "Input should not be null")
            return value

        return core_schema.no_info_before_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        branches = [branch for branch in json_schema.pop("anyOf", []) if branch != {"type": "null"}]
        if len(branches) == 1:
            json_schema.update(branches[0])
        elif branches:
            json_schema["anyOf"] = branches
        return json_schema


def stop_sequences(stop: str | list[str] | None) -> tuple[str, ...]:
    """The sequences a request's `stop` cuts the reply at: one or a list, empty ones left out."""
    if not stop:
        return ()
    return (stop,) if isinstance(stop, str) else tuple(s for s in stop if s)


def not_null(error_type: str) -> _NotNull:
    return _NotNull(error_type)


def _published_schema(schema: JsonDict, model: type[Any]) -> None:
    """The JSON Schema says what the server accepts with its default `unknown_fields: reject` (the
    real API's rule): no unknown keys (but where the API ignores them), and no `null` default where
    `null` is refused. A shape that inherits is published closed, the stricter of its two uses."""
    schema["additionalProperties"] = getattr(model, "unknown_keys", "inherit") == "ignore"
    properties = schema.get("properties")
    assert isinstance(properties, dict)
    for name, field in model.model_fields.items():
        if any(isinstance(item, _NotNull) for item in field.metadata):
            published = properties[field.alias or name]
            assert isinstance(published, dict)
            published.pop("default", None)


class Wire(BaseModel):
    """Base for every request-side shape: strict types, unknown keys kept for inspection (the
    route rejects or logs them; see `_published_schema` for what the document promises).

    `unknown_keys` says what the real API does with the keys a shape does not know; a shape that
    inherits follows the shape that holds it, and the request itself rejects."""

    unknown_keys: ClassVar[UnknownKeys] = "inherit"

    model_config = ConfigDict(
        strict=True, extra="allow", frozen=False, allow_inf_nan=False, json_schema_extra=_published_schema
    )


class Open(Wire):
    """A shape accepted as sent, its keys unchecked: what a dialect passes through but does not read
    (hosted tools, their call items). Unknown-key checks skip it."""

    open_shape: ClassVar[bool] = True
