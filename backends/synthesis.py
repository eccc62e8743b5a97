"""What the synthesizer's modules share: its failure and the caps on what it builds.

Sizes a schema may ask for are capped, so a request cannot make the server build huge values; a
schema that needs more is refused at request validation, naming the keyword (a 400).
"""

from __future__ import annotations

MAX_ITEMS = 1000  # items in an array, properties in an object
MAX_LENGTH = 10_000  # characters in a string
MAX_DEPTH = 64  # levels of nesting in one value


class Unsatisfiable(ValueError):  # noqa: N818 - a verdict on a schema, read as "the schema is unsatisfiable"
    """No value satisfies the schema within the caps; the message names the keyword and its place."""


class Cycle(Unsatisfiable):
    """A lean build met its own schema: this branch cannot give the cheapest instance."""


def place(where: str) -> str:
    """A schema location short enough for an error message."""
    return where if len(where) <= 120 else f"{where[:40]}...{where[-70:]}"
