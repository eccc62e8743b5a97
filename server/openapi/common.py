"""What every operation of the document shares: component references and the error responses."""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/{model}"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref("ErrorEnvelope")}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: error("Invalid request: malformed JSON, wrong content type, or a parameter out of schema"),
    401: error("Missing or invalid API key (only when API keys are configured)"),
    404: error("Unknown model (`model_not_found`) or unknown URL"),
    413: error("Request body over the configured size limit"),
    500: error("Server error"),
}
# Statuses no route produces on its own: a fixture's scripted error (any status, e.g. 429 or 503) or a
# proxy's upstream answer, passed through, or its 502/504 when the upstream fails.
OTHER_ERRORS = error("A scripted fixture error or an upstream error, in the same envelope")


def responses(table: dict[int | str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """An operation's `responses`, keyed by status text as the document writes them."""
    return {str(status): response for status, response in table.items()}
