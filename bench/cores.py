"""Where each process runs: the servers' cores, the load generator's core and its priority.

Only one server is loaded at a time, and the load generator moves to a core the loaded server does
not use: on a 2-core machine that is the other server's core, idle meanwhile; with 3+ cores it is
the third. So the loaded server has a core to itself and the generator has one too. On one core
nothing is pinned.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from bench.processes import Server

LOADGEN_RT_PRIORITY = 10  # SCHED_FIFO priority of the load generator while it measures


@dataclass
class Placement:
    cores: list[int]
    loadgen: dict[str, int | None]  # server name -> core of the load generator while it is measured
    note: str


def place(servers: Sequence[Server], cores: list[int]) -> Placement:
    """Sets the cores of `servers` (chatdouble's, then the baseline last); returns where the load
    generator runs for each. Every chatdouble shares the first core: only one is loaded at a time."""
    *ours, baseline = servers
    names = ", ".join(server.name for server in ours)
    if len(cores) >= 3:
        for server in ours:
            server.core = cores[0]
        baseline.core = cores[1]
        loadgen: dict[str, int | None] = {server.name: cores[2] for server in servers}
        note = f"{names} on cpu {cores[0]}, baseline on cpu {cores[1]}, load generator on cpu {cores[2]}"
    elif len(cores) == 2:
        for server in ours:
            server.core = cores[0]
        baseline.core = cores[1]
        loadgen = {server.name: cores[1] for server in ours}
        loadgen[baseline.name] = cores[0]
        note = (
            f"{names} on cpu {cores[0]}, baseline on cpu {cores[1]}; the load generator runs on the "
            "other server's (idle) cpu while one server is measured"
        )
    else:
        for server in servers:
            server.core = None
        loadgen = {server.name: None for server in servers}
        note = "1 cpu: no pinning; servers and load generator share it (figures understate both servers)"
    return Placement(cores, loadgen, note)


def usable_cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def set_realtime(enable: bool) -> bool:
    """Make this thread SCHED_FIFO (or normal again); False where that is not permitted or supported."""
    policy, priority = (os.SCHED_FIFO, LOADGEN_RT_PRIORITY) if enable else (os.SCHED_OTHER, 0)
    try:
        os.sched_setscheduler(0, policy, os.sched_param(priority))
    except (OSError, AttributeError):
        return False
    return True


@contextmanager
def realtime(enable: bool) -> Iterator[bool]:
    """Run the body with this thread at SCHED_FIFO if `enable` and permitted; yields whether it is.

    A fast server drains 16 requests in well under a millisecond, so a load generator that waits a
    few milliseconds behind some other process on its core would leave the server idle and
    understate it. It blocks whenever it has nothing to do, so it takes no more of its core than at
    normal priority.
    """
    raised = enable and set_realtime(True)
    try:
        yield raised
    finally:
        if raised:
            set_realtime(False)
