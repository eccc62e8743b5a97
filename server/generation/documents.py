"""The text the API reads out of a file part (a PDF, or a plain-text file), as it needs it to price
the part (server/generation/media_tokens.py).

fit, usage corpus: a file costs the tokens of its text, not of its bytes, and no page image shows
in the count (gpt-4o-mini would add 2,833 or more per page): an empty page costs nothing beyond the
part's framing (crewAI), `Hello, world!` its 4 tokens (Mirascope), a one-page resume its text with a
newline after each line shown (activeagent, 101 tokens exactly), a plain-text file its text
(pydantic-ai). So the text is read as a reader of the page would: each text-showing operator's
literal strings, a line per positioning operator, in the order drawn. Only that is done here, in
pure Python: a string drawn as glyph codes (`<0102>`, a font's own numbering, readable only through
its ToUnicode map) is not decoded but counted as characters, and the caller estimates it. Imports
nothing of ours.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from dataclasses import dataclass

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
# A content stream's tokens: literal strings (one level of nested parentheses), hex strings,
# the text operators, numbers and names; anything else is skipped.
_TOKEN = re.compile(
    rb"\((?:\\.|[^\\()]|\((?:\\.|[^\\()])*\))*\)|<[0-9A-Fa-f\s]*>|BT|ET|Tj|TJ|T\*|Td|TD|Tm|'|\""
)
_SHOW = (b"Tj", b"TJ", b"'", b'"')
_MOVE = (b"Td", b"TD", b"Tm", b"T*", b"ET")
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
_OCTAL = re.compile(rb"[0-7]{1,3}")


@dataclass(frozen=True, slots=True)
class Document:
    text: str
    glyphs: int = 0  # characters drawn as glyph codes, not read (see the module docstring)


def read_document(data: bytes) -> Document | None:
    """A PDF's text, or a text file's; None for anything else (a Word or Excel file, an image)."""
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    if b"\x00" in data:
        return None
    try:
        return Document(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _pdf(data: bytes) -> Document:
    lines: list[str] = []
    glyphs = 0
    for match in _STREAM.finditer(data):
        stream = match.group(1)
        with contextlib.suppress(zlib.error):  # not Flate-compressed (or another filter): read as is
            stream = zlib.decompress(stream)
        if b"BT" not in stream:
            continue
        line: list[str] = []
        strings: list[str] = []
        for token in _TOKEN.findall(stream):
            if token.startswith(b"("):
                # Latin text in the standard fonts: MacRoman (0xDE is the `fi` ligature, as drawn)
                strings.append(_literal(token).decode("mac_roman"))
            elif token.startswith(b"<"):
                glyphs += len(re.sub(rb"\s", b"", token[1:-1])) // 2
            elif token in _SHOW:
                line.extend(strings)
                strings = []
            elif token in _MOVE:
                if "".join(line).strip():
                    lines.append("".join(line))
                line, strings = [], []
    return Document("\n".join(lines), glyphs)


def _literal(token: bytes) -> bytes:
    """A literal string's bytes, its escapes resolved."""
    out = bytearray()
    i, end = 1, len(token) - 1
    while i < end:
        if token[i] != ord("\\"):
            out.append(token[i])
            i += 1
            continue
        escaped = token[i + 1]
        if escaped in _ESCAPES:
            out += _ESCAPES[escaped]
            i += 2
        elif (octal := _OCTAL.match(token, i + 1, min(i + 4, end))) is not None:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        elif escaped in b"\r\n":  # a line continuation
            i += 2
        else:
            out.append(escaped)
            i += 2
    return bytes(out)
