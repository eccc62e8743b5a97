"""The Responses API's WebSocket mode: `ws://HOST/v1/responses`, one connection for many turns.

The handshake is authenticated like a POST (its `Authorization` header); a missing or wrong key is
refused before the upgrade with the same 401 and body, as the real API refuses it (clients report
`HTTP 401` from the handshake). Each client text frame is `{"type": "response.create", ...}` with
the fields of a POST body, plus `stream_id` (a lane, echoed on every event of that response) and
`generate` (false: prepare the response without output). It runs through the same path as a POST
(`create.py`); each event is one text frame holding what an SSE `data:` line would. Turns run one
after another, in the order they came. A request the API refuses is an `error` frame with its HTTP
`status`, and the connection stays open.

`previous_response_id` continues a stored response, or a `store: false` one from this connection:
like the real API, the connection keeps only the most recent response of each lane in memory, so an
older unstored one is `previous_response_not_found`, as it is after reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from backends.base import DropConnection
from server.errors import APIError, invalid_request, server_error
from server.generation.conversation import Message
from server.generation.usage import Usage
from server.http.auth import authenticate
from server.http.json_response import error_response
from server.http.sse import YIELD_EVERY
from server.http.validation import JSON_PARSE_ERROR, json_type
from server.namespaces import of_request
from server.responses.create import Turn, continued, parse_create, start_turn
from server.responses.objects import JSON
from server.responses.run import events, failed, stored
from server.runtime import Runtime, runtime_of
from server.state.responses import StoredResponse

log = logging.getLogger("chatdouble.responses")

INTERNAL_ERROR = 1011  # the close code for a backend's scripted network fault


async def responses_socket(websocket: WebSocket) -> None:
    runtime = runtime_of(websocket)
    try:
        key = authenticate(websocket.headers, runtime.settings.api_keys)
    except APIError as exc:
        await _refuse(websocket, exc)
        return
    await websocket.accept()
    await Connection(runtime, of_request(websocket.headers, key), websocket).serve()


async def _refuse(websocket: WebSocket, exc: APIError) -> None:
    try:
        await websocket.send_denial_response(error_response(exc))
    except RuntimeError:  # a server without the denial extension: close before accepting (403)
        await websocket.close(code=1008)


class Connection:
    """One client's socket: the frames it sent, waiting their turn, and the responses it may continue."""

    def __init__(self, runtime: Runtime, namespace: str, websocket: WebSocket) -> None:
        self.runtime = runtime
        self.namespace = namespace
        self.websocket = websocket
        self.latest: dict[str | None, StoredResponse] = {}  # each lane's most recent response

    async def serve(self) -> None:
        """Read frames while turns run, so a client that leaves stops the turn it left."""
        frames: asyncio.Queue[str | bytes] = asyncio.Queue()
        worker = asyncio.create_task(self._work(frames))
        try:
            while True:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                frames.put_nowait(message.get("text") or message.get("bytes") or b"")
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _work(self, frames: asyncio.Queue[str | bytes]) -> None:
        try:
            while True:
                await self.handle(await frames.get())
        except WebSocketDisconnect:
            return  # the client left mid-turn; `serve` sees its close
        except DropConnection:
            await self.websocket.close(code=INTERNAL_ERROR)

    async def handle(self, frame: str | bytes) -> None:
        """One client frame: a response run to its end, or the error frame that refuses it."""
        lane: str | None = None
        try:
            payload = _payload(frame)
            lane = _lane(payload.pop("stream_id", None))
            generate = payload.pop("generate", None) is not False
            turn = await self._start(payload)
        except APIError as exc:
            await self._send(_error_frame(exc), lane)
            return
        except Exception:
            log.exception("websocket turn could not start")
            await self._send(_error_frame(server_error()), lane)
            return
        await self._run(turn, lane, generate=generate)

    async def _start(self, payload: dict[str, Any]) -> Turn:
        if payload.get("background"):
            raise invalid_request("Background mode is not supported in WebSocket mode.", param="background")
        payload["stream"] = True  # every response is streamed here; a client may say so or not
        raw = orjson.dumps(payload)
        body = parse_create(raw, self.runtime)
        history = await self._chained(body.previous_response_id)
        return await start_turn(
            self.runtime, self.namespace, body, history, raw=raw, wire=payload, headers=self.websocket.headers
        )

    async def _chained(self, previous: str | None) -> list[Message]:
        if previous is None:
            return []
        for record in self.latest.values():
            if record.id == previous:
                return list(record.history)
        return continued(await self.runtime.responses.get(self.namespace, previous), previous)

    async def _run(self, turn: Turn, lane: str | None, *, generate: bool) -> None:
        writer = turn.writer
        stream = events(writer, turn.generation) if generate else _prepared(turn)
        sent = 0
        async with contextlib.aclosing(stream):
            try:
                async for event in stream:
                    await self._send(event, lane)
                    sent += 1
                    if sent % YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # a backend that never awaits would hide a disconnect
            except (WebSocketDisconnect, DropConnection):
                raise
            except Exception as exc:
                for event in failed(writer, exc):
                    await self._send(event, lane)
                return
        record = stored(turn)
        if turn.keep:
            await self.runtime.responses.put(self.namespace, record)
        self.latest[lane] = record

    async def _send(self, event: JSON, lane: str | None) -> None:
        if lane is not None:
            event["stream_id"] = lane
        await self.websocket.send_text(orjson.dumps(event).decode())


async def _prepared(turn: Turn) -> AsyncGenerator[JSON, None]:
    """`generate: false`: the response is set up and completes with no output, to be continued."""
    writer = turn.writer
    for event in writer.start():
        yield event
    for event in writer.finish(Usage(writer.plan.plan.prompt_tokens, 0), None):
        yield event


def _payload(frame: str | bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise invalid_request(JSON_PARSE_ERROR) from None
    if not isinstance(payload, dict):
        raise invalid_request(JSON_PARSE_ERROR)
    kind = payload.pop("type", None)
    if kind != "response.create":
        if kind is None:
            raise invalid_request(
                "Missing required parameter: 'type'.", param="type", code="missing_required_parameter"
            )
        raise invalid_request(
            f"Invalid value: '{kind}'. Supported values are: 'response.create'.",
            param="type",
            code="invalid_value",
        )
    return payload


def _lane(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise invalid_request(
        f"Invalid type for 'stream_id': expected a string, but got {json_type(value)} instead.",
        param="stream_id",
        code="invalid_type",
    )


def _error_frame(exc: APIError) -> JSON:
    """A refused request: the API's error (type, code, message, param, as the real frames order
    them) and the HTTP status the same request would have had."""
    if exc.status >= 500:
        log.warning("websocket turn failed: %r", exc)
    error = exc.envelope()["error"]
    shown = {
        "type": error["type"],
        "code": error["code"],
        "message": error["message"],
        "param": error["param"],
    }
    return {"type": "error", "error": shown, "status": exc.status}
