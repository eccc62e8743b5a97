"""A chatdouble server started from Python: in a thread or a subprocess on a free port (real sockets),
or in process (no sockets at all).

Each is a context manager, and an `Endpoint` for `ChatDouble`:

    with ThreadServer() as server, ChatDouble(server, session="t1") as double:
        double.reply("Hello!")
        client = double.openai_client()

`InProcessServer` runs the app on an event loop of its own, in a thread, and reaches it through httpx
transports that hand each request to that loop: a sync transport for `openai.OpenAI` (httpx's own
`ASGITransport` is async only, and the sync SDK needs a sync transport) and an async one for
`openai.AsyncOpenAI`. So both SDK clients work in process, from sync and async tests alike, and the app
always runs on the one loop its lifespan started on. Like `httpx.ASGITransport`, it hands over a
response whole: a stream arrives at once, in the same frames.

The servers keep the in-memory journal with bodies (`requests()` lists what the client sent and got).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from starlette.types import ASGIApp

from server.app import create_app
from server.config import Settings, load_settings

T = TypeVar("T")
JOURNAL_MEMORY = 10_000  # entries per namespace: a test's requests, with room to spare
SETTINGS_ENV = "CHATDOUBLE_TESTING_SETTINGS"


def server_settings(
    config: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Settings for a test server: the default (or `config`, a config file, and the CHATDOUBLE_*
    variables of `env`, os.environ by default, as `chatdouble serve` reads them) with the in-memory
    journal on and keeping bodies."""
    settings = load_settings(config, env=env, overrides=overrides)
    journal = settings.journal.model_copy(
        update={"memory": max(settings.journal.memory, JOURNAL_MEMORY), "bodies": True}
    )
    return settings.model_copy(update={"journal": journal})


def _listening_socket(host: str) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    # Bound and listening before the server starts: a client may connect at once, and the kernel
    # queues the connection until the server accepts it. No waiting for readiness.
    sock.listen(128)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, saying when its startup is over."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class _SocketServer:
    """What a server on a real socket of this machine has, whichever way it runs: its settings, the
    listening socket it binds before it starts, and its URL; SDK clients reach it over the network."""

    def __init__(self, settings: Settings | None = None, *, host: str = "127.0.0.1") -> None:
        self.settings = settings if settings is not None else server_settings()
        self.host = host
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        if self._socket is None:
            raise RuntimeError("the server is not running")
        return f"http://{self.host}:{self._socket.getsockname()[1]}"

    def transport(self) -> httpx.BaseTransport | None:
        return None

    def async_transport(self) -> httpx.AsyncBaseTransport | None:
        return None


class ThreadServer(_SocketServer):
    """A real uvicorn serving chatdouble in a daemon thread on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings | None = None, *, host: str = "127.0.0.1") -> None:
        super().__init__(settings, host=host)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ThreadServer:
        self._socket = _listening_socket(self.host)
        config = uvicorn.Config(
            create_app(self.settings), log_level="warning", lifespan="on", timeout_graceful_shutdown=2
        )
        self._server = server = _Server(config)
        sock = self._socket
        failure: list[BaseException] = []

        def serve() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # SystemExit from a failed startup included
                failure.append(exc)
            finally:
                server.ready.set()  # a server that never started must not leave start() waiting

        self._thread = threading.Thread(target=serve, name="chatdouble-server", daemon=True)
        self._thread.start()
        # Returns once uvicorn has started (or has given up): a client never queues on a socket
        # that nothing will accept from.
        server.ready.wait()
        if not server.started:
            self.stop()
            raise RuntimeError(
                f"chatdouble did not start in its thread: {failure[0] if failure else 'no reason given'}"
            )
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> ThreadServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SubprocessServer(_SocketServer):
    """chatdouble in a child process (`python -m chatdouble.testing.child`) on a free port: the
    parent binds the socket and hands it down, so the server can be reached as soon as this returns."""

    def __init__(self, settings: Settings | None = None, *, host: str = "127.0.0.1") -> None:
        super().__init__(settings, host=host)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> SubprocessServer:
        self._socket = _listening_socket(self.host)
        env = dict(os.environ)
        env[SETTINGS_ENV] = self.settings.model_dump_json()
        # The child imports what this process imports (a development checkout or an installed wheel).
        roots = {_import_root(module) for module in _roots()}
        env["PYTHONPATH"] = os.pathsep.join([*sorted(roots), *filter(None, [os.environ.get("PYTHONPATH")])])
        child = f"{__package__}.child"
        fd = self._socket.fileno()
        self._process = subprocess.Popen([sys.executable, "-m", child, str(fd)], env=env, pass_fds=[fd])
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._socket is not None:
            self._socket.close()
        self._process = self._socket = None

    def __enter__(self) -> SubprocessServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _import_root(module: Any) -> str:
    """The directory `module` (a package) is imported from: `a.b` lives two levels below it."""
    path = Path(module.__file__).resolve().parent
    for _ in module.__name__.split("."):
        path = path.parent
    return str(path)


def _roots() -> list[Any]:
    import chatdouble
    import server

    return [chatdouble, server]


class InProcessServer:
    """The app on its own event loop in a thread, reached without sockets (see the module doc)."""

    url = "http://chatdouble.in-process"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else server_settings()
        self.app: ASGIApp | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lifespan: contextlib.AsyncExitStack | None = None

    def start(self) -> InProcessServer:
        app = create_app(self.settings)
        self.app = app
        self._loop = loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="chatdouble-in-process", daemon=True)
        self._thread.start()
        self._lifespan = contextlib.AsyncExitStack()
        self.run(self._lifespan.enter_async_context(app.router.lifespan_context(app)))
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._lifespan is not None:
            self.run(self._lifespan.aclose())
        self.run(_cancel_the_rest())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._lifespan = None

    def __enter__(self) -> InProcessServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self._loop is None:
            raise RuntimeError("the server is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.submit(coroutine).result()

    def transport(self) -> httpx.BaseTransport:
        return _SyncBridge(self)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        return _AsyncBridge(self)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """One request, on the server's loop; the response read whole."""
        if self.app is None:
            raise RuntimeError("the server is not running")
        response = await httpx.ASGITransport(app=self.app).handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)


async def _cancel_the_rest() -> None:
    """Cancel what the app left running (a stream's shutdown watcher), so the loop closes clean."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


class _SyncBridge(httpx.BaseTransport):
    def __init__(self, server: InProcessServer) -> None:
        self._server = server

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._server.run(self._server.handle(request))


class _AsyncBridge(httpx.AsyncBaseTransport):
    def __init__(self, server: InProcessServer) -> None:
        self._server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return await asyncio.wrap_future(self._server.submit(self._server.handle(request)))
