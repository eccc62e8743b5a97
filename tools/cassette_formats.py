"""Read the recordings that public test suites keep of live HTTP traffic, one format at a time.

Each reader takes a recording's bytes and gives its (request, response) records, normalised to

    request:  {"uri", "body", "format", "headers"}   (body: parsed JSON, text or bytes, as kept)
    response: {"status", "body", "headers"}          (body: parsed JSON or decoded text)

Formats, told apart by their content, not by their name:
    vcr             vcrpy / pytest-recording YAML: `interactions: [{request, response}]`; a body is
                    the exact string sent, or `parsed_body` (pydantic-ai's own serializer); Go's
                    go-vcr writes the same layout with `url` and a numeric `code`
    vcr-requests    vcrpy's older layout, `{requests: [...], responses: [...]}`, as LangChain's
                    OpenAI integration keeps it (gzipped YAML, bodies as `!!binary`, uri and
                    headers redacted, so the endpoint is read off the bodies)
    vcr-ruby        Ruby's VCR YAML: `http_interactions`, bodies `{encoding, string}` (binary ones
                    tagged `!binary`, base64)
    har             Polly.JS HAR: `log.entries[{request, response}]`
    session-record  Azure SDK test-proxy JSON (openai-dotnet's SessionRecords): `Entries[{RequestUri,
                    RequestBody, StatusCode, ResponseBody}]`, bodies parsed or text
    httprr          Go's httprr trace (langchaingo): `httprr trace v1`, then per call the lengths of
                    the raw HTTP request and response, and their bytes
This module imports nothing of ours.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import zlib
from typing import Any

import yaml

Record = tuple[dict[str, Any], dict[str, Any]]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # C loader when built
    """A safe loader that also reads Ruby's `!binary` scalars (base64), as Ruby's VCR writes them."""


_Loader.add_constructor("!binary", lambda loader, node: base64.b64decode(loader.construct_scalar(node)))


def records(path: str, raw: bytes) -> list[Record]:
    """The recording's (request, response) records; none when it is not a recording we read."""
    if path.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return []
    try:
        if path.endswith(".httprr"):
            return _httprr_records(raw)
        text = raw.decode("utf-8", errors="replace")
        if path.endswith((".har", ".json")):
            document = json.loads(text)
            return _session_records(document) if "Entries" in document else _har_records(document)
        document = yaml.load(text, Loader=_Loader)
        if isinstance(document, dict) and "requests" in document:
            return _vcr_requests_records(document)
        if isinstance(document, dict) and "http_interactions" in document:
            return _vcr_ruby_records(document)
        return _vcr_records(document)
    except (
        yaml.YAMLError,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        AttributeError,
        ValueError,
        IndexError,
    ):
        return []


def _headers(raw: Any) -> dict[str, str]:
    if isinstance(raw, list):  # HAR: [{"name", "value"}]
        return {str(h.get("name", "")).lower(): str(h.get("value", "")) for h in raw if isinstance(h, dict)}
    if isinstance(raw, dict):
        out: dict[str, str] = {}
        for key, value in raw.items():
            out[str(key).lower()] = str(value[0] if isinstance(value, list) and value else value)
        return out
    return {}


def _vcr_request(request: dict[str, Any], default_format: str) -> dict[str, Any]:
    body: Any = request.get("parsed_body")
    body_format = "vcr-parsed_body"
    if body is None:
        body, body_format = request.get("body"), default_format
        if isinstance(body, dict):
            body = body.get("string")
    return {
        "uri": request.get("uri") or request.get("url"),  # go-vcr names it url
        "body": body,
        "format": body_format,
        "headers": _headers(request.get("headers")),
    }


def _vcr_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = _headers(response.get("headers"))
    body: Any = response.get("parsed_body")
    if body is None:
        body = response.get("body")
        if isinstance(body, dict):
            body = body.get("string")
        body = _decoded(body, headers.get("content-encoding", ""))
    status = response.get("status")
    code = status.get("code") if isinstance(status, dict) else response.get("code")  # go-vcr: `code`
    return {"status": code, "body": body, "headers": headers}


def _vcr_records(cassette: Any) -> list[Record]:
    return [
        (_vcr_request(i["request"], "vcr"), _vcr_response(i["response"]))
        for i in (cassette or {}).get("interactions") or []
    ]


