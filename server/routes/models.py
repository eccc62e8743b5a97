"""`GET /v1/models` and `GET /v1/models/{model}`."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from server.http.auth import authenticate
from server.http.forward import forward_models
from server.http.json_response import JSONBody
from server.openapi import MODEL_LIST_RESPONSES, MODEL_RESPONSES
from server.runtime import Runtime
from server.wire.models import Model, ModelList

router = APIRouter()


def model_object(name: str, created: int) -> Model:
    return {"id": name, "object": "model", "created": created, "owned_by": "chatdouble"}


@router.get("/v1/models", summary="List models", responses=MODEL_LIST_RESPONSES, response_class=Response)
async def list_models(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    authenticate(request.headers, runtime.settings.api_keys)
    if runtime.model_forwarders:
        forwarded = await forward_models(runtime, None, request.headers)
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
    runtime: Runtime = request.app.state.runtime
    authenticate(request.headers, runtime.settings.api_keys)
    if runtime.model_forwarders:
        forwarded = await forward_models(runtime, model, request.headers)
        if forwarded is not None:
            return forwarded
    runtime.route(model)
    return JSONBody(model_object(model, runtime.settings.created or runtime.started))
