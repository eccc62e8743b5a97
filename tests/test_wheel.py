"""The built wheel installs one import root, `chatdouble`, and leaves a user's `server` package alone.

The wheel is built offline from a copy of the sources (no build isolation: setuptools and wheel are in
the test extras) and installed into a fresh virtual environment with `--no-index`, so pip must find every
dependency already there: the environment sees the project's dependencies through a directory of links
to the project environment's site-packages, minus chatdouble's own editable install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "build_backend"))
import chatdouble_build  # the build backend, found as pip finds it: through backend-path

REPO = Path(__file__).resolve().parent.parent
PIP = (sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check")
SOURCES = ("server", "backends", "chatdouble", "build_backend", "pyproject.toml", "README.md", "MANIFEST.in")

USER_CODE = """
import importlib.util
import sys

import httpx

import server  # the user's own package
from server.handlers import greet
from chatdouble.server.app import create_app
from chatdouble.server.config import load_settings

assert greet() == "the user's server", greet()
assert server.__file__.startswith(sys.argv[1]), server.__file__
assert importlib.util.find_spec("backends") is None, "chatdouble installed a top-level `backends`"

transport = httpx.ASGITransport(app=create_app(load_settings(env={})))

async def main() -> None:
    async with httpx.AsyncClient(transport=transport, base_url="http://chatdouble") as client:
        response = await client.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello wheel"}]},
        )
    response.raise_for_status()
    print(response.json()["choices"][0]["message"]["content"])

import asyncio
asyncio.run(main())
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(origin, source / name)
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [
            *PIP,
            "wheel",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("chatdouble-*.whl")
    return built


@pytest.fixture(scope="module")
def environment(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed, seeing the project's dependencies."""
    root = tmp_path_factory.mktemp("env")
    home = root / "venv"
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    # The dependencies: links to everything in this environment's site-packages except chatdouble's
    # own editable install, found through a path line in a .pth file (which, unlike a site dir,
    # runs none of the .pth files it holds).
    deps = root / "deps"
    deps.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for entry in here.iterdir():
        if entry.name.startswith(("__editable__", "chatdouble")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "project-dependencies.pth").write_text(f"{deps}\n")
    # No --no-deps: pip checks that every requirement is already satisfied, offline.
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    return home


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "CHATDOUBLE_"))}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_wheel_installs_one_import_root(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
        main = archive.read("chatdouble/server/__main__.py").decode()
    tops = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"chatdouble"}
    assert "chatdouble/server/default_config.yaml" in names
    assert "chatdouble/testing/plugin.py" in names
    assert "chatdouble = chatdouble.server.__main__:main" in entry_points
    assert "chatdouble = chatdouble.testing.plugin" in entry_points
    # A module path in a string (uvicorn's factory for several workers) moved with its module.
    assert '"chatdouble.server.__main__:worker_app"' in main


def test_a_users_server_package_and_chatdouble_live_side_by_side(environment: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "server").mkdir(parents=True)
    (project / "server" / "__init__.py").write_text("")
    (project / "server" / "handlers.py").write_text('def greet() -> str:\n    return "the user\'s server"\n')
    (project / "check.py").write_text(textwrap.dedent(USER_CODE))
    result = _run([str(environment / "bin" / "python"), "check.py", str(project)], cwd=project)
    assert result.returncode == 0, result.stderr
    assert "hello wheel" in result.stdout


def test_the_console_script_and_python_m_work_from_the_wheel(environment: Path, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text("fixtures:\n  - id: hi\n    match: {last_user: hi}\n    response: {text: hello}\n")
    script = _run([str(environment / "bin" / "chatdouble"), "fixtures", "check", str(fixtures)], cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    assert "ok: 1 fixtures" in script.stdout
    module = _run([str(environment / "bin" / "python"), "-m", "chatdouble.server", "--help"], cwd=tmp_path)
    assert module.returncode == 0, module.stderr
    assert "serve" in module.stdout


MODULES = frozenset({"server", "server.app", "server.__main__", "backends", "backends.echo"})


def _rewrite(source: str) -> str:
    return chatdouble_build.rewrite_source(source.encode(), MODULES, where="m.py").decode()


def test_the_rewrite_moves_imports_and_module_paths_only() -> None:
    source = textwrap.dedent(
        """\
        \"\"\"Docs mention server.app, untouched.\"\"\"
        import server
        import backends.echo as echo
        from server.app import create_app
        from backends import echo as e2
        from . import sibling
        from serverless import thing
        import importlib.resources as resources
        FACTORY = "server.__main__:worker_app"
        KEY = "backends"
        MESSAGE = "the server.app is down"
        DATA = resources.files("server")
        """
    )
    assert _rewrite(source) == textwrap.dedent(
        """\
        \"\"\"Docs mention server.app, untouched.\"\"\"
        import chatdouble.server as server
        import chatdouble.backends.echo as echo
        from chatdouble.server.app import create_app
        from chatdouble.backends import echo as e2
        from . import sibling
        from serverless import thing
        import importlib.resources as resources
        FACTORY = "chatdouble.server.__main__:worker_app"
        KEY = "backends"
        MESSAGE = "the server.app is down"
        DATA = resources.files("chatdouble.server")
        """
    )


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("import server.app\n", "binds 'server'"),
        ("import importlib\nimportlib.import_module(name)\n", "computed value"),
        ('X = f"server.{name}:app"\n', "f-string"),
        ('X = "server.nowhere:app"\n', "names no module"),
        ('X = ("server."\n     "app:create_app")\n', "several literals"),
    ],
)
def test_the_rewrite_refuses_what_it_cannot_rewrite_with_certainty(source: str, why: str) -> None:
    with pytest.raises(chatdouble_build.RewriteError, match=why):
        _rewrite(source)


def test_installing_the_wheel_is_enough_for_the_pytest_plugin(environment: Path, tmp_path: Path) -> None:
    """The agent test of docs/testing.md, in a project that only installed the wheel: the plugin
    comes through the pytest11 entry point, and the user's `server` package stays theirs."""
    project = tmp_path / "project"
    (project / "server").mkdir(parents=True)
    (project / "server" / "__init__.py").write_text('NAME = "the user\'s server"\n')
    agent = REPO / "examples" / "testing" / "test_weather_agent.py"
    (project / "test_weather_agent.py").write_text(agent.read_text(encoding="utf-8"), encoding="utf-8")
    (project / "test_own_server.py").write_text(
        'import server\n\n\ndef test_own_server():\n    assert server.NAME == "the user\'s server"\n'
    )
    result = _run(
        [
            str(environment / "bin" / "python"),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::DeprecationWarning",
        ],
        cwd=project,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
