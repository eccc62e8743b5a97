"""What a message's content parts cost in prompt tokens: text as its tokens, images by their size
and detail (image_tokens.py), audio by its length, files by their text.

Audio (`input_audio`, chat): 10 tokens per second of audio, whole tenths rounded down, plus 4 text
tokens around the clip. Source: the API's own breakdown, `prompt_tokens_details.audio_tokens` and
`text_tokens`, recorded with every audio pair of the usage corpus (9 pairs, 5 sources: pydantic-ai
mp3 4.488 s = 44 and wav 6.96 s = 69, Mirascope 2.588 s = 25 on gpt-audio and gpt-4o-audio-preview,
logfire 0.2 s = 2, ruby_llm gpt-audio-mini wav 3.7 s = 37 and mp3 4.32 s = 43, openai-dotnet 1.704 s
= 17; `text_tokens` is each time the message's text + 4); the rate agrees with the community's
measure of Realtime input audio (10 tokens per second, community.openai.com/t/
realtime-api-pricing-is-wrong-will-overcharge/971012). A clip whose
length cannot be read is estimated at 16,000 bytes (a 128 kbit/s MP3) per second.

Files (`file` in chat, `input_file` on /v1/responses): 4 tokens around the part plus the tokens of
the text the API reads from it (documents.py); in chat, 212 more per file part, whatever the model
(a hidden instruction, it seems). fit, usage corpus: on /v1/responses an empty PDF page costs 4
(crewAI, gpt-4o-mini and o4-mini, 8 pairs), `Hello, world!` 8 (Mirascope), activeagent's resume
105 (4 + 101 of its text, gpt-4o, gpt-4o-mini, gpt-4.1), ruby_llm's Lorem-ipsum sample 754 per copy
(gpt-4.1-nano, gpt-5-nano; two copies 1508); in chat the same files cost 212 more (Mirascope
gpt-4o and gpt-4o-mini 220, openai-dotnet gpt-4o-mini 224 against 12 on /v1/responses, pydantic-ai
gpt-4o 219). Whether the 212 is per file part or per request no recording tells (each has one
file): per part, a choice. Estimates: glyph codes no font map reads count 1 token per 4 characters
(the usual rule of thumb for English); an Office file counts its text as office.py reads it; a file
the server never sees (a `file_id`, a `file_url`) counts its framing only; data that is no file it
reads (an image sent as a file, say) its base64 length / 4.
"""

from __future__ import annotations

import base64
import binascii

from server.generation.audio import duration
from server.generation.conversation import Conversation, Dialect, Part
from server.generation.documents import read_document
from server.generation.image_tokens import image_size, image_tokens
from server.generation.tokens import Tokenizer

AUDIO_FRAMING = 4
AUDIO_TOKENS_PER_SECOND = 10
UNREAD_AUDIO_BYTES_PER_SECOND = 16_000
FILE_FRAMING = 4
CHAT_FILE_PREAMBLE = 212
CHARS_PER_TOKEN = 4


def parts_tokens(conversation: Conversation, tokenizer: Tokenizer, parts: tuple[Part, ...]) -> int:
    # Consecutive text parts are read as one text, joined without a separator (fit, issue 11: ruby_llm,
    # activeagent, Mirascope and openai-dotnet messages of two text parts, 10 pairs of both dialects
    # 1 or 2 above when counted apart, exact joined; none moved away).
    total = 0
    run = ""
    for part in parts:
        if part.kind in ("text", "refusal"):
            run += part.text
            continue
        total += tokenizer.count(run) if run else 0
        run = ""
        if part.kind == "image":
            size = image_size(part.url, conversation.image_sizes)
            total += image_tokens(conversation.model, part.detail, size)
        elif part.kind == "audio":
            total += audio_tokens(part.data, part.format)
        else:
            total += file_tokens(part.data, conversation.dialect, tokenizer)
    return total + (tokenizer.count(run) if run else 0)


def _decode(payload: str) -> bytes | None:
    """Base64 data, bare or as a `data:` URL; None when it is not base64."""
    if payload.startswith("data:"):
        payload = payload.partition(",")[2]
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def audio_tokens(data: str, audio_format: str) -> int:
    raw = _decode(data) or b""
    length = duration(raw, audio_format)
    seconds_tenths = len(raw) * 10 // UNREAD_AUDIO_BYTES_PER_SECOND if length is None else length.tenths()
    return AUDIO_FRAMING + seconds_tenths * AUDIO_TOKENS_PER_SECOND // 10


def file_tokens(data: str, dialect: Dialect, tokenizer: Tokenizer) -> int:
    framing = FILE_FRAMING + (CHAT_FILE_PREAMBLE if dialect == "chat" else 0)
    if not data:  # a file id or URL: the server never sees the file
        return framing
    raw = _decode(data)
    document = None if raw is None else read_document(raw)
    if document is None:
        return framing + len(data) // 4
    return framing + tokenizer.count(document.text) + -(-document.glyphs // CHARS_PER_TOKEN)
