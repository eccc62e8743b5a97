"""Settings: one model read from a config file (YAML, TOML or JSON) and `CHATDOUBLE_*` variables.

Precedence, highest first: command-line flags, environment variables, the file, the embedded
default (`default_config.yaml`, which routes every model to the echo backend).

Each field of `Settings` is also the variable `CHATDOUBLE_<FIELD>` unless it is marked `FILE_ONLY`
(backends, routes, created). Each backend owns its config model (`backends`); `Settings` composes them.
"""

from __future__ import annotations

import fnmatch
import json
import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from backends import BackendConfig
from server.fieldpath import field_path
from server.generation.latency import LatencyProfile
from server.http.chaos import ChaosSpec
from server.http.ratelimit_options import RateLimits
from server.options import ConfigError, FieldError, Strict

# ConfigError and BackendConfig live where backends may import them; they are named here too.
__all__ = ["CONFIG_ENV", "BackendConfig", "ConfigError", "Route", "Settings", "env_fields", "load_settings"]


class FileOnly:
    """Marks a Settings field that a config file (or a flag) sets, but no environment variable."""


FILE_ONLY = FileOnly()


class ProfileOverride(Strict):
    """A route's changes to its models' profiles (server/generation/profiles.py); unset fields keep
    the built-in value. Giving one makes the model known to `models: strict`."""

    context_window: int | None = Field(default=None, ge=1)
    max_output_tokens: int | None = Field(default=None, ge=1)
    reasoning: bool | None = None
    dimensions: int | None = Field(default=None, ge=1, description="An embedding model's vector size.")
    refuses: list[str] | None = Field(default=None, description="Request parameters the model refuses.")
    reasoning_tokens: dict[str, Annotated[int, Field(ge=0)]] | None = Field(
        default=None, description="Hidden reasoning tokens per reply, by reasoning effort."
    )
    created: int | None = None
    owned_by: str | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class JournalSettings(Strict):
    """What is kept of each request: `file` appends a JSON line per request (docs/recording.md);
    `memory` keeps the latest entries of each namespace for `GET /_chatdouble/requests` and verify
    (docs/admin.md); `bodies` adds the scrubbed request and response bodies to those entries."""

    file: str | None = Field(default=None, description="Append one JSON line per request to this file.")
    memory: int = Field(default=1000, ge=0, description="Entries kept per namespace in memory; 0: none.")
    bodies: bool = Field(default=False, description="Keep request and response bodies in memory entries.")

    @property
    def wanted(self) -> bool:
        return self.file is not None or self.memory > 0


class Route(Strict):
    model: str = Field(description="A model name or a glob such as 'gpt-4*' or '*'.")
    backend: str
    encoding: Literal["o200k_base", "cl100k_base"] | None = Field(
        default=None, description="Overrides the tokenizer chosen from the model name."
    )
    models: list[str] = Field(
        default_factory=list, description="Names listed by GET /v1/models for a glob route."
    )
    profile: ProfileOverride | None = Field(
        default=None, description="Overrides the built-in model profile (context window, output cap, ...)."
    )
    latency: LatencyProfile | None = Field(
        default=None, description="Time to first token and between tokens (docs/latency-and-chaos.md)."
    )
    chaos: ChaosSpec | None = Field(default=None, description="Seeded faults for this route's requests.")

    def matches(self, model: str) -> bool:
        return self.model == model or fnmatch.fnmatchcase(model, self.model)

    @property
    def is_glob(self) -> bool:
        return any(ch in self.model for ch in "*?[")


