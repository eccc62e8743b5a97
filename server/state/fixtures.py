"""Runtime fixtures of every namespace (added over the admin API), and the backend a request meets.

Only namespaces that hold fixtures are kept, so `empty` says in one lookup that no request needs
the layer at all: the dialects then get the route's backend as before, at no cost.
"""

from __future__ import annotations

from collections.abc import Sequence

from backends.base import Backend
from backends.fixtures.model import Fixture
from backends.fixtures.runtime import Layered, NamespaceFixtures
from server.generation.conversation import Conversation


class RuntimeFixtures:
    def __init__(self) -> None:
        self._sets: dict[str, NamespaceFixtures] = {}

    @property
    def empty(self) -> bool:
        return not self._sets

    def over(self, namespace: str, backend: Backend) -> Backend:
        """What answers a request of `namespace` routed to `backend`: its runtime fixtures first."""
        fixtures = self._sets.get(namespace)
        return backend if fixtures is None else Layered(fixtures, backend)

    def holds(self, namespace: str) -> bool:
        return namespace in self._sets

    async def answers(
        self, namespace: str, conversations: Sequence[Conversation], raw: bytes, *, embeds: bool
    ) -> bool:
        """Whether the namespace's fixtures would answer a request asking `conversations` (its bytes
        `raw`), without using up any of them: what a forwarding route asks before it forwards."""
        fixtures = self._sets.get(namespace)
        return fixtures is not None and await fixtures.answers(conversations, raw, namespace, embeds=embeds)

    def of(self, namespace: str) -> list[Fixture]:
        fixtures = self._sets.get(namespace)
        return list(fixtures.fixtures) if fixtures is not None else []

    def taken(self, namespace: str, fixtures: Sequence[Fixture]) -> list[str]:
        """The ids among `fixtures` that the namespace already holds, or that repeat among them."""
        seen = {fixture.id for fixture in self.of(namespace)}
        repeated: list[str] = []
        for fixture in fixtures:
            if fixture.id in seen:
                repeated.append(fixture.id)
            seen.add(fixture.id)
        return repeated

    def add(self, namespace: str, fixtures: Sequence[Fixture]) -> None:
        if fixtures:
            self._sets.setdefault(namespace, NamespaceFixtures()).add(fixtures)

    def remove(self, namespace: str, fixture_id: str) -> bool:
        fixtures = self._sets.get(namespace)
        if fixtures is None or not fixtures.remove(fixture_id):
            return False
        if not fixtures.fixtures:
            del self._sets[namespace]
        return True

    def clear(self, namespace: str) -> int:
        """Forget the namespace's fixtures and their lifetimes; how many there were."""
        fixtures = self._sets.pop(namespace, None)
        return len(fixtures.fixtures) if fixtures is not None else 0

    async def reset_sequences(self, namespace: str | None = None) -> None:
        """Forget lifetimes and sequence positions of one namespace's fixtures, or of all."""
        for name, fixtures in list(self._sets.items()):
            if namespace is None or name == namespace:
                await fixtures.reset()
