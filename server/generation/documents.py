"""The text the API reads out of a file part (a PDF, or a plain-text file), as it needs it to price
the part (server/generation/media_tokens.py).

fit, usage corpus: a file costs the tokens of its text, not of its bytes, and no page image shows
in the count (gpt-4o-mini would add 2,833 or more per page): an empty page costs nothing beyond the
part's framing (crewAI), `Hello, world!` its 4 tokens (Mirascope), a one-page resume its text with a
newline after each line shown (activeagent, 101 tokens exactly), `Dummy PDF file` drawn as five
pieces on one line its 3 (pydantic-ai, glyph codes read through the font's ToUnicode map), a
plain-text file its text (pydantic-ai). So the text is read as a reader of the page would, in pure
Python: each text-showing operator's strings in the order drawn, in the font's encoding (a literal
string) or through its ToUnicode map (a string of glyph codes), a new line wherever the text moves
down. Glyph codes of a font without a map are not read but counted as characters (`glyphs`), and the
caller estimates them. Word, PowerPoint and Excel files: office.py, an estimate. Not read: object streams and compressed cross-references (PDF 1.5), and
filters other than Flate. Imports nothing of ours.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from server.generation.office import office_text

_OBJECT = re.compile(rb"(\d+)\s+\d+\s+obj\b(.*?)\bendobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
# A content stream's tokens: literal strings (one level of nested parentheses), hex strings, names,
# numbers and operators.
_TOKEN = re.compile(
    rb"\((?:\\.|[^\\()]|\((?:\\.|[^\\()])*\))*\)|<[0-9A-Fa-f\s]*>|/[^\s/\[\]()<>{}%]+|[-+]?[\d.]+|[A-Za-z*'\"]+"
)
_SHOW = (b"Tj", b"TJ", b"'", b'"')
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
_OCTAL = re.compile(rb"[0-7]{1,3}")
_ENCODINGS = {b"MacRomanEncoding": "mac_roman", b"WinAnsiEncoding": "cp1252"}
_REFERENCE = rb"(\d+)\s+\d+\s+R"
_MAX_STREAM = 20_000_000


@dataclass(frozen=True, slots=True)
class Document:
    text: str
    glyphs: int = 0  # characters drawn as glyph codes that no ToUnicode map reads
    estimated: bool = False  # an Office file's text, read in a layout the API does not publish


@dataclass(frozen=True, slots=True)
class _Font:
    encoding: str = "cp1252"
    width: int = 1  # bytes per glyph code in its ToUnicode map
    unicode: dict[int, str] | None = None


def read_document(data: bytes) -> Document | None:
    """A PDF's text, a text file's, or an Office file's (office.py); None for anything else."""
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    if data.startswith(b"PK\x03\x04"):
        text = office_text(data)
        return None if text is None else Document(text, estimated=True)
    if b"\x00" in data:
        return None
    try:
        return Document(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _stream(body: bytes) -> bytes | None:
    match = _STREAM.search(body)
    if match is None:
        return None
    stream = match.group(1)
    with contextlib.suppress(zlib.error):  # not Flate-compressed: read as it is
        # at most _MAX_STREAM bytes: a stream that inflates beyond is cut, not unpacked whole
        stream = zlib.decompressobj().decompress(stream, _MAX_STREAM)
    return stream


def _pdf(data: bytes) -> Document:
    objects = {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(data)}
    fonts = _fonts(objects)
    lines: list[str] = []
    glyphs = 0
    for body in _contents(objects) or [data]:
        stream = _stream(body)
        if stream is None or b"BT" not in stream:
            continue
        shown, unread = _show(stream, fonts)
        lines += shown
        glyphs += unread
    return Document("\n".join(lines), glyphs)


def _contents(objects: dict[int, bytes]) -> list[bytes]:
    """The pages' content streams, in the order the pages name them (not fonts or images, whose
    bytes may happen to hold text operators)."""
    numbers: list[int] = []
    for contents in re.findall(rb"/Contents\s*(\[[^\]]*\]|" + _REFERENCE + rb")", b"".join(objects.values())):
        numbers += [int(n) for n in re.findall(_REFERENCE, contents[0])]
    return [objects[n] for n in numbers if n in objects]


def _fonts(objects: dict[int, bytes]) -> dict[bytes, _Font]:
    """Each font resource name (`F1`) and how its strings read."""
    fonts: dict[bytes, _Font] = {}
    for body in objects.values():
        for entries in re.findall(rb"/Font\s*(<<.*?>>|" + _REFERENCE + rb")", body, re.S):
            entries_body = entries[0]
            if entries[1]:  # `/Font 10 0 R`: the dictionary is an object of its own
                entries_body = objects.get(int(entries[1]), b"")
            for name, number in re.findall(rb"/([^\s/<>\[\]]+)\s+" + _REFERENCE, entries_body):
                fonts[name] = _font(objects.get(int(number), b""), objects)
    return fonts


def _font(body: bytes, objects: dict[int, bytes]) -> _Font:
    encoding = re.search(rb"/Encoding\s*/(\w+)", body)
    codec = _ENCODINGS.get(encoding.group(1), "cp1252") if encoding else "cp1252"
    mapping = re.search(rb"/ToUnicode\s+" + _REFERENCE, body)
    cmap = _stream(objects.get(int(mapping.group(1)), b"")) if mapping else None
    if not cmap:
        return _Font(codec)
    space = re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", cmap)
    width = len(space.group(1)) // 2 if space else 1
    return _Font(codec, width, dict(_cmap(cmap)))


def _cmap(cmap: bytes) -> Iterator[tuple[int, str]]:
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, target in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            yield int(code, 16), _utf16(target)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, target in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block
        ):
            first = _utf16(target) or "\x00"
            for offset in range(min(int(high, 16) - int(low, 16) + 1, 0x10000)):
                last = ord(first[-1]) + offset  # a range steps its target's last character
                yield int(low, 16) + offset, first[:-1] + chr(last) if last < 0x110000 else ""


