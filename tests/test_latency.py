"""Latency profiles: seeded draws give the same delays twice, every distribution's parameters are
checked with the field named, and the pipeline paces echo, fixtures and replayed recordings alike on
chat, Responses and completions, streamed or whole, while a fixture's own timing wins.

No test waits: the app takes a `sleep` that records the pauses asked for (timing is measured in
bench/latency.py, not here)."""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from server.app import create_app
from server.config import ConfigError, load_settings
from server.generation.events import Event, Finish, TextDelta
from server.generation.latency import Delays, LatencyProfile
from server.generation.shaping import Shaping
from server.generation.tokens import Tokenizer
from tests.support.requests import chat_body, in_process

DEAD_UPSTREAM = "http://127.0.0.1:9/v1"  # replay never connects
PROFILE = {
    "ttft": {"distribution": "lognormal", "mean_ms": 300, "stddev_ms": 120},
    "inter_token": {"distribution": "normal", "mean_ms": 20, "stddev_ms": 15},
    "seed": 7,
}


class Recorder:
    """Stands in for asyncio.sleep: keeps each pause asked for, waits for none; and for the clock,
    which only those pauses advance."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self.now = 0.0

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def draws(profile: dict[str, Any], count: int = 50) -> list[float]:
    delays = Delays(LatencyProfile.model_validate(profile), random.Random(3))
    return [delays.ttft(), *(delays.tokens(1) for _ in range(count))]


@pytest.mark.parametrize(
    "spec",
    [
        300,
        {"distribution": "fixed", "ms": 300},
        {"distribution": "uniform", "min_ms": 10, "max_ms": 30},
        {"distribution": "normal", "mean_ms": 20, "stddev_ms": 4},
        {"distribution": "lognormal", "mean_ms": 20, "stddev_ms": 15},
    ],
)
def test_each_distribution_draws_the_same_delays_from_the_same_seed(spec: Any) -> None:
    profile = {"ttft": spec, "inter_token": spec}
    first, second = draws(profile), draws(profile)
    assert first == second
    assert all(delay >= 0 for delay in first)
    assert len(set(first)) == (1 if spec == 300 or "ms" in spec else len(first))


def test_a_normal_draw_below_zero_is_zero() -> None:
    delays = draws({"inter_token": {"distribution": "normal", "mean_ms": 1, "stddev_ms": 50}}, 200)
    assert 0.0 in delays[1:]
    assert min(delays) == 0.0


def test_lognormal_parameters_are_the_mean_and_deviation_of_the_delays() -> None:
    delays = draws({"inter_token": {"distribution": "lognormal", "mean_ms": 40, "stddev_ms": 10}}, 20000)[1:]
    mean = sum(delays) / len(delays) * 1000
    assert 39 < mean < 41  # a statistical property of the seeded draws, not a timing


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"distribution": "uniform", "min_ms": 30, "max_ms": 10},
            "routes[0].latency.ttft.max_ms: must be at least min_ms (30), not 10",
        ),
        ({"distribution": "normal", "mean_ms": 20}, "routes[0].latency.ttft.stddev_ms: Field required"),
        (
            {"distribution": "normal", "mean_ms": -1, "stddev_ms": 1},
            "routes[0].latency.ttft.mean_ms: Input should be greater than or equal to 0",
        ),
        (
            {"distribution": "lognormal", "mean_ms": 0, "stddev_ms": 1},
            "routes[0].latency.ttft.mean_ms: Input should be greater than 0",
        ),
        ({"distribution": "fixed"}, "routes[0].latency.ttft.ms: Field required"),
        (
            {"distribution": "gamma", "ms": 3},
            "routes[0].latency.ttft.distribution: Input should be 'fixed', 'uniform', 'normal' or 'lognormal'",
        ),
        (-5, "routes[0].latency.ttft: Input should be greater than or equal to 0"),
        (
            {"distribution": "fixed", "ms": 1, "mean_ms": 2},
            "routes[0].latency.ttft.mean_ms: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_distribution_parameters_are_config_errors_naming_the_field(spec: Any, message: str) -> None:
    routes = [{"model": "*", "backend": "echo", "latency": {"ttft": spec}}]
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, overrides={"routes": routes})
    assert message in str(caught.value)


def app_with(recorder: Recorder, route: dict[str, Any] | None = None, **settings: Any) -> FastAPI:
    overrides: dict[str, Any] = {"routes": [{"model": "*", "backend": "echo", **(route or {})}], **settings}
    return create_app(load_settings(env={}, overrides=overrides), sleep=recorder, pace_clock=recorder.clock)


async def pauses_of(
    app: FastAPI, recorder: Recorder, path: str, body: dict[str, Any], **headers: str
) -> list[float]:
    recorder.pauses.clear()
    async with in_process(app, headers) as http:
        response = await http.post(path, json=body)
    assert response.status_code == 200, response.text
    return list(recorder.pauses)


CHAT = ("/v1/chat/completions", chat_body("one two three four five six"))
RESPONSES = ("/v1/responses", {"model": "gpt-4o", "input": "one two three four five six"})
COMPLETIONS = (
    "/v1/completions",
    {"model": "gpt-3.5-turbo-instruct", "prompt": "one two three four five six"},
)


@pytest.mark.parametrize(("path", "body"), [CHAT, RESPONSES, COMPLETIONS])
@pytest.mark.parametrize("stream", [True, False])
async def test_a_seeded_profile_gives_the_same_pauses_twice(
    path: str, body: dict[str, Any], stream: bool
) -> None:
    body = {**body, "stream": stream}
    runs = []
    for _ in range(2):
        recorder = Recorder()
        app = app_with(recorder, {"latency": PROFILE})
        runs.append([await pauses_of(app, recorder, path, body) for _ in range(3)])
    assert runs[0] == runs[1]
    first, second, _ = runs[0]
    assert first != second  # each request draws its own delays
    # Streamed, a ttft and a pause per further piece; whole, one pause for all of its tokens.
    assert len(first) >= 6 if stream else len(first) == 1
    assert first[0] > 0.05  # the lognormal ttft (mean 300 ms), in seconds


async def test_a_whole_response_waits_as_long_as_its_stream() -> None:
    recorder = Recorder()
    app = app_with(recorder, {"latency": PROFILE})
    path, body = CHAT
    streamed = await pauses_of(
        create_app(app.state.runtime.settings, sleep=recorder, pace_clock=recorder.clock),
        recorder,
        path,
        {**body, "stream": True},
    )
    whole = await pauses_of(
        create_app(app.state.runtime.settings, sleep=recorder, pace_clock=recorder.clock),
        recorder,
        path,
        body,
    )
    assert sum(whole) == pytest.approx(sum(streamed))


async def test_namespaces_draw_from_their_own_sequences() -> None:
    recorder = Recorder()
    app = app_with(recorder, {"latency": PROFILE})
    path, body = CHAT
    alone = [await pauses_of(app, recorder, path, body, authorization="Bearer a") for _ in range(2)]
    app = app_with(recorder, {"latency": PROFILE})
    mixed = []
    for _ in range(2):
        mixed.append(await pauses_of(app, recorder, path, body, authorization="Bearer a"))
        await pauses_of(app, recorder, path, body, authorization="Bearer b")
    assert [pause for run in mixed for pause in run] == pytest.approx([p for run in alone for p in run])


async def test_a_backend_default_profile_applies_where_the_route_has_none() -> None:
    recorder = Recorder()
    backends = {"echo": {"type": "echo", "latency": {"ttft": 250}}}
    app = app_with(recorder, backends=backends)
    assert (await pauses_of(app, recorder, *CHAT))[0] == pytest.approx(0.25)
    app = app_with(recorder, {"latency": {"ttft": 40}}, backends=backends)
    assert (await pauses_of(app, recorder, *CHAT))[0] == pytest.approx(0.04)  # the route's wins


async def test_no_profile_no_pause() -> None:
    recorder = Recorder()
    app = app_with(recorder)
    assert app.state.runtime.latency is None
    assert await pauses_of(app, recorder, *CHAT) == []


async def test_pieces_wait_for_all_of_their_tokens() -> None:
    recorder = Recorder()
    app = app_with(recorder, {"latency": {"ttft": 100, "inter_token": 10}})
    path, body = CHAT
    pauses = await pauses_of(app, recorder, path, {**body, "stream": True})
    assert pauses[0] == pytest.approx(0.1)
    assert sum(pauses) == pytest.approx(0.1 + 0.01 * 5)  # six tokens: a ttft and five gaps


async def test_choices_of_n_are_generated_side_by_side() -> None:
    recorder = Recorder()
    app = app_with(recorder, {"latency": {"ttft": 100, "inter_token": 10}})
    path, body = CHAT
    pauses = await pauses_of(app, recorder, path, {**body, "n": 3})
    assert sum(pauses) == pytest.approx(0.1 + 0.01 * 5)  # not three replies one after another


FIXTURES = """
fixtures:
  - id: timed
    match: {last_user: timed}
    timing: {ttft: 0.001}
    response: {text: one two three}
  - id: untimed
    match: {last_user: untimed}
    response: {text: one two three}
