"""Images cost prompt tokens as the API prices them: by size and detail, per model family.

The worked examples of OpenAI's vision guide ("Calculating costs") and counts recorded from the real
API (tests/data/usage_corpus.jsonl) are the expected numbers. A `data:` URL that is not an image the
API takes is refused with its error; an `http(s)` URL is priced by an estimate unless `images: fetch`
opts in to downloading it (from a loopback server here).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Response

from server.generation.image_tokens import image_tokens
from server.generation.images import ImageSize
from tests.conftest import MakeApp
from tests.servers import LiveServer, serve
from tests.support import images
from tests.support.requests import chat_client, error_of


@pytest.mark.parametrize(
    ("model", "detail", "width", "height", "tokens"),
    [
        ("gpt-4o", "high", 1024, 1024, 765),  # guide: scaled to 768 x 768, 4 tiles
        ("gpt-4o", "high", 2048, 4096, 1105),  # guide: 1024 x 2048, then 768 x 1536, 6 tiles
        ("gpt-4o", "low", 4096, 8192, 85),  # guide: low is the base, whatever the size
        ("gpt-4o", None, 640, 480, 425),  # recorded: not scaled up, 2 tiles
        ("gpt-4o-mini", "auto", 1, 1, 8500),  # recorded: 2833 + 5667
        ("gpt-4o-mini", None, 640, 480, 14167),  # recorded
        ("gpt-5", None, 640, 480, 350),  # recorded: 70 + 2 x 140
        ("o3", "low", 640, 480, 75),
        ("gpt-4.1-mini", "high", 1024, 1024, 1660),  # guide: 1024 patches x 1.62, +1 (recorded)
        ("gpt-4.1-nano", "high", 1800, 2400, 3573),  # guide: shrunk to 1452 patches, x 2.46, +1
        ("o4-mini", None, 640, 480, 517),  # recorded
        ("gpt-5-nano", None, 640, 480, 451),  # recorded
    ],
)
def test_images_cost_what_the_guide_and_the_recordings_say(
    model: str, detail: str | None, width: int, height: int, tokens: int
) -> None:
    assert image_tokens(model, detail, ImageSize(width, height)) == tokens


def image_message(url: str, detail: str | None = None) -> list[dict[str, Any]]:
    image: dict[str, Any] = {"url": url} if detail is None else {"url": url, "detail": detail}
    return [{"role": "user", "content": [{"type": "image_url", "image_url": image}]}]


async def prompt_tokens(app: FastAPI, model: str, url: str, detail: str | None = None) -> int:
    async with chat_client(app) as chat:
        return int((await chat.ask(image_message(url, detail), model=model))["usage"]["prompt_tokens"])


async def test_a_data_url_image_is_priced_by_the_size_in_its_header(make_app: MakeApp) -> None:
    app = make_app()
    # Recorded: gpt-4o-mini with one 640x480 image and no text: 7 + 14167 (the same request as
    # a 1x1 image costs 7 + 8500).
    small = await prompt_tokens(app, "gpt-4o-mini", images.data_url(images.gif(1, 1), "image/gif"))
    large = await prompt_tokens(app, "gpt-4o-mini", images.data_url(images.jpeg(640, 480), "image/jpeg"))
    assert large - small == 5667
    webp = await prompt_tokens(app, "gpt-4o", images.data_url(images.webp_lossy(2048, 4096), "image/webp"))
    low = await prompt_tokens(app, "gpt-4o", images.data_url(images.png(2048, 4096)), detail="low")
    assert webp - low == 1105 - 85


async def test_an_http_image_is_priced_as_one_tile_without_fetching(make_app: MakeApp) -> None:
    app = make_app()
    high = await prompt_tokens(app, "gpt-4o", "http://127.0.0.1:9/never-fetched.png", detail="high")
    low = await prompt_tokens(app, "gpt-4o", "http://127.0.0.1:9/never-fetched.png", detail="low")
    assert high - low == 170


@pytest.mark.parametrize(
    ("url", "message", "code"),
    [
        (
            images.data_url(b"GIF87a"),
            "You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is "
            "of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
            "image_parse_error",
        ),
        ("data:image/png;base64,not base64!", "Invalid base64 image_url.", "invalid_image_url"),
    ],
)
async def test_a_data_url_that_is_no_image_gets_the_api_error(
    make_app: MakeApp, url: str, message: str, code: str
) -> None:
    async with chat_client(make_app()) as chat:
        response = await chat.post(image_message(url), model="gpt-4o")
    assert response.status_code == 400
    assert error_of(response) == {
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": code,
    }


async def test_a_responses_input_image_is_priced_by_its_size(make_app: MakeApp) -> None:
    def body(url: str) -> dict[str, Any]:
        part = {"type": "input_image", "image_url": url, "detail": "auto"}
        return {"model": "gpt-4o", "input": [{"role": "user", "content": [part]}]}

    async with chat_client(make_app()) as chat:
        one = await chat.http.post("/v1/responses", json=body(images.data_url(images.png(100, 100))))
        two = await chat.http.post("/v1/responses", json=body(images.data_url(images.png(640, 480))))
    assert two.json()["usage"]["input_tokens"] - one.json()["usage"]["input_tokens"] == 170


@pytest.fixture
def picture_server() -> Iterator[LiveServer]:
    """A loopback server with one 640x480 PNG at /picture.png and a 404 elsewhere."""
    pictures = FastAPI()

    @pictures.get("/picture.png")
    def picture() -> Response:
        return Response(images.png(640, 480) + b"\x00" * 1000, media_type="image/png")

    @pictures.get("/page.html")
    def page() -> Response:
        return Response("<html></html>", media_type="text/html")

    with serve(pictures) as server:
        yield server


async def test_with_fetch_an_http_image_is_downloaded_and_priced_by_its_size(
    make_app: MakeApp, picture_server: LiveServer
) -> None:
    url = picture_server.url + "/picture.png"
    fetched = await prompt_tokens(make_app(images="fetch"), "gpt-4o", url)
    estimated = await prompt_tokens(make_app(), "gpt-4o", url)
    assert fetched - estimated == 425 - 255  # two tiles, where the estimate is one


async def test_with_fetch_an_image_that_cannot_be_downloaded_gets_the_api_error(
    make_app: MakeApp, picture_server: LiveServer
) -> None:
    missing = picture_server.url + "/missing.png"
    async with chat_client(make_app(images="fetch")) as chat:
        response = await chat.post(image_message(missing), model="gpt-4o")
        page = await chat.post(image_message(picture_server.url + "/page.html"), model="gpt-4o")
    assert response.status_code == 400
    assert error_of(response)["message"] == f"Error while downloading {missing}."
    assert error_of(response)["code"] == "invalid_image_url"
    assert page.status_code == 400
    assert error_of(page)["code"] == "image_parse_error"
