"""What an image costs in prompt tokens, per model family, as the API prices it.

Source: OpenAI's vision guide, "Calculating costs" (platform.openai.com/docs/guides/images-vision
#calculating-costs; copies quoted in openai/openai-python#2851). Two schemes:

- Tiles (gpt-4o, gpt-4.1, gpt-4o-mini, o1, o3, gpt-5, computer-use): `detail: low` costs the base.
  Otherwise the image is scaled to fit a 2048 x 2048 square, then down so its shortest side is 768px,
  and each 512px tile costs `tile` more than the base. fit (usage corpus): an image smaller than that
  is not scaled up (gpt-4o 640x480: 85 + 2 x 170 = 425; 100x100 and 1x1: one tile), and `auto` (or no
  detail) is priced as high.
- Patches (gpt-4.1-mini, gpt-4.1-nano, o4-mini, gpt-5-mini, gpt-5-nano): the image is covered by 32px
  patches, at most 1536 (a larger image is scaled down to fit, the guide's shrink-factor steps), and
  the patches are multiplied by the model's multiplier. The guide's multipliers for gpt-5-mini (1.62)
  and gpt-5-nano (2.46) do not match recorded usage (a 640x480 image costs 361 and 451 tokens, not
  486 and 738): fit 1.2 and 1.5 (gpt-5-mini's 1.2 is what a community measurement found too, from
  256x256 to the 1536-patch cap: "GPT-5-mini image input token calculation discrepancy with official
  FAQ formula", OpenAI Developer Community, June 2026). fit: every patch model's recorded count is one token above the
  guide's (14 pairs over five models, e.g. o4-mini and gpt-4.1-mini 640x480): `PATCH_IMAGE_EXTRA`.

An image the server cannot see (an `http(s)` URL when `images` is not `fetch`, or a file id) is
priced as a 512 x 512 image, one tile (255 tokens on gpt-4o): an estimate. The images of recorded
traffic are mostly small (icons, thumbnails, 640x480 test pictures); a larger guess overprices them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from server.errors import APIError
from server.generation.images import ImageSize, data_url_bytes, read_size


@dataclass(frozen=True, slots=True)
class Tiles:
    base: int
    tile: int


@dataclass(frozen=True, slots=True)
class Patches:
    multiplier: float


Pricing = Tiles | Patches

# First match wins: the mini and nano names before their family's.
PRICES: tuple[tuple[re.Pattern[str], Pricing], ...] = (
    (re.compile(r"^gpt-4o-mini"), Tiles(2833, 5667)),
    (re.compile(r"^gpt-4\.1-mini"), Patches(1.62)),
    (re.compile(r"^gpt-4\.1-nano"), Patches(2.46)),
    (re.compile(r"^o4-mini"), Patches(1.72)),
    (re.compile(r"^gpt-5(\.\d+)?-mini"), Patches(1.2)),  # fit, see above
    (re.compile(r"^gpt-5(\.\d+)?-nano"), Patches(1.5)),  # fit, see above
    (re.compile(r"^gpt-5"), Tiles(70, 140)),
    (re.compile(r"^o(1|3)"), Tiles(75, 150)),
    (re.compile(r"^computer-use"), Tiles(65, 129)),
)
DEFAULT = Tiles(85, 170)
"""gpt-4o, gpt-4.1, gpt-4.5 and any other name."""

ESTIMATE = ImageSize(512, 512)
PATCH_IMAGE_EXTRA = 1
PATCH = 32
MAX_PATCHES = 1536
LOW_SIDE = 512  # detail low on a patch model: the guide's low-resolution 512 x 512 (an estimate)


def pricing(model: str) -> Pricing:
    name = model.removeprefix("ft:")
    return next((price for pattern, price in PRICES if pattern.match(name)), DEFAULT)


def image_tokens(model: str, detail: str | None, size: ImageSize) -> int:
    price = pricing(model)
    if isinstance(price, Tiles):
        if detail == "low":
            return price.base
        return price.base + price.tile * _tiles(size)
    if detail == "low":
        scale = min(1.0, LOW_SIDE / max(size.width, size.height))
        size = ImageSize(max(1, int(size.width * scale)), max(1, int(size.height * scale)))
    return math.ceil(_patches(size) * price.multiplier) + PATCH_IMAGE_EXTRA


def _tiles(size: ImageSize) -> int:
    width, height = size.width, size.height
    if max(width, height) > 2048:
        width, height = width * 2048 // max(width, height), height * 2048 // max(width, height)
    if min(width, height) > 768:
        width, height = width * 768 // min(width, height), height * 768 // min(width, height)
    return math.ceil(width / 512) * math.ceil(height / 512)


def _patches(size: ImageSize) -> int:
    width, height = size.width, size.height
    patches = math.ceil(width / PATCH) * math.ceil(height / PATCH)
    if patches <= MAX_PATCHES:
        return patches
    shrink = math.sqrt(MAX_PATCHES * PATCH * PATCH / (width * height))
    # The guide then shrinks a little more, so that one side is a whole number of patches.
    across, down = width * shrink / PATCH, height * shrink / PATCH
    shrink *= min(math.floor(across) / across, math.floor(down) / down)
    width, height = int(width * shrink), int(height * shrink)
    return min(MAX_PATCHES, math.ceil(width / PATCH) * math.ceil(height / PATCH))


def image_size(url: str, fetched: Mapping[str, ImageSize]) -> ImageSize:
    """The size the image is priced at: read from a `data:` URL (raising the API's error for one
    that is not an image it takes), fetched earlier, or the estimate."""
    if url.startswith("data:"):
        data = data_url_bytes(url)
        if data is None:
            # The API's words (sipherxyz/comfyui-art-venture#75). Newer answers name the field for
            # an empty payload ("Invalid 'input[101].content[1].image_url'. Expected a base64-encoded
            # data URL with an image MIME type ..., but got empty base64-encoded bytes.",
            # anomalyco/opencode#23983); the part's path is not known here, so the older words stay.
            raise APIError(400, "Invalid base64 image_url.", code="invalid_image_url")
        size = read_size(data)
        if size is None:
            raise unsupported_image()
        return size
    return fetched.get(url, ESTIMATE)


def unsupported_image() -> APIError:
    # The API's words and code (recorded in public error handlers, e.g. an `image_parse_error` test).
    return APIError(
        400,
        "You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is "
        "of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
        code="image_parse_error",
    )
