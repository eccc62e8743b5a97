"""The official openai Node SDK against a real server: completion, stream, stream helper, errors; and
the Responses API: create, a streamed create, the stream helper, a forced call, an error; and the
admin API from Node: a runtime fixture arranged with fetch answers the SDK's chat call, which verify
then counts (and a missing one is named as a near miss).

`scripts/test.sh` installs the SDK (`npm ci --prefix tests/node`) before the run; the test itself
uses no network beyond loopback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from tests.servers import LiveServer
from tests.support.responses import check_order, validate_event

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("node is not installed: the Node SDK contract test needs Node 20+")
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.fail(
            "the openai Node SDK is not installed: run `npm ci --prefix tests/node` (scripts/test.sh does)"
        )
    return executable


def run_node(node: str, script: str, base_url: str) -> dict[str, Any]:
    """Run one of tests/node's scripts against `base_url`; what it saw, as the JSON it prints."""
    run = subprocess.run(
        [node, str(NODE_DIR / script), base_url], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    seen: dict[str, Any] = json.loads(run.stdout)
    return seen


def test_node_sdk_end_to_end(node: str, live_server: LiveServer) -> None:
    seen = run_node(node, "contract.mjs", live_server.base_url)

    completion = ChatCompletion.model_validate(seen["completion"], strict=True)
    assert completion.choices[0].message.content == "Hello from Node"
    assert seen["requestId"].startswith("req_")

    chunks = [ChatCompletionChunk.model_validate(c, strict=True) for c in seen["chunks"]]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from Node"
    assert chunks[-1].choices == []
    assert chunks[-1].usage == completion.usage

    call = seen["toolCompletion"]["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "lookup"
    schema = {
        "type": "object",
        "properties": {"term": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
        "required": ["term", "limit"],
    }
    jsonschema.validate(json.loads(call["function"]["arguments"]), schema)

    assert seen["error"] == {
        "name": "BadRequestError",
        "status": 400,
        "code": "decimal_above_max_value",
        "param": "temperature",
    }


def test_node_sdk_creates_and_streams_a_response(node: str, live_server: LiveServer) -> None:
    seen = run_node(node, "responses.mjs", live_server.base_url)
    text = "Hello from Node — ça va? 你好"

    response = Response.model_validate(seen["response"], strict=True)
    assert response.output_text == seen["outputText"] == text
    assert seen["requestId"].startswith("req_")

    events = seen["events"]
    for event in events:
        validate_event(event)
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    check_order(events)
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == text
    assert events[-1]["type"] == "response.completed"

    assert "".join(seen["helperDeltas"]) == text
    [message] = seen["helperFinal"]["output"]
    assert message["status"] == "completed"
    assert message["content"][0]["text"] == text
    assert seen["helperFinal"]["previousResponseId"] == response.id

    call = seen["call"]
    assert call["type"] == "function_call"
    assert call["name"] == "lookup"
    assert call["status"] == "completed"
    arguments = json.loads(call["arguments"])
    assert set(arguments) == {"term", "limit"}

    assert seen["error"] == {
        "name": "BadRequestError",
        "status": 400,
        "code": "previous_response_not_found",
        "param": "previous_response_id",
    }


def test_node_arranges_a_fixture_and_verifies_over_the_admin_api(node: str, live_server: LiveServer) -> None:
    seen = run_node(node, "admin.mjs", live_server.base_url)
    assert seen["added"]["status"] == 200
    (fixture,) = seen["added"]["body"]["data"]
    assert fixture["id"].startswith("fx_")
    assert seen["text"] == "Rain at noon, from a Node-arranged fixture."
    verified = seen["verified"]["body"]
    assert verified["ok"] is True
    assert verified["count"] == 1
    missed = seen["missed"]["body"]
    assert missed["ok"] is False
    assert missed["near_misses"][0]["reasons"] == [
        "match.last_user.contains: wanted text containing 'sunshine', got 'What is the forecast?'"
    ]
    assert seen["reset"]["body"] == {
        "object": "chatdouble.reset",
        "fixtures": 1,
        "sequences": True,
        "journal": 1,
    }
