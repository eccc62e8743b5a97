"""The text of a Word, PowerPoint or Excel file (a zip of XML parts), as an estimate of what the API
reads from it (server/generation/documents.py).

The API converts such a file to text before the model reads it, in a layout it does not publish.
fit, usage corpus (crmne/ruby_llm, gpt-5-nano, one pair each): a one-paragraph .docx costs 39 tokens
beside its part's framing, its text 25; a 3-row .xlsx 48, its cells as a Markdown table 25. So the
text here (paragraphs one per line; a sheet's rows as Markdown table rows) undercounts: an estimate.
Imports nothing of ours.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

_WORD = re.compile(r"^(word/document|ppt/slides/slide\d+)\.xml$")
_SHEET = re.compile(r"^xl/worksheets/sheet\d+\.xml$")
_MAX_PART = 20_000_000  # bytes of XML read from one part: a zip bomb is not unpacked


def office_text(data: bytes) -> str | None:
    """The text of a .docx, .pptx or .xlsx file; None for any other file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = sorted(archive.namelist(), key=_natural)
            if "xl/sharedStrings.xml" in names or any(_SHEET.match(n) for n in names):
                shared = (
                    _strings(_read(archive, "xl/sharedStrings.xml"), "si")
                    if "xl/sharedStrings.xml" in names
                    else []
                )
                return "\n\n".join(_sheet(_read(archive, n), shared) for n in names if _SHEET.match(n))
            parts = [_read(archive, n) for n in names if _WORD.match(n)]
            if not parts:
                return None
            return "\n".join(line for part in parts for line in _strings(part, "p"))
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, ValueError):
        return None


def _natural(name: str) -> tuple[str, int]:
    number = re.search(r"(\d+)\.xml$", name)
    return (name[: number.start()] if number else name, int(number.group(1)) if number else 0)


def _read(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    with archive.open(name) as part:
        return ElementTree.fromstring(part.read(_MAX_PART))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _strings(root: ElementTree.Element, block: str) -> list[str]:
    """The text of each `block` element (a paragraph, a shared string): its `t` elements joined."""
    return [
        "".join(t.text or "" for t in element.iter() if _local(t.tag) == "t")
        for element in root.iter()
        if _local(element.tag) == block
    ]


def _sheet(root: ElementTree.Element, shared: list[str]) -> str:
    rows = []
    for row in (e for e in root.iter() if _local(e.tag) == "row"):
        cells = []
        for cell in (e for e in row if _local(e.tag) == "c"):
            value = next((e.text or "" for e in cell.iter() if _local(e.tag) in ("v", "t")), "")
            if cell.get("t") == "s" and value.isdigit() and int(value) < len(shared):
                value = shared[int(value)]
            cells.append(value)
        rows.append("| " + " | ".join(cells) + " |")
    if rows:
        rows.insert(1, "|" + " --- |" * rows[0].count(" | ") + " --- |")
    return "\n".join(rows)
