"""The HTTP side of the proxy: one pooled `httpx.AsyncClient` per upstream, the headers sent and
passed back, and failures mapped to OpenAI-shaped errors.

The upstream key comes from the config or an environment variable; the client's own `Authorization`
is either replaced by it or forwarded, as configured. The key is never logged (nor shown by `repr`).
An upstream that cannot be reached is a 502, one that times out before answering a 504, both in
OpenAI's envelope; a stream that breaks off raises, which the server turns into an error frame and
`[DONE]` (a Responses stream: an `error` event).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from backends.base import BackendError, Comment, ForwardCall, NamedEvent, Payload, Upstream
from backends.proxy_config import ProxyConfig
from server.headers import header_bytes

log = logging.getLogger("chatdouble.proxy")

# Request headers a client may send that the upstream should see.
FORWARDED_REQUEST_HEADERS = ("openai-organization", "openai-project", "openai-beta", "user-agent")
# Response headers passed back to the client: what the SDKs read and what rate limits say.
PASSED_RESPONSE_HEADERS = (
    "x-request-id",
    "openai-processing-ms",
    "openai-version",
    "openai-organization",
    "openai-project",
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
)
PASSED_RESPONSE_PREFIXES = ("x-ratelimit-",)
# The events a Responses stream ends with (`error` is followed by `response.failed`).
TERMINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed", "response.done")


def passed_headers(headers: httpx.Headers) -> dict[str, str]:
    return {
        name: value
        for name, value in headers.items()
        if name in PASSED_RESPONSE_HEADERS or name.startswith(PASSED_RESPONSE_PREFIXES)
    }


def public_url(url: str) -> str:
    """The URL without any `user:password@` part: what logs, errors and recordings show."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def unreachable(base_url: str, exc: Exception) -> BackendError:
    if isinstance(exc, httpx.TimeoutException):
        what = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
        return BackendError(
            504,
            f"The upstream timed out ({what} {base_url}).",
            type="server_error",
            code="upstream_timeout",
        )
    return BackendError(
        502,
        f"The upstream at {base_url} could not be reached ({type(exc).__name__}).",
        type="server_error",
        code="upstream_unreachable",
    )


class UpstreamClient:
    """Sends requests to one OpenAI-compatible API root and returns its answers as `Upstream`s."""

    def __init__(self, config: ProxyConfig, *, api_key: str | None) -> None:
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.shown_url = public_url(self.base_url)
        self.api_key = api_key  # the key `config` leads to (`ProxyConfig.upstream_key`)
        connect = config.connect_timeout
        timeout = httpx.Timeout(config.read_timeout, connect=connect, pool=connect)
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self._client = httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False)

    def __repr__(self) -> str:  # never show the key
        return f"UpstreamClient({self.shown_url!r}, authorization={self.config.authorization!r})"

    def headers(self, incoming: Mapping[str, str], accept: str) -> dict[bytes, bytes]:
        """The headers sent upstream. A client's go as the bytes it sent: httpx would encode text as
        ASCII and fail on a non-ASCII value, which the upstream should judge, not us."""
        headers = {b"content-type": b"application/json", b"accept": accept.encode()}
        for name in FORWARDED_REQUEST_HEADERS:
            if name in incoming:
                headers[name.encode()] = header_bytes(incoming[name])
        if self.config.authorization == "forward":
            if "authorization" in incoming:
                headers[b"authorization"] = header_bytes(incoming["authorization"])
        elif self.api_key:
            headers[b"authorization"] = f"Bearer {self.api_key}".encode()
        return headers

    async def post(self, call: ForwardCall) -> Upstream:
        """POST the client's exact bytes to the call's path (`/chat/completions`, `/responses`); a
        stream's payloads as they arrive."""
        accept = "text/event-stream" if call.stream else "application/json"
        request = self._client.build_request(
            "POST",
            f"{self.base_url}/{call.path}",
            content=call.raw,
            headers=self.headers(call.headers, accept),
        )
        return await self._send(request, named=call.path == "responses")

    async def get(self, path: str, incoming: Mapping[str, str]) -> Upstream:
        """GET `path` (relative to the API root), e.g. `models`; the whole body."""
        request = self._client.build_request(
            "GET", f"{self.base_url}/{path}", headers=self.headers(incoming, "application/json")
        )
        return await self._send(request)

    async def _send(self, request: httpx.Request, *, named: bool = False) -> Upstream:
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise unreachable(self.shown_url, exc) from None
        headers = passed_headers(response.headers)
        streaming = response.headers.get("content-type", "").startswith("text/event-stream")
        if response.status_code >= 400 or not streaming:
            try:
                body = await response.aread()
            except httpx.HTTPError as exc:
                raise unreachable(self.shown_url, exc) from None
            finally:
                await response.aclose()
            headers["content-type"] = response.headers.get("content-type", "application/json")
            return Upstream(response.status_code, headers, body=body)
        if named:
            return Upstream(response.status_code, headers, chunks=self._events(response), done=False)
        return Upstream(response.status_code, headers, chunks=self._payloads(response))

    async def _payloads(self, response: httpx.Response) -> AsyncGenerator[Payload, None]:
        """The `data:` payloads of an upstream stream and its comment lines, in the order they
        arrive, up to `[DONE]`."""
        data: list[str] = []
        try:
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    yield Comment(line[1:].encode())
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif not line and data:
                    payload, data = "\n".join(data), []
                    if payload == "[DONE]":
                        return
                    yield payload.encode()
            if data == ["[DONE]"]:
                return
            problem = "ended without [DONE]"
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        finally:
            await response.aclose()
        raise self._broke(problem)

    async def _events(self, response: httpx.Response) -> AsyncGenerator[Payload, None]:
        """A Responses stream's events with their names, and its comment lines, in the order they
        arrive, up to its end: the connection closing after a terminal event."""
        data: list[str] = []
        name = last = ""
        try:
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    yield Comment(line[1:].encode())
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif line.startswith("event:"):
                    name = line[6:].removeprefix(" ")
                elif not line and data:
                    payload, data = "\n".join(data), []
                    yield NamedEvent(name.encode(), payload.encode()) if name else payload.encode()
                    last, name = name, ""
            if not data and last in TERMINAL_EVENTS:
                return
            problem = "ended before its last event"
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        finally:
            await response.aclose()
        raise self._broke(problem)

    def _broke(self, problem: str) -> BackendError:
        log.warning("upstream stream from %s broke: %s", self.shown_url, problem)
        return BackendError(
            502,
            f"The upstream at {self.shown_url} broke off the stream ({problem}).",
            type="server_error",
            code="upstream_disconnected",
        )

    async def aclose(self) -> None:
        await self._client.aclose()
