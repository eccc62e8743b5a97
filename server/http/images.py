"""Downloading a request's `http(s)` images to price them, when `images: fetch` opts in.

The API downloads every image URL it is sent and prices it by its size; by default we download
nothing and price such an image by an estimate (server/generation/image_tokens.py). With `fetch`, each
distinct URL is downloaded once per request (up to the API's 20 MB), and a URL
that cannot be downloaded is answered as the API answers it (a 400 naming the URL).
"""

from __future__ import annotations

import dataclasses

import httpx

from server.errors import APIError
from server.generation.conversation import Conversation
from server.generation.image_tokens import unsupported_image
from server.generation.images import ImageSize, read_size

MAX_IMAGE_BYTES = 20 * 1024 * 1024  # the API's limit, which its error names
TIMEOUT = httpx.Timeout(10.0)


def image_urls(conversation: Conversation) -> list[str]:
    urls = (
        part.url
        for message in conversation.messages
        for part in message.parts or ()
        if part.kind == "image" and part.url.startswith(("http://", "https://"))
    )
    return list(dict.fromkeys(urls))


async def with_fetched_images(conversation: Conversation) -> Conversation:
    """The conversation with the sizes of its `http(s)` images, downloaded."""
    urls = image_urls(conversation)
    if not urls:
        return conversation
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True) as client:
        sizes = {url: await _size(client, url) for url in urls}
    return dataclasses.replace(conversation, image_sizes=sizes)


async def _size(client: httpx.AsyncClient, url: str) -> ImageSize:
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise _download_error(url)
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_IMAGE_BYTES:
                    raise unsupported_image()
    except httpx.TimeoutException:
        raise APIError(400, f"Timeout while downloading {url}.", code="invalid_image_url") from None
    except httpx.HTTPError:
        raise _download_error(url) from None
    size = read_size(bytes(data))
    if size is None:
        raise unsupported_image()
    return size


# The API's words, param null, code invalid_image_url, as clients quote them: "Error while downloading
# https://files.gumroad.com/bad.psd." (a recorded error in Gumroad's tests), "Timeout while
# downloading https://....", with the same code (recorded in public image-handling fixes).
def _download_error(url: str) -> APIError:
    return APIError(400, f"Error while downloading {url}.", code="invalid_image_url")
