"""The official SDK's own generated tests for stored chat completions, unmodified, against chatdouble.

openai-python ships, in its source distribution, tests generated from the OpenAPI spec for each
resource (`tests/api_resources/chat/test_completions.py`, `.../chat/completions/test_messages.py`).
They read `TEST_API_BASE_URL`; upstream they run against a schema mock server that answers any
request with the spec's example. `tools/sdk_tests.sh` unpacks the installed version's tests under
`.cache/openai-sdk/` (never committed); here a pytest subprocess runs the two files, as shipped,
against a real uvicorn chatdouble on loopback, and every test must pass except the ones whose
requests the real API refuses too, which must fail for exactly that reason:

- retrieve, update, delete and the messages list name the placeholder id `completion_id`, which no
  stored completion has: the real API answers 404, and so does chatdouble ("Chat completion with id
  'completion_id' not found.");
- `create_with_all_params` sends `max_completion_tokens=0` (and `max_tokens=0`), which the real API
  refuses as below its minimum of 1.

The `aiohttp` variants of the async tests are deselected: they exercise the SDK's optional aiohttp
transport (an extra the project does not install), not the server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import openai
import pytest

from tests.servers import LiveServer

ROOT = Path(__file__).resolve().parents[2]
TESTS = Path(os.environ.get("CHATDOUBLE_SDK_TESTS") or ".cache/openai-sdk")
SDK = (TESTS if TESTS.is_absolute() else ROOT / TESTS) / f"openai-{openai.__version__}"
FILES = (
    "tests/api_resources/chat/test_completions.py",
    "tests/api_resources/chat/completions/test_messages.py",
)

NOT_FOUND = "Chat completion with id 'completion_id' not found."
BELOW_MINIMUM = (
    "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got 0"
)
_PLACEHOLDER_ID = re.compile(r"test_(method|raw_response|streaming_response)_(retrieve|update|delete)\[")
_ALL_PARAMS = re.compile(r"test_method_create_with_all_params_overload_[12]\[")


def expected_failure(classname: str, name: str) -> str | None:
    """What the real API answers a test's request with, when it refuses it; None: it must pass."""
    if classname.endswith("TestMessages") or classname.endswith("TestAsyncMessages"):
        return None if name.startswith("test_path_params") else NOT_FOUND
    if _PLACEHOLDER_ID.match(name):
        return NOT_FOUND
    if _ALL_PARAMS.match(name):
        return BELOW_MINIMUM
    return None


def test_the_sdk_s_generated_chat_completions_tests_pass_where_the_real_api_would(
    live_server: LiveServer, tmp_path: Path
) -> None:
    if not (SDK / "tests" / "conftest.py").is_file():
        pytest.fail(f"no openai {openai.__version__} tests in {SDK}: run tools/sdk_tests.sh first")
    report = tmp_path / "report.xml"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("CHATDOUBLE_")}
    env |= {"TEST_API_BASE_URL": live_server.base_url, "NO_PROXY": "*"}
    command = [sys.executable, "-m", "pytest", *FILES, "-n", "0", "-p", "no:cacheprovider", "-q"]
    command += ["-k", "not aiohttp", f"--junitxml={report}"]
    run = subprocess.run(
        command,
        cwd=SDK,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert report.is_file(), run.stdout[-4000:] + run.stderr[-4000:]
    cases = ET.parse(report).getroot().iter("testcase")
    passed, refused, wrong = 0, 0, []
    for case in cases:
        name, classname = case.get("name", ""), case.get("classname", "")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        expected = expected_failure(classname, name)
        if case.find("skipped") is not None:
            wrong.append(f"{name}: skipped")
        elif expected is None and problem is not None:
            wrong.append(f"{classname}.{name}: {problem.get('message', '')[:300]}")
        elif expected is not None and (problem is None or expected not in (problem.text or "")):
            wrong.append(f"{classname}.{name}: expected to be refused with {expected!r}")
        elif expected is None:
            passed += 1
        else:
            refused += 1
    assert not wrong, "\n".join(wrong)
    # Sync and async, loose and strict: 24 + 5 tests each, of which 9 name the placeholder id, 2
    # send every parameter and 4 list the placeholder's messages; all of them collected and run.
    assert (passed, refused) == (4 * 14, 4 * 15), (passed, refused, run.stdout[-2000:])
