"""What the API answered, read off a recorded response body: usage, whether it streamed, the output.

A body is the parsed JSON, or its text: one JSON object, or a server-sent-event stream (chat:
the chunk that carries usage; /v1/responses: the `response.completed` or `response.incomplete`
event). `endpoint_of` names the endpoint when a recording redacted the URI, from the bodies alone.
This module imports nothing of ours.
"""

from __future__ import annotations

import json
from typing import Any


def endpoint_of(request: dict[str, Any], answer: Any) -> str | None:
    """`chat` or `responses` from the request and answer bodies; None for anything else (embeddings...)."""
    if isinstance(answer, dict):
        kind = str(answer.get("object"))
    else:
        compact = str(answer).replace(" ", "")
        kind = next((k for k in ("chat.completion", "response") if f'"object":"{k}' in compact), "")
    if "messages" in request and kind.startswith("chat.completion"):
        return "chat"
    if "input" in request and kind == "response":
        return "responses"
    return None


def parse_answer(endpoint: str, body: Any) -> tuple[bool, dict[str, Any] | None, Any, dict[str, Any]]:
    """(stream, usage, output, answered) of a recorded answer.

    `answered` holds the model snapshot that answered and when (`created`, Unix seconds), where the
    answer says: the API's counting has changed over time and between snapshots.
    """
    if isinstance(body, str) and body.lstrip().startswith("{"):
        try:
            body = json.loads(body)
        except json.JSONDecodeError:
            return False, None, None, {}
    if isinstance(body, dict):
        return False, body.get("usage"), _output(endpoint, body), _answered(body)
    if not isinstance(body, str):
        return False, None, None, {}
    events = []
    for line in body.splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                try:
                    events.append(json.loads(data))
                except json.JSONDecodeError:
                    continue
    if endpoint == "responses":
        for event in events:
            if event.get("type") in ("response.completed", "response.incomplete"):
                response = event.get("response") or {}
                return True, response.get("usage"), _output(endpoint, response), _answered(response)
        return True, None, None, {}
    usage = next((e["usage"] for e in reversed(events) if e.get("usage")), None)
    return True, usage, _stream_output(events), _answered(events[0]) if events else {}


def _answered(body: dict[str, Any]) -> dict[str, Any]:
    created = body.get("created", body.get("created_at"))
    facts = {"model": body.get("model"), "created": created if isinstance(created, int) else None}
    return {key: value for key, value in facts.items() if value is not None}


def _output(endpoint: str, body: dict[str, Any]) -> Any:
    if endpoint == "chat":
        choices = []
        for choice in body.get("choices") or []:
            message = choice.get("message") or {}
            calls = [
                {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                for c in message.get("tool_calls") or []
                if "function" in c
            ]
            choices.append(
                _choice(message.get("content"), message.get("refusal"), calls, choice.get("finish_reason"))
            )
        return choices
    items = []
    for item in body.get("output") or []:
        kind = item.get("type")
        if kind == "message":
            text = "".join(p.get("text") or p.get("refusal") or "" for p in item.get("content") or [])
            items.append({"type": kind, "text": text})
        elif kind == "function_call":
            items.append({"type": kind, "name": item.get("name"), "arguments": item.get("arguments")})
        elif kind == "reasoning":
            summary = "".join(s.get("text", "") for s in item.get("summary") or [])
            items.append({"type": kind, "summary": summary})
        else:
            items.append({"type": kind})
    return items


def _choice(content: Any, refusal: Any, calls: list[dict[str, Any]], finish: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"content": content, "finish_reason": finish}
    if refusal:
        out["refusal"] = refusal
    if calls:
        out["tool_calls"] = calls
    return out


def _stream_output(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    choices: dict[int, dict[str, Any]] = {}
    for event in events:
        for choice in event.get("choices") or []:
            state = choices.setdefault(
                choice.get("index", 0), {"content": None, "refusal": None, "calls": {}, "finish": None}
            )
            delta = choice.get("delta") or {}
            for key in ("content", "refusal"):
                if delta.get(key):
                    state[key] = (state[key] or "") + delta[key]
            for call in delta.get("tool_calls") or []:
                slot = state["calls"].setdefault(call.get("index", 0), {"name": "", "arguments": ""})
                function = call.get("function") or {}
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
            state["finish"] = choice.get("finish_reason") or state["finish"]
    return [
        _choice(s["content"], s["refusal"], [s["calls"][k] for k in sorted(s["calls"])], s["finish"])
        for _, s in sorted(choices.items())
    ]
