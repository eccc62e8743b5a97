"""`POST /v1/embeddings` in the document."""

from __future__ import annotations

from typing import Any

from server.openapi.common import ERRORS, OTHER_ERRORS, error, ref, responses

EMBEDDINGS_OPERATION: dict[str, Any] = {
    "summary": "Create embeddings",
    "operationId": "create_embedding",
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": ref("EmbeddingCreateRequest"),
                "example": {"model": "text-embedding-3-small", "input": "The food was delicious."},
            }
        },
    },
    "responses": responses(
        {
            200: {
                "description": "One unit-length vector per input, as floats or (`encoding_format: base64`) "
                "as base64 of little-endian float32 bytes",
                "content": {"application/json": {"schema": ref("CreateEmbeddingResponse")}},
            },
            **{status: response for status, response in ERRORS.items() if status != 200},
            403: error("A chat model, with which the API does not make embeddings"),
            "default": OTHER_ERRORS,
        }
    ),
}
