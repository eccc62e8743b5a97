"""Recordings survive crashes whole: a `chatdouble serve` recording through a real upstream is
SIGKILLed mid-stream, and a process writing recordings in a loop is SIGKILLed mid-write; every file
left loads, and the only leftovers are temporary files the loader never reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from backends.fixtures import load
from backends.recording.atomic import write_atomic
from tests.processes import ROOT, clean_env, python_command, running
from tests.servers import serve
from tests.support import sse
from tests.support.proxies import upstream_app
from tests.support.requests import user

CONFIG = """
log_level: info
backends:
  recorder: {{type: proxy, base_url: "{base_url}", mode: record, cassettes: "{cassettes}"}}
routes:
  - {{model: "*", backend: recorder}}
"""


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.suffix != ".yaml")


def test_sigkill_while_recording_a_stream_leaves_only_whole_files(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    config = tmp_path / "chatdouble.yaml"
    with serve(upstream_app(tmp_path)) as upstream:
        config.write_text(CONFIG.format(base_url=upstream.base_url, cassettes=cassettes), encoding="utf-8")
        with running(python_command("serve", "--config", str(config), "--port", "0"), clean_env()) as server:
            base = f"http://127.0.0.1:{server.wait_ready()}/v1/chat/completions"
            for text in ("one", "two", "three"):
                assert httpx.post(base, json={"model": "gpt-4o", "messages": user(text)}).status_code == 200
            body = {"model": "gpt-4o", "messages": user("tell me a story"), "stream": True}
            seen = 0
            with pytest.raises(httpx.TransportError), httpx.stream("POST", base, json=body) as response:  # noqa: PT012
                for frame in sse.iter_frames(response.iter_text()):
                    data = frame.data or ""
                    seen += '"content":"' in data and '"content":""' not in data
                    if seen == 2:  # mid-stream: two of five chunks through
                        server.proc.kill()
            assert server.proc.wait(timeout=10) == -9
    names = sorted(p.name for p in cassettes.iterdir())
    assert len(names) == 3
    assert leftovers(cassettes) == []
    assert sorted(item.fixture.response.text for item in load([str(cassettes)])) == ["one", "three", "two"]  # type: ignore[union-attr]


WRITER = """
import importlib.util, sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("atomic", "backends/recording/atomic.py")
atomic = importlib.util.module_from_spec(spec)
spec.loader.exec_module(atomic)  # alone: the process starts writing at once
path = Path(sys.argv[1])
for version in range(1_000_000):
    data = f"# version {version}\\nfixtures: []\\n# {'x' * 400_000}\\n".encode()
    if version == 1:
        print("writing again", flush=True)  # the first version is whole on disk; the next begins
    atomic.write_atomic(path, data)
"""


def test_sigkill_mid_write_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    target = tmp_path / "recording.yaml"
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as writer:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing again\n"  # the kill lands amid that write
        writer.kill()
        writer.wait(timeout=10)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# version ")
    assert text.endswith("x" * 1000 + "\n")
    assert len(text) == len(text.splitlines()[0]) + len("\nfixtures: []\n# ") + 400_000 + 1
    stray = leftovers(tmp_path)
    assert all(name.startswith(".recording.yaml.") and name.endswith(".tmp") for name in stray)
    (tmp_path / ".recording.yaml.123abc.tmp").write_text("fixtures:\n  - id: half", encoding="utf-8")
    assert load([str(tmp_path)]) == []  # the whole file has no fixtures; temporary files are not read


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "recording.yaml"
    target.write_bytes(b"old")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []
