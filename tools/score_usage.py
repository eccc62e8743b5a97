"""Score chatdouble's prompt-token counts against the real API's, on recorded traffic.

Every pair of tests/data/usage_corpus.jsonl (built by tools/extract_usage_corpus.py) is posted,
in process, to an app built from the embedded default configuration (the echo backend answers
every model): the recorded body with `stream: false` and `stream_options` removed (we would
otherwise have to read usage off a stream), nothing else changed. Our `usage.prompt_tokens`
(`input_tokens` on /v1/responses) is compared with the recorded one. A Responses request chained with
`previous_response_id` to the pair before it in its cassette continues chatdouble's own stored
response to that pair, which a runtime fixture made give the recorded output; other chained
requests (their previous response is not in the corpus, or held hosted tools' items) are not posted.

The table gives, per endpoint and model family: pairs, exact matches, the mean absolute
difference over the pairs we answered, requests we rejected (a 4xx on a body the real API
accepted) and requests to an endpoint we do not serve yet. `-v` lists every mismatch with its
source and difference; rejections are always grouped by their message, since each one names a
field or value the real API accepts and we do not.

`--unexplained PATH` writes the pairs we do not count exactly, each with its difference and a
reason (`reason unknown` unless the request holds something whose price is not public: hosted
tools, media). tests/test_usage_corpus.py requires every other pair to be exact.

Usage: python tools/score_usage.py [-v] [--corpus PATH] [--dump PATH] [--unexplained PATH]
       [--endpoint chat|responses]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from server.app import create_app
from server.config import load_settings
from server.generation.documents import read_document

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "usage_corpus.jsonl"
PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses"}
PROMPT_FIELD = {"chat": "prompt_tokens", "responses": "input_tokens"}
FAMILIES = (
    ("gpt-4o", re.compile(r"^(gpt-4o|chatgpt-4o)")),
    ("gpt-4.1", re.compile(r"^gpt-4\.1")),
    ("gpt-4/3.5 (cl100k)", re.compile(r"^(gpt-4($|-)|gpt-3\.5)")),
    ("o-series", re.compile(r"^o\d")),
    ("gpt-5", re.compile(r"^gpt-5")),
)


def family(model: str) -> str:
    return next((name for name, pattern in FAMILIES if pattern.match(model)), "other")


@dataclass(slots=True)
class Outcome:
    pair: dict[str, Any]
    status: int
    ours: int | None = None
    error: str | None = None

    @property
    def real(self) -> int:
        return int(self.pair["usage"].get(PROMPT_FIELD[self.pair["endpoint"]]) or 0)

    @property
    def key(self) -> str:
        """The pair's identity across runs: repository, version, path and index in its cassette.

        The version (a commit, or the release of an sdist) tells apart the versions of one cassette
        that a source read with its history holds.
        """
        s = self.pair["source"]
        return f"{s['repo']}@{s.get('release') or s['commit'][:10]}:{s['path']}#{s['index']}"

    @property
    def where(self) -> str:
        return self.key


@dataclass(slots=True)
class Cell:
    pairs: int = 0
    exact: int = 0
    answered: int = 0
    abs_diff: int = 0
    rejected: int = 0
    missing: int = 0
    chained: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


Cassette = tuple[str, str, str]
"""A recording's repository, version and path: the pairs of one cassette, by index."""


def _cassette(pair: dict[str, Any]) -> Cassette:
    s = pair["source"]
    return (s["repo"], s.get("release") or s["commit"], s["path"])


SCRIPTABLE = {"message", "function_call", "reasoning"}  # output items a fixture can give again


