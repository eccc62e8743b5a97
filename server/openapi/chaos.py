"""The chaos admin routes, `/_chatdouble/chaos` (docs/latency-and-chaos.md): not OpenAI's API, but
documented so a client in any language can switch faults on and off."""

from __future__ import annotations

from typing import Any

from server.http.chaos_board import ChaosPlan
from server.openapi.common import REF, error, ref, responses

SCOPE: dict[str, dict[str, Any]] = {
    "key": {"type": "string", "description": "Another key's namespace (needs the admin token)."},
    "session": {"type": "string", "description": "A session of the key: the namespace key + session."},
    "all": {"type": "boolean", "enum": [True], "description": "Every namespace (needs the admin token)."},
}


def schemas() -> dict[str, Any]:
    """ChaosPlan and the models it holds, as components."""
    schema = ChaosPlan.model_json_schema(ref_template=REF)
    defs = schema.pop("$defs", {})
    shown = {
        "type": "object",
        "properties": {
            "object": {"type": "string", "enum": ["chatdouble.chaos"]},
            "all": {
                "type": "boolean",
                "description": "Whether the plan shown is the one for all namespaces.",
            },
            **schema["properties"],
        },
        "required": ["object", "all", "chaos", "routes"],
    }
    request = {**schema, "properties": {**schema["properties"], **SCOPE}, "title": "ChaosRequest"}
    return {**defs, "ChaosPlan": schema, "ChaosRequest": request, "ChaosState": shown}


ANSWERS = responses(
    {
        200: {
            "description": "The chaos plan in force for the scope",
            "content": {"application/json": {"schema": ref("ChaosState")}},
        },
        400: error("A body that is not a chaos plan: the field at fault in `param`"),
        401: error("No valid key, or another key's namespace (or all) without the admin token"),
    }
)


def _operation(summary: str, operation_id: str, body: bool, query: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "operationId": operation_id, "responses": ANSWERS}
    if body:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": ref("ChaosRequest")}},
        }
    if query:
        operation["parameters"] = [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": spec["description"],
            }
            for name, spec in SCOPE.items()
        ]
    return operation


PATHS = {
    "/_chatdouble/chaos": {
        "get": _operation(
            "Show the chaos in force for a namespace, or for all", "get_chaos", False, query=True
        ),
        "put": _operation("Set chaos for a namespace, or for all", "put_chaos", True),
        "delete": _operation("Turn chaos off for a namespace, or for all", "delete_chaos", True),
    }
}
