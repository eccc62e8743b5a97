"""Extract (request, real usage) pairs from public test suites' recordings of the live OpenAI API.

Projects that test against the live API keep VCR cassettes: the exact body each test sent and the
answer the API gave, usage included. This script reads those cassettes straight from git objects
(`git show <commit>:<path>`) of local mirrors, pairs every successful `/v1/chat/completions` and
`/v1/responses` request sent to api.openai.com with the usage in its answer (for a stream: the chunk
that carries usage, or the `response.completed` event), and writes one JSON object a line to
tests/data/usage_corpus.jsonl:

    {"source": {"repo", "commit", "path", "index", "format"}, "endpoint": "chat"|"responses",
     "model", "stream", "request": <the body sent>, "usage": <the usage returned>,
     "output": <the generated text and calls, minimal>,
     "answered": {"model": <the snapshot that answered>, "created": <Unix seconds>}}

Only these facts go in the tree, never a cassette: headers, ids, timestamps and everything else
in a recording are dropped. Identical requests (same endpoint and body) are kept once, first seen.

Sources (`SOURCES`): git mirrors as the `fetch` tool leaves them (/work/.mirror/<owner>+<name>/repo),
read at HEAD or, where `history` is set, at every version in the branch's history; or a released
sdist that ships the recordings, from `pip download --no-deps --no-binary :all: NAME==VERSION -d
~/.cache/chatdouble/sdists` (its pairs carry `source.release`, and `commit` is empty). A file is a
recording when its path names a folder of `CASSETTE_PLACES` (or it is a HAR or an httprr trace) and
it mentions api.openai.com; formats are in tools/cassette_formats.py. A source that is not here keeps the pairs it has in the corpus.
    pydantic/pydantic-ai   vcrpy, bodies stored parsed (`parsed_body`)
    crewAIInc/crewAI, Mirascope/mirascope (also Polly HAR), and most `history` sources: vcrpy
    traceloop/openllmetry-js: Polly HAR; crmne/ruby_llm, alexrudall/ruby-openai,
    activeagents/activeagent, instructor-ai/instructor-rb, sublayerapp/sublayer, OlympiaAI/raix:
    Ruby's VCR; charmbracelet/fantasy: go-vcr; tmc/langchaingo: httprr;
    openai/openai-dotnet: Azure SDK test-proxy session records
    langchain-ai/langchain libs/partners/openai/tests/cassettes, from the langchain-openai sdist
                           (the snapshot is too large to fetch): gzipped, older vcrpy layout,
                           URIs redacted, so the endpoint is read off the bodies
Searched, with no recordings of the live OpenAI API at their newest commit: stanfordnlp/dspy,
deepset-ai/haystack, PrefectHQ/marvin, 567-labs/instructor, openai/openai-agents-python,
agno-agi/agno, guardrails-ai/guardrails, langfuse/langfuse-python, strands-agents/sdk-python,
microsoft/autogen, open-telemetry/opentelemetry-js-contrib, elastic/elastic-otel-node,
patterns-ai-core/langchainrb, ksylvest/omniai-openai, Shopify/roast, traceloop/go-openllmetry,
getzep/graphiti, langchain-ai/openevals, charmbracelet/crush, langchain-ai/deepagents,
JetBrains/koog, langchain-ai/langchain-mcp-adapters, langchain-ai/langchain-community,
explodinggradients/ragas, google/adk-python; openai/openai-python keeps its
answers as inline snapshots beside test code, not the bodies sent. Left out:
Significant-Gravitas/Auto-GPT-test-cassettes (644 pairs of 2023, most answered by the retired
gpt-3.5-turbo-0301, which counts 4 a message, and 251 with `max_tokens: 0`). Too large to fetch here:
BerriAI/litellm, wandb/weave, run-llama/llama_index, mastra-ai/mastra, ag2ai/ag2.

Caveat, recorded per pair in source.format: pydantic-ai rewrites smart quotes to ASCII and applies
NFKC to every string before saving `parsed_body`, so such a body may differ from what was sent;
the pair's source.exact says whether re-serialising the body reproduces the recorded content-length.

Usage: python -m tools.extract_usage_corpus [--history] [--sdists DIR] [OWNER/NAME ...]
With --history every source is read at every version in history; naming sources reads only those
(and writes only their pairs).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.cassette_formats import records
from tools.recorded_answers import endpoint_of, parse_answer

MIRRORS = Path("/work/.mirror")
SDISTS = Path.home() / ".cache" / "chatdouble" / "sdists"
OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "usage_corpus.jsonl"
ENDPOINT_URI = re.compile(r"^https://api\.openai\.com(?::443)?/v1/(chat/completions|responses)$")
MAX_PAIR_BYTES = 1_000_000  # a few recordings carry multi-megabyte PDFs; they would dwarf the rest
CASSETTE_SUFFIXES = (".yaml", ".yml", ".har", ".yaml.gz", ".yml.gz", ".json", ".httprr")
CASSETTE_PLACES = (
    "cassette",
    "recording",
    "fixture",
    "sessionrecords",
    "testdata",
    "vcr",
)  # where suites keep recordings


@dataclass(frozen=True, slots=True)
class Source:
    """One public test suite's recordings, read from a git mirror or from a released sdist."""

    repo: str
    history: bool = False
    """Every version of every recording in the branch's history, not only HEAD's."""
    sdist: str = ""
    """`name==version` of a PyPI sdist that ships the recordings, read instead of a mirror."""
    root: str = ""
    """Where the sdist's files live in the repository (provenance paths are the repository's)."""
    skip: tuple[str, ...] = ()
    """Path fragments of recordings of other hosts, for recordings whose URIs are redacted."""


