"""Audio and files cost prompt tokens as the API counts them: audio by its length, a file by its text.

The expected numbers are the real API's (tests/data/usage_corpus.jsonl, whose audio pairs carry the
API's own `audio_tokens` and `text_tokens`): a clip costs 10 tokens per second, whole tenths rounded
down, plus 4; a file 4 plus the tokens of the text read from it, and 212 more in chat. The clips and
documents here are built in the test, so their length and text are known.
"""

from __future__ import annotations

import base64
import io
import wave
import zipfile
from typing import Any

import pytest

from server.generation.audio import duration
from server.generation.documents import Document, read_document
from tests.conftest import MakeApp
from tests.support.requests import chat_client


def wav(seconds_tenths: int, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(b"\x00\x00" * (rate * seconds_tenths // 10))
    return out.getvalue()


FRAME = 417  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, unpadded: 144 * 128000 // 44100 bytes
HEADER = bytes.fromhex("fffb9000")


def mp3(frames: int, delay: int | None = None, padding: int = 0) -> bytes:
    """Frames of silence; `delay` set: an ffmpeg-style Info frame first, whose LAME tag trims
    `delay` + `padding` samples."""
    audio = (HEADER + bytes(FRAME - 4)) * frames
    if delay is None:
        return audio
    # Info, flags 0 (no optional fields), then the encoder's name and the gapless fields at +21
    tag = b"Info" + bytes(4) + b"Lavc60.31" + bytes(12)
    tag += bytes([delay >> 4, ((delay & 0x0F) << 4) | (padding >> 8), padding & 0xFF])
    info = HEADER + bytes(32) + tag
    return info + bytes(FRAME - len(info)) + audio


def test_a_clip_lasts_what_its_headers_say() -> None:
    clip = duration(wav(37), "wav")
    assert clip is not None
    assert clip.tenths() == 37
    plain = duration(mp3(100), "mp3")
    assert plain is not None
    assert plain.tenths() == 100 * 1152 * 10 // 44100
    # The Info frame holds no audio, and a gapless decoder trims the encoder's delay and padding.
    trimmed = duration(mp3(100, delay=576, padding=1600), "mp3")
    assert trimmed is not None
    assert trimmed.samples == 100 * 1152 - 576 - 1600
    assert trimmed.tenths() == 25
    assert duration(b"not audio", "wav") is None


def audio_message(data: bytes | None, audio_format: str = "wav") -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = [{"type": "text", "text": "What is said?"}]
    if data is not None:
        clip = {"data": base64.b64encode(data).decode(), "format": audio_format}
        content.append({"type": "input_audio", "input_audio": clip})
    return [{"role": "user", "content": content}]


async def test_audio_costs_ten_tokens_a_second_and_four_around_it(make_app: MakeApp) -> None:
    async with chat_client(make_app()) as chat:
        empty = await chat.ask(audio_message(None), model="gpt-4o-audio-preview")
        short = await chat.ask(audio_message(wav(2), "wav"), model="gpt-4o-audio-preview")
        long = await chat.ask(audio_message(mp3(100, delay=576, padding=1600), "mp3"), model="gpt-audio")
    base = empty["usage"]["prompt_tokens"]
    # Recorded: logfire's 0.2 s clip costs 2 audio tokens and 4 text tokens beside its message.
    assert short["usage"]["prompt_tokens"] - base == 4 + 2
    assert long["usage"]["prompt_tokens"] - base == 4 + 25


def pdf(*lines: bytes) -> bytes:
    shown = b"".join(b"0 -20 Td (" + line + b") Tj\n" for line in lines)
    return (
        b"%PDF-1.4\n1 0 obj\n<</Length 9>>\nstream\nBT /F1 12 Tf\n"
        + shown
        + b"ET\nendstream\nendobj\n%%EOF\n"
    )


def test_a_pdf_reads_as_its_lines_and_a_text_file_as_its_text() -> None:
    document = read_document(pdf(b"John Doe \\(CV\\)", b"Email: j@example.com"))
    assert document is not None
    assert document.text == "John Doe (CV)\nEmail: j@example.com"
    glyphs = read_document(b"%PDF-1.4\nstream\nBT <01020303> Tj ET\nendstream\n")
    assert glyphs is not None
    assert (glyphs.text, glyphs.glyphs) == ("", 4)
    assert read_document(b"TXT test file\n") == Document("TXT test file\n")
    assert read_document(b"PK\x03\x04\x00\x00") is None  # not a zip an Office file is
    assert read_document(b"\x89PNG\r\n\x1a\n\x00") is None


def test_glyph_codes_read_through_the_fonts_unicode_map_and_a_line_ends_where_text_moves_down() -> None:
    cmap = b"begincmap 1 begincodespacerange <00> <FF> endcodespacerange 3 beginbfchar <01> <0048> <02> <0069> <03> <0020> endbfchar 1 beginbfrange <04> <05> <0061> endbfrange endcmap"
    content = (
        b"BT /F1 12 Tf 56 700 Td <0102> Tj 20 0 Td <03> Tj 9 0 Td [<04> -120 <05>] TJ 0 -20 Td <0102> Tj ET"
    )
    document = (
        b"%PDF-1.4\n1 0 obj <</Type/Page/Resources 2 0 R/Contents 5 0 R>> endobj\n"
        b"2 0 obj <</Font <</F1 3 0 R>> >> endobj\n"
        b"3 0 obj <</Type/Font/Subtype/TrueType/ToUnicode 4 0 R>> endobj\n"
        b"4 0 obj <</Length 1>> stream\n" + cmap + b"\nendstream endobj\n"
        b"5 0 obj <</Length 1>> stream\n" + content + b"\nendstream endobj\n%%EOF\n"
    )
    # Recorded: pydantic-ai's dummy.pdf draws `Dummy PDF file` in five pieces moved right: 3 tokens.
    assert read_document(document) == Document("Hi ab\nHi")


def office(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return out.getvalue()


def test_an_office_file_reads_as_its_paragraphs_or_its_rows_an_estimate() -> None:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    docx = office(
        {
            "word/document.xml": f"<w:document {w}><w:body><w:p><w:r><w:t>The code is </w:t></w:r><w:r><w:t>BLUE-42.</w:t></w:r></w:p><w:p><w:r><w:t>Ready.</w:t></w:r></w:p></w:body></w:document>"
        }
    )
    assert read_document(docx) == Document("The code is BLUE-42.\nReady.", estimated=True)
    shared = "<sst><si><t>label</t></si><si><t>value</t></si><si><t>code</t></si></sst>"
    sheet = '<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row><row><c t="s"><v>2</v></c><c><v>97</v></c></row></sheetData></worksheet>'
    xlsx = office({"xl/sharedStrings.xml": shared, "xl/worksheets/sheet1.xml": sheet})
    assert read_document(xlsx) == Document("| label | value |\n| --- | --- |\n| code | 97 |", estimated=True)


def data_url(data: bytes, mime: str = "application/pdf") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@pytest.mark.parametrize(
    ("document", "tokens"),
    [
        (pdf(), 4),  # recorded: crewAI's empty page costs 4 on /v1/responses
        (pdf(b"Hello, world!"), 4 + 4),  # recorded: Mirascope's document.pdf
        (b"Hello, world!", 4 + 4),  # a text file: its text
    ],
)
async def test_a_file_costs_its_text_and_four_and_212_more_in_chat(
    make_app: MakeApp, document: bytes, tokens: int
) -> None:
    def chat_body(file: dict[str, Any] | None) -> list[dict[str, Any]]:
        content = [{"type": "text", "text": "Read it."}]
        return [{"role": "user", "content": content + ([{"type": "file", "file": file}] if file else [])}]

    def responses_body(file: dict[str, Any] | None) -> dict[str, Any]:
        content = [{"type": "input_text", "text": "Read it."}]
        content += [{"type": "input_file", **file}] if file else []
        return {"model": "gpt-4o-mini", "input": [{"role": "user", "content": content}]}

    file = {"filename": "document.pdf", "file_data": data_url(document)}
    async with chat_client(make_app()) as chat:
        without = (await chat.ask(chat_body(None), model="gpt-4o-mini"))["usage"]["prompt_tokens"]
        with_file = (await chat.ask(chat_body(file), model="gpt-4o-mini"))["usage"]["prompt_tokens"]
        plain = await chat.http.post("/v1/responses", json=responses_body(None))
        read = await chat.http.post("/v1/responses", json=responses_body(file))
    assert with_file - without == 212 + tokens
    assert read.json()["usage"]["input_tokens"] - plain.json()["usage"]["input_tokens"] == tokens


async def test_a_file_the_server_never_sees_costs_its_framing(make_app: MakeApp) -> None:
    def body(file: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "file", "file": file}]}]

    async with chat_client(make_app()) as chat:
        by_id = await chat.ask(body({"file_id": "file-abc"}), model="gpt-4o-mini")
        empty = await chat.ask(body({"file_data": data_url(pdf())}), model="gpt-4o-mini")
    assert by_id["usage"]["prompt_tokens"] == empty["usage"]["prompt_tokens"]  # 212 + 4: an estimate
