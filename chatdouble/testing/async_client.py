"""The admin API client, async: the calls of `ChatDouble` (chatdouble.testing.client), to await."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from chatdouble.testing import documents
from chatdouble.testing.client import DEFAULT_KEY, AdminClientBase, Count, Endpoint, Fixtures


class AsyncChatDouble(AdminClientBase):
    """The admin API of one namespace, over an async httpx client (the same calls as ChatDouble)."""

    def __init__(
        self,
        server: Endpoint | str,
        *,
        api_key: str = DEFAULT_KEY,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(server, api_key=api_key, session=session)
        self._http = httpx.AsyncClient(
            base_url=self.url, transport=self.server.async_transport(), timeout=timeout
        )

    async def __aenter__(self) -> AsyncChatDouble:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **options: Any) -> Any:
        headers = {**self.headers, **options.pop("headers", {})}
        return self._checked(await self._http.request(method, path, headers=headers, **options))

    async def add(self, fixtures: Fixtures) -> list[dict[str, Any]]:
        body = await self._call("POST", "/_chatdouble/fixtures", **self._fixtures_body(fixtures))
        data: list[dict[str, Any]] = body["data"]
        return data

    async def reply(
        self, text: str, *, match: Mapping[str, Any] | None = None, template: bool = False, **options: Any
    ) -> str:
        reply = documents.text(text, template=True) if template else documents.text(text)
        return await self._one(documents.fixture(reply, match=match, **options))

    async def tool_call(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        match: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> str:
        return await self._one(
            documents.fixture(documents.tool_call(name, arguments), match=match, **options)
        )

    async def error(
        self,
        status: int,
        message: str | None = None,
        *,
        match: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> str:
        fields = {name: options.pop(name) for name in ("type", "code", "param", "headers") if name in options}
        return await self._one(
            documents.fixture(documents.error(status, message, **fields), match=match, **options)
        )

    async def sequence(
        self,
        steps: Sequence[str | Mapping[str, Any]],
        *,
        match: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> str:
        return await self._one(documents.fixture(sequence=steps, match=match, **options))

    async def _one(self, fixture: dict[str, Any]) -> str:
        identifier: str = (await self.add(fixture))[0]["id"]
        return identifier

    async def requests(self, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        while True:
            page_size = 1000 if limit is None else min(1000, limit - len(entries))
            page = await self._call(
                "GET", "/_chatdouble/requests", params={"since": since, "limit": page_size}
            )
            entries.extend(page["data"])
            if not page["has_more"] or not page["data"] or (limit is not None and len(entries) >= limit):
                return entries
            since = page["data"][-1]["seq"]

    async def verify(
        self, match: Mapping[str, Any] | None = None, count: Count = None, *, endpoint: str | None = None
    ) -> dict[str, Any]:
        result = await self._call(
            "POST", "/_chatdouble/verify", json=self._verify_body(match, count, endpoint)
        )
        return self._verified(result, match)

    async def reset(
        self, *, fixtures: bool = True, sequences: bool = True, journal: bool = True
    ) -> dict[str, Any]:
        parts = {"fixtures": fixtures, "sequences": sequences, "journal": journal}
        result: dict[str, Any] = await self._call("POST", "/_chatdouble/reset", json=parts)
        return result
