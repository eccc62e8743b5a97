"""A recording on disk: its file name (stable for a request, readable in a listing) and its YAML,
written for people (multi-line text as `|` blocks, short lists inline) and loaded back exactly by
the fixtures loader."""

from __future__ import annotations

import re
from typing import Any

import yaml


def slug(text: str, limit: int) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")


def file_stem(request: dict[str, Any], key: str) -> str:
    """`<model>--<start of the last user message>--<key>`: stable for a request, readable in a listing.
    The user's message is a chat message, a Responses `input` (a string, or a message item), or the
    last text of an embeddings `input` or a completions `prompt`."""
    said = ""
    given = request.get("input", request.get("prompt"))  # embeddings and completions: text(s)
    if isinstance(given, list) and given and isinstance(given[-1], str):
        given = given[-1]
    messages = [{"role": "user", "content": given}] if isinstance(given, str) else given
    for message in reversed(request.get("messages") or messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            pieces = content if isinstance(content, list) else [{"text": content}]
            said = " ".join(str(p.get("text") or "") for p in pieces if isinstance(p, dict))
            break
    parts = (slug(str(request.get("model", "")), 32), slug(said, 40), key)
    return "--".join(part for part in parts if part)


class _Dumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks; lists of numbers or one-line strings (delays, chunks) inline."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = bool(data) and all(
        (isinstance(x, int | float) and not isinstance(x, bool)) or (isinstance(x, str) and "\n" not in x)
        for x in data
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)


def dump(fixture: dict[str, Any]) -> bytes:
    header = (
        f"# Recorded by chatdouble from {fixture['recorded']['upstream']}: an editable fixture that answers\n"
        "# the request under match.request (docs/recording.md). Delete the file to record it again.\n"
    )
    text = yaml.dump({"fixtures": [fixture]}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return (header + text).encode()
