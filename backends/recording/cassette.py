"""A recorded exchange written as a fixture, so a recording is an ordinary, editable fixture file.

The fixture matches the whole normalized request (`match.request`) and replies with what the
upstream said: content in the pieces it was streamed in (`chunks`), tool calls with their ids and
argument pieces, the finish reason, and the pause before each piece (`timing.delays`); an error
answer becomes an `error` reply. Under `recorded:` go the answer's `model`, `system_fingerprint`
and (streamed) whether its chunks had an `obfuscation` pad, which replay returns as they were, and
notes for people: the upstream's completion id and usage. The content's logprobs are kept per
choice (chat's entries as given; the legacy completions' lists joined per token), so replay gives
them back while they spell the text it sends. A Responses API
answer is folded by `responses` into the same reply, with its reasoning summary and hosted-tool
items besides; a legacy completions answer's `text` is recorded as chat's content.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, get_args

import orjson

from backends.fixtures.model import FixtureFile
from backends.recording import embeddings, responses
from backends.recording.answer import Call, Choice, Piece, logprob_entries, piece
from backends.request_key import Scrubber
from server.generation.events import FinishReason

FINISH_REASONS = get_args(FinishReason)
# Answers a client retries are passed through but not recorded: replayed, they would be retried forever.
TRANSIENT = (408, 409, 429)
ERROR_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")


class Unrecordable(Exception):  # noqa: N818 - a reason, not a failure of ours
    """The answer holds something the fixture format cannot express."""


def recordable(status: int) -> bool:
    return status < 500 and status not in TRANSIENT


def failure(payload: bytes) -> str | None:
    """The code (else type) of a stream's error frame (`{"error": {...}}`), None for a chunk."""
    if b'"error"' not in payload:
        return None
    try:
        item = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    error = item.get("error") if isinstance(item, dict) and "choices" not in item else None
    if not error:
        return None
    return str(error.get("code") or error.get("type") or "error") if isinstance(error, dict) else "error"


@dataclass(slots=True)
class Exchange:
    """One request and the upstream's answer, as the recorder saw them."""

    request: dict[str, Any]  # normalized and scrubbed
    key: str
    upstream: str
    status: int
    headers: dict[str, str]
    seconds: float  # until the whole answer had arrived
    body: bytes = b""
    delays: list[float] | None = None  # for a stream: seconds before each payload
    payloads: list[bytes] | None = None  # for a stream: each payload (a Responses event's data)
    path: str = "chat/completions"  # the API it went to, relative to its root (`responses`)


class _Stream:
    """Folds chunk payloads into per-choice replies, each piece with the time it arrived."""

    def __init__(self) -> None:
        self.choices: dict[int, Choice] = {}
        self.info: dict[str, Any] = {}
        self.clock = 0.0

    def feed(self, chunk: dict[str, Any], delay: float) -> None:
        self.clock += delay
        for name in ("id", "model", "system_fingerprint", "usage"):
            if chunk.get(name) is not None:
                self.info[name] = chunk[name]
        if "obfuscation" in chunk:
            self.info["obfuscation"] = True
        for item in chunk.get("choices") or []:
            choice = self.choices.setdefault(int(item.get("index", 0)), Choice())
            delta = item.get("delta") or {}
            choice.logprobs += logprob_entries(item.get("logprobs"))
            self._text(choice.content, delta.get("content") if "delta" in item else item.get("text"))
            if isinstance(delta.get("refusal"), str):
                choice.refusal.append(delta["refusal"])  # replayed in token-sized pieces
            for call in delta.get("tool_calls") or []:
                if call.get("type", "function") != "function":
                    raise Unrecordable(f"a {call.get('type')!r} tool call")
                function = call.get("function") or {}
                index = int(call.get("index", 0))
                if index not in choice.calls:
                    choice.calls[index] = Call(call.get("id"), function.get("name") or "", [], self.clock)
                self._text(choice.calls[index].pieces, function.get("arguments"))
            legacy = delta.get("function_call")
            if legacy:
                if choice.function is None:
                    choice.function = Call(None, legacy.get("name") or "", [], self.clock)
                self._text(choice.function.pieces, legacy.get("arguments"))
            if item.get("finish_reason"):
                choice.finish = item["finish_reason"]

    def _text(self, into: list[Piece], text: Any) -> None:
        piece(into, text, self.clock)


def _scrubbed(pieces: list[Piece], scrubber: Scrubber) -> list[Piece]:
    """Pieces with secrets replaced; pieces a secret spans are joined first, so none survives split."""
    out = []
    for group in scrubber.groups([text for text, _ in pieces]):
        text = scrubber.text("".join(pieces[i][0] for i in group))
        out.append((text, pieces[group[-1]][1]))
    return out


