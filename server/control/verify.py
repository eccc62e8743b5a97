"""`POST /_chatdouble/verify`: how many journaled requests of a namespace match, against a count.
Not OpenAI's API.

The match is written in the fixtures' own language (`match:` of docs/fixtures.md) and read by the
same matcher, against what the request's backend got (its conversation; `match.request` against the
client's bytes, normalized). The journal keeps that for every entry, whether or not `journal.bodies`
lists the bodies. A request refused before any backend saw it (invalid, unknown model) has no
conversation: only an empty match counts it. When the count is not met, the answer names the
closest requests and every condition each of them failed, ranked as the fixtures' near-miss message
ranks fixtures.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import APIRouter
from pydantic import Field, ValidationError, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from backends.fixtures.conditions import Match, Spec
from backends.fixtures.facts import Facts
from backends.fixtures.matcher import Condition, compile_match, matches, reasons, score
from backends.request_key import normalize
from server.control.requests_api import kept
from server.control.scope import scope
from server.errors import invalid_request
from server.http.body import read_body
from server.http.validation import translate
from server.runtime import runtime_of
from server.state.requests import RequestEntry

router = APIRouter(include_in_schema=False)

PATH = "/_chatdouble/verify"
CLOSEST = 3
Endpoint = Literal["chat.completions", "responses", "completions", "embeddings"]


class Count(Spec):
    eq: int | None = Field(default=None, ge=0)
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _some(self) -> Count:
        if self.eq is None and self.min is None and self.max is None:
            raise ValueError("count needs at least one of eq, min, max")
        return self

    def holds(self, count: int) -> bool:
        return (
            (self.eq is None or count == self.eq)
            and (self.min is None or count >= self.min)
            and (self.max is None or count <= self.max)
        )


class Verification(Spec):
    match: Match = Field(default_factory=Match)
    count: Count = Field(default_factory=lambda: Count(min=1))
    endpoint: Endpoint | None = None


def parse(raw: bytes) -> Verification:
    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise invalid_request('The body must be JSON: {"match": {...}, "count": {...}}.') from None
    try:
        return Verification.model_validate(data)
    except ValidationError as exc:
        raise translate(data, exc) from None


def facts_of(entry: RequestEntry) -> Facts | None:
    conversation = entry.subject.conversation
    if conversation is None or not conversation.messages:
        return None
    facts = Facts.of(conversation)
    raw = entry.subject.raw
    facts.view = lambda: normalize(orjson.loads(raw))
    return facts


def verify(entries: list[RequestEntry], check: Verification) -> dict[str, Any]:
    conditions = compile_match(check.match)
    matched: list[int] = []
    missed: list[tuple[tuple[int, int], int, list[Condition], Facts]] = []
    for entry in entries:
        if check.endpoint is not None and entry.endpoint != check.endpoint:
            continue
        facts = facts_of(entry)
        if facts is None:
            if not conditions:
                matched.append(entry.seq)
            continue
        if matches(conditions, facts):
            matched.append(entry.seq)
        else:
            near = score(conditions, facts)
            missed.append(((-near.held, near.failed), entry.seq, conditions, facts))
    ok = check.count.holds(len(matched))
    closest = [] if ok else sorted(missed, key=lambda item: (item[0], -item[1]))[:CLOSEST]
    return {
        "object": "chatdouble.verification",
        "ok": ok,
        "count": len(matched),
        "expected": check.count.model_dump(exclude_none=True),
        "matched": matched,
        "near_misses": [{"seq": seq, "reasons": reasons(conds, facts)} for _, seq, conds, facts in closest],
    }


@router.post(PATH)
async def verify_requests(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    target = scope(request, runtime)
    check = parse(await read_body(request, runtime.settings.max_body_bytes))
    entries = await kept(runtime).of(target)
    return JSONResponse(verify(entries, check))
