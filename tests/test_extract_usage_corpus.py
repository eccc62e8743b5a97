"""The usage-corpus extractor reads every recording format it names, and records where each pair came from.

tools/extract_usage_corpus.py turns public test suites' recordings of the live API into
(request, usage) pairs. Proven here on recordings written in each format (made up for the test, no
real cassette): vcrpy's `interactions` layout with exact string bodies, vcrpy's older
`requests`/`responses` layout as LangChain keeps it (gzipped, `!!binary` bodies, URIs redacted, so
the endpoint is read off the bodies), a released sdist as the source, a git mirror read with its
history (each version of a cassette is a pair of its own, told apart by its commit), and the
corpus's pairs of a source that is not at hand being kept.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import extract_usage_corpus as extractor
from tools.cassette_formats import records
from tools.recorded_answers import endpoint_of
from tools.score_usage import Outcome

CHAT_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Name a colour."}]}
CHAT_ANSWER = {
    "object": "chat.completion",
    "model": "gpt-4o-mini-2024-07-18",
    "created": 1754000000,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Teal."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
}
RESPONSES_BODY = {"model": "gpt-5-nano", "input": [{"role": "user", "content": "Name a tree."}]}
RESPONSES_ANSWER = {
    "object": "response",
    "output": [{"type": "message", "content": [{"type": "output_text", "text": "Oak."}]}],
    "usage": {"input_tokens": 9, "output_tokens": 2, "total_tokens": 11},
}
EMBEDDING_BODY = {"model": "text-embedding-3-small", "input": ["a tree"]}
EMBEDDING_ANSWER = {"object": "list", "data": [], "usage": {"prompt_tokens": 2, "total_tokens": 2}}


def _interactions(*calls: tuple[str, dict[str, Any], dict[str, Any]]) -> bytes:
    """A vcrpy cassette: exact string bodies, the URI of each call."""
    interactions = [
        {
            "request": {"uri": uri, "method": "POST", "body": json.dumps(body), "headers": {}},
            "response": {"status": {"code": 200}, "headers": {}, "body": {"string": json.dumps(answer)}},
        }
        for uri, body, answer in calls
    ]
    return yaml.safe_dump({"interactions": interactions, "version": 1}).encode()


def _requests_layout(*calls: tuple[dict[str, Any], dict[str, Any]]) -> bytes:
    """vcrpy's older layout as LangChain keeps it: gzipped, binary bodies, URI redacted."""
    requests = [{"uri": "**REDACTED**", "method": "POST", "body": json.dumps(b).encode()} for b, _ in calls]
    responses = [
        {"status": {"code": 200}, "headers": {}, "body": {"string": json.dumps(a, indent=2).encode()}}
        for _, a in calls
    ]
    return gzip.compress(yaml.safe_dump({"requests": requests, "responses": responses}).encode())


def _pairs(path: str, raw: bytes, **where: str) -> list[dict[str, Any]]:
    version = extractor.Version(
        repo="o/r", commit=where.get("commit", ""), path=path, raw=raw, release=where.get("release", "")
    )
    return list(extractor.pairs(iter([version])))


def test_a_vcr_cassette_gives_one_pair_per_successful_call_to_the_live_api() -> None:
    raw = _interactions(
        ("https://api.openai.com/v1/chat/completions", CHAT_BODY, CHAT_ANSWER),
        ("https://api.openai.com:443/v1/responses", RESPONSES_BODY, RESPONSES_ANSWER),
        ("https://example.openai.azure.com/openai/deployments/x/chat/completions", CHAT_BODY, CHAT_ANSWER),
        ("https://api.openai.com/v1/embeddings", EMBEDDING_BODY, EMBEDDING_ANSWER),
    )
    found = _pairs("tests/cassettes/test_colour.yaml", raw, commit="c0ffee")
    assert [(p["endpoint"], p["source"]["index"], p["usage"]) for p in found] == [
        ("chat", 0, CHAT_ANSWER["usage"]),
        ("responses", 1, RESPONSES_ANSWER["usage"]),
    ]
    assert found[0]["request"] == CHAT_BODY
    assert found[0]["answered"] == {"model": "gpt-4o-mini-2024-07-18", "created": 1754000000}
    assert found[0]["source"] == {
        "repo": "o/r",
        "commit": "c0ffee",
        "path": "tests/cassettes/test_colour.yaml",
        "index": 0,
        "format": "vcr",
        "exact": True,
    }


