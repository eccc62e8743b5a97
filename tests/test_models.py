"""One table says what a model name means: its prompt family and whether it reasons, so counting and
the response's `reasoning` field cannot disagree about a model."""

from __future__ import annotations

import pytest

from server.generation.counting_rules import LEGACY, TABLE, rules_for
from server.generation.models import family, reasons


@pytest.mark.parametrize(
    ("model", "expected", "thinks"),
    [
        ("gpt-4o-mini", "gpt-4o", False),
        ("gpt-4.1", "gpt-4o", False),
        ("gpt-5-chat-latest", "gpt-4o", False),
        ("o1-mini", "gpt-4o", True),
        ("o1", "o-series", True),
        ("o3-mini", "o-series", True),
        ("o3", "o4", True),
        ("o4-mini", "o4", True),
        ("ft:o4-mini:acme::abc", "o4", True),
        ("gpt-5-mini", "reasoning", True),
        ("gpt-4", "cl100k", False),
        ("gpt-4-turbo", "cl100k", False),
        ("gpt-3.5-turbo", "cl100k", False),
    ],
)
def test_a_model_name_has_one_family_and_one_answer_to_whether_it_reasons(
    model: str, expected: str, thinks: bool
) -> None:
    assert family(model) == expected
    assert reasons(model) is thinks


def test_counting_reads_the_row_of_the_model_s_family() -> None:
    assert rules_for("o1-mini", "chat") is TABLE[("gpt-4o", "chat")]
    assert rules_for("o3-mini", "responses") is TABLE[("o-series", "responses")]
    assert rules_for("o3-mini", "chat") is TABLE[("o-series", "chat")]
    assert rules_for("o4-mini", "chat") is TABLE[("o4", "chat")]
    assert rules_for("gpt-5", "chat") is TABLE[("reasoning", "chat")]
    assert rules_for("gpt-3.5-turbo", "chat") is LEGACY
