"""`chatdouble serve` as a process: config errors, the startup line, clean shutdown on signals."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from server.__main__ import exposure_warning
from server.config import load_settings
from tests.processes import ROOT, clean_env, python_command, running

CONFIG_ERROR_TIMEOUT = 60.0


def run_with_config(path: Path) -> subprocess.CompletedProcess[str]:
    # No --port: a command-line flag would override (and so hide) a bad `port` in the file.
    return subprocess.run(
        python_command("serve", "--config", str(path)),
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=CONFIG_ERROR_TIMEOUT,
        check=False,
    )


BAD_CONFIGS = {
    "yaml-syntax": (
        "bad.yaml",
        "host: 127.0.0.1\nport: [8000\nlog_level: info\n",
        # A syntax error has no field yet: the message points at FILE:LINE:COLUMN instead.
        [r"bad\.yaml:3:\d+: not valid YAML"],
    ),
    "unknown-backend": (
        "bad.yaml",
        'backends:\n  echo:\n    type: echo\nroutes:\n  - model: "*"\n    backend: nosuch\n',
        [r"routes\[0\]\.backend", r"'nosuch'"],
    ),
    "port-type": (
        "bad.yaml",
        "port: eighty\n",
        [r"\bport\b", r"valid integer"],
    ),
    "port-type-toml": (
        "bad.toml",
        'port = "eighty"\n',
        [r"\bport\b", r"valid integer"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS), ids=list(BAD_CONFIGS))
def test_bad_config_exits_nonzero_naming_file_and_field(tmp_path: Path, case: str) -> None:
    name, text, expected = BAD_CONFIGS[case]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    result = run_with_config(path)

    assert result.returncode != 0, result.stderr
    assert "Uvicorn running" not in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("chatdouble: config error: "), result.stderr
    assert str(path) in result.stderr
    for pattern in expected:
        assert re.search(pattern, result.stderr), f"{pattern!r} not in:\n{result.stderr}"


def test_missing_config_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    result = run_with_config(path)
    assert result.returncode != 0
    assert str(path) in result.stderr
    assert "cannot read config file" in result.stderr


def test_bad_environment_variable_names_the_field() -> None:
    result = subprocess.run(
        python_command("serve"),
        cwd=ROOT,
        env=clean_env({"CHATDOUBLE_UNKNOWN_FIELDS": "ignore"}),
        capture_output=True,
        text=True,
        timeout=CONFIG_ERROR_TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    assert "unknown_fields" in result.stderr
    assert "Uvicorn running" not in result.stderr


def test_port_zero_logs_the_bound_url_and_serves_it() -> None:
    with running(python_command("serve", "--port", "0"), clean_env()) as server:
        match = server.wait_for(re.compile(r"Uvicorn running on (http://127\.0\.0\.1:(\d+))"))
        url, port = match.group(1), int(match.group(2))
        assert port != 0
        assert any("config built-in default config" in line for line in server.lines), server.output
        assert "no admin_token" not in server.output  # loopback: no exposure warning
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as http:
            response = http.get("/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert server.stop(signal.SIGINT) == 0, server.output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_shuts_down_cleanly(sig: signal.Signals) -> None:
    with running(python_command("serve", "--port", "0"), clean_env()) as server:
        port = server.wait_ready()
        with httpx.Client(trust_env=False, timeout=10) as http:
            assert http.get(f"http://127.0.0.1:{port}/health").status_code == 200

        code = server.stop(sig)

        assert code == 0, f"exit code {code} after {sig.name}:\n{server.output}"
        assert "Application shutdown complete." in server.output
        assert "Traceback" not in server.output, server.output


def test_config_file_is_used(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "backends:\n  fixed:\n    type: echo\n    text: configured reply\n"
        "routes:\n  - model: my-model\n    backend: fixed\n",
        encoding="utf-8",
    )
    with running(python_command("serve", "--config", str(path), "--port", "0"), clean_env()) as server:
        port = server.wait_ready()
        assert any("routes my-model -> fixed" in line for line in server.lines), server.output
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as http:
            ok = http.post(
                "/v1/chat/completions",
                json={"model": "my-model", "messages": [{"role": "user", "content": "hi"}]},
            )
            missing = http.post(
                "/v1/chat/completions",
                json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
            )
        assert ok.status_code == 200
        assert ok.json()["choices"][0]["message"]["content"] == "configured reply"
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "model_not_found"
        assert server.stop(signal.SIGINT) == 0


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        ({"host": "0.0.0.0"}, True),
        ({"host": "::"}, True),
        ({"host": "192.168.1.20"}, True),
        ({"host": "chatdouble.internal"}, True),
        ({"host": "127.0.0.1"}, False),
        ({"host": "127.0.0.2"}, False),
        ({"host": "::1"}, False),
        ({"host": "localhost"}, False),
        ({"host": "0.0.0.0", "api_keys": ["sk-a"]}, False),
        ({"host": "0.0.0.0", "admin_token": "admin-secret"}, False),
    ],
)
def test_binding_beyond_loopback_with_no_keys_and_no_admin_token_warns(
    settings: dict[str, object], warned: bool
) -> None:
    warning = exposure_warning(load_settings(env={}, overrides=settings))
    assert (warning is not None) == warned
    if warning:
        assert str(settings["host"]) in warning
        assert "api_keys" in warning
        assert "admin_token" in warning


def test_serve_logs_the_exposure_warning_at_startup() -> None:
    command = python_command("serve", "--host", "0.0.0.0", "--port", "0")
    with running(command, clean_env()) as server:
        server.wait_for(re.compile(r"Uvicorn running on http://0\.0\.0\.0:\d+"))
        warnings = [line for line in server.lines if line.startswith("WARNING") and "no admin_token" in line]
        assert len(warnings) == 1, server.output
        assert server.stop(signal.SIGINT) == 0, server.output