def test_the_requests_layout_with_redacted_uris_is_read_and_its_endpoints_come_from_the_bodies() -> None:
    raw = _requests_layout(
        (RESPONSES_BODY, RESPONSES_ANSWER), (CHAT_BODY, CHAT_ANSWER), (EMBEDDING_BODY, EMBEDDING_ANSWER)
    )
    assert len(records("tests/cassettes/test_tree.yaml.gz", raw)) == 3
    found = _pairs("libs/x/tests/cassettes/test_tree.yaml.gz", raw, release="x==1.0")
    assert [(p["endpoint"], p["model"], p["usage"]) for p in found] == [
        ("responses", "gpt-5-nano", RESPONSES_ANSWER["usage"]),
        ("chat", "gpt-4o-mini", CHAT_ANSWER["usage"]),
    ]
    assert found[0]["source"]["format"] == "vcr-requests"
    assert found[0]["source"]["release"] == "x==1.0"
    assert found[0]["output"] == [{"type": "message", "text": "Oak."}]


def test_the_endpoint_is_read_off_streamed_answers_too() -> None:
    chat_stream = 'data: {"object":"chat.completion.chunk","choices":[]}\n\ndata: [DONE]\n\n'
    responses_stream = (
        'event: response.created\ndata: {"type":"response.created","response":{"object": "response"}}\n\n'
    )
    assert endpoint_of(CHAT_BODY, chat_stream) == "chat"
    assert endpoint_of(RESPONSES_BODY, responses_stream) == "responses"
    assert endpoint_of(EMBEDDING_BODY, json.dumps(EMBEDDING_ANSWER)) is None


def test_an_sdist_is_read_at_the_repository_paths_and_skips_recordings_of_other_hosts(tmp_path: Path) -> None:
    archive = tmp_path / "pkg_x-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("test_tree.yaml.gz", "test_codex_tree.yaml.gz"):
            data = _requests_layout((RESPONSES_BODY, RESPONSES_ANSWER))
            info = tarfile.TarInfo(f"pkg_x-1.0/tests/cassettes/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    source = extractor.Source("o/r", sdist="pkg-x==1.0", root="libs/x/", skip=("codex",))
    versions = extractor.versions_of(source, tmp_path, history=False)
    assert versions is not None
    found = list(extractor.pairs(versions))
    assert [p["source"]["path"] for p in found] == ["libs/x/tests/cassettes/test_tree.yaml.gz"]
    assert found[0]["source"]["commit"] == ""


def test_recordings_are_found_in_cassette_recording_and_fixture_folders() -> None:
    assert extractor.is_cassette("tests/fixtures/recordings/test_openai.yaml")
    assert extractor.is_cassette("python/tests/cassettes/x.yaml.gz")
    assert extractor.is_cassette("typescript/tests/__recordings__/x/recording.har")
    assert not extractor.is_cassette("docs/mkdocs.yaml")
    assert not extractor.is_cassette("tests/cassettes/test_codex_x.yaml.gz", skip=("codex",))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
    )


def test_a_mirror_read_with_its_history_gives_each_version_of_a_cassette_under_its_own_commit(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "o+r" / "repo"
    cassette = repo / "tests" / "cassettes" / "test_colour.yaml"
    cassette.parent.mkdir(parents=True)
    _git(repo, "init", "-q")
    for colour in ("Name a colour.", "Name two colours."):
        body = {**CHAT_BODY, "messages": [{"role": "user", "content": colour}]}
        cassette.write_bytes(_interactions(("https://api.openai.com/v1/chat/completions", body, CHAT_ANSWER)))
        _git(repo, "add", ".")
        _git(repo, "commit", "-q", "-m", colour)
    head_only = list(extractor.pairs(extractor.mirror_versions(extractor.Source("o/r"), repo, history=False)))
    found = list(
        extractor.pairs(extractor.mirror_versions(extractor.Source("o/r", history=True), repo, history=False))
    )
    assert len(head_only) == 1
    assert [p["request"]["messages"][0]["content"] for p in found] == ["Name two colours.", "Name a colour."]
    keys = {Outcome(pair, 200).key for pair in found}
    assert len(keys) == 2  # same path and index, told apart by the commit


def test_the_pairs_of_a_source_not_at_hand_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "corpus.jsonl"
    kept = {"source": {"repo": "gone/away", "commit": "abc", "path": "p", "index": 0}, "endpoint": "chat"}
    output.write_text(json.dumps({**kept, "request": CHAT_BODY, "usage": {}}) + "\n", encoding="utf-8")
    monkeypatch.setattr(extractor, "SOURCES", (extractor.Source("gone/away"),))
    monkeypatch.setattr(extractor, "MIRRORS", tmp_path / "mirrors")
    assert extractor.main(["--output", str(output), "--sdists", str(tmp_path)]) == 0
    lines = output.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["source"]["repo"] for line in lines] == ["gone/away"]