"""


def fixtures_app(recorder: Recorder, tmp_path: Path, backend: dict[str, Any]) -> FastAPI:
    (tmp_path / "f.yaml").write_text(FIXTURES)
    overrides = {
        "backends": {"b": backend},
        "routes": [{"model": "*", "backend": "b", "latency": {"ttft": 500, "inter_token": 5}}],
    }
    return create_app(load_settings(env={}, overrides=overrides), sleep=recorder, pace_clock=recorder.clock)


@pytest.mark.parametrize(
    "backend",
    [
        {"type": "fixtures", "paths": ["{dir}"], "reload": False},
        {"type": "proxy", "base_url": DEAD_UPSTREAM, "mode": "replay", "cassettes": "{dir}"},
    ],
    ids=["fixtures", "replay"],
)
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses"])
async def test_fixtures_and_replays_are_paced_unless_they_have_a_timing_of_their_own(
    tmp_path: Path, backend: dict[str, Any], path: str
) -> None:
    recorder = Recorder()
    config = {
        k: ([str(tmp_path)] if v == ["{dir}"] else str(tmp_path) if v == "{dir}" else v)
        for k, v in backend.items()
    }
    app = fixtures_app(recorder, tmp_path, config)

    def body(text: str) -> dict[str, Any]:
        if path == "/v1/responses":
            return {"model": "gpt-4o", "input": text, "stream": True}
        return chat_body(text, stream=True)

    untimed = await pauses_of(app, recorder, path, body("untimed"))
    assert untimed[0] == pytest.approx(0.5)
    assert await pauses_of(app, recorder, path, body("timed")) == []  # its own timing wins


async def test_a_fixture_timing_turned_off_by_its_factor_leaves_the_profile_in_force(tmp_path: Path) -> None:
    recorder = Recorder()
    app = fixtures_app(recorder, tmp_path, {"type": "fixtures", "paths": [str(tmp_path)], "timing_factor": 0})
    streamed = await pauses_of(app, recorder, "/v1/chat/completions", chat_body("timed", stream=True))
    assert streamed[0] == pytest.approx(0.5)  # the profile's ttft, not the fixture's
    # Whole, one pause for all of its tokens: as long as the stream takes.
    whole = await pauses_of(app, recorder, "/v1/chat/completions", chat_body("timed"))
    assert whole == [pytest.approx(sum(streamed))]


async def test_the_first_token_is_due_a_ttft_after_the_request_came_in() -> None:
    recorder = Recorder()
    recorder.now = 0.03  # the server took 30 ms to read and plan the request
    profile = LatencyProfile.model_validate({"ttft": 100, "inter_token": 10})
    shaping = Shaping(Delays(profile, random.Random(0)), sleep=recorder, clock=recorder.clock, started=0.0)

    async def events() -> AsyncGenerator[Event, None]:
        yield TextDelta("one")
        yield TextDelta(" two")
        yield Finish("stop")

    shaped = [event async for event in shaping.shape(events(), Tokenizer.named("o200k_base"), lambda: None)]
    assert len(shaped) == 3
    assert recorder.pauses == [pytest.approx(0.07), pytest.approx(0.01)]


async def test_a_paced_stream_keeps_its_schedule_when_wake_ups_are_late() -> None:
    class Late(Recorder):
        async def __call__(self, seconds: float) -> None:
            self.pauses.append(seconds)
            self.now += seconds + 0.005  # every wake-up 5 ms late

    recorder = Late()
    app = app_with(recorder, {"latency": {"ttft": 0, "inter_token": 20}})
    pauses = await pauses_of(app, recorder, *CHAT[:1], chat_body("one two three four five six", stream=True))
    # Due every 20 ms: each pause is what is left of it after the late wake-up, so nothing drifts.
    assert pauses == [pytest.approx(0.02), *[pytest.approx(0.015)] * 4]
    assert recorder.now == pytest.approx(5 * 0.02 + 0.005)