def _script(pair: dict[str, Any], call_ids: list[str]) -> dict[str, Any] | None:
    """A runtime fixture giving the recorded output of `pair` again, so that the response
    chatdouble stores (and a chained request continues) is the real one: its message text and its
    function calls, with the call ids the chained request answers. None when the output holds
    anything else (a hosted tool's items) or more than one message."""
    output = pair.get("output") or []
    if not output or any(item.get("type") not in SCRIPTABLE for item in output):
        return None
    texts = [item.get("text") or "" for item in output if item.get("type") == "message"]
    calls = [item for item in output if item.get("type") == "function_call"]
    if len(texts) > 1 or len(calls) > len(call_ids) or not (texts or calls):
        return None
    reply: dict[str, Any] = {"text": texts[0]} if texts else {}
    if calls:
        reply["tool_calls"] = [
            {"name": call["name"], "arguments": call["arguments"], "id": call_id}
            for call, call_id in zip(calls, call_ids, strict=False)
        ]
    return {"times": 1, "response": reply}


def _chains(pairs: list[dict[str, Any]]) -> dict[tuple[Cassette, int], list[str]]:
    """The pairs a later pair of the same cassette continues with `previous_response_id` (the pair
    just before it), with the call ids that later pair answers."""
    wanted: dict[tuple[Cassette, int], list[str]] = {}
    for pair in pairs:
        body = pair["request"]
        if pair["endpoint"] == "responses" and body.get("previous_response_id"):
            items = body.get("input") if isinstance(body.get("input"), list) else []
            ids = [
                str(item.get("call_id")) for item in items if isinstance(item, dict) and item.get("call_id")
            ]
            wanted[(_cassette(pair), pair["source"]["index"] - 1)] = ids
    return wanted


async def run(pairs: list[dict[str, Any]]) -> list[Outcome]:
    """Post every pair. A request chained with `previous_response_id` to the pair just before it in
    its cassette continues our response to that pair, which a runtime fixture made give the
    recorded output (`_script`); any other chained request is not posted."""
    app = create_app(load_settings(env={}, overrides={}))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    outcomes = []
    wanted = _chains(pairs)
    ours: dict[tuple[Cassette, int], str] = {}  # the response ids of the pairs posted as recorded
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as http:
        for pair in pairs:
            body = dict(pair["request"])
            body["stream"] = False
            body.pop("stream_options", None)
            if pair["endpoint"] == "responses":
                body.pop("background", None)  # a background response is answered `queued`, without usage
            where = (_cassette(pair), pair["source"]["index"])
            if body.get("previous_response_id"):
                previous = ours.get((where[0], where[1] - 1))
                if previous is None:
                    outcomes.append(Outcome(pair, 0, error="chained to a response we never saw"))
                    continue
                body["previous_response_id"] = previous
            script = _script(pair, wanted[where]) if where in wanted else None
            if script is not None:
                await http.post("/_chatdouble/fixtures", json=script)
            response = await http.post(PATHS[pair["endpoint"]], json=body)
            if script is not None:
                await http.delete("/_chatdouble/fixtures")  # unused if the request was refused
                if response.status_code == 200:
                    ours[where] = response.json()["id"]
            outcome = Outcome(pair, response.status_code)
            try:
                answer = response.json()
            except json.JSONDecodeError:
                answer = {}
            if response.status_code == 200:
                outcome.ours = int(answer["usage"][PROMPT_FIELD[pair["endpoint"]]])
            else:
                error = answer.get("error") if isinstance(answer, dict) else None
                outcome.error = (error or {}).get("message") or response.text[:200]
            outcomes.append(outcome)
    return outcomes


def tabulate(outcomes: list[Outcome]) -> dict[tuple[str, str], Cell]:
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    for outcome in outcomes:
        key = (outcome.pair["endpoint"], family(str(outcome.pair["model"])))
        for cell in (cells[key], cells[(key[0], "all")]):
            cell.pairs += 1
            cell.outcomes.append(outcome)
            if outcome.status == 404:
                cell.missing += 1
            elif outcome.status == 0:
                cell.chained += 1
            elif outcome.ours is None:
                cell.rejected += 1
            else:
                cell.answered += 1
                cell.exact += outcome.ours == outcome.real
                cell.abs_diff += abs(outcome.ours - outcome.real)
    return cells