def _utf16(hex_digits: bytes) -> str:
    return bytes.fromhex(hex_digits.decode()).decode("utf-16-be", errors="replace")


def _show(stream: bytes, fonts: dict[bytes, _Font]) -> tuple[list[str], int]:
    """The lines a content stream shows, and the glyph codes it shows that no map reads."""
    lines: list[str] = []
    line: list[str] = []
    strings: list[str] = []
    operands: list[bytes] = []
    font, unread = _Font(), 0
    for token in _TOKEN.findall(stream):
        if token[:1] in b"(<":
            text, missed = _string(token, font)
            strings.append(text)
            unread += missed
            continue
        if token[:1] == b"/" or token[:1] in b"+-.0123456789":
            operands.append(token)
            continue
        if token == b"Tf" and operands and operands[0].startswith(b"/"):
            font = fonts.get(operands[0][1:], _Font())
        if _moves_down(token, operands) and "".join(line).strip():
            lines.append("".join(line))
            line = []
        if token in _SHOW:
            line += strings
        strings, operands = [], []
    if "".join(line).strip():
        lines.append("".join(line))
    return lines, unread


def _moves_down(operator: bytes, operands: list[bytes]) -> bool:
    """The operator starts a new line: a move with a vertical part, a new matrix, the text's end."""
    if operator in (b"Td", b"TD"):
        try:
            return float(operands[-1]) != 0
        except (IndexError, ValueError):
            return True
    return operator in (b"Tm", b"T*", b"'", b'"', b"ET")


def _string(token: bytes, font: _Font) -> tuple[str, int]:
    """A string operand's text, and how many of its glyph codes no map reads."""
    if token.startswith(b"<"):
        raw = bytes.fromhex(re.sub(rb"\s", b"", token[1:-1]).decode().ljust(2, "0"))
        if font.unicode is None:
            return "", len(raw)
    else:
        raw = _literal(token)
        if font.unicode is None:
            return raw.decode(font.encoding, errors="replace"), 0
    codes = [int.from_bytes(raw[i : i + font.width], "big") for i in range(0, len(raw), font.width)]
    return "".join(font.unicode.get(code, "") for code in codes), 0


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
