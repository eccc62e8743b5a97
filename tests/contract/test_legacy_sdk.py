"""The legacy `openai==0.28.1` module API, exactly as OpenAI's old docs show it, in its own venv.

A session-scoped fixture creates a virtual environment and installs the SDK from a local wheelhouse
with `--no-index` (the tests never touch the network beyond loopback). Fill the wheelhouse first with
`tools/legacy_wheels.sh`; it and this file agree on `${CHATDOUBLE_WHEELS:-.cache/legacy-wheels}`.
Each test runs a small script against the live server in a subprocess and asserts on its JSON output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import LiveServer
from tests.support.contract import LEGACY_FUNCTIONS, PROMPT, check_arguments

pytestmark = pytest.mark.legacy

ROOT = Path(__file__).resolve().parents[2]
WHEELS = Path(os.environ.get("CHATDOUBLE_WHEELS") or ".cache/legacy-wheels")
WHEELHOUSE = WHEELS if WHEELS.is_absolute() else ROOT / WHEELS
# Only what a process needs: no proxies, no PIP_* settings (an index or find-links) from outside.
CLEAN_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": os.environ.get("HOME", "/tmp"),
    "NO_PROXY": "*",
    "PYTHONNOUSERSITE": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
}

SCRIPT = r"""
import json
import sys

import openai

job = json.load(sys.stdin)
openai.api_key = "sk-test"
openai.api_base = job["base_url"]
messages = [{"role": "user", "content": job["prompt"]}]
scenario = job["scenario"]
out = {"version": openai.version.VERSION}

if scenario == "create":
    response = openai.ChatCompletion.create(model="gpt-4", messages=messages)
    out["content"] = response.choices[0].message.content
    out["response"] = response.to_dict_recursive()
elif scenario == "stream":
    text = ""
    chunks = []
    for chunk in openai.ChatCompletion.create(model="gpt-4", messages=messages, stream=True):
        text += chunk.choices[0].delta.get("content", "")
        chunks.append(chunk.to_dict_recursive())
    out["content"] = text
    out["chunks"] = chunks
elif scenario == "function_call":
    response = openai.ChatCompletion.create(
        model="gpt-4", messages=messages, functions=job["functions"], function_call={"name": job["name"]}
    )
    call = response.choices[0].message.function_call
    out["name"] = call.name
    out["arguments"] = call.arguments
    out["finish_reason"] = response.choices[0].finish_reason
    out["content"] = response.choices[0].message.content
elif scenario == "function_call_stream":
    calls = []
    for chunk in openai.ChatCompletion.create(
        model="gpt-4", messages=messages, functions=job["functions"], function_call={"name": job["name"]},
        stream=True,
    ):
        call = chunk.choices[0].delta.get("function_call")
        if call is not None:
            calls.append(call.to_dict_recursive())
        if chunk.choices[0].finish_reason is not None:
            out["finish_reason"] = chunk.choices[0].finish_reason
    out["calls"] = calls
elif scenario == "completion":
    response = openai.Completion.create(model="gpt-3.5-turbo-instruct", prompt=job["prompt"], max_tokens=200, n=2)
    out["texts"] = [choice.text for choice in response.choices]
    out["response"] = response.to_dict_recursive()
elif scenario == "completion_stream":
    chunks = []
    for chunk in openai.Completion.create(model="gpt-3.5-turbo-instruct", prompt=job["prompt"], stream=True):
        chunks.append(chunk.to_dict_recursive())
    out["chunks"] = chunks
elif scenario == "completion_chat_model":
    try:
        openai.Completion.create(model="gpt-4", prompt=job["prompt"])
    except openai.error.InvalidRequestError as exc:
        out["error"] = {"status": exc.http_status, "message": str(exc), "param": exc.param}
elif scenario == "error":
    try:
        openai.ChatCompletion.create(model="gpt-4", messages=messages, temperature=3)
    except openai.error.InvalidRequestError as exc:
        out["error"] = {"class": type(exc).__name__, "status": exc.http_status, "code": exc.code}
        out["param"] = exc.param
