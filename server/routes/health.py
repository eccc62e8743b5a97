"""`GET /health`: for container health checks; not part of the OpenAI API."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

router = APIRouter()


@router.get("/health", summary="Liveness probe", include_in_schema=True)
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})