def report(cells: dict[tuple[str, str], Cell], verbose: bool) -> None:
    header = f"{'endpoint':<10} {'family':<20} {'pairs':>5} {'exact':>5} {'exact%':>6} {'mean|d|':>8} {'rejected':>8} {'no route':>8} {'chained':>7}"
    print(header)
    print("-" * len(header))
    for (endpoint, fam), cell in sorted(
        cells.items(), key=lambda kv: (kv[0][0], kv[0][1] == "all", kv[0][1])
    ):
        share = f"{100 * cell.exact / cell.answered:.0f}%" if cell.answered else "-"
        mean = f"{cell.abs_diff / cell.answered:.1f}" if cell.answered else "-"
        print(
            f"{endpoint:<10} {fam:<20} {cell.pairs:>5} {cell.exact:>5} {share:>6} {mean:>8} {cell.rejected:>8} {cell.missing:>8} {cell.chained:>7}"
        )
    everything = [o for (_, fam), c in cells.items() if fam == "all" for o in c.outcomes]
    rejections = Counter(
        f"{o.pair['endpoint']} {o.status}: {o.error}"
        for o in everything
        if o.ours is None and o.status not in (0, 404)
    )
    if rejections:
        print("\nRejected by our validation (the real API accepted these):")
        for message, count in rejections.most_common():
            print(f"  {count:>4}  {message}")
    if verbose:
        print("\nMismatches (ours - real):")
        for outcome in sorted(everything, key=lambda o: (o.pair["endpoint"], str(o.pair["model"]), o.where)):
            if outcome.ours is not None and outcome.ours != outcome.real:
                diff = outcome.ours - outcome.real
                print(
                    f"  {diff:+6d}  ours={outcome.ours:<6} real={outcome.real:<6} {outcome.pair['model']!s:<22} {outcome.where}"
                )
        print("\nRejections:")
        for outcome in everything:
            if outcome.ours is None and outcome.status not in (0, 404):
                print(f"  {outcome.status} {outcome.where}: {outcome.error}")


MEDIA = {"image_url", "input_audio", "file", "input_image", "input_file"}


def _estimated(part: dict[str, Any]) -> bool:
    """A media part priced by estimate: an image the server does not see (a URL, a file id), a file
    it does not read exactly (a file id or URL, an Office file, a PDF's glyph codes without a map)."""
    if part.get("type") == "input_audio":
        return False  # priced by its length
    if part.get("type") in ("file", "input_file"):
        data = (part.get("file") if isinstance(part.get("file"), dict) else part).get("file_data")
        raw = _base64(data) if isinstance(data, str) and data else None
        document = None if raw is None else read_document(raw)
        return document is None or document.glyphs > 0 or document.estimated
    url = part.get("image_url")
    url = url.get("url") if isinstance(url, dict) else url
    return not (isinstance(url, str) and url.startswith("data:"))  # a data: URL is priced by its size


def _base64(data: str) -> bytes | None:
    try:
        return base64.b64decode(data.partition(",")[2] if data.startswith("data:") else data)
    except ValueError:
        return None


OPENAI_MODEL = re.compile(r"^(gpt-|o\d|chatgpt|ft:|codex|computer-use)")  # who answered, by its name
OLD_GPT35 = ("gpt-3.5-turbo-0301", "gpt-3.5-turbo-0613")  # what the bare alias named in 2023
API_CHANGE = 1743465600  # 2025-04-01T00:00:00Z: the earliest recordings after it count the new way
# 2024-11-09T00:00:00Z: the last recording where `tool_choice: "required"` cost 2 more is of 11-08
REQUIRED_CHANGE = 1731110400
# 2026-03-01T00:00:00Z: the results of parallel calls count non-ASCII unescaped in recordings since
UNESCAPED_RESULTS = 1772323200


def _items(items: Any) -> list[Any]:
    return items if isinstance(items, list) else []


