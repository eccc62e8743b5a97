"""Why a schema a request carries must be refused before any backend runs: it is not a schema the
server can apply, it breaks strict mode's limits (the API's own rules and words), or no value fits it
within the synthesizer's caps (no reply could then pass the contract guard)."""

from __future__ import annotations

from typing import Any

from backends.arguments import impossibility
from server.generation.schemas import schema_problem
from server.generation.strict import strict_problem


def schema_refusal(schema: dict[str, Any] | None, strict: bool) -> str | None:
    """The reason to refuse a schema, as a sentence, or None."""
    if schema is None:
        return None
    problem = schema_problem(schema)
    if problem is None and strict:
        refused = strict_problem(schema)  # a whole sentence of the API's
        if refused is not None:
            return refused
    if problem is None:
        problem = impossibility(schema)
    return None if problem is None else f"{problem}."
