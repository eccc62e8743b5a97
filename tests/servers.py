"""A real uvicorn on 127.0.0.1 for tests where sockets matter.

The listening socket is bound before the server thread starts, so a client can connect at once: the
kernel queues the connection until uvicorn accepts it. No sleeping, no polling.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI

from server.http.joined_writes import JoinedWritesProtocol


@dataclass
class LiveServer:
    app: FastAPI
    port: int
    server: uvicorn.Server | None = None
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"


@contextmanager
def serve(app: FastAPI, **options: Any) -> Iterator[LiveServer]:
    """`app` on a free port; `options` are uvicorn's (`ssl_certfile`, `timeout_keep_alive`)."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP (a plain
    # socket() says 0), and without it Nagle's algorithm holds a response's second write until the
    # client's delayed ACK, about 40 ms per request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    options = {
        "log_level": "warning",
        "lifespan": "on",
        "timeout_graceful_shutdown": 2,
        "http": JoinedWritesProtocol,
        **options,
    }
    config = uvicorn.Config(app, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        yield LiveServer(app, port, server, "https" if options.get("ssl_certfile") else "http")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
