"""Backends and the table that builds them from settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from backends.base import Backend
from backends.echo import EchoBackend
from backends.fixtures import FixturesBackend
from server.config import BackendConfig, EchoBackendConfig, FixturesBackendConfig


def _echo(config: Any, built: Mapping[str, Backend]) -> Backend:
    assert isinstance(config, EchoBackendConfig)
    return EchoBackend(text=config.text, prefix=config.prefix)


def _fixtures(config: Any, built: Mapping[str, Backend]) -> Backend:
    assert isinstance(config, FixturesBackendConfig)
    return FixturesBackend(
        config.paths,
        fallback=built[config.fallback] if config.fallback is not None else None,
        reload_interval=config.reload_interval if config.reload else None,
    )


BUILDERS: dict[str, Callable[[Any, Mapping[str, Backend]], Backend]] = {
    "echo": _echo,
    "fixtures": _fixtures,
}


def build_backend(name: str, config: BackendConfig, built: Mapping[str, Backend] | None = None) -> Backend:
    """One backend; `built` holds the others already built (a fixtures fallback is one of them)."""
    backend = BUILDERS[config.type](config, built or {})
    backend.name = name
    return backend


def build_backends(configs: Mapping[str, BackendConfig]) -> dict[str, Backend]:
    """Every configured backend: fixtures last, so a fallback they name already exists."""
    built: dict[str, Backend] = {}
    for name, config in sorted(configs.items(), key=lambda item: item[1].type == "fixtures"):
        built[name] = build_backend(name, config, built)
    return {name: built[name] for name in configs}
