"""Runtime fixtures of every namespace (added over the admin API), and the backend a request meets.

`RuntimeFixtures` is the interface; `MemoryRuntimeFixtures` keeps them in this process, and the
shared one (`server/state/redis_fixtures.py`, the `state` setting) keeps them in Redis, so that a
fixture added through one process answers on every other. In this process only namespaces that
hold fixtures are kept, so `empty` says in one lookup that no request needs the layer at all: the
dialects then get the route's backend as before, at no cost.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from backends.base import Backend
from backends.fixtures.model import Fixture
from backends.fixtures.runtime import Layered, NamespaceFixtures


def repeated(fixtures: Sequence[Fixture]) -> str | None:
    """The first id that `fixtures` repeat, if any."""
    seen: set[str] = set()
    for fixture in fixtures:
        if fixture.id in seen:
            return fixture.id
        seen.add(fixture.id)
    return None


class RuntimeFixtures(abc.ABC):
    @property
    def empty(self) -> bool:
        """True only when no namespace can hold a fixture (then nobody needs to ask)."""
        return False

    @abc.abstractmethod
    async def layer(self, namespace: str) -> NamespaceFixtures | None:
        """The namespace's fixtures, compiled; None when it holds none."""

    async def over(self, namespace: str, backend: Backend) -> Backend:
        """What answers a request of `namespace` routed to `backend`: its runtime fixtures first."""
        fixtures = await self.layer(namespace)
        return backend if fixtures is None else Layered(fixtures, backend)

    async def of(self, namespace: str) -> list[Fixture]:
        fixtures = await self.layer(namespace)
        return list(fixtures.fixtures) if fixtures is not None else []

    @abc.abstractmethod
    async def add(self, namespace: str, fixtures: Sequence[Fixture]) -> str | None:
        """Add `fixtures` (whose ids do not repeat) unless the namespace holds one of their ids:
        then nothing is added and that id is returned."""

    @abc.abstractmethod
    async def remove(self, namespace: str, fixture_id: str) -> bool: ...

    @abc.abstractmethod
    async def clear(self, namespace: str) -> int:
        """Forget the namespace's fixtures and their lifetimes; how many there were."""

    @abc.abstractmethod
    async def reset_sequences(self, namespace: str | None = None) -> None:
        """Forget lifetimes and sequence positions of one namespace's fixtures, or of all."""


class MemoryRuntimeFixtures(RuntimeFixtures):
    """In this process: one event loop, and no operation suspends."""

    def __init__(self) -> None:
        self._sets: dict[str, NamespaceFixtures] = {}

    @property
    def empty(self) -> bool:
        return not self._sets

    async def layer(self, namespace: str) -> NamespaceFixtures | None:
        return self._sets.get(namespace)

    async def add(self, namespace: str, fixtures: Sequence[Fixture]) -> str | None:
        held = self._sets.get(namespace)
        ids = {fixture.id for fixture in held.fixtures} if held is not None else set()
        taken = next((fixture.id for fixture in fixtures if fixture.id in ids), None)
        if taken is None and fixtures:
            self._sets.setdefault(namespace, NamespaceFixtures()).add(fixtures)
        return taken

    async def remove(self, namespace: str, fixture_id: str) -> bool:
        fixtures = self._sets.get(namespace)
        if fixtures is None or not fixtures.remove(fixture_id):
            return False
        if not fixtures.fixtures:
            del self._sets[namespace]
        return True

    async def clear(self, namespace: str) -> int:
        fixtures = self._sets.pop(namespace, None)
        return len(fixtures.fixtures) if fixtures is not None else 0

    async def reset_sequences(self, namespace: str | None = None) -> None:
        for name, fixtures in list(self._sets.items()):
            if namespace is None or name == namespace:
                await fixtures.reset()
