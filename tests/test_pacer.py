"""Paced streams sent from one clock (server/http/pacer.py).

Proven here: streams due in the same millisecond are woken by one timer of the event loop, and no
stream is woken before its time; a stream that ended in a long tick first runs the ticks that came
due meanwhile, before its task finishes the response, and no ping slips in after the last frame
the pacer sent; what the streams of a tick write goes out as the tick ends, each
connection's writes joined, with no flush scheduled per connection (a write outside a tick still
waits for the end of the loop's turn); frames that come ready together after a due time go out in one
message, and a long run of them gives the event loop turns; a chat stream whose backend says when its pieces are due (`Due`)
sends every frame, in order and framed as an unpaced stream's, with the backend run as the stream's
own task even when the pacer's timer runs it; so does a Responses stream, whose events pace alike; a backend that waits on something else between pieces
is carried on by the stream's task; a failure at a piece's time is told with an error frame and
`[DONE]`; and a client that leaves a paced stream stops the backend (on a real socket), whether
the stream waits in the pacer or its task carries it on.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import time
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest
from starlette.types import Message, Send

from backends.base import BackendError, TextDelta
from server.generation.events import Due
from server.http.event_stream import EventStream, StreamOptions
from server.http.joined_writes import LATER, JoinedWrites
from server.http.pacer import READY_FRAMES_PER_TURN, Pacer
from tests.servers import serve
from tests.support.backends import Paced, Pause, Raise, ScriptedBackend
from tests.support.requests import chat_body, in_process, leave_a_stream, streamed_text
from tests.support.responses import stream_events
from tests.support.sse import chunks as parse_chunks
from tests.test_joined_writes import Recording

CHAT = "/v1/chat/completions"


async def test_streams_due_in_the_same_millisecond_share_one_timer_and_none_wakes_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    timers: list[float] = []
    call_at = loop.call_at

    def counted(when: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        timers.append(when)
        return call_at(when, callback, *args)

    monkeypatch.setattr(loop, "call_at", counted)
    pacer = Pacer()
    base = (int(time.monotonic() * 1000) + 20) / 1000  # a millisecond's start, 20 ms on
    woken: dict[str, float] = {}
    done = asyncio.Event()
    due = {"a": base + 0.0002, "b": base + 0.0005, "c": base + 0.0009, "d": base + 0.0031}

    def wake(name: str) -> None:
        woken[name] = time.monotonic()
        if len(woken) == len(due):
            done.set()

    for name, when in due.items():
        pacer.at(loop, when, lambda name=name: wake(name))  # type: ignore[misc]  # a default binds the name
    assert len(timers) == 2  # a, b and c share one (later ones re-arm a timer the loop fired early)
    await done.wait()
    assert all(woken[name] >= when for name, when in due.items())


async def test_what_the_streams_of_a_tick_write_goes_out_as_the_tick_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    sockets = [Recording(), Recording()]
    connections = [JoinedWrites(socket_side, loop) for socket_side in sockets]
    scheduled: list[object] = []
    call_soon = loop.call_soon

    def counted(callback: Any, *args: Any, **options: Any) -> asyncio.Handle:
        if getattr(callback, "__self__", None) in connections:
            scheduled.append(callback)
        return call_soon(callback, *args, **options)

    monkeypatch.setattr(loop, "call_soon", counted)
    pacer = Pacer()
    streams = contextvars.copy_context()  # as a stream's driver runs it (server/http/pacer.py)
    streams.run(LATER.set, pacer.later)
    ticked = asyncio.Event()

    def wake(index: int) -> None:
        streams.run(connections[index].write, b"frame %d, " % index)
        streams.run(connections[index].write, b"joined")
        assert sockets[index].writes == []  # held until the tick ends

    pacer.at(loop, time.monotonic(), lambda: wake(0))
    pacer.at(loop, time.monotonic(), lambda: wake(1))
    pacer.at(loop, time.monotonic() + 0.001, ticked.set)  # the next tick: the first one is over
    await ticked.wait()
    assert [socket_side.writes for socket_side in sockets] == [[b"frame 0, joined"], [b"frame 1, joined"]]
    assert scheduled == []
    streams.run(connections[0].write, b"outside a tick")
    assert sockets[0].writes == [b"frame 0, joined"]
    assert len(scheduled) == 1
    await asyncio.sleep(0)
    assert sockets[0].writes == [b"frame 0, joined", b"outside a tick"]


def paced_script(*texts: str, seconds: float = 0.002) -> list[Any]:
    script: list[Any] = []
    for text in texts:
        script += [Paced(seconds), TextDelta(text)]
    return script


async def stream(app: Any, **fields: Any) -> httpx.Response:
    async with in_process(app) as http:
        body = chat_body("go", stream=True, stream_options={"include_obfuscation": False}, **fields)
        return await http.post(CHAT, json=body)


def normalized(text: str) -> str:
    """A stream's bytes without what differs between two requests (id, created)."""
    text = re.sub(r'"id":"chatcmpl-[A-Za-z0-9]+"', '"id":"x"', text)
    return re.sub(r'"created":\d+', '"created":0', text)


