"""`chatdouble serve` as a process: config errors, the startup line, clean shutdown on signals,
and streams in flight at SIGTERM: finished within the grace period, or ended with an error frame."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from server.__main__ import exposure_warning
from server.config import load_settings
from tests.processes import ROOT, clean_env, python_command, running
from tests.support import sse

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


SHORT = [f"{n} " for n in range(15)]  # 1.5 s at 0.1 s a chunk: well inside the default grace of 5 s
LONG = [f"{n} " for n in range(300)]  # 30 s: far beyond a grace of 1 s
STREAM_TIMEOUT = 30.0
GRACE_EXCEEDED = "timeout graceful shutdown exceeded"  # uvicorn's log line when it cancels tasks


def paced_config(tmp_path: Path, **settings: Any) -> Path:
    """A config whose every model streams a fixture at 0.1 s a chunk: "short" or "long"."""
    fixtures = {
        "fixtures": [
            {
                "id": name,
                "match": {"last_user": name},
                "timing": {"chunk_delay": 0.1},
                "response": {"chunks": chunks},
            }
            for name, chunks in (("short", SHORT), ("long", LONG))
        ]
    }
    (tmp_path / "paced.json").write_text(json.dumps(fixtures), encoding="utf-8")
    config = {
        "backends": {"paced": {"type": "fixtures", "paths": [str(tmp_path / "paced.json")], "reload": False}},
        "routes": [{"model": "*", "backend": "paced"}],
        **settings,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def read_stream(port: int, prompt: str, started: threading.Event) -> list[str]:
    """The `data:` payloads of one streamed request; `started` is set at the first one (or on failure)."""
    payloads: list[str] = []
    request = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    try:
        with (
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=STREAM_TIMEOUT
            ) as http,
            http.stream("POST", "/v1/chat/completions", json=request) as response,
        ):
            assert response.status_code == 200
            for frame in sse.iter_frames(response.iter_text()):
                if frame.data is not None:
                    payloads.append(frame.data)
                    started.set()
    finally:
        started.set()
    return payloads


def read_stream_with_sdk(port: int, prompt: str, started: threading.Event) -> openai.APIError | None:
    """What the official SDK raises while iterating a stream (None: it accepted the stream as whole)."""
    try:
        with openai.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0, timeout=STREAM_TIMEOUT
        ) as sdk:
            messages = [{"role": "user", "content": prompt}]
            for _ in sdk.chat.completions.create(model="gpt-4o", messages=messages, stream=True):
                started.set()
    except openai.APIError as exc:
        return exc
    finally:
        started.set()
    return None


def test_streams_in_flight_at_sigterm_finish_normally_within_the_grace_period(tmp_path: Path) -> None:
    started = [threading.Event() for _ in range(20)]
    with (
        ThreadPoolExecutor(len(started)) as pool,
        running(
            python_command("serve", "--config", str(paced_config(tmp_path)), "--port", "0"), clean_env()
        ) as server,
    ):
        port = server.wait_ready()
        streams = [pool.submit(read_stream, port, "short", event) for event in started]
        assert all(event.wait(STREAM_TIMEOUT) for event in started)
        server.proc.send_signal(signal.SIGTERM)
        results = [stream.result(STREAM_TIMEOUT) for stream in streams]
        code = server.finish()

    for payloads in results:
        assert payloads[-1] == "[DONE]", payloads
        chunks = [json.loads(payload) for payload in payloads[:-1]]
        assert "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks) == "".join(SHORT)
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert code == 0, server.output
    assert "Traceback" not in server.output, server.output


def test_a_stream_outlasting_the_grace_period_ends_with_an_error_frame_and_done(tmp_path: Path) -> None:
    config = paced_config(tmp_path, shutdown_grace_seconds=1)
    raw_started, sdk_started = threading.Event(), threading.Event()
    with (
        ThreadPoolExecutor(2) as pool,
        running(python_command("serve", "--config", str(config), "--port", "0"), clean_env()) as server,
    ):
        port = server.wait_ready()
        raw = pool.submit(read_stream, port, "long", raw_started)
        sdk = pool.submit(read_stream_with_sdk, port, "long", sdk_started)
        assert raw_started.wait(STREAM_TIMEOUT)
        assert sdk_started.wait(STREAM_TIMEOUT)
        server.proc.send_signal(signal.SIGTERM)
        payloads, raised = raw.result(STREAM_TIMEOUT), sdk.result(STREAM_TIMEOUT)
        code = server.finish()

    assert payloads[-1] == "[DONE]", payloads
    error = json.loads(payloads[-2])
    assert error == {
        "error": {"message": error["error"]["message"], "type": "server_error", "param": None, "code": None}
    }
    assert "shutting down" in error["error"]["message"]
    chunks = [json.loads(payload) for payload in payloads[:-2]]
    assert 0 < len(chunks) < len(LONG)
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks)
    assert isinstance(raised, openai.APIError)
    assert "shutting down" in raised.message
    assert code == 0, server.output
    assert GRACE_EXCEEDED not in server.output, server.output
    assert "Traceback" not in server.output, server.output


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
