"""The HTTP side of the proxy: a pool of keep-alive connections to the upstream (backends/http1/),
the headers sent and passed back, and failures mapped to OpenAI-shaped errors.

The upstream key comes from the config or an environment variable; the client's own `Authorization`
is either replaced by it or forwarded, as configured. The key is never logged (nor shown by `repr`).
An upstream that cannot be reached is a 502, one that times out before answering a 504, both in
OpenAI's envelope; a stream that breaks off raises, which the server turns into an error frame and
`[DONE]` (a Responses stream: an `error` event).
"""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import AsyncGenerator, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

import certifi

from backends.base import BackendError, ForwardCall, Payload, Upstream
from backends.http1.errors import ConnectTimeoutError, ReadTimeoutError, UpstreamError
from backends.http1.pool import Answer, Pool
from backends.proxy_config import ProxyConfig
from backends.upstream_events import ChatEvents, NamedEvents
from server.headers import header_bytes

log = logging.getLogger("chatdouble.proxy")

# Request headers a client may send that the upstream should see.
FORWARDED_REQUEST_HEADERS = ("openai-organization", "openai-project", "openai-beta", "user-agent")
# Response headers passed back to the client: what the SDKs read and what rate limits say.
PASSED_RESPONSE_HEADERS = (
    b"x-request-id",
    b"openai-processing-ms",
    b"openai-version",
    b"openai-organization",
    b"openai-project",
    b"retry-after",
    b"retry-after-ms",
    b"x-should-retry",
)
PASSED_RESPONSE_PREFIXES = (b"x-ratelimit-",)
# Sent when the client sent no user-agent of its own. The body is asked for uncompressed: it is
# passed on as it comes (a compressed one is decoded all the same).
USER_AGENT = b"chatdouble"


def passed_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers passed back, as text that encodes back to the bytes the upstream sent."""
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in headers
        if name in PASSED_RESPONSE_HEADERS or name.startswith(PASSED_RESPONSE_PREFIXES)
    }


def public_url(url: str) -> str:
    """The URL without any `user:password@` part: what logs, errors and recordings show."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def unreachable(base_url: str, exc: UpstreamError) -> BackendError:
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        what = "connecting to" if isinstance(exc, ConnectTimeoutError) else "waiting for"
        return BackendError(
            504,
            f"The upstream timed out ({what} {base_url}).",
            type="server_error",
            code="upstream_timeout",
        )
    return BackendError(
        502,
        f"The upstream at {base_url} could not be reached ({exc}).",
        type="server_error",
        code="upstream_unreachable",
    )


def trusted() -> ssl.SSLContext:
    """The TLS context for an https upstream: the certificate authorities certifi ships, as httpx
    trusts by default, and HTTP/1.1 offered by ALPN."""
    context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