async def test_a_paced_stream_sends_the_same_bytes_as_an_unpaced_one_from_its_own_task(make_app: Any) -> None:
    texts = [f"w{k} " for k in range(6)]
    paced = ScriptedBackend(paced_script(*texts))
    unpaced = ScriptedBackend([TextDelta(text) for text in texts])
    paced_response = await stream(make_app(backend=paced))
    unpaced_response = await stream(make_app(backend=unpaced))
    assert paced_response.status_code == 200
    assert streamed_text(parse_chunks(paced_response.text)) == "".join(texts)
    assert normalized(paced_response.text) == normalized(unpaced_response.text)
    # Every piece after the first (made before the headers, raced against the client leaving) was
    # made from the pacer's timer, as the stream's own task.
    assert len(set(paced.tasks[1:])) == 1
    assert paced.tasks[1] is not None


async def test_a_paced_responses_stream_sends_its_events_from_the_pacer_as_an_unpaced_one(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    parked: list[float] = []
    at = Pacer.at

    def counted(pacer: Pacer, loop: asyncio.AbstractEventLoop, when: float, wake: Any) -> None:
        parked.append(when)
        at(pacer, loop, when, wake)

    monkeypatch.setattr(Pacer, "at", counted)
    texts = [f"w{k} " for k in range(6)]
    paced = ScriptedBackend(paced_script(*texts))
    unpaced = ScriptedBackend([TextDelta(text) for text in texts])
    bodies = []
    for backend in (paced, unpaced):
        async with in_process(make_app(backend=backend)) as http:
            body = {
                "model": "gpt-4o",
                "input": "go",
                "stream": True,
                "stream_options": {"include_obfuscation": False},
            }
            response = await http.post("/v1/responses", json=body)
        assert response.status_code == 200
        bodies.append(stream_events(response.content))
    kinds = [[event["type"] for event in events] for events in bodies]
    assert kinds[0] == kinds[1]
    deltas = [[e["delta"] for e in events if e["type"] == "response.output_text.delta"] for events in bodies]
    assert deltas[0] == deltas[1] == texts
    assert len(parked) >= len(texts) - 1  # each piece (after the first, at most) waited in the pacer
    # Every piece after the first was made from the pacer's timer, as the stream's own task.
    assert len(set(paced.tasks[1:])) == 1
    assert paced.tasks[1] is not None


async def test_a_backend_that_waits_between_due_pieces_is_carried_on_by_the_stream_task(
    make_app: Any,
) -> None:
    script = [Paced(0.002), TextDelta("a"), Pause(0.002), TextDelta("b"), Paced(0.002), TextDelta("c")]
    script += [Pause(0), TextDelta("d"), Paced(0.001), Paced(0.001), TextDelta("e")]
    backend = ScriptedBackend(script)
    response = await stream(make_app(backend=backend))
    assert streamed_text(parse_chunks(response.text)) == "abcde"
    assert response.text.endswith("data: [DONE]\n\n")
    assert len(set(backend.tasks[1:])) == 1


async def test_a_failure_at_a_due_time_is_an_error_frame_then_done(make_app: Any) -> None:
    failure = BackendError(503, "Overloaded.", type="server_error", code="overloaded")
    backend = ScriptedBackend([*paced_script("a", "b"), Paced(0.002), Raise(failure)])
    response = await stream(make_app(backend=backend))
    frames = parse_chunks(response.text)
    assert streamed_text(frames) == "ab"
    assert frames[-1]["error"]["code"] == "overloaded"
    assert response.text.endswith("data: [DONE]\n\n")


async def test_a_client_leaving_a_paced_stream_stops_the_backend(make_app: Any) -> None:
    backend = ScriptedBackend([TextDelta("tick "), Paced(0.001)], forever=True)
    with serve(make_app(backend=backend)) as server:
        await leave_a_stream(server.url, chat_body("go", stream=True))
        stopped = await asyncio.to_thread(backend.stopped.wait, 20)
        assert stopped, "the backend kept generating after the client left"


async def served(stream: EventStream, send: Send) -> None:
    """Run `stream` as the server runs a POST's response, for a client that never leaves."""
    never: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def receive() -> Message:
        return await never

    await stream({"type": "http", "method": "POST"}, receive, send)


async def test_frames_ready_together_after_a_due_time_go_out_in_order_and_give_the_loop_turns() -> None:
    loop = asyncio.get_running_loop()
    others_ran: list[int] = []
    made = 2 * READY_FRAMES_PER_TURN + 5

    async def frames() -> AsyncGenerator[bytes, None]:
        yield b"first "
        await Due(time.monotonic() + 0.002)  # from here the pacer's timer runs the stream
        for index in range(made):
            if index == 0:
                loop.call_soon(others_ran.append, index)  # another client's turn, due now
            yield b"x"
        others_ran.append(-1)  # the last frame is made

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await served(EventStream(frames(), StreamOptions()), send)
    bodies = [message["body"] for message in sent[1:]]
    assert b"".join(bodies) == b"first " + b"x" * made
    assert bodies[-1] == b""
    assert sent[-1]["more_body"] is False
    assert others_ran == [0, -1]  # it had its turn before the stream's last frame was made


async def test_a_client_leaving_while_the_stream_task_carries_a_paced_stream_stops_the_backend(
    make_app: Any,
) -> None:
    # "b" is sent from the pacer's timer; the backend then waits for ever, which the stream's task
    # carries on: the client leaves there.
    backend = ScriptedBackend([TextDelta("a"), Paced(0.001), TextDelta("b"), Pause(None)])
    with serve(make_app(backend=backend)) as server:
        body = chat_body("go", stream=True, stream_options={"include_obfuscation": False})
        async with (
            httpx.AsyncClient(base_url=server.url) as http,
            http.stream("POST", CHAT, json=body) as response,
        ):
            received = b""
            async for piece in response.aiter_bytes():
                received += piece
                if b'"content":"b"' in received:
                    break
        stopped = await asyncio.to_thread(backend.stopped.wait, 20)
        assert stopped, "the backend kept waiting after the client left"


async def test_a_stream_that_has_ended_lets_the_streams_due_meanwhile_go_before_its_own_end() -> None:
    # Streams that end in one tick end in one long turn of the event loop (each one's task finishes
    # its response), and the pacer's timer waits for its end. Here "b" ends in a tick that lasts
    # past the time "a" is due: "a" goes before b's task finishes, not after the turn.
    options = StreamOptions()  # one pacer for both, as an app has
    a_due = time.monotonic() + 0.02
    seen: list[bytes] = []
    a_parked = asyncio.Event()

    async def running() -> AsyncGenerator[bytes, None]:
        yield b"a0"
        await Due(a_due)
        yield b"a1"  # made by the pacer
        await Due(time.monotonic() + 60)
        yield b"a2"

    async def ending() -> AsyncGenerator[bytes, None]:
        yield b"b0"
        await Due(time.monotonic() + 0.001)
        yield b"b1"  # the pacer's timer makes it, then the stream ends
        while time.monotonic() < a_due + 0.001:  # its end takes long, past a's time
            pass

    def sender(name: bytes, on_first: asyncio.Event | None = None) -> Any:
        async def send(message: Message) -> None:
            if message.get("body"):
                seen.append(message["body"])
                if on_first is not None:
                    on_first.set()
            elif message["type"] == "http.response.body" and not message["more_body"]:
                seen.append(name + b" ended")

        return send

    a = asyncio.create_task(served(EventStream(running(), options), sender(b"a", a_parked)))
    await a_parked.wait()  # "a" sent its first frame and waits in the pacer
    try:
        await served(EventStream(ending(), options), sender(b"b"))
        # (On a machine that stalled this test past a's time before b's tick, a's tick comes first,
        # by the loop's timer: a1 precedes b1, and a1 still precedes b's end.)
        assert b"a1" in seen, "a's frame waited for the end of b"
        assert seen.index(b"a1") < seen.index(b"b ended")
        assert seen[:2] == [b"a0", b"b0"]
        assert seen[-1] == b"b ended"
    finally:
        a.cancel()
        await asyncio.gather(a, return_exceptions=True)


async def test_no_ping_follows_the_last_frame_the_pacer_sent() -> None:
    # The pacer's tick sends a paced stream's last frame, and the stream's task ends the response a
    # turn later; a ping whose time came in the same turn (before the tick) must not slip between.
    bodies: list[bytes] = []
    first_sent = asyncio.Event()

    async def frames() -> AsyncGenerator[bytes, None]:
        yield b"first "
        await Due(time.monotonic() + 0.02)
        yield b"last"  # made by the pacer's tick; the frames end there

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message["body"])
            first_sent.set()

    task = asyncio.create_task(served(EventStream(frames(), StreamOptions(ping_seconds=0.01)), send))
    await first_sent.wait()  # the stream waits in the pacer, its ping's sleep has begun
    held_until = time.monotonic() + 0.04
    while time.monotonic() < held_until:  # a busy turn: the ping and then the tick come due in it
        pass
    await task
    assert bodies == [b"first ", b"last", b""]
