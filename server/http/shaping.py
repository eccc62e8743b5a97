"""A request's shaping, decided when its route is known: the latency profile that paces it and the
chaos outcome it meets. An HTTP error is raised and a timeout held here, before any answer; a drop
or a stream error is handed to the pipeline, which ends the reply with it part-way.

Latency draws, like chaos outcomes, come from a generator of their own per request, seeded by the
profile's seed, the namespace, the route and the request's number in that namespace: the n-th
request of a namespace gets the same delays in every run, whatever runs beside it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from backends.base import DropConnection
from server.generation.latency import Delays, LatencyProfile
from server.generation.shaping import Shaping, Sleep
from server.http.chaos import http_error, mid_reply_fault
from server.http.chaos_board import ChaosBoard, number


@dataclass
class Profiles:
    """Latency profiles by route (`model` as the route writes it): the route's own or its backend's."""

    by_route: dict[str, LatencyProfile]
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def delays(self, namespace: str, route: str) -> Delays | None:
        profile = self.by_route.get(route)
        if profile is None:
            return None
        count = number(self.counts, (namespace, route))
        return Delays(profile, random.Random(f"latency:{profile.seed}:{namespace}:{route}:{count}"))


async def shape(
    profiles: Profiles | None,
    board: ChaosBoard | None,
    *,
    route: str,
    model: str,
    namespace: str,
    request_id: str,
    hold_seconds: float,
    sleep: Sleep,
    clock: Callable[[], float],
    started: float | None = None,
) -> Shaping | None:
    """The shaping of one request, or None when it has neither pauses nor a fault mid-reply."""
    delays = profiles.delays(namespace, route) if profiles is not None else None
    rolled = board.roll(namespace, route, model) if board is not None else None
    if rolled is None:
        return None if delays is None else Shaping(delays, sleep=sleep, clock=clock, started=started)
    spec, outcome = rolled
    if outcome.kind == "error":
        raise http_error(outcome.status, spec, model, request_id)
    if outcome.kind == "timeout":
        # Held without an answer until the client gives up; the bound keeps it from hanging forever.
        await sleep(hold_seconds)
        raise DropConnection("chaos held the request until its timeout")
    return Shaping(delays, mid_reply_fault(outcome), spec.after_chunks, sleep, clock, started)