SOURCES = (
    Source("pydantic/pydantic-ai", history=True),
    Source("crewAIInc/crewAI", history=True),
    Source("Mirascope/mirascope", history=True),
    # The repository's snapshot is too large to fetch here, but the package's sdist ships its
    # cassettes; the Codex ones went to chatgpt.com's backend, not to api.openai.com.
    Source(
        "langchain-ai/langchain",
        sdist="langchain-openai==1.8.1",
        root="libs/partners/openai/",
        skip=("codex", "azure"),
    ),
    Source("simonw/llm", history=True),
    Source("simonw/llm-openai-plugin", history=True),
    Source("traceloop/openllmetry", history=True),
    Source("open-telemetry/opentelemetry-python-contrib", history=True),
    Source("elastic/elastic-otel-python-instrumentations", history=True),
    Source("DataDog/dd-trace-py", history=True),
    Source("Arize-ai/openinference", history=True),
    Source("langchain-ai/langsmith-sdk", history=True),
    Source("pydantic/logfire", history=True),
    Source("jackmpcollins/magentic", history=True),
    Source("AgentOps-AI/agentops", history=True),
    Source("Future-House/paper-qa", history=True),
    Source("Future-House/ldp", history=True),
    Source("Future-House/aviary", history=True),
    Source("traceloop/openllmetry-js", history=True),
    Source("crmne/ruby_llm", history=True),
    Source("alexrudall/ruby-openai", history=True),
    Source("tmc/langchaingo", history=True),
    Source("openai/openai-dotnet", history=True),
    Source("charmbracelet/fantasy", history=True),
    Source("activeagents/activeagent", history=True),
    Source("instructor-ai/instructor-rb", history=True),
    Source("sublayerapp/sublayer", history=True),
    Source("OlympiaAI/raix", history=True),
    Source("langchain-ai/langgraph", history=True),
)


@dataclass(frozen=True, slots=True)
class Version:
    """One version of one recording: where it came from and its bytes."""

    repo: str
    commit: str
    path: str
    raw: bytes
    release: str = ""


def git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(mirror), *args], capture_output=True, check=False).stdout


def mirror_versions(source: Source, mirror: Path, history: bool) -> Iterator[Version]:
    """Each distinct version (by blob) of each recording in the mirror, HEAD's first."""
    head = git(mirror, "rev-parse", "HEAD").decode().strip()
    found = [
        (head, path) for path in git(mirror, "ls-tree", "-r", "--name-only", "HEAD").decode().splitlines()
    ]
    if history or source.history:
        log = git(mirror, "log", "--format=@%H", "--name-only", "--diff-filter=AM", "HEAD").decode()
        commit = ""
        for line in log.splitlines():
            if line.startswith("@"):
                commit = line[1:]
            elif line and commit != head:
                found.append((commit, line))
    seen_blobs: set[bytes] = set()
    for commit, path in found:
        if not is_cassette(path, source.skip):
            continue
        blob = git(mirror, "rev-parse", f"{commit}:{path}").strip()
        if blob in seen_blobs:
            continue
        seen_blobs.add(blob)
        yield Version(source.repo, commit, path, git(mirror, "show", f"{commit}:{path}"))


