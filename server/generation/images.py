"""An image's width and height, read from the first bytes of its file, as the API needs them to
price it (server/generation/image_tokens.py).

The API takes PNG, JPEG, GIF and WebP (its error lists exactly these). Each format states its
dimensions in a header near the start of the file, so nothing is decoded: a few struct reads per
format, pure Python. Anything else, or a header cut short, reads as None: not an image the API takes.
Imports nothing of ours.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImageSize:
    width: int
    height: int


def read_size(data: bytes) -> ImageSize | None:
    """The image's dimensions from its header; None unless it is a PNG, JPEG, GIF or WebP."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return _sized(*struct.unpack_from("<HH", data, 6))
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except struct.error:  # a header cut short
        return None
    return None


def _sized(width: int, height: int) -> ImageSize | None:
    return ImageSize(width, height) if width > 0 and height > 0 else None


def _png(data: bytes) -> ImageSize | None:
    if data[12:16] != b"IHDR":  # the first chunk is always the header
        return None
    return _sized(*struct.unpack_from(">II", data, 16))


# Start-of-frame markers carry the frame's size; C4 (Huffman tables), C8 (reserved) and CC
# (arithmetic coding) share the range but are not frames.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes) -> ImageSize | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        if marker in _SOF:
            height, width = struct.unpack_from(">HH", data, i + 5)
            return _sized(width, height)
        (length,) = struct.unpack_from(">H", data, i + 2)
        i += 2 + length
    return None


def _webp(data: bytes) -> ImageSize | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":  # lossy: a key frame's start code, then 14-bit sizes
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack_from("<HH", data, 26)
        return _sized(width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":  # lossless: a signature byte, then width-1 and height-1 in 14 bits each
        if data[20] != 0x2F:
            return None
        (bits,) = struct.unpack_from("<I", data, 21)
        return _sized((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":  # extended: the canvas, width-1 and height-1 in 24 bits each
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return _sized(width, height) if len(data) >= 30 else None
    return None


def data_url_bytes(url: str) -> bytes | None:
    """The bytes of a `data:` URL's base64 payload; None when it is not base64 or is empty."""
    header, comma, payload = url.removeprefix("data:").partition(",")
    if not comma or not header.endswith(";base64"):
        return None
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return data or None
