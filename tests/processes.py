"""A `chatdouble serve` child process, watched through its stderr.

Readiness is uvicorn's own startup line ("Uvicorn running on http://HOST:PORT"): a reader thread
hands every stderr line to a queue, and `wait_for` blocks on that queue with a deadline. No sleeping,
no polling of the port.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"Uvicorn running on (?P<scheme>https?)://(?P<host>[^\s:]+):(?P<port>\d+)")
STARTUP_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 10.0


def python_command(*args: str) -> list[str]:
    """`python -m server ARGS` with this interpreter."""
    return [sys.executable, "-m", "server", *args]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment without `CHATDOUBLE_*` variables, so a developer's shell can't leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATDOUBLE_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class ServerProcess:
    """A server child process; `lines` holds every stderr line read so far."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path = ROOT) -> None:
        self.argv = list(argv)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # its own process group: `kill` reaches the workers it spawned too
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = STARTUP_TIMEOUT) -> re.Match[str]:
        """Read stderr lines until one matches; fail on EOF (the process died) or after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no line matching {pattern.pattern!r} within {timeout}s:\n{self.output}"
                )
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=SHUTDOWN_TIMEOUT)
                raise AssertionError(
                    f"process exited with {self.proc.returncode} before printing {pattern.pattern!r}:\n"
                    f"{self.output}"
                )
            self.lines.append(line)
            match = pattern.search(line)
            if match:
                return match

    def wait_ready(self) -> int:
        """The port from uvicorn's startup line."""
        return int(self.wait_for(READY).group("port"))

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = SHUTDOWN_TIMEOUT) -> int:
        """Send `sig`, wait for the exit and the end of stderr; the exit code."""
        self.proc.send_signal(sig)
        return self.finish(timeout)

    def finish(self, timeout: float = SHUTDOWN_TIMEOUT) -> int:
        """Wait for the process to exit on its own; collect the rest of stderr."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return code

    def kill(self) -> None:
        """SIGKILL to the process and to every worker it spawned: a worker left alive would hold
        stderr open, and closing it below would wait for the reader forever."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=SHUTDOWN_TIMEOUT)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@contextlib.contextmanager
def running(argv: Sequence[str], env: Mapping[str, str], cwd: Path = ROOT) -> Iterator[ServerProcess]:
    """A server process that is killed if the test leaves it running."""
    server = ServerProcess(argv, env, cwd)
    try:
        yield server
    finally:
        server.kill()