class UpstreamClient:
    """Sends requests to one OpenAI-compatible API root and returns its answers as `Upstream`s.
    `tls`: the context an https upstream is verified with (default: `trusted()`)."""

    def __init__(
        self, config: ProxyConfig, *, api_key: str | None, tls: ssl.SSLContext | None = None
    ) -> None:
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.shown_url = public_url(self.base_url)
        self.api_key = api_key  # the key `config` leads to (`ProxyConfig.upstream_key`)
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url {self.shown_url!r} is not an http:// or https:// URL")
        secure = parts.scheme == "https"
        self.pool = Pool(
            parts.hostname,
            parts.port or (443 if secure else 80),
            tls=(tls or trusted()) if secure else None,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
        )
        self._root = parts.path.encode()  # what each request's path follows: `/v1`
        self._fixed = b"host: " + parts.netloc.rsplit("@", 1)[-1].encode("idna") + b"\r\n"
        if parts.username is not None or parts.password is not None:
            # Credentials in the URL are sent as basic authentication, as httpx did, over any key.
            pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
            self._basic: bytes | None = b"Basic " + base64.b64encode(pair.encode())
        else:
            self._basic = None
        if api_key and any(c in api_key for c in "\r\n\0"):
            raise ValueError("the upstream key holds a line break or a NUL")

    def __repr__(self) -> str:  # never show the key
        return f"UpstreamClient({self.shown_url!r}, authorization={self.config.authorization!r})"

    def headers(self, incoming: Mapping[str, str], accept: str) -> dict[bytes, bytes]:
        """The headers sent upstream. A client's go as the bytes it sent, which the upstream should
        judge, not us."""
        headers = {b"content-type": b"application/json", b"accept": accept.encode()}
        for name in FORWARDED_REQUEST_HEADERS:
            if name in incoming:
                headers[name.encode()] = header_bytes(incoming[name])
        if self.config.authorization == "forward":
            if "authorization" in incoming:
                headers[b"authorization"] = header_bytes(incoming["authorization"])
        elif self.api_key:
            headers[b"authorization"] = f"Bearer {self.api_key}".encode()
        if self._basic is not None:
            headers[b"authorization"] = self._basic
        return headers

    def message(self, method: bytes, path: str, headers: dict[bytes, bytes], body: bytes | None) -> bytes:
        """The request as it goes on the wire: request line, headers, body."""
        lines = [method, b" ", self._root, b"/", path.encode(), b" HTTP/1.1\r\n", self._fixed]
        headers.setdefault(b"user-agent", USER_AGENT)
        headers[b"accept-encoding"] = b"identity"
        if body is not None:
            headers[b"content-length"] = str(len(body)).encode()
        for name, value in headers.items():
            lines += (name, b": ", value, b"\r\n")
        lines += (b"\r\n", body or b"")
        return b"".join(lines)

    async def post(self, call: ForwardCall) -> Upstream:
        """POST the client's exact bytes to the call's path (`/chat/completions`, `/responses`); a
        stream's payloads as they arrive."""
        accept = "text/event-stream" if call.stream else "application/json"
        message = self.message(b"POST", call.path, self.headers(call.headers, accept), call.raw)
        return await self._send(message, named=call.path == "responses")

    async def get(self, path: str, incoming: Mapping[str, str]) -> Upstream:
        """GET `path` (relative to the API root), e.g. `models`; the whole body."""
        message = self.message(b"GET", path, self.headers(incoming, "application/json"), None)
        return await self._send(message)

    async def _send(self, message: bytes, *, named: bool = False) -> Upstream:
        try:
            answer = await self.pool.request(message)
        except UpstreamError as exc:
            raise unreachable(self.shown_url, exc) from None
        headers = passed_headers(answer.headers)
        kind = answer.header(b"content-type") or b""
        if answer.status >= 400 or not kind.startswith(b"text/event-stream"):
            try:
                body = await answer.read()
            except UpstreamError as exc:
                raise unreachable(self.shown_url, exc) from None
            headers["content-type"] = kind.decode("latin-1") if kind else "application/json"
            return Upstream(answer.status, headers, body=body)
        if named:
            return Upstream(answer.status, headers, chunks=self._stream(answer, NamedEvents()), done=False)
        return Upstream(answer.status, headers, chunks=self._stream(answer, ChatEvents()))

    async def _stream(
        self, answer: Answer, events: ChatEvents | NamedEvents
    ) -> AsyncGenerator[Payload, None]:
        """The stream's payloads and comments in the order they arrive, up to the stream's end; those
        that came in one read together (`Together`, or `Frames` as they came)."""
        pieces = answer.pieces()
        try:
            async for piece in pieces:
                payload = events.feed(piece)
                if payload is not None:
                    yield payload
                if events.done:
                    await answer.finish()  # the body's last bytes, so the connection can go back
                    return
            payload = events.end()
            if payload is not None:
                yield payload
            if events.ended():
                return
            problem = events.unfinished
        except UpstreamError as exc:
            problem = str(exc)
        finally:
            await pieces.aclose()
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
        await self.pool.aclose()
