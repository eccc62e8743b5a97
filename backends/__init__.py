"""Backends, their config models, and the table that builds them from those models.

Each backend owns its config model (`EchoConfig`, `FixturesConfig`, `ProxyConfig`) and takes it
whole; the settings (`server.config`) compose the models into the `backends` mapping of a config
file, and nothing here imports the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from backends.base import Backend
from backends.echo import EchoBackend, EchoConfig
from backends.fixtures import FixturesBackend, FixturesConfig
from backends.proxy import ProxyBackend
from backends.proxy_config import ProxyConfig
from server.fieldpath import field_path
from server.options import ConfigError, FieldError

BackendConfig = Annotated[EchoConfig | FixturesConfig | ProxyConfig, Field(discriminator="type")]


def _construct(config: BackendConfig, built: Mapping[str, Backend]) -> Backend:
    if isinstance(config, EchoConfig):
        return EchoBackend(config)
    if isinstance(config, FixturesConfig):
        fallback = built[config.fallback] if config.fallback is not None else None
        return FixturesBackend(config, fallback=fallback)
    return ProxyBackend(config)


def build_backend(name: str, config: BackendConfig, built: Mapping[str, Backend] | None = None) -> Backend:
    """One backend; `built` holds the others already built (a fixtures fallback is one of them). A
    setting found unusable while building is named within the backend (`backends.NAME.api_key_env`)."""
    try:
        backend = _construct(config, built or {})
    except FieldError as exc:
        raise ConfigError(f"{field_path(('backends', name, *exc.path))}: {exc}") from None
    backend.name = name
    return backend


def build_backends(configs: Mapping[str, BackendConfig]) -> dict[str, Backend]:
    """Every configured backend: fixtures last, so a fallback they name already exists."""
    built: dict[str, Backend] = {}
    for name, config in sorted(configs.items(), key=lambda item: item[1].type == "fixtures"):
        built[name] = build_backend(name, config, built)
    return {name: built[name] for name in configs}
