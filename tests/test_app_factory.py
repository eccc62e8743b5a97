"""The app factory takes backends for tests: they stand in for configured ones by name.

Proven: a backend given to `create_app` answers where the settings route to its name, under that
name, and the configured one is never built; a name the settings do not configure is refused rather
than silently unused.
"""

from __future__ import annotations

import pytest

from backends.base import TextDelta
from server.app import create_app
from server.config import load_settings
from tests.support.backends import ScriptedBackend
from tests.support.requests import chat_client, text_of


async def test_a_given_backend_answers_in_place_of_the_configured_one_of_its_name() -> None:
    backend = ScriptedBackend([TextDelta("scripted")])
    app = create_app(load_settings(env={}), backends={"echo": backend})
    async with chat_client(app) as chat:
        body = await chat.ask("not echoed")
    assert text_of(body) == "scripted"
    assert app.state.runtime.backends == {"echo": backend}
    assert backend.name == "echo"
    assert [request.n for request in backend.requests] == [1]


def test_a_given_backend_the_settings_do_not_name_is_refused() -> None:
    with pytest.raises(ValueError, match="no configured backend to replace: scripted"):
        create_app(load_settings(env={}), backends={"scripted": ScriptedBackend([])})
