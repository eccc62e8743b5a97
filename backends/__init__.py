"""Backends and the table that builds them from settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backends.base import Backend
from backends.echo import EchoBackend
from server.config import BackendConfig, EchoBackendConfig


def _echo(config: Any) -> Backend:
    assert isinstance(config, EchoBackendConfig)
    return EchoBackend(text=config.text, prefix=config.prefix)


BUILDERS: dict[str, Callable[[Any], Backend]] = {
    "echo": _echo,
}


def build_backend(name: str, config: BackendConfig) -> Backend:
    backend = BUILDERS[config.type](config)
    backend.name = name
    return backend
