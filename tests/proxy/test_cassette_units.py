"""The pieces of recording without a server: request keys, the scrubber on split secrets, a stream
folded into a fixture (choices, tool calls, delays), and YAML that loads back exactly as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backends.fixtures.loader import load_file
from backends.recording.cassette import Exchange, check, fixture_of
from backends.recording.files import dump
from backends.request_key import Scrubber, differing, field_digests, normalize, request_key
from server.config import load_settings

REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "temperature": 1.0, "n": 2}


def test_keys_ignore_volatile_fields_key_order_and_integral_floats() -> None:
    same = {"n": 2, "temperature": 1, "messages": [{"content": "hi", "role": "user"}], "model": "gpt-4o"}
    volatile = {**REQUEST, "stream": True, "user": "u", "metadata": {"a": "b"}, "store": False}
    assert request_key(normalize(REQUEST)) == request_key(normalize(same)) == request_key(normalize(volatile))
    assert request_key(normalize({**REQUEST, "temperature": 0.5})) != request_key(normalize(REQUEST))
    assert request_key(normalize({**REQUEST, "temperature": 0.5}, ["temperature"])) == request_key(
        normalize(REQUEST, ["temperature"])
    )
    changed = {**REQUEST, "messages": [*REQUEST["messages"], {"role": "user", "content": "more"}]}
    assert differing(field_digests(normalize(REQUEST)), field_digests(normalize(changed))) == ["messages[1]"]


def test_secrets_split_over_pieces_are_joined_then_scrubbed() -> None:
    scrubber = Scrubber(["client-token-123456"], [r"ACCT-\d{6}"])
    pieces = ["my ", "ACCT", "-12", "3456", " and ", "client-", "token-", "123456", "."]
    groups = scrubber.groups(pieces)
    assert [list(g) for g in groups] == [[0], [1, 2, 3], [4], [5, 6, 7], [8]]
    assert [scrubber.text("".join(pieces[i] for i in g)) for g in groups] == [
        "my ",
        "<scrubbed>",
        " and ",
        "<scrubbed>",
        ".",
    ]
    assert Scrubber(["short"]).text("short") == "short"  # literals under 8 characters are kept
    assert Scrubber().text("key sk-abcdefghijklmnop1234") == "key <scrubbed>"


def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
    return json.dumps({"id": "chatcmpl-x", "choices": [choice]}).encode()


def test_a_stream_of_two_choices_with_a_tool_call() -> None:
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    payloads = [
        chunk(0, {"role": "assistant", "content": ""}),
        chunk(1, {"role": "assistant", "content": None, "tool_calls": [call]}),
        chunk(0, {"content": "Hel"}),
        chunk(1, {"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}),
        chunk(0, {"content": "lo sk-secretsecretsecret12"}),
        chunk(1, {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        chunk(0, {}, "stop"),
        chunk(1, {}, "tool_calls"),
        json.dumps({"id": "chatcmpl-x", "choices": [], "usage": {"total_tokens": 9}}).encode(),
    ]
    exchange = Exchange(
        request=normalize(REQUEST),
        key="k",
        upstream="http://up/v1",
        status=200,
        headers={},
        seconds=1.0,
        delays=[0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.0, 0.0, 0.0],
        payloads=payloads,
    )
    fixture = fixture_of(exchange, "id-1", Scrubber())
    check(fixture)
    assert fixture["response"] == {
        "choices": [
            {"chunks": ["Hel", "lo <scrubbed>"], "finish_reason": "stop"},
            {
                "tool_calls": [
                    {"id": "call_1", "name": "f", "arguments": '{"a":1}', "chunks": ['{"a":', "1}"]}
                ],
                "finish_reason": "tool_calls",
            },
        ]
    }
    # Replayed in turn (choice 0's first piece, choice 1's call start, ...), each when it arrived:
    # at 0.7 ("Hel"), 0.6 (the call: already due), 0.9 ("lo ..."), 0.8 and 1.0 (the arguments).
    assert fixture["timing"] == {"delays": [0.7, 0.0, 0.2, 0.0, 0.1]}
    assert fixture["recorded"]["usage"] == {"total_tokens": 9}


def test_dumped_yaml_loads_back_exactly(tmp_path: Path) -> None:
    tricky = [
        "yes",
        "no",
        "1.0",
        "2025-06-01",
        "null",
        "~",
        "\x08",
        "two\nlines\n",
        " lead",
        "trail ",
        "#",
        "a: b",
        "😀",
        "",
        "- x",
    ]
    fixture = {
        "id": "tricky",
        "recorded": {"upstream": "http://up/v1"},
        "match": {"request": {"model": "m", "messages": [{"role": "user", "content": t} for t in tricky]}},
        "response": {"chunks": tricky},
        "timing": {"delays": [0.1] * len(tricky)},
    }
    path = tmp_path / "tricky.yaml"
    path.write_bytes(dump(fixture))
    [(loaded, _)], problems = load_file(path)
    assert problems == []
    assert loaded.response is not None
    assert loaded.response.chunks == tricky
    assert loaded.match.request == fixture["match"]["request"]
    assert path.read_text(encoding="utf-8").startswith("# Recorded by chatdouble from http://up/v1")


def test_record_mode_and_journal_from_the_environment() -> None:
    backends = {
        "recorded": {"type": "proxy", "base_url": "http://up/v1", "mode": "auto", "cassettes": "c"},
        "plain": {"type": "proxy", "base_url": "http://up/v1"},
    }
    overrides = {"backends": backends, "routes": [{"model": "*", "backend": "recorded"}]}
    env = {"CHATDOUBLE_RECORD_MODE": "replay", "CHATDOUBLE_JOURNAL": "run.jsonl"}
    settings = load_settings(env=env, overrides=overrides)
    assert [getattr(b, "mode", None) for b in settings.backends.values()] == ["replay", "passthrough"]
    assert settings.journal.file == "run.jsonl"
    flag = load_settings(env=env, overrides={**overrides, "record_mode": "record"})
    assert getattr(flag.backends["recorded"], "mode", None) == "record"  # the command line wins
