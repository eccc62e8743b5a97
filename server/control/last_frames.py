"""What a stream's last frames tell the journal: the error it ended with, and its usage.

An error frame and the last frame with usage come at a stream's end (before `[DONE]`, or as the
Responses API's last events), so only the last `LAST_FRAMES` frames are kept as the stream passes
(server/control/journal.py) and read once, when its entry is first listed or written
(`server.control.entries.ended_with`): cutting and searching them on the stream's way out cost
about 10 us of a zero-delay chat stream and 14 us of a Responses stream, for entries most of which
are never listed.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson

LAST_FRAMES = 8  # a stream's last frames searched for its error and usage (room for comments)
USAGE = b'"usage":'


def error_code(payload: bytes) -> str | None:
    """The `code` (else `type`) of an error envelope, or None when `payload` is not one."""
    try:
        error = orjson.loads(payload).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    return str(error.get("code") or error.get("type") or "error")


def read_last(pieces: Iterable[bytes]) -> tuple[str | None, bytes | None]:
    """The error code the last frames of these pieces tell, if any, and the last frame with usage."""
    error: str | None = None
    usage: bytes | None = None
    # What went out in one piece may hold several frames (a proxied stream's, as they came): the
    # last LAST_FRAMES frames are read, as when each went out alone.
    split = [one for piece in pieces for one in last_cut(piece)]
    for frame in split[-LAST_FRAMES:]:
        if frame.startswith(b":"):
            continue  # an upstream's comment
        if frame.startswith(b'data: {"error"'):
            error = error_code(frame[6:])
        elif frame.startswith(b"event: error\n"):  # the Responses API's
            error = error_code(frame.split(b"\n", 2)[1][6:])
        if USAGE in frame:
            usage = frame
    return error, usage


def last_cut(piece: bytes) -> list[bytes]:
    """The frames of `piece` as `split` cuts it, or its last LAST_FRAMES at least: only those are
    ever read, and cutting all of a proxied stream that went out in one piece was 3% of its cost.
    It is cut from its end, no further than needed."""
    end = len(piece) - 2
    if end > 0 and piece.find(b"\n\n") == end:  # one frame, ending in exactly two newlines
        return [piece[:end]]
    parts = piece.rsplit(b"\n\n", LAST_FRAMES + 1)
    if any(part[-1:] == b"\n" for part in parts):
        # Three newlines in a row or more (a payload that ends with a newline), which `split` cuts
        # from their start, `rsplit` from their end.
        parts = piece.split(b"\n\n")
    elif len(parts) > LAST_FRAMES + 1:  # parts[0] holds the piece's earlier frames, whole
        last = [one for one in parts[1:] if one]
        if len(last) >= LAST_FRAMES:
            return last
        parts = piece.split(b"\n\n")  # blank parts among the last (a payload ending in blank lines)
    return [one for one in parts if one]
