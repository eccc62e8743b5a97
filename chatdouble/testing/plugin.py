"""chatdouble's pytest plugin, registered through the `pytest11` entry point: installing chatdouble is
enough (disable it with `-p no:chatdouble`). docs/testing.md shows it at work.

Fixtures:
- `chatdouble_server` (session): the server, started on first use. A real uvicorn in a thread by
  default; `--chatdouble-mode=in-process` serves without sockets, `subprocess` in a child process,
  and `--chatdouble-url` uses a server already running. Under pytest-xdist each worker starts its own.
- `chatdouble` (function): a `ChatDouble` owning a fresh namespace (a unique `X-Chatdouble-Session`
  holding the xdist worker's id); its fixtures, sequence positions and journal are reset afterwards.
- `openai_client`, `async_openai_client` (function): the official SDK clients, bound to that namespace.

Each option has an ini twin (`chatdouble_mode`, `chatdouble_url`, `chatdouble_config`,
`chatdouble_api_key`); the command line wins.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from chatdouble.testing.client import DEFAULT_KEY, ChatDouble, Endpoint, External
from chatdouble.testing.servers import InProcessServer, SubprocessServer, ThreadServer, server_settings

if TYPE_CHECKING:
    import openai

MODES = ("thread", "in-process", "subprocess")
OPTIONS = {
    "mode": f"How the session's server runs: {', '.join(MODES)} (default: thread).",
    "url": "Use the chatdouble already running at this URL instead of starting one.",
    "config": "A chatdouble config file for the session's server (default: the built-in config).",
    "api_key": f"The API key the fixtures send (default: {DEFAULT_KEY}); the server must accept it.",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chatdouble", "chatdouble, the OpenAI API test double")
    for name, help_text in OPTIONS.items():
        flag = "--chatdouble-" + name.replace("_", "-")
        if name == "mode":
            group.addoption(flag, dest=f"chatdouble_{name}", choices=MODES, default=None, help=help_text)
        else:
            group.addoption(flag, dest=f"chatdouble_{name}", default=None, help=help_text)
        parser.addini(f"chatdouble_{name}", help_text, default=None)


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"chatdouble_{name}") or config.getini(f"chatdouble_{name}")
    return str(value) if value else None


@pytest.fixture(scope="session")
def chatdouble_server(pytestconfig: pytest.Config) -> Iterator[Endpoint]:
    """The session's chatdouble (see the module doc for the choices)."""
    url = _option(pytestconfig, "url")
    if url is not None:
        yield External(url)
        return
    mode = _option(pytestconfig, "mode") or "thread"
    if mode not in MODES:
        raise pytest.UsageError(f"chatdouble_mode must be one of {', '.join(MODES)}, not {mode!r}")
    config = _option(pytestconfig, "config")
    settings = server_settings(pytestconfig.rootpath / config if config else None)
    kinds: dict[str, Any] = {
        "thread": ThreadServer,
        "in-process": InProcessServer,
        "subprocess": SubprocessServer,
    }
    with kinds[mode](settings) as server:
        yield server


def session_name(worker: str) -> str:
    """A namespace's session: unique per test, and naming the xdist worker (`gw0`; `main` without)."""
    return f"pytest-{worker}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def chatdouble(chatdouble_server: Endpoint, pytestconfig: pytest.Config) -> Iterator[ChatDouble]:
    """A client of the admin API owning a fresh namespace for this test, reset afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    api_key = _option(pytestconfig, "api_key") or DEFAULT_KEY
    with ChatDouble(chatdouble_server, api_key=api_key, session=session_name(worker)) as double:
        yield double
        double.reset()


@pytest.fixture
def openai_client(chatdouble: ChatDouble) -> Iterator[openai.OpenAI]:
    """An `openai.OpenAI` bound to the test's namespace; its answers come from `chatdouble`."""
    client = chatdouble.openai_client()
    yield client
    client.close()


@pytest.fixture
def async_openai_client(chatdouble: ChatDouble) -> openai.AsyncOpenAI:
    """An `openai.AsyncOpenAI` bound to the test's namespace. Over the network it keeps no idle
    connection, so nothing outlives the test's event loop and no teardown needs one."""
    transport = chatdouble.server.async_transport()
    if transport is None:
        transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    return chatdouble.async_openai_client(http_client=httpx.AsyncClient(transport=transport))
