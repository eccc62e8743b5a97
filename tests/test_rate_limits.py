"""Rate limits and quotas, in process, on a clock the tests move (docs/limits.md).

Proven here: every response of a limited endpoint (whole, streamed, an error after admission, a 429)
carries the `x-ratelimit-*` headers with exact values; requests and tokens per minute run out with
the API's 429 bodies and `retry-after-ms` / `retry-after`; budgets replenish continuously with the
clock; limits apply per key and per model (a glob sharing one budget); a request larger than the
whole limit is "Request too large"; a spent quota is `insufficient_quota` with `x-should-retry:
false`; embeddings count only their input, legacy completions their 16-token default; and without
`rate_limits` no header is added and no wrapper is on the route.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.routing import Route

from backends.base import BackendError
from server.app import create_app
from server.config import ConfigError, load_settings
from server.http.ratelimit import LEARN_MORE, QUOTA_MESSAGE
from tests.support.backends import Raise, ScriptedBackend
from tests.support.clock import Clock
from tests.support.requests import CHAT, chat_body, in_process

LIMIT_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
)
PROMPT = 8  # tokens of chat_body()'s one user message "x" for gpt-4o


def limited_app(clock: Clock, backend: ScriptedBackend | None = None, **limits: Any) -> Any:
    settings = load_settings(env={}, overrides={"rate_limits": limits})
    return create_app(settings, None if backend is None else {"echo": backend}, clock=clock)


def limits_of(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in LIMIT_HEADERS if name in response.headers}


async def post(http: httpx.AsyncClient, key: str = "sk-a", **fields: Any) -> httpx.Response:
    return await http.post(CHAT, json=chat_body(**fields), headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_a_whole_response_carries_the_six_headers_with_what_it_used(clock: Clock) -> None:
    async with in_process(limited_app(clock, requests_per_minute=3, tokens_per_minute=1000)) as http:
        response = await post(http, max_tokens=10)
    assert response.status_code == 200
    assert response.json()["usage"]["prompt_tokens"] == PROMPT
    # 18 tokens (8 prompt + 10 asked for) drain at 1000/60 a second: whole again in 1.08 s.
    assert limits_of(response) == {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-requests": "2",
        "x-ratelimit-remaining-tokens": "982",
        "x-ratelimit-reset-requests": "20s",
        "x-ratelimit-reset-tokens": "1.08s",
    }
    assert list(limits_of(response)) == list(LIMIT_HEADERS)  # the API's order


async def test_a_stream_carries_them_in_its_headers_before_the_first_chunk(clock: Clock) -> None:
    app = limited_app(clock, requests_per_minute=3000, tokens_per_minute=250000)
    async with (
        in_process(app) as http,
        http.stream(
            "POST", CHAT, json=chat_body(stream=True, max_tokens=3), headers={"Authorization": "Bearer sk-a"}
        ) as response,
    ):
        headers = limits_of(response)
        await response.aread()
    assert response.status_code == 200
    assert response.text.endswith("data: [DONE]\n\n")
    # As recorded from the API for one request in use: 20ms (60 s / 3000) and 11 tokens -> 2ms (2.64).
    assert headers == {
        "x-ratelimit-limit-requests": "3000",
        "x-ratelimit-limit-tokens": "250000",
        "x-ratelimit-remaining-requests": "2999",
        "x-ratelimit-remaining-tokens": "249989",
        "x-ratelimit-reset-requests": "20ms",
        "x-ratelimit-reset-tokens": "2ms",
    }


async def test_requests_per_minute_run_out_with_the_api_429(clock: Clock) -> None:
    async with in_process(limited_app(clock, requests_per_minute=3, organization="org-test")) as http:
        for _ in range(3):
            assert (await post(http, model="gpt-4o-mini")).status_code == 200
        response = await post(http, model="gpt-4o-mini")
    assert response.status_code == 429
    assert response.json() == {
        "error": {
            "message": "Rate limit reached for gpt-4o-mini in organization org-test on requests per min "
            "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. " + LEARN_MORE,
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert response.headers["retry-after-ms"] == "20000"
    assert response.headers["retry-after"] == "20"
    assert limits_of(response) == {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1m0s",
    }


async def test_tokens_per_minute_run_out_with_the_amounts_and_the_wait(clock: Clock) -> None:
    async with in_process(limited_app(clock, tokens_per_minute=100)) as http:
        for _ in range(2):
            assert (await post(http, max_tokens=40)).status_code == 200
        response = await post(http, max_tokens=40)
    assert response.status_code == 429
    error = response.json()["error"]
    # 96 in use, 48 more asked for: 44 over, at 100/60 a second that is 26.4 s.
    assert error["message"] == (
        "Rate limit reached for gpt-4o in organization org-chatdouble on tokens per min (TPM): "
        "Limit 100, Used 96, Requested 48. Please try again in 26.4s. " + LEARN_MORE
    )
    assert (error["type"], error["code"], error["param"]) == ("tokens", "rate_limit_exceeded", None)
    assert response.headers["retry-after-ms"] == "26400"
    assert response.headers["retry-after"] == "27"
    assert limits_of(response)["x-ratelimit-remaining-tokens"] == "4"


async def test_budgets_replenish_continuously_with_the_clock(clock: Clock) -> None:
    async with in_process(limited_app(clock, requests_per_minute=3)) as http:
        for _ in range(3):
            await post(http)
        clock.now += 19.999
        early = await post(http)
        clock.now += 0.001
        back = await post(http)
        clock.now += 30
        later = await post(http)
    assert early.status_code == 429
    assert "Please try again in 1ms." in early.json()["error"]["message"]
    assert early.headers["retry-after-ms"] == "1"
    assert back.status_code == 200
    assert limits_of(back)["x-ratelimit-remaining-requests"] == "0"
    # 30 s later one and a half requests have drained: this one fits, 2.5 are then in use (none
    # whole remains), and they drain in 50 s.
    assert later.status_code == 200
    assert limits_of(later)["x-ratelimit-remaining-requests"] == "0"
    assert limits_of(later)["x-ratelimit-reset-requests"] == "50s"


async def test_each_key_and_each_model_has_its_own_budgets(clock: Clock) -> None:
    async with in_process(limited_app(clock, requests_per_minute=1)) as http:
        assert (await post(http, key="sk-a")).status_code == 200
        assert (await post(http, key="sk-a")).status_code == 429
        assert (await post(http, key="sk-b")).status_code == 200
        assert (await post(http, key="sk-a", model="gpt-4.1")).status_code == 200
        # A session is the same key: the same budget.
        session = await http.post(
            CHAT, json=chat_body(), headers={"Authorization": "Bearer sk-a", "X-Chatdouble-Session": "t1"}
        )
    assert session.status_code == 429


async def test_per_model_and_per_key_values_override_and_a_glob_shares_one_budget(clock: Clock) -> None:
    app = limited_app(
        clock,
        requests_per_minute=100,
        models={"gpt-4o-mini": {"requests_per_minute": 1}},
        keys={"sk-small": {"models": {"*": {"requests_per_minute": 2}}, "tokens_per_minute": 500}},
    )
    async with in_process(app) as http:
        mini = [await post(http, model="gpt-4o-mini") for _ in range(2)]
        other = await post(http, model="gpt-4o")
        small = [await post(http, key="sk-small", model=model) for model in ("gpt-4o", "gpt-4.1", "o3")]
    assert [r.status_code for r in mini] == [200, 429]
    assert "Limit 1, Used 1" in mini[1].json()["error"]["message"]
    assert limits_of(other)["x-ratelimit-remaining-requests"] == "99"
    assert "x-ratelimit-limit-tokens" not in limits_of(other)
    # sk-small's "*" entry: one budget of 2 for all its models, and its own token limit.
    assert [r.status_code for r in small] == [200, 200, 429]
    assert limits_of(small[0])["x-ratelimit-limit-tokens"] == "500"
    assert "Rate limit reached for o3 " in small[2].json()["error"]["message"]


async def test_a_request_larger_than_the_whole_token_limit_is_too_large(clock: Clock) -> None:
    async with in_process(limited_app(clock, tokens_per_minute=1000)) as http:
        response = await post(http, max_completion_tokens=5000)
        after = await post(http)
    assert response.status_code == 429
    assert response.json()["error"] == {
        "message": "Request too large for gpt-4o in organization org-chatdouble on tokens per min (TPM): "
        "Limit 1000, Requested 5008. The input or output tokens must be reduced in order to run "
        "successfully. " + LEARN_MORE,
        "type": "tokens",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert "retry-after-ms" not in response.headers
    assert limits_of(response)["x-ratelimit-remaining-tokens"] == "1000"  # nothing was taken
    assert after.status_code == 200


async def test_a_spent_quota_is_insufficient_quota_and_says_not_to_retry(clock: Clock) -> None:
    app = limited_app(clock, keys={"sk-broke": {"quota_tokens": 0}, "sk-some": {"quota_tokens": 20}})
    async with in_process(app) as http:
        broke = await post(http, key="sk-broke")
        some = [await post(http, key="sk-some", max_tokens=10) for _ in range(3)]
        other = await post(http, key="sk-other")
    assert broke.status_code == 429
    assert broke.json() == {
        "error": {
            "message": QUOTA_MESSAGE,
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    assert broke.headers["x-should-retry"] == "false"
    assert "retry-after-ms" not in broke.headers
    # 18 tokens each: the first leaves 2 of 20, the second spends past it, the third finds none.
    assert [r.status_code for r in some] == [200, 200, 429]
    assert some[2].json()["error"]["code"] == "insufficient_quota"
    assert other.status_code == 200


async def test_a_failure_after_admission_carries_the_headers_too(clock: Clock) -> None:
    backend = ScriptedBackend([Raise(BackendError(503, "overloaded", type="server_error"))])
    async with in_process(limited_app(clock, backend, requests_per_minute=5)) as http:
        response = await post(http)
    assert response.status_code == 503
    assert limits_of(response)["x-ratelimit-remaining-requests"] == "4"


async def test_embeddings_count_only_their_input(clock: Clock) -> None:
    async with in_process(limited_app(clock, tokens_per_minute=1000)) as http:
        response = await http.post(
            "/v1/embeddings",
            json={"model": "text-embedding-3-small", "input": "hello world"},
            headers={"Authorization": "Bearer sk-a"},
        )
    assert response.status_code == 200
    used = response.json()["usage"]["prompt_tokens"]
    assert limits_of(response)["x-ratelimit-remaining-tokens"] == str(1000 - used)


async def test_completions_count_the_default_16_tokens_per_choice(clock: Clock) -> None:
    async with in_process(limited_app(clock, tokens_per_minute=1000)) as http:
        response = await http.post(
            "/v1/completions",
            json={"model": "gpt-3.5-turbo-instruct", "prompt": ["a", "b"], "n": 2},
            headers={"Authorization": "Bearer sk-a"},
        )
    assert response.status_code == 200
    prompt = response.json()["usage"]["prompt_tokens"]
    assert limits_of(response)["x-ratelimit-remaining-tokens"] == str(1000 - prompt - 4 * 16)


async def test_responses_count_max_output_tokens_whole_and_streamed(clock: Clock) -> None:
    async with in_process(limited_app(clock, tokens_per_minute=1000, requests_per_minute=10)) as http:
        whole = await http.post(
            "/v1/responses",
            json={"model": "gpt-4o", "input": "hi", "max_output_tokens": 50},
            headers={"Authorization": "Bearer sk-a"},
        )
        streamed = await http.post(
            "/v1/responses",
            json={"model": "gpt-4o", "input": "hi", "stream": True},
            headers={"Authorization": "Bearer sk-a"},
        )
    assert whole.status_code == 200
    prompt = whole.json()["usage"]["input_tokens"]
    assert limits_of(whole)["x-ratelimit-remaining-tokens"] == str(1000 - prompt - 50)
    assert streamed.status_code == 200
    assert limits_of(streamed)["x-ratelimit-remaining-requests"] == "8"
    assert limits_of(streamed)["x-ratelimit-remaining-tokens"] == str(1000 - 2 * prompt - 50)


async def test_without_rate_limits_nothing_is_added(client: httpx.AsyncClient, app: Any) -> None:
    response = await client.post(CHAT, json=chat_body())
    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith(("x-ratelimit", "retry-after"))]
    assert app.state.runtime.limiter is None
    route = next(r for r in app.router.routes if isinstance(r, Route) and r.path == CHAT)
    # No admission wrapper: the handler itself, or the default in-memory journal around it.
    assert route.endpoint.__qualname__ != "limited.<locals>.wrapped"
    unjournaled = create_app(load_settings(env={}, overrides={"journal": {"memory": 0}}))
    route = next(r for r in unjournaled.router.routes if isinstance(r, Route) and r.path == CHAT)
    assert route.endpoint.__name__ == "create_chat_completion"  # the handler itself, unwrapped


def test_the_setting_reads_json_from_its_variable_and_names_a_bad_field() -> None:
    settings = load_settings(env={"CHATDOUBLE_RATE_LIMITS": '{"requests_per_minute": 5, "keys": {"k": {}}}'})
    assert settings.rate_limits is not None
    assert settings.rate_limits.requests_per_minute == 5
    with pytest.raises(ConfigError, match=r"rate_limits\.keys\.k\.tokens_per_minute"):
        load_settings(env={}, overrides={"rate_limits": {"keys": {"k": {"tokens_per_minute": 0}}}})
    with pytest.raises(ConfigError, match=r"rate_limits\.requests_per_min"):
        load_settings(env={}, overrides={"rate_limits": {"requests_per_min": 3}})