def test_ruby_vcr_cassettes_are_read_with_their_binary_bodies() -> None:
    answer = base64.b64encode(json.dumps(RESPONSES_ANSWER).encode()).decode()
    raw = f"""---
http_interactions:
- request:
    method: post
    uri: https://api.openai.com/v1/responses
    body:
      encoding: UTF-8
      string: '{json.dumps(RESPONSES_BODY)}'
    headers: {{}}
  response:
    status:
      code: 200
      message: OK
    headers: {{}}
    body:
      encoding: ASCII-8BIT
      string: !binary |-
        {answer}
recorded_with: VCR 6.3.1
""".encode()
    found = _pairs("spec/fixtures/vcr_cassettes/tree.yml", raw)
    assert [(p["endpoint"], p["request"], p["usage"]) for p in found] == [
        ("responses", RESPONSES_BODY, RESPONSES_ANSWER["usage"])
    ]
    assert found[0]["source"]["format"] == "vcr-ruby"


def test_session_records_are_read_with_parsed_and_streamed_bodies() -> None:
    stream = "".join(
        f"data: {json.dumps(chunk)}\n\n"
        for chunk in (
            {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Teal."}}]},
            {"object": "chat.completion.chunk", "choices": [], "usage": CHAT_ANSWER["usage"]},
        )
    )
    entry = {
        "RequestUri": "https://api.openai.com/v1/chat/completions",
        "RequestHeaders": {},
        "StatusCode": 200,
    }
    raw = json.dumps(
        {
            "Entries": [
                {**entry, "RequestBody": CHAT_BODY, "ResponseBody": CHAT_ANSWER},
                {**entry, "RequestBody": {**CHAT_BODY, "stream": True}, "ResponseBody": stream},
            ]
        }
    ).encode()
    found = _pairs("tests/SessionRecords/ChatTests/Colour.json", raw)
    assert [(p["stream"], p["usage"], p["source"]["format"]) for p in found] == [
        (False, CHAT_ANSWER["usage"], "session-record"),
        (True, CHAT_ANSWER["usage"], "session-record"),
    ]
    assert found[1]["output"] == [{"content": "Teal.", "finish_reason": None}]


def _http(first: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [first, *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_httprr_traces_are_read_with_plain_and_chunked_answers() -> None:
    request = json.dumps(CHAT_BODY).encode()
    answer = json.dumps(CHAT_ANSWER).encode()
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (answer[:10], answer[10:])) + b"0\r\n\r\n"
    )
    calls = [
        (
            _http(
                "POST https://api.openai.com/v1/chat/completions HTTP/1.1",
                {"Content-Length": str(len(request))},
                request,
            ),
            _http("HTTP/2.0 200 OK", {"Content-Length": str(len(answer))}, answer),
        ),
        (
            _http(
                "POST https://api.openai.com/v1/chat/completions HTTP/1.1",
                {},
                request.replace(b"colour", b"color"),
            ),
            _http("HTTP/1.1 200 OK", {"Transfer-Encoding": "chunked"}, chunked),
        ),
    ]
    raw = b"httprr trace v1\n" + b"".join(b"%d %d\n%s%s" % (len(q), len(a), q, a) for q, a in calls)
    found = _pairs("llms/openai/testdata/TestColour.httprr", raw)
    assert [(p["request"]["messages"][0]["content"], p["usage"]) for p in found] == [
        ("Name a colour.", CHAT_ANSWER["usage"]),
        ("Name a color.", CHAT_ANSWER["usage"]),
    ]
    assert found[0]["source"]["format"] == "httprr"
    assert found[0]["source"]["exact"] is True


def test_go_vcr_cassettes_name_the_uri_url_and_the_status_code() -> None:
    interaction = {
        "id": 0,
        "request": {
            "url": "https://api.openai.com/v1/chat/completions",
            "method": "POST",
            "body": json.dumps(CHAT_BODY),
        },
        "response": {"status": "200 OK", "code": 200, "body": json.dumps(CHAT_ANSWER)},
    }
    raw = yaml.safe_dump({"version": 2, "interactions": [interaction]}).encode()
    found = _pairs("providertests/testdata/TestColour/openai-gpt-4o-mini/simple.yaml", raw)
    assert [(p["endpoint"], p["usage"]) for p in found] == [("chat", CHAT_ANSWER["usage"])]
