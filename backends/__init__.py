"""Backends and the table that builds them from settings."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from backends.base import Backend
from backends.echo import EchoBackend
from backends.fixtures import FixturesBackend
from backends.proxy import ProxyBackend
from server.config import (
    BackendConfig,
    ConfigError,
    EchoBackendConfig,
    FixturesBackendConfig,
    ProxyBackendConfig,
)

log = logging.getLogger("chatdouble.proxy")


class SettingError(ConfigError):
    """A backend setting that cannot work, named within its backend (`api_key_env: ...`)."""


def _echo(config: Any, built: Mapping[str, Backend]) -> Backend:
    assert isinstance(config, EchoBackendConfig)
    return EchoBackend(text=config.text, prefix=config.prefix)


def _fixtures(config: Any, built: Mapping[str, Backend]) -> Backend:
    assert isinstance(config, FixturesBackendConfig)
    return FixturesBackend(
        config.paths,
        fallback=built[config.fallback] if config.fallback is not None else None,
        reload_interval=config.reload_interval if config.reload else None,
        time_scale=config.timing_factor,
    )


def _upstream_key(config: ProxyBackendConfig) -> str | None:
    """The upstream key. When `api_key_env` names an unset variable, a proxy that must forward every
    request (`passthrough`, `record`) refuses to start, since each would fail upstream with a 401;
    `auto` warns, as it can still replay; `replay` never sends a key."""
    key = config.key(os.environ)
    if key is not None or not config.api_key_env or config.authorization == "forward":
        return key
    problem = f"the environment variable {config.api_key_env} is not set"
    if config.mode in ("passthrough", "record"):
        raise SettingError(
            f"api_key_env: {problem}, so mode {config.mode!r} would send every request upstream "
            "without a key. Set it (or use mode `replay` to answer from recordings)."
        )
    if config.mode == "auto":
        log.warning("%s: requests without a recording go upstream without a key", problem)
    return key


def _proxy(config: Any, built: Mapping[str, Backend]) -> Backend:
    assert isinstance(config, ProxyBackendConfig)
    return ProxyBackend(
        config.base_url,
        api_key=_upstream_key(config),
        authorization=config.authorization,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        mode=config.mode,
        cassettes=config.cassettes,
        timing_factor=config.timing_factor,
        scrub=config.scrub,
        ignore_fields=config.ignore_fields,
        models=config.models,
    )


BUILDERS: dict[str, Callable[[Any, Mapping[str, Backend]], Backend]] = {
    "echo": _echo,
    "fixtures": _fixtures,
    "proxy": _proxy,
}


def build_backend(name: str, config: BackendConfig, built: Mapping[str, Backend] | None = None) -> Backend:
    """One backend; `built` holds the others already built (a fixtures fallback is one of them)."""
    try:
        backend = BUILDERS[config.type](config, built or {})
    except SettingError as exc:
        raise ConfigError(f"backends.{name}.{exc}") from None
    backend.name = name
    return backend


def build_backends(configs: Mapping[str, BackendConfig]) -> dict[str, Backend]:
    """Every configured backend: fixtures last, so a fallback they name already exists."""
    built: dict[str, Backend] = {}
    for name, config in sorted(configs.items(), key=lambda item: item[1].type == "fixtures"):
        built[name] = build_backend(name, config, built)
    return {name: built[name] for name in configs}
