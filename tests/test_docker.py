"""The Dockerfile, checked without a Docker engine.

The file is parsed and its promises asserted (slim Python base, the project installed at build time,
a non-root user, the exposed port, a health check). Then the image's exact CMD runs here as a
process, in an environment with no usable route out (proxies point at a closed loopback port, an
empty tiktoken cache), and is driven over loopback: /health, a chat completion, the HEALTHCHECK
command itself, and SIGTERM as `docker stop` sends it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import READY, ROOT, running

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SHUTDOWN_SECONDS = 8.0


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form CMD (or HEALTHCHECK's CMD)."""
        value = json.loads(self.args)
        assert isinstance(value, list), f"{self.keyword} is not in exec form: {self.args}"
        assert all(isinstance(part, str) for part in value)
        return value


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comment lines dropped, as Docker reads them."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a line continuation"
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def only(instructions: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in instructions if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def cmd(instructions: list[Instruction]) -> list[str]:
    return only(instructions, "CMD").exec_form()


def healthcheck(instructions: list[Instruction]) -> tuple[dict[str, str], list[str]]:
    options_text, sep, command = only(instructions, "HEALTHCHECK").args.partition("CMD ")
    assert sep, "HEALTHCHECK has no CMD"
    options = dict(opt.removeprefix("--").split("=", 1) for opt in options_text.split())
    return options, Instruction("CMD", command).exec_form()


def exposed_port(instructions: list[Instruction]) -> int:
    return int(only(instructions, "EXPOSE").args.split("/")[0])


def option(argv: list[str], name: str) -> str:
    assert name in argv, f"{name} missing from {argv}"
    return argv[argv.index(name) + 1]


def test_base_image_is_python_311_slim(instructions: list[Instruction]) -> None:
    assert instructions[0].keyword == "FROM"
    assert instructions[0].args == "python:3.11-slim"


def test_project_is_installed_at_build_time(instructions: list[Instruction]) -> None:
    copied: set[str] = set()
    for copy in (i for i in instructions if i.keyword == "COPY"):
        copied.update(Path(source).parts[0] for source in copy.args.split()[:-1])
    # Everything `pip install` needs: the metadata, the readme it names, and every package.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    backend_path = set(pyproject["build-system"].get("backend-path", []))
    assert {"pyproject.toml", pyproject["project"]["readme"], *packages, *backend_path} <= copied
    for source in copied:
        assert (ROOT / source).exists(), f"COPY source {source} does not exist"
    ignored = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    assert not copied & ignored, f".dockerignore excludes copied sources {copied & ignored}"
    assert {".venv", ".git"} <= ignored
    runs = [i.args for i in instructions if i.keyword == "RUN"]
    assert any(re.search(r"\bpip install (\.|/src)(\s|$)", run) for run in runs), runs


def test_runs_as_a_non_root_user(instructions: list[Instruction]) -> None:
    keywords = [i.keyword for i in instructions]
    users = [i.args for i in instructions if i.keyword == "USER"]
    assert users, "no USER instruction: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    last_user = len(keywords) - 1 - keywords[::-1].index("USER")
    assert "RUN" not in keywords[last_user:], "a RUN after the last USER runs as that user"
    assert any(
        re.search(rf"\buseradd\b.*\b{re.escape(user)}$", i.args) for i in instructions if i.keyword == "RUN"
    )


def test_cmd_and_expose_agree(instructions: list[Instruction]) -> None:
    argv = cmd(instructions)
    assert argv[:2] == ["chatdouble", "serve"]
    assert option(argv, "--host") == "0.0.0.0"
    assert int(option(argv, "--port")) == exposed_port(instructions) == 8000


def test_healthcheck_probes_health_with_python(instructions: list[Instruction]) -> None:
    options, command = healthcheck(instructions)
    assert command[:2] == ["python", "-c"], "python:3.11-slim has no curl or wget"
    assert f"http://127.0.0.1:{exposed_port(instructions)}/health" in command[2]
    assert {"interval", "timeout", "start-period", "retries"} <= options.keys()


def isolated_env(tmp_path: Path, bin_dir: Path) -> dict[str, str]:
    """No inherited variables; any HTTP client that honours proxies fails at once for non-loopback hosts."""
    dead_proxy = "http://127.0.0.1:9"
    (tmp_path / "home").mkdir()
    (tmp_path / "tiktoken-cache").mkdir()
    env = {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken-cache"),
        # The image has this checkout installed; here, make sure the command runs this checkout's
        # code even if the `chatdouble` script on PATH was installed from another one.
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = dead_proxy
    return env


def installed_bin_dir() -> Path:
    """Where `chatdouble` is installed next to this interpreter (the container has it on PATH)."""
    here = Path(sys.executable).parent
    if (here / "chatdouble").exists():
        return here
    found = shutil.which("chatdouble")
    assert found, "the `chatdouble` command is not installed: run `pip install -e .`"
    return Path(found).parent


def test_image_command_serves_and_stops_cleanly(instructions: list[Instruction], tmp_path: Path) -> None:
    argv = cmd(instructions)
    port_index = argv.index("--port") + 1
    # Port 0: the kernel picks a free port and uvicorn logs the one it got; the host stays 0.0.0.0.
    argv[port_index] = "0"
    env = isolated_env(tmp_path, installed_bin_dir())
    workdir = tmp_path / "app"
    workdir.mkdir()

    with running(argv, env, cwd=workdir) as server:
        ready = server.wait_for(READY)
        assert ready.group("host") == "0.0.0.0"
        port = int(ready.group("port"))
        base = f"http://127.0.0.1:{port}"

        with httpx.Client(base_url=base, trust_env=False, timeout=10) as http:
            health = http.get("/health")
            chat = http.post(
                "/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello from docker"}]},
            )
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert chat.status_code == 200, chat.text
        assert chat.json()["choices"][0]["message"]["content"] == "hello from docker"

        _, probe = healthcheck(instructions)
        container_url = f"127.0.0.1:{exposed_port(instructions)}"
        assert probe[2].count(container_url) == 1
        probe = [*probe[:2], probe[2].replace(container_url, f"127.0.0.1:{port}")]
        healthy = subprocess.run(probe, env=env, cwd=workdir, capture_output=True, text=True, timeout=30)
        assert healthy.returncode == 0, healthy.stderr

        code = server.stop(signal.SIGTERM, timeout=SHUTDOWN_SECONDS)

    unhealthy = subprocess.run(probe, env=env, cwd=workdir, capture_output=True, text=True, timeout=30)
    assert unhealthy.returncode != 0, "the health check passes with the server stopped"
    assert "Application shutdown complete." in server.output
    assert code == 0, f"exit code {code} after SIGTERM (docker stop):\n{server.output}"
