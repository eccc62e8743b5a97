"""tiktoken's vocabularies load offline, hash-verified, and equal what tiktoken itself would build."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import socket
from pathlib import Path

import pytest
import tiktoken
import tiktoken_ext.openai_public as openai_public

from server.app import create_app
from server.config import load_settings
from server.generation import vocab
from server.generation.tokens import Tokenizer, encoding_for_model
from tests.support.requests import chat_body, in_process

NAMES = ["cl100k_base", "o200k_base"]


@pytest.mark.parametrize("name", NAMES)
def test_pinned_hash_is_tiktokens_own(name: str) -> None:
    source = inspect.getsource(getattr(openai_public, name))
    assert f'expected_hash="{vocab.VOCABULARIES[name].sha256}"' in source


@pytest.mark.parametrize("name", NAMES)
def test_loads_without_network(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access while loading a vocabulary")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    encoding = vocab.load_encoding.__wrapped__(name)  # bypass the per-process memo
    assert encoding.decode(encoding.encode("Hello, world! ça va")) == "Hello, world! ça va"


@pytest.mark.parametrize("name", NAMES)
def test_same_encoding_as_tiktoken_builds(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand tiktoken the same file through its documented offline cache and compare everything."""
    constructor = getattr(openai_public, name)
    url = next(
        line.split('"')[1] for line in inspect.getsource(constructor).splitlines() if "https://" in line
    )
    (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(vocab.read_vocabulary(name))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    theirs = tiktoken.Encoding(**constructor())
    ours = vocab.load_encoding(name)
    assert ours._pat_str == theirs._pat_str
    assert ours._special_tokens == theirs._special_tokens
    assert ours._mergeable_ranks == theirs._mergeable_ranks
    text = "Tokenizers' edge cases:\r\n  tabs\t, 12345, émojis 🙂 and <|endoftext|> as text"
    assert ours.encode_ordinary(text) == theirs.encode_ordinary(text)


def test_tampered_vocabulary_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = dataclasses.replace(vocab.VOCABULARIES["cl100k_base"], sha256="0" * 64)
    monkeypatch.setitem(vocab.VOCABULARIES, "cl100k_base", wrong)
    with pytest.raises(vocab.VocabularyError, match="does not match"):
        vocab.read_vocabulary("cl100k_base")


def test_known_token_counts() -> None:
    # "Hello, world!" is 4 tokens in both encodings; ids differ per vocabulary.
    assert Tokenizer.named("cl100k_base").encode("Hello, world!") == [9906, 11, 1917, 0]
    assert Tokenizer.named("o200k_base").encode("Hello, world!") == [13225, 11, 2375, 0]


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("my-local-llama", "o200k_base"),
    ],
)
def test_model_encodings(model: str, encoding: str) -> None:
    assert encoding_for_model(model) == encoding


def test_pieces_never_split_a_character() -> None:
    tokenizer = Tokenizer.named("cl100k_base")
    text = "日本語のテキスト 🙂🙂 naïve"
    pieces = tokenizer.pieces(text)
    assert "".join(pieces) == text
    assert all("\ufffd" not in piece for piece in pieces)


@pytest.mark.parametrize("name", NAMES)
def test_every_role_is_one_token(name: str) -> None:
    from server.generation.prompt import ROLE_TOKENS
    from server.wire.chat_request import ROLES

    tokenizer = Tokenizer.named(name)
    assert all(tokenizer.count(role) == ROLE_TOKENS for role in ROLES)


async def test_an_encoding_no_route_names_loads_when_a_model_first_needs_it() -> None:
    app = create_app(load_settings(env={}))  # the embedded default: every model -> echo, o200k_base
    runtime = app.state.runtime
    assert set(runtime._tokenizers) == {"o200k_base"}
    text = "Counted with the vocabulary gpt-4 uses: größer, naïve, 東京, Ελληνικά."
    async with in_process(app) as client:
        reply = await client.post("/v1/chat/completions", json=chat_body(text, model="gpt-4"))
    assert reply.status_code == 200, reply.text
    assert set(runtime._tokenizers) == {"o200k_base", "cl100k_base"}
    cl100k = Tokenizer.named("cl100k_base")
    # the cookbook's rule for gpt-4: 3 per message + role + content, then 3 to prime the reply
    assert reply.json()["usage"]["prompt_tokens"] == 3 + 1 + cl100k.count(text) + 3
    assert cl100k.count(text) != Tokenizer.named("o200k_base").count(text)
