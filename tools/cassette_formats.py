"""Read the recordings that public test suites keep of live HTTP traffic, one format at a time.

Each reader takes a recording's bytes and gives its (request, response) records, normalised to

    request:  {"uri", "body", "format", "headers"}   (body: parsed JSON, text or bytes, as kept)
    response: {"status", "body", "headers"}          (body: parsed JSON or decoded text)

Formats, told apart by their content, not by their name:
    vcr             vcrpy / pytest-recording YAML: `interactions: [{request, response}]`; a body is
                    the exact string sent, or `parsed_body` (pydantic-ai's own serializer)
    vcr-requests    vcrpy's older layout, `{requests: [...], responses: [...]}`, as LangChain's
                    OpenAI integration keeps it (gzipped YAML, bodies as `!!binary`, uri and
                    headers redacted, so the endpoint is read off the bodies)
    har             Polly.JS HAR: `log.entries[{request, response}]`
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
YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def records(path: str, raw: bytes) -> list[Record]:
    """The recording's (request, response) records; none when it is not a recording we read."""
    if path.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return []
    text = raw.decode("utf-8", errors="replace")
    try:
        if path.endswith((".har", ".json")):
            return _har_records(json.loads(text))
        document = yaml.load(text, Loader=YamlLoader)
        if isinstance(document, dict) and "requests" in document:
            return _vcr_requests_records(document)
        return _vcr_records(document)
    except (yaml.YAMLError, json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
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
        "uri": request.get("uri"),
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
    return {"status": (response.get("status") or {}).get("code"), "body": body, "headers": headers}


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
