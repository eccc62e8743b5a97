"""Extract (request, real usage) pairs from public test suites' recordings of the live OpenAI API.

Projects that test against the live API keep VCR cassettes: the exact body each test sent and the
answer the API gave, usage included. This script reads those cassettes straight from git objects
(`git show <commit>:<path>`) of local mirrors, pairs every successful `/v1/chat/completions` and
`/v1/responses` request sent to api.openai.com with the usage in its answer (for a stream: the chunk
that carries usage, or the `response.completed` event), and writes one JSON object a line to
tests/data/usage_corpus.jsonl:

    {"source": {"repo", "commit", "path", "index", "format"}, "endpoint": "chat"|"responses",
     "model", "stream", "request": <the body sent>, "usage": <the usage returned>,
     "output": <the generated text and calls, minimal>}

Only these facts go in the tree, never a cassette: headers, ids, timestamps and everything else
in a recording are dropped. Identical requests (same endpoint and body) are kept once, first seen.

Sources (mirrors as the `fetch` tool leaves them, /work/.mirror/<owner>+<name>/repo):
    pydantic/pydantic-ai   tests/**/cassettes/*.yaml   vcrpy; bodies stored parsed (`parsed_body`)
    crewAIInc/crewAI       lib/crewai/tests/cassettes  vcrpy; bodies stored as the exact string
    Mirascope/mirascope    python/tests/**/cassettes   vcrpy; typescript/tests/**/cassettes: Polly HAR
Searched, with no recordings of the live OpenAI API at their newest commit: stanfordnlp/dspy,
deepset-ai/haystack, PrefectHQ/marvin, 567-labs/instructor, openai/openai-agents-python.
langchain-ai/langchain (libs/partners/openai/tests/cassettes, gzipped YAML) is read the same way
when a mirror is given; its snapshot was too large to fetch here.

Caveat, recorded per pair in source.format: pydantic-ai rewrites smart quotes to ASCII and applies
NFKC to every string before saving `parsed_body`, so such a body may differ from what was sent;
the pair's source.exact says whether re-serialising the body reproduces the recorded content-length.

Usage: python tools/extract_usage_corpus.py [--history] [MIRROR ...]
With --history every version of every cassette in the branch's history is read, not just HEAD's.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import json
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MIRRORS = Path("/work/.mirror")
DEFAULT_REPOS = ("pydantic/pydantic-ai", "crewAIInc/crewAI", "Mirascope/mirascope", "langchain-ai/langchain")
OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "usage_corpus.jsonl"
ENDPOINTS = {
    "https://api.openai.com/v1/chat/completions": "chat",
    "https://api.openai.com/v1/responses": "responses",
}
MAX_PAIR_BYTES = 1_000_000  # a few recordings carry multi-megabyte PDFs; they would dwarf the rest
CASSETTE_SUFFIXES = (".yaml", ".yml", ".har", ".yaml.gz", ".yml.gz", ".json")
YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Version:
    repo: str
    commit: str
    path: str


def git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(mirror), *args], capture_output=True, check=False).stdout


def versions(repo: str, mirror: Path, history: bool) -> Iterator[Version]:
    head = git(mirror, "rev-parse", "HEAD").decode().strip()
    listing = git(mirror, "ls-tree", "-r", "--name-only", "HEAD").decode().splitlines()
    for path in listing:
        if _is_cassette(path):
            yield Version(repo, head, path)
    if not history:
        return
    log = git(mirror, "log", "--format=@%H", "--name-only", "--diff-filter=AM", "HEAD").decode()
    commit = ""
    for line in log.splitlines():
        if line.startswith("@"):
            commit = line[1:]
        elif line and commit != head and _is_cassette(line):
            yield Version(repo, commit, line)


def _is_cassette(path: str) -> bool:
    lowered = path.lower()
    return ("cassette" in lowered or lowered.endswith(".har")) and lowered.endswith(CASSETTE_SUFFIXES)


def read_cassette(mirror: Path, version: Version) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The cassette's (request, response) records, each normalised to uri/body/status/headers."""
    raw = git(mirror, "show", f"{version.commit}:{version.path}")
    if version.path.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return []
    if b"api.openai.com/v1/" not in raw:
        return []
    text = raw.decode("utf-8", errors="replace")
    try:
        if version.path.endswith(".har") or version.path.endswith(".json"):
            return _har_records(json.loads(text))
        return _vcr_records(yaml.load(text, Loader=YamlLoader))
    except (yaml.YAMLError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
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


def _vcr_records(cassette: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    records = []
    for interaction in (cassette or {}).get("interactions") or []:
        request, response = interaction["request"], interaction["response"]
        req_body: Any = request.get("parsed_body")
        req_format = "vcr-parsed_body"
        if req_body is None:
            req_body, req_format = request.get("body"), "vcr"
            if isinstance(req_body, dict):
                req_body = req_body.get("string")
        resp_headers = _headers(response.get("headers"))
        resp_body: Any = response.get("parsed_body")
        if resp_body is None:
            resp_body = response.get("body")
            if isinstance(resp_body, dict):
                resp_body = resp_body.get("string")
            resp_body = _decoded(resp_body, resp_headers.get("content-encoding", ""))
        status = (response.get("status") or {}).get("code")
        records.append(
            (
                {
                    "uri": request.get("uri"),
                    "body": req_body,
                    "format": req_format,
                    "headers": _headers(request.get("headers")),
                },
                {"status": status, "body": resp_body, "headers": resp_headers},
            )
        )
    return records


def _har_records(har: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    records = []
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
            with contextlib.suppress(
                json.JSONDecodeError, TypeError
            ):  # Polly may keep a stream as its chunks
                body = "".join(json.loads(body))
        records.append(
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
    return records


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


def parse_answer(endpoint: str, body: Any) -> tuple[bool, dict[str, Any] | None, Any]:
    """(stream, usage, output) of a recorded answer."""
    if isinstance(body, dict):
        return False, body.get("usage"), _output(endpoint, body)
    if not isinstance(body, str):
        return False, None, None
    stripped = body.lstrip()
    if stripped.startswith("{"):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            return False, None, None
        return False, parsed.get("usage"), _output(endpoint, parsed)
    events = []
    for line in body.splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                try:
                    events.append(json.loads(data))
                except json.JSONDecodeError:
                    continue
    if not events:
        return True, None, None
    if endpoint == "responses":
        for event in events:
            if event.get("type") in ("response.completed", "response.incomplete"):
                response = event.get("response") or {}
                return True, response.get("usage"), _output(endpoint, response)
        return True, None, None
    usage = next((e["usage"] for e in reversed(events) if e.get("usage")), None)
    return True, usage, _stream_output(events)


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


def _request_json(body: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The request body and its exact text, when the cassette kept it."""
    if isinstance(body, dict):
        return body, None
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except json.JSONDecodeError:
            return None, None
        return (parsed, body) if isinstance(parsed, dict) else (None, None)
    return None, None


def _exact(body: dict[str, Any], text: str | None, headers: dict[str, str]) -> bool | None:
    """Whether the stored body is known to be the bytes sent (None: nothing to check against)."""
    length = headers.get("content-length")
    candidates = (
        [text]
        if text is not None
        else [
            json.dumps(body, separators=(",", ":"), ensure_ascii=False),
            json.dumps(body, separators=(",", ":")),
            json.dumps(body),
            json.dumps(body, ensure_ascii=False),
        ]
    )
    if not length or not length.isdigit():
        return True if text is not None else None
    return any(len(c.encode()) == int(length) for c in candidates if c is not None)


def pairs(repo: str, mirror: Path, history: bool) -> Iterator[dict[str, Any]]:
    seen_blobs: set[bytes] = set()
    for version in versions(repo, mirror, history):
        blob = git(mirror, "rev-parse", f"{version.commit}:{version.path}").strip()
        if blob in seen_blobs:
            continue
        seen_blobs.add(blob)
        for index, (request, response) in enumerate(read_cassette(mirror, version)):
            endpoint = ENDPOINTS.get(str(request["uri"]).split("?")[0])
            if endpoint is None or response["status"] != 200:
                continue
            body, text = _request_json(request["body"])
            if body is None:
                continue
            stream, usage, output = parse_answer(endpoint, response["body"])
            if not usage:
                continue
            yield {
                "source": {
                    "repo": repo,
                    "commit": version.commit,
                    "path": version.path,
                    "index": index,
                    "format": request["format"],
                    "exact": _exact(body, text, request["headers"]),
                },
                "endpoint": endpoint,
                "model": body.get("model"),
                "stream": bool(body.get("stream")) or stream,
                "request": body,
                "usage": usage,
                "output": output,
            }


def mirror_of(repo: str) -> Path:
    return MIRRORS / repo.replace("/", "+") / "repo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="*", default=list(DEFAULT_REPOS), help="owner/name of fetched mirrors")
    parser.add_argument("--history", action="store_true", help="read every version in history, not only HEAD")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    seen: set[str] = set()
    lines: list[str] = []
    for repo in args.repos:
        mirror = mirror_of(repo)
        if not (mirror / "HEAD").exists() and not (mirror / ".git").exists():
            print(f"{repo}: no mirror at {mirror}, skipped", file=sys.stderr)
            continue
        count = 0
        for pair in pairs(repo, mirror, args.history):
            key = pair["endpoint"] + json.dumps(pair["request"], sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            line = json.dumps(pair, ensure_ascii=False)
            if len(line.encode()) > MAX_PAIR_BYTES:
                print(
                    f"{repo}: {pair['source']['path']}#{pair['source']['index']} too large, left out",
                    file=sys.stderr,
                )
                continue
            lines.append(line)
            count += 1
        print(f"{repo}: {count} pairs", file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"{len(lines)} pairs -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