def sdist_versions(source: Source, archive: Path) -> Iterator[Version]:
    """Each recording the sdist ships, at its path in the repository."""
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            inner = member.name.partition("/")[2]  # below the archive's `name-version/` folder
            if not member.isfile() or not is_cassette(inner, source.skip):
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                yield Version(source.repo, "", source.root + inner, handle.read(), release=source.sdist)


def is_cassette(path: str, skip: tuple[str, ...] = ()) -> bool:
    lowered = path.lower()
    return (
        (any(place in lowered for place in CASSETTE_PLACES) or lowered.endswith((".har", ".httprr")))
        and lowered.endswith(CASSETTE_SUFFIXES)
        and not any(fragment in lowered for fragment in skip)
    )


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


def pairs(versions: Iterator[Version]) -> Iterator[dict[str, Any]]:
    """The (request, usage) pairs of every successful chat or Responses call in the recordings."""
    for version in versions:
        if not version.release and not _mentions_the_api(version):
            continue
        for index, (request, response) in enumerate(records(version.path, version.raw)):
            body, text = _request_json(request["body"])
            if body is None or response["status"] != 200:
                continue
            uri = str(request["uri"] or "")
            match = ENDPOINT_URI.match(uri.split("?")[0])
            if match:
                endpoint: str | None = "chat" if match.group(1) == "chat/completions" else "responses"
            elif uri.startswith("http"):
                continue  # another host: Azure, a local server, another vendor
            else:  # redacted: the bodies say which endpoint it was
                endpoint = endpoint_of(body, response["body"])
            if endpoint is None:
                continue
            stream, usage, output, answered = parse_answer(endpoint, response["body"])
            if not usage:
                continue
            where = {"repo": version.repo, "commit": version.commit}
            if version.release:
                where["release"] = version.release
            yield {
                "source": {
                    **where,
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
                "answered": answered,
            }


def _mentions_the_api(version: Version) -> bool:
    raw = version.raw
    if version.path.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return False
    return b"api.openai.com/v1/" in raw or b"api.openai.com:443/v1/" in raw


def mirror_of(repo: str) -> Path:
    return MIRRORS / repo.replace("/", "+") / "repo"


def versions_of(source: Source, sdists: Path, history: bool) -> Iterator[Version] | None:
    """The source's recordings, or None when neither its mirror nor its sdist is here."""
    if source.sdist:
        name, _, release = source.sdist.partition("==")
        stem = f"{name.replace('-', '_')}-{release}"
        archive = next(
            (p for p in (sdists / f"{stem}.tar.gz", sdists / f"{name}-{release}.tar.gz") if p.exists()), None
        )
        return None if archive is None else sdist_versions(source, archive)
    mirror = mirror_of(source.repo)
    if not (mirror / "HEAD").exists() and not (mirror / ".git").exists():
        return None
    return mirror_versions(source, mirror, history)


def previous_pairs(path: Path) -> dict[str, list[str]]:
    """The lines already in the corpus, by repository: kept for a source that is not here now."""
    kept: dict[str, list[str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                kept.setdefault(json.loads(line)["source"]["repo"], []).append(line)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="*", help="owner/name of the sources to read (default: all)")
    parser.add_argument("--history", action="store_true", help="read every version in history, not only HEAD")
    parser.add_argument("--sdists", type=Path, default=SDISTS, help="folder of downloaded sdists")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    known = {source.repo: source for source in SOURCES}
    chosen = [known.get(repo) or Source(repo) for repo in args.repos] if args.repos else list(SOURCES)
    previous = previous_pairs(args.output) if not args.repos else {}
    seen: set[str] = set()
    lines: list[str] = []
    for source in chosen:
        found = versions_of(source, args.sdists, args.history)
        if found is None:
            kept = previous.get(source.repo, [])
            print(f"{source.repo}: no mirror or sdist here, {len(kept)} pairs kept", file=sys.stderr)
            found_pairs: Iterator[dict[str, Any]] = (json.loads(line) for line in kept)
        else:
            found_pairs = pairs(found)
        count = 0
        for pair in found_pairs:
            key = pair["endpoint"] + json.dumps(pair["request"], sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            line = json.dumps(pair, ensure_ascii=False)
            if len(line.encode()) > MAX_PAIR_BYTES:
                print(
                    f"{source.repo}: {pair['source']['path']}#{pair['source']['index']} too large, left out",
                    file=sys.stderr,
                )
                continue
            lines.append(line)
            count += 1
        print(f"{source.repo}: {count} pairs", file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"{len(lines)} pairs -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