class Settings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    api_keys: list[str] = Field(default_factory=list, description="Empty: no authentication.")
    admin_token: str | None = Field(
        default=None,
        description="Resets other clients' fixture namespaces, or all (docs/fixtures.md); none: only "
        "without api_keys can anyone do so.",
    )
    unknown_fields: Literal["reject", "accept"] = Field(
        default="reject", description="reject: 400 as the real API; accept: ignore and log them."
    )
    method_not_allowed: Literal["404", "405"] = Field(
        default="404", description="404 'Invalid URL (...)' as the real API, or a 405 with an Allow header."
    )
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1)
    contract: Literal["error", "warn"] = Field(
        default="error", description="A backend reply the real API could not give: error (500) or warn (log)."
    )
    sse_ping_seconds: float = Field(default=0, ge=0, description="0 disables SSE keep-alive comments.")
    shutdown_grace_seconds: float = Field(
        default=5, ge=0, description="On SIGTERM/SIGINT, how long streams in flight may still run."
    )
    system_fingerprint: str | None = Field(default=None, description="Default: derived from the config.")
    default_encoding: Literal["o200k_base", "cl100k_base"] = "o200k_base"
    # FILE_ONLY: it pins what GET /v1/models shows, for reproducible runs, which a config file records.
    created: Annotated[int | None, FILE_ONLY] = Field(
        default=None, description="Fixed `created` for models; default: start time."
    )
    journal: JournalSettings = Field(
        default_factory=lambda: JournalSettings(),
        description="The request journal: a file path (the JSON-lines file), or {file, memory, bodies}; "
        "null: none (docs/admin.md).",
    )
    models: Literal["any", "strict"] = Field(
        default="any",
        description="strict: a model no profile knows gets 404 model_not_found on chat and Responses.",
    )
    stored_responses: int = Field(
        default=1000,
        ge=1,
        description="Responses API objects kept for retrieval and chaining; oldest go first.",
    )
    stored_completions: int = Field(
        default=1000,
        ge=1,
        description="Chat completions created with `store: true` kept for retrieval; oldest go first.",
    )
    images: Literal["estimate", "fetch"] = Field(
        default="estimate",
        description="An http(s) image's size for its prompt tokens: estimate, or fetch (download it).",
    )
    rate_limits: RateLimits | None = Field(
        default=None,
        description="Requests and tokens per minute per key and model, and quotas (docs/limits.md); "
        "as a variable, the same mapping in JSON. None: no limits, and no x-ratelimit-* headers.",
    )
    chaos: Annotated[ChaosSpec | None, FILE_ONLY] = Field(
        default=None, description="Seeded faults for every route without its own (docs/latency-and-chaos.md)."
    )
    chaos_timeout_seconds: float = Field(
        default=60,
        ge=0,
        description="How long a chaos `timeout` holds a request unanswered before closing the connection.",
    )
    state: str = Field(
        default="memory",
        description="Where counts and budgets live: memory (this process), or redis://host:port/db, "
        "shared by every worker and replica (docs/scale.md).",
    )
    state_prefix: str = Field(
        default="chatdouble:",
        min_length=1,
        description="Prefix of every Redis key, so deployments can share one Redis.",
    )
    state_ttl_seconds: int = Field(
        default=86_400, ge=60, description="How long Redis keeps a namespace's counts after their last use."
    )
    backends: Annotated[dict[str, BackendConfig], FILE_ONLY]
    routes: Annotated[list[Route], FILE_ONLY] = Field(min_length=1)

    @field_validator("state")
    @classmethod
    def _state_url(cls, value: str) -> str:
        if value != "memory" and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be `memory` or a Redis URL (redis://host:port/db, rediss://, unix://)")
        return value

    @field_validator("method_not_allowed", mode="before")
    @classmethod
    def _status_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("journal", mode="before")
    @classmethod
    def _journal_forms(cls, value: Any) -> Any:
        """A path alone is the file journal (memory kept as by default); null keeps no journal."""
        if value is None:
            return {"memory": 0}
        if isinstance(value, str):
            return {"file": value} if value.strip() else {}
        return value

    @field_validator("admin_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _limits_from_text(cls, value: Any) -> Any:
        """An environment variable holds the mapping as JSON (or YAML) text."""
        if isinstance(value, str):
            try:
                return yaml.safe_load(value) if value.strip() else None
            except yaml.YAMLError as exc:
                raise ValueError(f"not a JSON or YAML mapping: {exc}") from None
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @model_validator(mode="after")
    def _routes_name_backends(self) -> Settings:
        for index, route in enumerate(self.routes):
            if route.backend not in self.backends:
                known = ", ".join(sorted(self.backends)) or "none"
                raise FieldError(
                    ("routes", index, "backend"), f"no backend named {route.backend!r} (configured: {known})"
                )
        for name, backend in self.backends.items():
            fallback = getattr(backend, "fallback", None)
            if (
                fallback is not None
                and getattr(self.backends.get(fallback), "type", "fixtures") == "fixtures"
            ):
                raise FieldError(
                    ("backends", name, "fallback"),
                    f"{fallback!r} is not a configured backend other than fixtures",
                )
        return self

    def route_for(self, model: str) -> Route | None:
        """The first route whose model name or glob matches."""
        for route in self.routes:
            if route.matches(model):
                return route
        return None

    def listed_models(self) -> list[str]:
        names: list[str] = []
        for route in self.routes:
            for name in ([] if route.is_glob else [route.model]) + route.models:
                if name not in names:
                    names.append(name)
        return names


ENV_PREFIX = "CHATDOUBLE_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"  # the config file itself
RECORD_MODE_ENV = ENV_PREFIX + "RECORD_MODE"  # not a setting: it rewrites the proxy backends' `mode`


def env_fields() -> dict[str, str]:
    """`CHATDOUBLE_<FIELD>` -> field, for every Settings field not marked `FILE_ONLY`."""
    return {
        ENV_PREFIX + name.upper(): name
        for name, field in Settings.model_fields.items()
        if not _file_only(field)
    }


def _file_only(field: FieldInfo) -> bool:
    return any(isinstance(marker, FileOnly) for marker in field.metadata)


def _parse_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from exc
    kind = {".toml": "TOML", ".json": "JSON"}.get(path.suffix, "YAML")
    try:
        if kind == "TOML":
            data: Any = tomllib.loads(text)
        elif kind == "JSON":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {exc.problem}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {kind}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, not {type(data).__name__}")
    return data


def default_config() -> dict[str, Any]:
    text = resources.files("server").joinpath("default_config.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def _problem(error: ErrorDetails, data: Any) -> str:
    """One validation error as `field.path: message`, the path as written in the config."""
    loc, message, ctx = _written(error["loc"], data, error["type"]), error["msg"], error.get("ctx", {})
    cause = ctx.get("error")
    if isinstance(cause, FieldError):
        loc, message = loc + cause.path, str(cause)
    elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):  # a backend's `type`
        loc += (ctx["discriminator"].strip("'"),)
        expected = " or ".join(ctx["expected_tags"].rsplit(", ", 1)) if "expected_tags" in ctx else ""
        message = f"Input should be {expected}" if expected else "Field required"
    elif error["type"] == "model_attributes_type":
        message = "Input should be a valid dictionary"
    else:
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{field_path(loc) or '(top level)'}: {message}"


def _written(loc: tuple[int | str, ...], data: Any, kind: str) -> tuple[int | str, ...]:
    """`loc` without the parts that name no key of the input: pydantic's union branch labels, such
    as the `fixtures` in `backends.s.fixtures.paths`. A missing key is kept, as it names the field."""
    out: list[int | str] = []
    node = data
    for index, part in enumerate(loc):
        is_key = isinstance(node, dict) and part in node
        is_item = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if is_key or is_item:
            node = node[part]
        elif not (kind == "missing" and index == len(loc) - 1):
            continue
        out.append(part)
    return tuple(out)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from the default, a file, the environment and explicit overrides."""
    env = os.environ if env is None else env
    source = "embedded default config"
    data = default_config()
    file_path = path if path is not None else env.get(CONFIG_ENV)
    if file_path:
        source = str(file_path)
        file_data = _parse_file(Path(file_path))
        if "backends" in file_data or "routes" in file_data:
            data.pop("backends", None)
            data.pop("routes", None)
        data.update(file_data)
    for variable, name in env_fields().items():
        value = env.get(variable)
        if value is not None:
            data[name] = value
    explicit = dict(overrides or {})
    record_mode = explicit.pop("record_mode", None) or env.get(RECORD_MODE_ENV)
    data.update({key: value for key, value in explicit.items() if value is not None})
    _apply_record_mode(data, record_mode)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(error, data) for error in exc.errors(include_url=False))
        raise ConfigError(f"{source}: {problems}") from None


def _apply_record_mode(data: dict[str, Any], mode: str | None) -> None:
    """`CHATDOUBLE_RECORD_MODE` (or `serve --record-mode`) sets the mode of every proxy backend that
    has a cassettes directory: e.g. `auto` on a laptop, `replay` in CI, with one config file."""
    if not mode:
        return
    backends = data.get("backends")
    if isinstance(backends, dict):
        data["backends"] = {
            name: {**config, "mode": mode}
            if isinstance(config, dict) and config.get("type") == "proxy" and config.get("cassettes")
            else config
            for name, config in backends.items()
        }
