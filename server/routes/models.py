"""`GET /v1/models` and `GET /v1/models/{model}`."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from server.http.auth import authenticate
from server.http.forward import forward_models
from server.http.json_response import JSONBody
from server.openapi import MODEL_LIST_RESPONSES, MODEL_RESPONSES
from server.runtime import Runtime, runtime_of
from server.wire.models import Model, ModelList

router = APIRouter()


def model_object(name: str, created: int) -> Model:
    return {"id": name, "object": "model", "created": created, "owned_by": "chatdouble"}


@router.get("/v1/models", summary="List models", responses=MODEL_LIST_RESPONSES, response_class=Response)
async def list_models(request: Request) -> Response:
    runtime = runtime_of(request)
    authenticate(request.headers, runtime.settings.api_keys)
    forwarded = await _forwarded(runtime, None, request)
    if forwarded is not None:
        return forwarded
    created = runtime.settings.created or runtime.started
    listing: ModelList = {
        "object": "list",
        "data": [model_object(name, created) for name in runtime.settings.listed_models()],
    }
    return JSONBody(listing)


@router.get(
    "/v1/models/{model:path}", summary="Retrieve a model", responses=MODEL_RESPONSES, response_class=Response
)
async def retrieve_model(request: Request, model: str) -> Response:
    runtime = runtime_of(request)
    authenticate(request.headers, runtime.settings.api_keys)
    forwarded = await _forwarded(runtime, model, request)
    if forwarded is not None:
        return forwarded
    runtime.route(model)
    return JSONBody(model_object(model, runtime.settings.created or runtime.started))


async def _forwarded(runtime: Runtime, model: str | None, request: Request) -> Response | None:
    backend = runtime.model_forwarder(model)
    if backend is None:
        return None
    return await forward_models(backend, model, request.headers, runtime.stream_options)
