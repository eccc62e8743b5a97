"""Settings from the embedded default, files (YAML, TOML, JSON) and CHATDOUBLE_* variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.config import CONFIG_ENV, RECORD_MODE_ENV, ConfigError, Settings, env_fields, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_embedded_default_routes_everything_to_echo() -> None:
    settings = load_settings(env={})
    route = settings.route_for("any-model-name")
    assert route is not None
    assert settings.backends[route.backend].type == "echo"
    assert settings.api_keys == []
    assert "gpt-4o" in settings.listed_models()


def test_yaml_file_routes_with_globs(tmp_path: Path) -> None:
    path = tmp_path / "chatdouble.yaml"
    path.write_text(
        "backends:\n  fixed: {type: echo, text: canned}\n  mirror: {type: echo}\n"
        "routes:\n  - {model: 'gpt-4*', backend: fixed}\n  - {model: exact-model, backend: mirror}\n"
    )
    settings = load_settings(path, env={})
    assert settings.route_for("gpt-4o-mini").backend == "fixed"  # type: ignore[union-attr]
    assert settings.route_for("exact-model").backend == "mirror"  # type: ignore[union-attr]
    assert settings.route_for("claude") is None
    assert settings.listed_models() == ["exact-model"]


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "chatdouble.toml"
    path.write_text('port = 9001\napi_keys = ["sk-1"]\n')
    settings = load_settings(path, env={})
    assert settings.port == 9001
    assert settings.api_keys == ["sk-1"]
    assert settings.route_for("gpt-4o") is not None  # default routes kept


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("port: 9001\n")
    env = {
        "CHATDOUBLE_PORT": "9002",
        "CHATDOUBLE_API_KEYS": "sk-a, sk-b",
        "CHATDOUBLE_UNKNOWN_FIELDS": "accept",
    }
    settings = load_settings(path, env=env)
    assert settings.port == 9002
    assert settings.api_keys == ["sk-a", "sk-b"]
    assert settings.unknown_fields == "accept"


def test_every_setting_but_backends_routes_and_created_is_read_from_the_variable_named_after_it() -> None:
    file_only = {"backends", "routes", "created", "chaos"}
    expected = {f"CHATDOUBLE_{name.upper()}": name for name in Settings.model_fields if name not in file_only}
    assert env_fields() == expected
    env = {"CHATDOUBLE_CREATED": "5", "CHATDOUBLE_ROUTES": "[]", "CHATDOUBLE_BACKENDS": "{}"}
    settings = load_settings(env=env)
    assert settings.created is None
    assert settings.route_for("gpt-4o") is not None


def test_the_readme_lists_exactly_the_variables_the_settings_read() -> None:
    text = README.read_text(encoding="utf-8")
    paragraph = text[text.index("Environment variables override the file:") :].split("\n\n", 1)[0]
    listed = set(re.findall(r"CHATDOUBLE_[A-Z_]+", paragraph))
    assert listed == set(env_fields()) | {RECORD_MODE_ENV, CONFIG_ENV}


def test_admin_token_comes_from_the_environment_and_a_blank_one_is_none(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("admin_token: from-file\n")
    assert load_settings(path, env={}).admin_token == "from-file"
    assert load_settings(path, env={"CHATDOUBLE_ADMIN_TOKEN": "from-env"}).admin_token == "from-env"
    assert load_settings(env={"CHATDOUBLE_ADMIN_TOKEN": " "}).admin_token is None
    assert load_settings(env={}).admin_token is None


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"port": 9100}')
    assert load_settings(env={"CHATDOUBLE_CONFIG": str(path)}).port == 9100


def test_shutdown_grace_defaults_to_five_seconds_and_comes_from_the_environment() -> None:
    assert load_settings(env={}).shutdown_grace_seconds == 5
    assert load_settings(env={"CHATDOUBLE_SHUTDOWN_GRACE_SECONDS": "0.5"}).shutdown_grace_seconds == 0.5
    with pytest.raises(ConfigError, match="shutdown_grace_seconds"):
        load_settings(env={"CHATDOUBLE_SHUTDOWN_GRACE_SECONDS": "-1"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("port: [1, 2\n", "not valid YAML"),
        ("port: lots\n", "port: Input should be a valid integer"),
        ("routes:\n  - {model: '*', backend: nope}\nbackends: {echo: {type: echo}}\n", "routes[0].backend"),
        ("backends: {x: {type: telepathy}}\nroutes: [{model: '*', backend: x}]\n", "backends.x"),
        ("colour: blue\n", "colour: Extra inputs are not permitted"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "absent.yaml", env={})


ROUTE_S = "routes: [{model: '*', backend: s}]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "backends:\n  s: {type: fixtures, paths: [f], reload_intervall: 2}\n" + ROUTE_S,
            "backends.s.reload_intervall: Extra inputs are not permitted",
        ),
        (
            "backends:\n  fixtures: {type: fixtures, paths: [f], relaod: false}\n"
            "routes: [{model: '*', backend: fixtures}]\n",
            "backends.fixtures.relaod: Extra inputs are not permitted",
        ),
        ("backends:\n  s: {type: fixtures}\n" + ROUTE_S, "backends.s.paths: Field required"),
        (
            "backends:\n  s: {type: proxy, base_url: 'http://up', read_timeout: -1}\n" + ROUTE_S,
            "backends.s.read_timeout: Input should be greater than 0",
        ),
        (
            "backends:\n  s: {type: telepathy}\n" + ROUTE_S,
            "backends.s.type: Input should be 'echo', 'fixtures' or 'proxy'",
        ),
        ("backends:\n  s: {text: hi}\n" + ROUTE_S, "backends.s.type: Field required"),
        (
            "backends:\n  s: {type: echo}\nroutes: [{model: '*', backend: nope}]\n",
            "routes[0].backend: no backend named 'nope' (configured: s)",
        ),
        (
            "backends:\n  s: {type: fixtures, paths: [f], fallback: s}\n" + ROUTE_S,
            "backends.s.fallback: 's' is not a configured backend other than fixtures",
        ),
        (
            "backends:\n  s: {type: proxy, base_url: 'http://up', mode: record}\n" + ROUTE_S,
            "backends.s.mode: 'record' needs `cassettes` (a directory of recordings)",
        ),
        (
            "backends:\n  s: {type: proxy, base_url: 'http://up', scrub: ['ok', '(']}\n" + ROUTE_S,
            "backends.s.scrub[1]: does not compile: missing ), unterminated subpattern at position 0",
        ),
    ],
)
def test_errors_name_the_field_as_written_without_validator_internals(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value) == f"{path}: {expected}"
