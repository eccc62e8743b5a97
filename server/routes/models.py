"""`GET /v1/models` and `GET /v1/models/{model}`."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from server.generation.profiles import Profile
from server.http.auth import authenticate
from server.http.forward import forward_models
from server.http.json_response import JSONBody
from server.openapi import MODEL_LIST_RESPONSES, MODEL_RESPONSES
from server.runtime import Runtime, runtime_of
from server.wire.models import Model, ModelList

router = APIRouter()


def model_object(runtime: Runtime, name: str, profile: Profile) -> Model:
    """A routed model as the API lists it: its profile's `created` and `owned_by` (a name the table
    does not know: the configured `created` or the start time, owned by chatdouble)."""
    created = profile.created or runtime.settings.created or runtime.started
    return {"id": name, "object": "model", "created": created, "owned_by": profile.owned_by}


def _listed(runtime: Runtime) -> list[Model]:
    """Every routed name, except (with `models: strict`) those that would answer 404."""
    out = []
    for name in runtime.settings.listed_models():
        profile = runtime.described(runtime.route(name), name)
        if profile.known or runtime.settings.models != "strict":
            out.append(model_object(runtime, name, profile))
    return out


@router.get("/v1/models", summary="List models", responses=MODEL_LIST_RESPONSES, response_class=Response)
async def list_models(request: Request) -> Response:
    runtime = runtime_of(request)
    authenticate(request.headers, runtime.settings.api_keys)
    forwarded = await _forwarded(runtime, None, request)
    if forwarded is not None:
        return forwarded
    listing: ModelList = {
        "object": "list",
        "data": _listed(runtime),
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
    return JSONBody(model_object(runtime, model, runtime.profile(runtime.route(model), model)))


async def _forwarded(runtime: Runtime, model: str | None, request: Request) -> Response | None:
    backend = runtime.model_forwarder(model)
    if backend is None:
        return None
    return await forward_models(backend, model, request.headers, runtime.stream_options)