def _current_reasoning(items: list[Any]) -> bool:
    """A `reasoning` input item after the last user message: the current turn's hidden reasoning."""
    users = [i for i, item in enumerate(items) if isinstance(item, dict) and item.get("role") == "user"]
    start = users[-1] if users else -1
    return any(isinstance(item, dict) and item.get("type") == "reasoning" for item in items[start + 1 :])


def _joined_non_ascii(messages: list[Any]) -> bool:
    """A tool result holding non-ASCII text answers one of several calls made in one turn."""
    parallel = {
        call.get("id")
        for message in messages
        if isinstance(message, dict) and len(message.get("tool_calls") or []) > 1
        for call in message["tool_calls"]
        if isinstance(call, dict)
    }
    return any(
        isinstance(m, dict)
        and m.get("tool_call_id") in parallel
        and isinstance(m.get("content"), str)
        and not m["content"].isascii()
        for m in messages
    )


def _grammar(tool: Any) -> bool:
    """A custom tool whose input follows a grammar (chat nests the tool under `custom`)."""
    custom = tool.get("custom", tool) if isinstance(tool, dict) else {}
    fmt = custom.get("format") if tool.get("type") == "custom" and isinstance(custom, dict) else None
    return isinstance(fmt, dict) and fmt.get("type") == "grammar"


def reason(outcome: Outcome) -> str:
    """Why a pair is not exact, where the request says; `reason unknown` otherwise."""
    if outcome.status == 0:
        return (
            "chained to a response that is not in the corpus, or whose output (a hosted tool's items) "
            "a fixture cannot give again"
        )
    if outcome.ours is None:
        return f"rejected: {outcome.error}"
    request = outcome.pair["request"]
    if any(tool.get("type") not in ("function", "custom") for tool in request.get("tools") or []):
        return (
            "hosted tools: beyond the types priced as constants, their hidden instructions, and what "
            "they read while the response runs (search results, file chunks, code outputs, listed "
            "tools), are not in the request (estimate)"
        )
    if any(_grammar(tool) for tool in request.get("tools") or []):
        return (
            "custom tool with a grammar: how the grammar is shown to the model is not known (docs/usage.md)"
        )
    items = request.get("messages") or request.get("input") or []
    stateful = request.get("conversation") or request.get("context_management")
    if stateful or any(isinstance(i, dict) and i.get("type") == "compaction" for i in _items(items)):
        return "server-side state: the history a conversation or compaction stands for is not in the request"
    if isinstance(request.get("prompt"), dict):
        return "server-side state: the text of a stored prompt (`prompt.id`) is not in the request"
    if (request.get("reasoning") or {}).get("mode"):
        return "reasoning.mode: the hidden prompt a reasoning mode adds is not public (docs/usage.md)"
    if outcome.real == 0:
        return "the recording reports no usage (zero tokens: a stream that ended before its usage)"
    for item in _items(items):
        content = item.get("content") if isinstance(item, dict) else None
        media = (
            [p for p in content if isinstance(p, dict) and p.get("type") in MEDIA]
            if isinstance(content, list)
            else []
        )
        if any(_estimated(part) for part in media):
            return "media: priced by estimate (docs/usage.md)"
        if media:
            return (
                "media: priced by rule (an image by its size, audio by its length, a file by its "
                "text), a residue of the fit (docs/usage.md)"
            )
    answered = (outcome.pair.get("answered") or {}).get("created")
    by = (outcome.pair.get("answered") or {}).get("model")
    if isinstance(by, str) and not OPENAI_MODEL.match(by):
        return f"not OpenAI's count: the recorded response was answered by {by}"
    if request.get("model") == "gpt-3.5-turbo" and by in OLD_GPT35:
        return (
            f"alias change: answered by {by}, which the bare gpt-3.5-turbo named in 2023 "
            "(gpt-3.5-turbo-0125 since 2024); the request does not name the snapshot"
        )
    if outcome.pair["endpoint"] == "responses" and isinstance(answered, int) and answered < API_CHANGE:
        return (
            "API change: answered before 2025-04 (gpt-4o on /v1/responses then counted 18 more, "
            "about 216 more beside tools; the same shapes answered since are exact)"
        )
    if (
        outcome.pair["endpoint"] == "chat"
        and request.get("tool_choice") == "required"
        and isinstance(answered, int)
        and answered < REQUIRED_CHANGE
    ):
        return (
            'API change: `tool_choice: "required"` cost 2 more until late 2024 (gpt-4o and '
            "gpt-4o-mini until mid-October, gpt-3.5-turbo-0125 still on 2024-11-08; the same shapes "
            "answered since are exact)"
        )
    if (
        outcome.pair["endpoint"] == "chat"
        and isinstance(answered, int)
        and answered >= UNESCAPED_RESULTS
        and _joined_non_ascii(_items(items))
    ):
        return (
            "API change: the results of several calls made in one turn counted non-ASCII "
            "\\u-escaped in the recordings of August 2025 to February 12, 2026, unescaped in "
            "those of March 2026 on"
        )
    if _current_reasoning(_items(items)):
        return (
            "reasoning sent back: its hidden tokens (the producing response's reasoning tokens + 7 "
            "per item) are estimated from the size of encrypted_content (docs/usage.md)"
        )
    return "reason unknown"


