"""The child process of `SubprocessServer`: serve chatdouble on the listening socket whose file
descriptor is the argument, with the settings the parent put in the environment (as JSON)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import uvicorn

from chatdouble.testing.servers import SETTINGS_ENV
from server.app import create_app
from server.config import Settings


def main(argv: list[str]) -> int:
    settings = Settings.model_validate_json(os.environ[SETTINGS_ENV])
    sock = socket.socket(fileno=int(argv[0]))
    config = uvicorn.Config(
        create_app(settings), log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
