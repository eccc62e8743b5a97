"""How long an `input_audio` clip plays, read from its WAV or MP3 headers, as the API needs it to
price the clip (server/generation/media_tokens.py).

The API takes `wav` and `mp3`. A WAV file states its sample rate and sample size in its `fmt ` chunk,
so its length is the `data` chunk's size over the bytes per second. An MP3 file is a run of frames,
each stating its own bitrate and sample rate: its length is the frames' samples, walked frame by frame
(nothing is decoded). An encoder's Xing or Info frame carries no audio, and its LAME tag names the
encoder delay and padding that a gapless decoder (ffmpeg) trims; fit, usage corpus: Mirascope's
ffmpeg-encoded clip is priced as its 2.588 trimmed seconds, not its 2.64 untrimmed ones. Anything
unreadable reads as None. Imports nothing of ours.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Duration:
    samples: int
    rate: int  # samples per second

    def tenths(self) -> int:
        """Whole tenths of a second, rounded down, in integers (3.7 s is 37, not 37.000001)."""
        return self.samples * 10 // self.rate


def duration(data: bytes, audio_format: str) -> Duration | None:
    try:
        if audio_format == "wav" and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return _wav(data)
        if audio_format == "mp3":
            return _mp3(data)
    except (struct.error, IndexError):  # a header cut short
        return None
    return None


def _wav(data: bytes) -> Duration | None:
    i, rate, frame = 12, 0, 0
    while i + 8 <= len(data):
        chunk, size = data[i : i + 4], struct.unpack_from("<I", data, i + 4)[0]
        if chunk == b"fmt ":
            channels, rate = struct.unpack_from("<HI", data, i + 10)
            bits = struct.unpack_from("<H", data, i + 22)[0]
            frame = channels * ((bits + 7) // 8)
        elif chunk == b"data":
            # A streamed WAV states 0 or 0xFFFFFFFF for a size it did not know: the rest of the file.
            size = min(size, len(data) - i - 8) or len(data) - i - 8
            return Duration(size // frame, rate) if rate and frame else None
        i += 8 + size + (size & 1)
    return None


_BITRATES = {  # kbit/s by bitrate index, layer III: MPEG-1, then MPEG-2 and 2.5
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3(data: bytes) -> Duration | None:
    i = 0
    if data[:3] == b"ID3":  # a tag before the audio: its size in 7-bit bytes
        i = 10 + int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big")
    samples, rate, first, trimmed = 0, 0, True, 0
    while i + 4 <= len(data):
        header = int.from_bytes(data[i : i + 4], "big")
        version, layer, index, rate_index = (
            (header >> 19) & 3,
            (header >> 17) & 3,
            (header >> 12) & 15,
            (header >> 10) & 3,
        )
        if header >> 21 != 0x7FF or version == 1 or layer != 1 or index in (0, 15) or rate_index == 3:
            i = data.find(b"\xff", i + 1)  # not a layer III frame header: resynchronise
            if i < 0:
                break
            continue
        rate = _RATES[version][rate_index]
        per_frame = 1152 if version == 3 else 576
        length = (144 if version == 3 else 72) * _BITRATES[1 if version == 3 else 2][index] * 1000 // rate
        length += (header >> 9) & 1
        if first and (tag := _xing(data[i : i + length])) is not None:
            trimmed = tag  # the tag frame carries no audio
        else:
            samples += per_frame
        first = False
        i += length
    return Duration(max(0, samples - trimmed), rate) if rate else None


def _xing(frame: bytes) -> int | None:
    """An encoder's Xing or Info frame: the samples its LAME tag says to trim (delay + padding)."""
    at = max(frame.find(b"Xing"), frame.find(b"Info"))
    if at < 0:
        return None
    flags = struct.unpack_from(">I", frame, at + 4)[0]
    # the LAME tag follows the optional frame count, byte count, seek table and quality fields
    lame = at + 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    gap = frame[lame + 21 : lame + 24]
    if len(gap) < 3 or not frame[lame : lame + 4].isalpha():  # no LAME tag (`LAME`, `Lavc`): no trim
        return 0
    return ((gap[0] << 4) | (gap[1] >> 4)) + (((gap[1] & 0x0F) << 8) | gap[2])
