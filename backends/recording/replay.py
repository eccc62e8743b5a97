"""Serving a cassette directory: the fixtures engine over the recordings, offline.

A recording is an ordinary fixture, so replay is the fixtures backend reading the cassette
directory, with two differences: a request is seen the way the recorder saw it (normalized with the
proxy's ignored fields, secrets scrubbed with the proxy's scrubber), and a miss is an error that says
how to record the request, naming the recordings closest to it: the fewest fields differing, then
the smallest differences.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from backends.base import Backend, BackendError, EmbeddingRequest, GenerationRequest
from backends.fixtures import FixturesBackend, FixturesConfig
from backends.fixtures.entry import Entry
from backends.fixtures.facts import Facts
from backends.fixtures.matcher import Score
from backends.proxy_config import ProxyConfig
from backends.request_key import distance, normalize, request_key


class Replayer(FixturesBackend):
    name = "replay"
    warn_when_empty = False  # a cassette directory starts empty and fills as requests are recorded

    def __init__(
        self,
        config: ProxyConfig,
        *,
        view: Callable[[GenerationRequest | EmbeddingRequest], dict[str, Any]],
        owner: Backend | None = None,
    ) -> None:
        if config.cassettes is None:
            raise ValueError("replaying needs a cassettes directory")
        # The cassettes are fixture files, reloaded when they change (every second at most).
        fixtures = FixturesConfig(
            type="fixtures", paths=[config.cassettes], timing_factor=config.timing_factor
        )
        super().__init__(fixtures, ignore_fields=config.ignore_fields)
        self.directory = config.cassettes
        self.owner = owner  # the proxy backend, named in the how-to-record hint
        self._view = view
        self._keys: frozenset[str] = frozenset()
        self._keys_of: object = None

    def viewer(self, request: GenerationRequest | EmbeddingRequest) -> Callable[[], dict[str, Any]]:
        return lambda: self._view(request)

    async def embed_unmatched(
        self, facts: Facts, request: EmbeddingRequest, fallback: Backend | None
    ) -> list[list[float]] | None:
        raise await self.no_match(facts, request.namespace)

    @property
    def keys(self) -> frozenset[str]:
        """The request keys of the loaded recordings (fixtures with `match.request`)."""
        if self._keys_of is not self.entries:
            self._keys = frozenset(
                request_key(normalize(entry.fixture.match.request, self.ignore_fields))
                for entry in self.entries
                if entry.fixture.match.request is not None
            )
            self._keys_of = self.entries
        return self._keys

    def has(self, key: str) -> bool:
        self._maybe_reload()
        return key in self.keys

    async def no_match(self, facts: Facts, namespace: str) -> BackendError:
        directory = Path(self.directory)
        closest = await self.closest(facts, namespace)
        return BackendError(
            400,
            f"No recording in {directory}/ matches this request ({facts.describe()}; request key "
            f"{facts.request_key}). chatdouble is replaying without network access. To record it, run "
            f"once with the upstream reachable and backend '{self.owner.name if self.owner else self.name}' in mode `auto` (records "
            "only what is missing) or `record`, e.g. CHATDOUBLE_RECORD_MODE=auto; or write a fixture "
            f"for it in {directory}/.{closest}",
            code="recording_not_found",
        )

    def rank(self, entry: Entry, near: Score, facts: Facts) -> tuple[float, ...]:
        """A recording by how far its request is from this one; a hand-written fixture by how many of
        its conditions fail."""
        recorded = entry.fixture.match.request
        if recorded is None:
            return (near.failed, 0.0)
        return distance(normalize(recorded, self.ignore_fields), facts.request)
