"""`chatdouble cassettes check DIR --journal FILE` against the journal of a test run: a recording
whose request the tests changed is reported stale, one no test uses any more unused, a request
without a recording missing; exit status 1. A run that used every recording exits 0."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.__main__ import main
from tests.servers import serve
from tests.support.proxies import proxy_app, upstream_app

DEAD_UPSTREAM = "http://127.0.0.1:9/v1"
SYSTEM = {"role": "system", "content": "You are a terse assistant."}


def ask(text: str, system: dict[str, str] = SYSTEM) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [system, {"role": "user", "content": text}], "temperature": 0}


ALPHA, BRAVO = ask("alpha"), ask("bravo")
CHARLIE = ask("charlie", {"role": "system", "content": "Another test entirely."})
BRAVO_CHANGED = ask("bravo, but worded differently")


def run(
    cassettes: Path, journal: Path, requests: list[dict[str, Any]], base_url: str = DEAD_UPSTREAM
) -> list[int]:
    mode = "replay" if base_url == DEAD_UPSTREAM else "record"
    app = proxy_app(base_url, mode=mode, cassettes=str(cassettes), settings={"journal": str(journal)})
    with serve(app) as proxy:
        return [httpx.post(proxy.base_url + "/chat/completions", json=r).status_code for r in requests]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("recorded")
    directory = tmp_path / "cassettes"
    with serve(upstream_app(tmp_path)) as upstream:
        assert (
            run(directory, tmp_path / "recording.jsonl", [ALPHA, BRAVO, CHARLIE], upstream.base_url)
            == [200] * 3
        )
    return directory


@pytest.fixture
def cassettes(recorded: Path, tmp_path: Path) -> Path:
    """A fresh copy of the recordings of ALPHA, BRAVO and CHARLIE."""
    return Path(shutil.copytree(recorded, tmp_path / "cassettes"))


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["cassettes", "check", *args])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_stale_unused_and_missing_are_reported(
    cassettes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "run.jsonl"
    assert run(cassettes, journal, [ALPHA, BRAVO_CHANGED]) == [200, 400]
    status, report = check(capsys, str(cassettes), "--journal", str(journal))
    assert status == 1
    lines = report.splitlines()
    assert len(lines) == 4, report
    stale, unused, missing, summary = lines
    assert stale.startswith("stale: ")
    assert "--bravo--" in stale
    assert "looks like its replacement (differs in messages[1])" in stale
    assert f"{journal}:2" in stale
    assert unused.startswith("unused: ")
    assert "--charlie--" in unused
    assert missing.startswith(f"missing: {journal}:2: ")
    assert summary == f"chatdouble: 1 stale, 1 unused, 1 missing (3 recordings, 2 requests in {journal})"


def test_a_run_that_used_every_recording_passes(
    cassettes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "run.jsonl"
    streamed = {**CHARLIE, "stream": True, "user": "someone"}  # volatile fields: the same recording
    assert run(cassettes, journal, [ALPHA, BRAVO, streamed, ALPHA]) == [200] * 4
    status, report = check(capsys, str(cassettes), "--journal", str(journal))
    assert (status, report) == (0, f"ok: every recording was used (3 recordings, 4 requests in {journal})\n")


def test_without_a_journal_the_files_are_only_validated(
    cassettes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(capsys, str(cassettes))[0] == 0
    broken = next(cassettes.iterdir())
    broken.write_text(broken.read_text().replace("finish_reason: stop", "finish_reason: maybe"))
    status, report = check(capsys, str(cassettes))
    assert status == 1
    assert f"{broken}:" in report
    assert "finish_reason" in report


def test_an_auto_run_that_rerecorded_a_changed_request_reports_the_old_one_stale(
    cassettes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "run.jsonl"
    with serve(upstream_app(tmp_path)) as upstream:
        app = proxy_app(
            upstream.base_url, mode="auto", cassettes=str(cassettes), settings={"journal": str(journal)}
        )
        with serve(app) as proxy:
            for request in (ALPHA, BRAVO_CHANGED, CHARLIE):
                assert httpx.post(proxy.base_url + "/chat/completions", json=request).status_code == 200
    assert len(list(cassettes.iterdir())) == 4
    status, report = check(capsys, str(cassettes), "--journal", str(journal))
    assert status == 1
    assert report.startswith("stale: ")
    assert "--bravo--" in report.splitlines()[0]
    assert report.splitlines()[-1].startswith("chatdouble: 1 stale, 0 unused, 0 missing")
