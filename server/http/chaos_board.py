"""The chaos in force: the config's, replaced at runtime for every namespace or for one.

`PUT /_chatdouble/chaos` sets a `ChaosPlan` for one namespace (a test's own) or for all of them;
`DELETE` turns chaos off for the same scope. A namespace's own plan wins over the one for all,
which wins over the config. Within a plan a route's spec wins over the plan's default.

Each request's outcome is drawn from its own generator, seeded by the spec's seed, the namespace,
the spec's place and the request's number in that namespace: the n-th request of a namespace meets
the same fault in every run, whatever other namespaces do at the same time. Setting or turning off
a namespace's chaos starts its count again.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass, field

from pydantic import Field

from server.http.chaos import ChaosSpec, Outcome
from server.options import Strict

COUNTED = 65536  # (namespace, spec) counters kept; past it they start again, so memory stays bounded


def number(counts: dict[tuple[str, str], int], key: tuple[str, str]) -> int:
    """The next number of `key` in `counts` (0, 1, 2, ...): what a seeded draw is told, so the n-th
    request of a namespace and place draws the same in every run. Past COUNTED keys, all start again."""
    count = counts.get(key, 0)
    if count == 0 and len(counts) >= COUNTED:
        counts.clear()
    counts[key] = count + 1
    return count


class RouteChaos(Strict):
    model: str = Field(description="A model name or glob, as a route's `model`.")
    chaos: ChaosSpec


class ChaosPlan(Strict):
    """The body of `PUT /_chatdouble/chaos` (without its scope): as the config writes it, a default
    for every route and specs for some."""

    chaos: ChaosSpec | None = Field(default=None, description="For every route without its own.")
    routes: list[RouteChaos] = Field(default_factory=list, description="First match by model wins.")

    def spec_for(self, model: str) -> tuple[str, ChaosSpec | None]:
        for entry in self.routes:
            if entry.model == model or fnmatch.fnmatchcase(model, entry.model):
                return entry.model, entry.chaos
        return "*", self.chaos


OFF = ChaosPlan()


@dataclass
class ChaosBoard:
    """`configured`: the config's default and its routes' specs (by the route's `model`)."""

    default: ChaosSpec | None = None
    configured: dict[str, ChaosSpec] = field(default_factory=dict)
    everywhere: ChaosPlan | None = None  # set for all namespaces at runtime
    namespaces: dict[str, ChaosPlan] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        """Nothing could ever strike: the runtime then drops the board."""
        return _empty(self.effective(None)) and all(map(_empty, self.namespaces.values()))

    def spec(self, namespace: str, route: str, model: str) -> tuple[str, ChaosSpec | None]:
        """The spec for a request (and the name of its place) routed by `route` for `model`."""
        plan = self.namespaces.get(namespace) or self.everywhere
        if plan is not None:
            return plan.spec_for(model)
        spec = self.configured.get(route)
        return (route, spec) if spec is not None else ("*", self.default)

    def roll(self, namespace: str, route: str, model: str) -> tuple[ChaosSpec, Outcome] | None:
        place, spec = self.spec(namespace, route, model)
        if spec is None or spec.total == 0:
            return None
        count = number(self.counts, (namespace, place))
        outcome = spec.roll(random.Random(f"chaos:{spec.seed}:{namespace}:{place}:{count}"))
        return None if outcome is None else (spec, outcome)

    def set(self, namespace: str | None, plan: ChaosPlan) -> None:
        """`plan` for one namespace, or (None) for all of them, replacing the namespaces' own."""
        if namespace is None:
            self.everywhere = plan
            self.namespaces.clear()
            self.counts.clear()
        else:
            self.namespaces[namespace] = plan
            self.counts = {key: n for key, n in self.counts.items() if key[0] != namespace}

    def off(self, namespace: str | None) -> None:
        """No chaos for one namespace (even where the config or a plan for all has some), or all."""
        if namespace is not None and _empty(self.effective(None)):
            self.namespaces.pop(namespace, None)  # nothing else would apply: no plan is off
            self.counts = {key: n for key, n in self.counts.items() if key[0] != namespace}
        else:
            self.set(namespace, OFF)

    def effective(self, namespace: str | None) -> ChaosPlan:
        """The plan a namespace (None: one without its own) sees, as `GET` shows it."""
        plan = self.namespaces.get(namespace) if namespace is not None else None
        if plan is None:
            plan = self.everywhere
        if plan is None:
            if self.default is None and not self.configured:
                return OFF
            routes = [RouteChaos(model=model, chaos=spec) for model, spec in self.configured.items()]
            plan = ChaosPlan(chaos=self.default, routes=routes)
        return plan


def _empty(plan: ChaosPlan) -> bool:
    return plan.chaos is None and not plan.routes
