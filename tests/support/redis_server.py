"""A real `redis-server` on a free loopback port, for the shared-state tests (docs/scale.md).

It persists nothing (`--save ""`, `--appendonly no`) and logs to stderr, where `tests/processes.py`
reads it: readiness is Redis's own "Ready to accept connections" line, so nothing sleeps or polls.
`scripts/test.sh` installs Debian's `redis-server` when it is missing.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.processes import ServerProcess, clean_env

READY = re.compile(r"Ready to accept connections")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RedisServer:
    port: int
    process: ServerProcess | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run scripts/test.sh, which installs it")
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = ServerProcess([*argv, "--logfile", "/dev/stderr"], clean_env())
        self.process.wait_for(READY, timeout=30)

    def stop(self) -> None:
        """Stop the server by its PID (SIGKILL: a crash, as far as clients can tell)."""
        if self.process is not None:
            self.process.stop(signal.SIGKILL)
            self.process.kill()  # closes its stderr pipe
            self.process = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