print(json.dumps(out))
"""


@dataclass(frozen=True)
class LegacyEnv:
    python: Path | None
    problem: str = ""


@pytest.fixture(scope="session")
def legacy_env(tmp_path_factory: pytest.TempPathFactory) -> LegacyEnv:
    """A venv with openai==0.28.1, or why there is none (each test then fails, never skips)."""
    if not any(WHEELHOUSE.glob("openai-0.28.1-*.whl")):
        return LegacyEnv(
            None,
            f"no openai==0.28.1 wheel in {WHEELHOUSE}: run tools/legacy_wheels.sh first "
            "(it downloads the legacy SDK and its dependencies into ${CHATDOUBLE_WHEELS:-.cache/legacy-wheels})",
        )
    venv = tmp_path_factory.mktemp("legacy-openai")
    python = venv / "bin" / "python"
    # A venv without its own pip, filled by this interpreter's pip (`--python`): seconds faster.
    steps = [
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--find-links",
            str(WHEELHOUSE),
            "openai==0.28.1",
        ],
    ]
    for step in steps:
        done = subprocess.run(step, env=CLEAN_ENV, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return LegacyEnv(
                None,
                f"{' '.join(step)} failed: {done.stderr.strip()[-2000:]}\n"
                f"Refill the wheelhouse with tools/legacy_wheels.sh (for {sys.version.split()[0]}).",
            )
    (venv / "legacy_client.py").write_text(SCRIPT)
    return LegacyEnv(python)


def run(env: LegacyEnv, server: LiveServer, scenario: str, **job: Any) -> dict[str, Any]:
    if env.python is None:
        pytest.fail(env.problem, pytrace=False)
    payload = json.dumps({"base_url": server.base_url, "prompt": PROMPT, "scenario": scenario, **job})
    script = env.python.parent.parent / "legacy_client.py"
    done = subprocess.run(
        [str(env.python), str(script)],
        input=payload,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"the legacy client failed:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["version"] == "0.28.1"
    return result


def test_chat_completion_create(legacy_env: LegacyEnv, live_server: LiveServer) -> None:
    result = run(legacy_env, live_server, "create")
    assert result["content"] == PROMPT
    response = result["response"]
    assert response["object"] == "chat.completion"
    assert response["id"].startswith("chatcmpl-")
    assert response["model"] == "gpt-4"
    assert response["choices"][0]["finish_reason"] == "stop"
    assert response["choices"][0]["message"]["role"] == "assistant"
    usage = response["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_chat_completion_stream(legacy_env: LegacyEnv, live_server: LiveServer) -> None:
    result = run(legacy_env, live_server, "stream")
    assert result["content"] == PROMPT
    chunks = result["chunks"]
    assert len(chunks) > 4
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_forced_function_call(legacy_env: LegacyEnv, live_server: LiveServer) -> None:
    result = run(legacy_env, live_server, "function_call", functions=LEGACY_FUNCTIONS, name="get_weather")
    assert result["name"] == "get_weather"
    assert result["finish_reason"] == "function_call"
    assert result["content"] is None
    check_arguments("get_weather", result["arguments"])


def test_forced_function_call_stream(legacy_env: LegacyEnv, live_server: LiveServer) -> None:
    result = run(
        legacy_env, live_server, "function_call_stream", functions=LEGACY_FUNCTIONS, name="lookup_order"
    )
    calls = result["calls"]
    assert calls[0]["name"] == "lookup_order", "the name comes first"
    assert len(calls) > 2
    assert all("name" not in call for call in calls[1:])
    check_arguments("lookup_order", "".join(call["arguments"] for call in calls))
    assert result["finish_reason"] == "function_call"


def test_invalid_request_error(legacy_env: LegacyEnv, live_server: LiveServer) -> None:
    result = run(legacy_env, live_server, "error")
    assert result["error"] == {
        "class": "InvalidRequestError",
        "status": 400,
        "code": "decimal_above_max_value",
    }
    assert result["param"] == "temperature"


def test_completion_create(legacy_env: LegacyEnv, live_server: LiveServer) -> None:
    result = run(legacy_env, live_server, "completion")
    assert result["texts"] == [PROMPT, PROMPT]
    response = result["response"]
    assert response["object"] == "text_completion"
    assert response["id"].startswith("cmpl-")
    assert [choice["index"] for choice in response["choices"]] == [0, 1]
    assert {choice["finish_reason"] for choice in response["choices"]} == {"stop"}
    usage = response["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_completion_stream_stops_at_the_default_16_tokens(
    legacy_env: LegacyEnv, live_server: LiveServer
) -> None:
    chunks = run(legacy_env, live_server, "completion_stream")["chunks"]
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert all(chunk["object"] == "text_completion" for chunk in chunks)
    text = "".join(chunk["choices"][0]["text"] for chunk in chunks)
    assert PROMPT.startswith(text)
    assert text != PROMPT
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_completion_with_a_chat_model_is_refused(legacy_env: LegacyEnv, live_server: LiveServer) -> None:
    error = run(legacy_env, live_server, "completion_chat_model")["error"]
    assert error["status"] == 404
    assert error["param"] == "model"
    assert "This is a chat model and not supported in the v1/completions endpoint" in error["message"]
