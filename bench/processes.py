"""Process control: the servers under test, started, pinned, awaited and stopped.

Each server is a child process on a free 127.0.0.1 port, pinned to one core (affinity is set in the
child before exec, so every thread inherits it) and, on Linux, sent SIGTERM if the benchmark itself
dies (PR_SET_PDEATHSIG). Its output goes to a log file whose tail explains a failed start. `running`
starts a set of servers, waits until each accepts connections, and stops them all on the way out:
SIGTERM, then SIGKILL after 8 s. `until_sigterm` turns a SIGTERM during a measurement into
`TerminatedError`, so the servers are stopped then too.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1
STOP_TIMEOUT = 8.0  # seconds between SIGTERM and SIGKILL
T = TypeVar("T")


class RunError(Exception):
    """The run itself failed: a server did not start, or died."""


class TerminatedError(Exception):
    """The benchmark got SIGTERM."""


@dataclass
class Server:
    name: str
    argv: list[str]
    core: int | None
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def chatdouble_argv(port: int) -> list[str]:
    script = Path(sys.executable).with_name("chatdouble")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "server"]
    return [*command, "serve", "--host", HOST, "--port", str(port), "--log-level", "warning"]


def baseline_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "bench.baseline", "--host", HOST, "--port", str(port)]


def server_env() -> dict[str, str]:
    """The environment without CHATDOUBLE_* overrides, so chatdouble runs its embedded default config."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CHATDOUBLE_")}


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _child_setup(libc: ctypes.CDLL | None, core: int | None) -> None:
    """In the forked child, before exec: pin to `core`, and die with the parent (Linux)."""
    if core is not None:
        os.sched_setaffinity(0, {core})
    if libc is not None and sys.platform == "linux":
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(server: Server) -> None:
    libc = _libc()  # loaded before the fork: the child only calls into it
    with server.log.open("wb") as log:
        server.proc = subprocess.Popen(
            server.argv,
            cwd=ROOT,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _child_setup(libc, server.core),
        )


def stop(server: Server) -> None:
    proc = server.proc
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    assert server.proc is not None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RunError(f"{server.name} exited with status {server.proc.returncode}:\n{server.log_tail()}")
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RunError(f"{server.name} did not accept connections within {timeout:.0f} s:\n{server.log_tail()}")


@contextmanager
def running(servers: Sequence[Server]) -> Iterator[None]:
    """Start `servers`, yield once all accept connections, stop them all on the way out."""
    with ExitStack() as stack:
        for server in servers:
            stack.callback(stop, server)
            start(server)
        for server in servers:
            wait_ready(server)
        yield


def still_running(servers: Sequence[Server]) -> None:
    """Raise RunError if a server exited during the run."""
    for server in servers:
        if server.proc is not None and server.proc.poll() is not None:
            raise RunError(f"{server.name} exited during the run:\n{server.log_tail()}")


def peak_rss_kib(pid: int) -> int:
    """VmHWM: the peak resident set size of the process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise TerminatedError


def raise_on_sigterm() -> None:
    """From now on SIGTERM raises TerminatedError (outside an event loop; see `until_sigterm`)."""
    signal.signal(signal.SIGTERM, _on_sigterm)


async def until_sigterm(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro`; SIGTERM cancels it (an exception raised by a Python-level signal handler inside
    one of uvloop's protocol callbacks would be reported and swallowed there)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True
        task.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        return await coro
    except asyncio.CancelledError:
        if terminated:
            raise TerminatedError from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        raise_on_sigterm()