class _Reply:
    """One choice as a fixture reply, and when each of its pieces arrived, in the order it is replayed."""

    def __init__(self, choice: Choice, streamed: bool, scrubber: Scrubber) -> None:
        self.streamed, self.scrubber = streamed, scrubber
        self.times: list[float] = []
        out: dict[str, Any] = {}
        # Replayed first: the summary parts, then the items (the Responses API's only).
        parts = [self._pieces(part) for part in choice.reasoning if part]
        if parts:
            out["reasoning"] = parts if streamed else ["".join(part) for part in parts]
        if choice.items:
            out["items"] = [item for item, _ in choice.items]
            self.times += [at for _, at in choice.items]
        if choice.refusal:
            out["refusal"] = "".join(choice.refusal)
        else:
            if choice.content or not (choice.calls or choice.function or choice.items):
                texts = self._pieces(choice.content)
                if streamed:
                    out["chunks"] = texts
                else:
                    out["text"] = "".join(texts)
            if choice.calls:
                out["tool_calls"] = [self._call(choice.calls[i]) for i in sorted(choice.calls)]
            if choice.function is not None:
                out["function_call"] = self._call(choice.function)
        if choice.finish in FINISH_REASONS:
            out["finish_reason"] = choice.finish
        if choice.logprobs and "refusal" not in out:
            out["logprobs"] = choice.logprobs
        self.spec = out

    def _pieces(self, pieces: list[Piece]) -> list[str]:
        kept = _scrubbed(pieces, self.scrubber)
        self.times += [at for _, at in kept]
        return [text for text, _ in kept]

    def _call(self, call: Call) -> dict[str, Any]:
        self.times.append(call.at)
        texts = self._pieces(call.pieces)
        out: dict[str, Any] = {"id": call.id} if call.id else {}
        out.update(name=call.name, arguments="".join(texts))
        if self.streamed:
            out["chunks"] = texts
        return out


def _delays(replies: list[_Reply]) -> list[float]:
    """The pause before each piece, in the order the fixtures backend replays them (choices in turn,
    as `n` > 1 does): each piece goes out when it arrived, or right after the one before it."""
    longest = max((len(r.times) for r in replies), default=0)
    delays, now = [], 0.0
    for at in (r.times[i] for i in range(longest) for r in replies if i < len(r.times)):
        delays.append(round(max(0.0, at - now), 3))
        now = max(now, at)
    return delays


def _message(item: dict[str, Any]) -> Choice:
    message = item.get("message") or ({"content": item["text"]} if "text" in item else {})
    choice = Choice()
    choice.content = [(message["content"], 0.0)] if isinstance(message.get("content"), str) else []
    choice.refusal = [message["refusal"]] if message.get("refusal") else []
    for index, call in enumerate(message.get("tool_calls") or []):
        if call.get("type", "function") != "function":
            raise Unrecordable(f"a {call.get('type')!r} tool call")
        function = call.get("function") or {}
        arguments = function.get("arguments") or ""
        choice.calls[index] = Call(call.get("id"), function.get("name") or "", [(arguments, 0.0)])
    legacy = message.get("function_call")
    if legacy:
        choice.function = Call(None, legacy.get("name") or "", [(legacy.get("arguments") or "", 0.0)])
    choice.finish = item.get("finish_reason")
    choice.logprobs = logprob_entries(item.get("logprobs"))
    return choice


def _error(exchange: Exchange) -> dict[str, Any]:
    spec: dict[str, Any] = {"status": exchange.status}
    try:
        error = orjson.loads(exchange.body)["error"]
        spec.update(
            {k: str(error[k]) for k in ("message", "type", "code", "param") if error.get(k) is not None}
        )
    except (orjson.JSONDecodeError, KeyError, TypeError):
        spec["message"] = exchange.body.decode("utf-8", "replace")[:2000] or f"HTTP {exchange.status}"
    headers = {
        k: v for k, v in exchange.headers.items() if k in ERROR_HEADERS or k.startswith("x-ratelimit-")
    }
    return spec | ({"headers": headers} if headers else {})


def fixture_of(exchange: Exchange, fixture_id: str, scrubber: Scrubber) -> dict[str, Any]:
    """The fixture for an exchange, its pieces scrubbed (the rest is scrubbed as a whole after);
    raises `Unrecordable`, or `ValueError` on a body that is not a chat completion."""
    recorded: dict[str, Any] = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "upstream": exchange.upstream,
        "status": exchange.status,
        "stream": exchange.payloads is not None,
    }
    timing: dict[str, Any] = {"ttft": round(exchange.seconds, 3)}
    chat = exchange.path != "responses"  # chat, and legacy completions, whose chunks are alike
    if exchange.status >= 400:
        response: dict[str, Any] = {"error": _error(exchange)}
    elif exchange.path == "embeddings":
        response, info = embeddings.reply(orjson.loads(exchange.body))
        recorded.update(info)
    else:
        if exchange.payloads is not None:
            stream: _Stream | responses.ResponsesStream = _Stream() if chat else responses.ResponsesStream()
            for payload, delay in zip(exchange.payloads, exchange.delays or [], strict=True):
                stream.feed(orjson.loads(payload), delay)
            if isinstance(stream, _Stream):
                choices, info = stream.choices, {**stream.info}
            else:
                choices, info = {0: stream.choice}, {**stream.info}
            info.setdefault("obfuscation", False)  # replayed chunks get a pad only if these had one
        elif not chat:
            choice, info = responses.whole(orjson.loads(exchange.body))
            choices = {0: choice}
        else:
            body = orjson.loads(exchange.body)
            choices = {int(c.get("index", i)): _message(c) for i, c in enumerate(body["choices"])}
            info = {name: body.get(name) for name in ("id", "model", "system_fingerprint", "usage")}
        streamed = exchange.payloads is not None
        replies = [_Reply(choices[i], streamed, scrubber) for i in sorted(choices)]
        if not replies:
            raise Unrecordable("an answer without choices")
        response = replies[0].spec if len(replies) == 1 else {"choices": [r.spec for r in replies]}
        if streamed:
            delays = _delays(replies)
            timing = {"delays": delays} if delays else {}
        recorded.update({k: v for k, v in info.items() if v is not None})
    fixture = {"id": fixture_id, "recorded": recorded, "match": {"request": exchange.request}}
    return fixture | {"response": response} | ({"timing": timing} if timing else {})


def check(fixture: dict[str, Any]) -> None:
    """Raise `ValueError` if the fixture would not load (it is then not written)."""
    FixtureFile.model_validate({"fixtures": [fixture]})