EDITED = (
    "the request was edited after it was answered: another version of this cassette holds the same "
    "recorded answer (its `created` and usage) with a request counted differently"
)


def _answer(pair: dict[str, Any]) -> tuple[str, str, int, Any, str]:
    """A recorded answer's identity across the versions of its cassette."""
    s = pair["source"]
    created = (pair.get("answered") or {}).get("created")
    return (s["repo"], s["path"], s["index"], created, json.dumps(pair["usage"], sort_keys=True))


def _edited(outcomes: list[Outcome]) -> set[int]:
    """The outcomes whose recorded answer appears in another version of their cassette with a
    request we count differently: one of the two requests was changed after the API answered it (a
    cassette edited by hand or rewritten by its test's matcher), so the count belongs to only one."""
    counts: dict[tuple[str, str, int, Any, str], set[int | None]] = defaultdict(set)
    for o in outcomes:
        if (o.pair.get("answered") or {}).get("created") is not None:
            counts[_answer(o.pair)].add(o.ours)
    # told apart by our own count: an edit that does not change it does not explain a difference
    return {id(o) for o in outcomes if len(counts.get(_answer(o.pair), ())) > 1}


def unexplained(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    edited = _edited(outcomes)
    rows = []
    for o in outcomes:
        if o.ours == o.real:
            continue
        why = reason(o)
        if why == "reason unknown" and id(o) in edited:
            why = EDITED
        rows.append(
            {
                "pair": o.key,
                "endpoint": o.pair["endpoint"],
                "model": o.pair["model"],
                "ours": o.ours,
                "real": o.real,
                "difference": None if o.ours is None else o.ours - o.real,
                "reason": why,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mismatch and rejection")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--endpoint", choices=sorted(PATHS), help="score one endpoint only")
    parser.add_argument(
        "--dump", type=Path, help="write one JSON line per pair: source, model, ours, real, status, error"
    )
    parser.add_argument(
        "--unexplained", type=Path, help="write the pairs not counted exactly, with difference and reason"
    )
    args = parser.parse_args(argv)
    pairs = [
        json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    if args.endpoint:
        pairs = [p for p in pairs if p["endpoint"] == args.endpoint]
    outcomes = asyncio.run(run(pairs))
    report(tabulate(outcomes), args.verbose)
    if args.unexplained:
        with args.unexplained.open("w", encoding="utf-8") as out:
            for entry in unexplained(outcomes):
                out.write(json.dumps(entry) + "\n")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as out:
            for o in outcomes:
                record = {
                    "source": o.pair["source"],
                    "endpoint": o.pair["endpoint"],
                    "model": o.pair["model"],
                    "ours": o.ours,
                    "real": o.real,
                    "status": o.status,
                    "error": o.error,
                }
                out.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
