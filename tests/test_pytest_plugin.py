"""chatdouble's pytest plugin, run by pytester: the agent test of docs/testing.md written with the
plugin's fixtures alone, a parallel run under pytest-xdist, the in-process mode and an external server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatdouble.testing import ChatDouble, ThreadServer

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
AGENT_TEST = REPO / "examples" / "testing" / "test_weather_agent.py"


def plugin_args(*plugins: str) -> list[str]:
    """The plugin named on the command line, with plugin autoloading off (`no_autoload`): a run sees
    the same plugins whether or not the development install predates the `pytest11` entry point, and
    starts faster. tests/test_wheel.py checks that an installed wheel loads the plugin by itself."""
    names = ["chatdouble.testing.plugin", *plugins]
    return [arg for name in names for arg in ("-p", name)] + ["-p", "no:cacheprovider"]


@pytest.fixture(autouse=True)
def no_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_the_agent_test_of_the_docs_passes_with_the_plugins_fixtures_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_weather_agent=AGENT_TEST.read_text(encoding="utf-8"))
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(passed=1)


def test_the_docs_show_the_agent_test_as_it_is_run() -> None:
    page = (REPO / "docs" / "testing.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    assert AGENT_TEST.read_text(encoding="utf-8") in blocks


FAILING_AGENT = """
def test_a_wrong_expectation(chatdouble, openai_client):
    chatdouble.reply("Hi!", match={"last_user": "Hello"})
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}])
    chatdouble.verify({"last_user": "Goodbye"})
"""


def test_a_failed_verify_names_the_closest_request_and_why_it_missed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_failing=FAILING_AGENT)
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '*expected a count of requests with min 1 matching {"last_user": "Goodbye"}, found 0*',
            "*seq 1: match.last_user.equals: wanted text equal to 'Goodbye', got 'Hello'*",
        ]
    )


ISOLATED = """
import os
import pathlib

import pytest

OUT = pathlib.Path({out!r})


@pytest.mark.parametrize("n", range(8))
def test_each_test_sees_only_its_own_namespace(chatdouble, openai_client, n):
    # Every test arranges a different answer to the same question, on the same server.
    chatdouble.reply(f"answer {{n}}", match={{"last_user": "same question"}})
    completion = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{{"role": "user", "content": "same question"}}]
    )
    assert completion.choices[0].message.content == f"answer {{n}}"
    assert [entry["response"]["choices"][0]["message"]["content"] for entry in chatdouble.requests()] == [
        f"answer {{n}}"
    ]
    chatdouble.verify({{"last_user": "same question"}}, count=1)
    worker = os.environ["PYTEST_XDIST_WORKER"]
    assert chatdouble.session.startswith(f"pytest-{{worker}}-")
    (OUT / chatdouble.session).write_text(worker)
"""


def test_parallel_tests_under_xdist_share_a_server_and_not_their_namespaces(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    out = tmp_path / "sessions"
    out.mkdir()
    pytester.makepyfile(test_isolated=ISOLATED.format(out=str(out)))
    with ThreadServer() as server:
        result = pytester.runpytest_subprocess(
            *plugin_args("xdist.plugin"), "-n", "2", f"--chatdouble-url={server.url}"
        )
        result.assert_outcomes(passed=8)
        sessions = {path.name: path.read_text() for path in out.iterdir()}
        assert len(sessions) == 8
        assert set(sessions.values()) == {"gw0", "gw1"}
        # Each test's namespace was reset when it ended.
        for session in sessions:
            with ChatDouble(server, session=session) as double:
                assert double.requests() == []
                assert double.fixtures() == []


IN_PROCESS = """
import pytest


def test_sync_client(chatdouble, openai_client):
    assert chatdouble.url == "http://chatdouble.in-process"
    chatdouble.sequence(["one", "two"])
    ask = lambda: openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "count"}]
    ).choices[0].message.content
    assert [ask(), ask()] == ["one", "two"]
    chatdouble.verify({"last_user": "count"}, count=2)


@pytest.mark.asyncio
async def test_async_client_streams(chatdouble, async_openai_client):
    chatdouble.reply("streamed in process")
    stream = await async_openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
    assert text == "streamed in process"
    (entry,) = chatdouble.requests()
    assert entry["stream"] is True


def test_an_error_reply_reaches_the_sdk(chatdouble, openai_client):
    import openai

    chatdouble.error(400, "No such thing.", code="nothing_here")
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert caught.value.code == "nothing_here"
"""


def test_the_in_process_mode_serves_both_sdk_clients_without_sockets(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_in_process=IN_PROCESS)
    pytester.makeini(
        "[pytest]\nchatdouble_mode = in-process\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest(*plugin_args("pytest_asyncio.plugin"))
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("mode", ["in-process", "subprocess"])
def test_the_agent_test_passes_in_the_other_modes_too(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_weather_agent=AGENT_TEST.read_text(encoding="utf-8"))
    result = pytester.runpytest(*plugin_args(), f"--chatdouble-mode={mode}")
    result.assert_outcomes(passed=1)
