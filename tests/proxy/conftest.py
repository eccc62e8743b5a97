"""The upstream the proxy tests forward to: another chatdouble on loopback, and what it was sent.
A module that needs a different upstream (other settings, a fresh one per test) defines its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import LiveServer, serve
from tests.support.proxies import Exchange, upstream_app


@pytest.fixture(scope="module")
def captured() -> list[Exchange]:
    return []


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, captured: list[Exchange]) -> Iterator[LiveServer]:
    with serve(upstream_app(tmp_path_factory.mktemp("upstream"), captured)) as live:
        yield live
