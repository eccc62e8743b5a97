"""docs/compatibility.md cannot drift from the wire schemas: every request field of every endpoint
has exactly one row in tools/compatibility_table.py, every row names a field, and the committed page
is what tools/gen_compatibility.py renders."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from tools import compatibility_table as table
from tools import gen_compatibility as gen


def test_every_wire_field_has_a_row_and_every_row_names_a_field() -> None:
    assert gen.drift() == []


def test_a_field_added_to_a_schema_without_a_row_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    class Extended(BaseModel):
        model: str
        novel: int | None = None

    rows: dict[str, table.Row] = {"model": ("honoured", ""), "gone": ("ignored", "")}
    monkeypatch.setattr(gen, "ENDPOINTS", (("POST /v1/x", Extended, rows),))
    assert gen.drift() == [
        "POST /v1/x: field `novel` has no row",
        "POST /v1/x: row `gone` names no field",
    ]


def test_the_committed_page_is_the_rendered_one() -> None:
    committed = gen.OUTPUT.read_text(encoding="utf-8")
    assert committed == gen.render(), "run `python tools/gen_compatibility.py`"


def test_the_page_has_one_row_per_field_of_each_endpoint() -> None:
    text = gen.render()
    for endpoint, model, _ in gen.ENDPOINTS:
        section = text.split(f"## `{endpoint}`", 1)[1].split("\n## ", 1)[0]
        keys = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
        assert keys == gen.fields(model)