def _vcr_requests_records(cassette: dict[str, Any]) -> list[Record]:
    requests, responses = cassette.get("requests") or [], cassette.get("responses") or []
    return [
        (_vcr_request(request, "vcr-requests"), _vcr_response(response))
        for request, response in zip(requests, responses, strict=False)
    ]


def _har_records(har: Any) -> list[Record]:
    out = []
    for entry in har["log"]["entries"]:
        request, response = entry["request"], entry["response"]
        content = response.get("content") or {}
        body: Any = content.get("text")
        if content.get("encoding") == "base64" and isinstance(body, str):
            body = base64.b64decode(body)
        if (
            isinstance(body, str)
            and body.startswith("[")
            and "text/event-stream" in str(content.get("mimeType"))
        ):
            with contextlib.suppress(json.JSONDecodeError, TypeError):  # Polly may keep a stream as chunks
                body = "".join(json.loads(body))
        out.append(
            (
                {
                    "uri": request.get("url"),
                    "body": (request.get("postData") or {}).get("text"),
                    "format": "har",
                    "headers": _headers(request.get("headers")),
                },
                {"status": response.get("status"), "body": _decoded(body, ""), "headers": {}},
            )
        )
    return out


def _vcr_ruby_records(cassette: dict[str, Any]) -> list[Record]:
    out = []
    for interaction in cassette.get("http_interactions") or []:
        request, response = interaction["request"], interaction["response"]
        headers = _headers(response.get("headers"))
        out.append(
            (
                {
                    "uri": request.get("uri"),
                    "body": _ruby_body(request.get("body")),
                    "format": "vcr-ruby",
                    "headers": _headers(request.get("headers")),
                },
                {
                    "status": (response.get("status") or {}).get("code"),
                    "body": _decoded(_ruby_body(response.get("body")), headers.get("content-encoding", "")),
                    "headers": headers,
                },
            )
        )
    return out


def _ruby_body(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    if "base64_string" in body:
        return base64.b64decode(body["base64_string"])
    return body.get("string")


def _session_records(document: dict[str, Any]) -> list[Record]:
    return [
        (
            {
                "uri": entry.get("RequestUri"),
                "body": entry.get("RequestBody"),
                "format": "session-record",
                "headers": _headers(entry.get("RequestHeaders")),
            },
            {
                "status": entry.get("StatusCode"),
                "body": entry.get("ResponseBody"),
                "headers": _headers(entry.get("ResponseHeaders")),
            },
        )
        for entry in document.get("Entries") or []
    ]


def _httprr_records(raw: bytes) -> list[Record]:
    header, _, rest = raw.partition(b"\n")
    if not header.startswith(b"httprr trace v1"):
        return []
    out = []
    while rest:
        sizes, _, rest = rest.partition(b"\n")
        request_size, response_size = (int(n) for n in sizes.split())
        request, response = rest[:request_size], rest[request_size : request_size + response_size]
        rest = rest[request_size + response_size :]
        request_line, request_headers, request_body = _http_message(request)
        status_line, response_headers, response_body = _http_message(response)
        out.append(
            (
                {
                    "uri": request_line.split(" ")[1] if " " in request_line else None,
                    "body": request_body,
                    "format": "httprr",
                    "headers": request_headers,
                },
                {
                    "status": int(status_line.split(" ")[1]),
                    "body": _decoded(response_body, response_headers.get("content-encoding", "")),
                    "headers": response_headers,
                },
            )
        )
    return out


def _http_message(message: bytes) -> tuple[str, dict[str, str], bytes]:
    """A raw HTTP/1 message's first line, headers (lowercased) and body (de-chunked)."""
    head, _, body = message.partition(b"\r\n\r\n")
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _unchunked(body)
    return first, headers, body


def _unchunked(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += body[:size]
        body = body[size + 2 :]
    return bytes(out)


def _decoded(body: Any, encoding: str) -> Any:
    if isinstance(body, bytes):
        for decode in (gzip.decompress, zlib.decompress, _brotli):
            try:
                body = decode(body)
                break
            except Exception:  # any failure means "not this encoding": try the next
                continue
        return body.decode("utf-8", errors="replace")
    return body


def _brotli(data: bytes) -> bytes:
    import brotli  # type: ignore[import-not-found]  # optional: only some cassettes are brotli-encoded

    return bytes(brotli.decompress(data))
