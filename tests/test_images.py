"""An image's size is read from its header for each format the API takes, and anything else reads
as not an image."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from server.generation.images import ImageSize, data_url_bytes, read_size
from tests.support import images


@pytest.mark.parametrize(
    "build",
    [
        images.png,
        images.jpeg,
        images.gif,
        images.webp_lossy,
        images.webp_lossless,
        images.webp_extended,
    ],
)
def test_each_format_the_api_takes_gives_its_width_and_height(build: Callable[[int, int], bytes]) -> None:
    assert read_size(build(640, 480)) == ImageSize(640, 480)
    assert read_size(build(1, 3000)) == ImageSize(1, 3000)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"BM" + b"\x00" * 40,  # BMP: an image, but not one the API takes
        images.png(640, 480)[:20],  # cut inside the header
        images.jpeg(640, 480)[:30],
        images.webp_lossless(640, 480)[:22],
        images.png(0, 480),
    ],
)
def test_anything_else_is_not_an_image(data: bytes) -> None:
    assert read_size(data) is None


def test_a_data_url_gives_its_base64_payload_and_nothing_else() -> None:
    assert data_url_bytes(images.data_url(b"abc")) == b"abc"
    assert data_url_bytes("data:image/png;base64,YWJj\nZGVm") == b"abcdef"
    assert data_url_bytes("data:image/png,abc") is None  # not base64
    assert data_url_bytes("data:image/png;base64,@@@") is None
    assert data_url_bytes("data:image/png;base64,") is None
