"""A reasoning item sent back by its id alone costs what it costs with its `encrypted_content`.

The real API reads the item it stored and counts its tokens (langchain's gpt-5.4 test_phase, which
sends `{"type": "reasoning", "id": "rs_…", "summary": [...]}`: the producing response's 168
reasoning tokens are in the next prompt; docs/usage.md). chatdouble's ids carry the count
(server/responses/sealed.py), so a client doing the same is charged the same; an id it did not
write costs nothing, as before.
"""

from __future__ import annotations

from typing import Any

from server.responses.sealed import sealed_id, unseal_id
from tests.support.requests import ChatClient

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
QUESTION = {"content": "What's the weather in Paris?", "role": "user"}


async def _input_tokens(chat: ChatClient, **body: Any) -> int:
    response = await chat.http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["usage"]["input_tokens"])


def test_an_id_of_ours_carries_its_count_and_a_real_one_does_not() -> None:
    real = "rs_0429c1fcf5cbfa350169fabfe62a9c8197914677ea9a2424a0"  # simonw/llm's gpt-5.5 recording
    ours = sealed_id(real, 192)
    assert len(ours) == len(real)
    assert ours[:-18] == real[:-18]
    assert unseal_id(ours) == 192
    assert unseal_id(real) is None
    assert unseal_id(ours[:-1] + ("0" if ours[-1] != "0" else "1")) is None


async def test_a_reasoning_item_sent_back_by_id_costs_its_tokens(chat: ChatClient) -> None:
    fields = {"model": "gpt-5-mini", "tools": [TOOL]}
    first = await chat.http.post(
        "/v1/responses",
        json={**fields, "input": [QUESTION], "tool_choice": "required", "reasoning": {"effort": "low"}},
    )
    assert first.status_code == 200, first.text
    answer = first.json()
    spent = answer["usage"]["output_tokens_details"]["reasoning_tokens"]
    thought = next(item for item in answer["output"] if item["type"] == "reasoning")
    assert "encrypted_content" not in thought  # not asked for: the id is all a client has
    call = next(item for item in answer["output"] if item["type"] == "function_call")
    output = {"call_id": call["call_id"], "output": "Sunny, 22C", "type": "function_call_output"}
    plain = await _input_tokens(chat, input=[QUESTION, call, output], **fields)
    kept = await _input_tokens(chat, input=[QUESTION, thought, call, output], **fields)
    assert kept == plain + spent + 5  # a gpt-5-mini item: its tokens + 5 (docs/usage.md)
    foreign = {**thought, "id": "rs_0429c1fcf5cbfa350169fabfe62a9c8197914677ea9a2424a0"}
    assert await _input_tokens(chat, input=[QUESTION, foreign, call, output], **fields) == plain
