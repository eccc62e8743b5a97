"""A client for chatdouble's admin API (`/_chatdouble/...`, docs/admin.md), sync and async.

A client acts on one namespace: its API key plus, when given, an `X-Chatdouble-Session`. The
`openai` clients it hands out send the same two, so what they ask is answered by the fixtures added
here and shows up in `requests()` and `verify()` here, and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from chatdouble.testing import documents
from server.namespaces import SESSION_HEADER

if TYPE_CHECKING:
    import openai

DEFAULT_KEY = "sk-chatdouble-test"
Fixtures = Mapping[str, Any] | Sequence[Mapping[str, Any]] | str
Count = int | Mapping[str, int] | None


class Endpoint(Protocol):
    """Where a server is reached: its root URL, and the transports to use instead of sockets (an
    in-process server's), or None for the network."""

    @property
    def url(self) -> str: ...

    def transport(self) -> httpx.BaseTransport | None: ...

    def async_transport(self) -> httpx.AsyncBaseTransport | None: ...


class External:
    """A server already running at `url` (its root, without `/v1`)."""

    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/").removesuffix("/v1")

    @property
    def url(self) -> str:
        return self._url

    def transport(self) -> httpx.BaseTransport | None:
        return None

    def async_transport(self) -> httpx.AsyncBaseTransport | None:
        return None


class ChatDoubleError(Exception):
    """The admin API refused a call; the message is the server's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"chatdouble answered {status}: {message}")
        self.status = status
        self.message = message


class AdminClientBase:
    """What the sync and async clients share: the namespace, and building and reading admin calls."""

    def __init__(
        self, server: Endpoint | str, *, api_key: str = DEFAULT_KEY, session: str | None = None
    ) -> None:
        self.server: Endpoint = External(server) if isinstance(server, str) else server
        self.api_key = api_key
        self.session = session

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def base_url(self) -> str:
        """What an OpenAI client's `base_url` is: the server's `/v1`."""
        return self.server.url + "/v1"

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if self.session is not None:
            headers[SESSION_HEADER] = self.session
        return headers

    def _openai_options(self, options: dict[str, Any]) -> dict[str, Any]:
        headers = {**self.headers, **options.pop("default_headers", {})}
        headers.pop("Authorization")
        return {"base_url": self.base_url, "api_key": self.api_key, "default_headers": headers, **options}

    # OpenAI clients bound to the namespace

    def openai_client(self, **options: Any) -> openai.OpenAI:
        """An `openai.OpenAI` that talks to this namespace (`options` go to its constructor)."""
        import openai

        transport = self.server.transport()
        if transport is not None and "http_client" not in options:
            options["http_client"] = httpx.Client(transport=transport)
        return openai.OpenAI(**self._openai_options(options))

    def async_openai_client(self, **options: Any) -> openai.AsyncOpenAI:
        """An `openai.AsyncOpenAI` that talks to this namespace."""
        import openai

        transport = self.server.async_transport()
        if transport is not None and "http_client" not in options:
            options["http_client"] = httpx.AsyncClient(transport=transport)
        return openai.AsyncOpenAI(**self._openai_options(options))

    @staticmethod
    def _fixtures_body(fixtures: Fixtures) -> dict[str, Any]:
        if isinstance(fixtures, str):
            return {"content": fixtures.encode(), "headers": {"Content-Type": "application/yaml"}}
        body = dict(fixtures) if isinstance(fixtures, Mapping) else [dict(item) for item in fixtures]
        return {"json": body}

    @staticmethod
    def _verify_body(match: Mapping[str, Any] | None, count: Count, endpoint: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"match": dict(match or {})}
        if count is not None:
            body["count"] = {"eq": count} if isinstance(count, int) else dict(count)
        if endpoint is not None:
            body["endpoint"] = endpoint
        return body

    @staticmethod
    def _checked(response: httpx.Response) -> Any:
        if response.is_success:
            return response.json()
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text
        raise ChatDoubleError(response.status_code, message)

    @staticmethod
    def _verified(result: dict[str, Any], match: Mapping[str, Any] | None) -> dict[str, Any]:
        if not result["ok"]:
            raise AssertionError(verification_message(result, match))
        return result


def verification_message(result: Mapping[str, Any], match: Mapping[str, Any] | None) -> str:
    """What a failed verify says: the count against the expectation, then the closest requests and
    the conditions each of them failed."""
    expected = ", ".join(f"{name} {value}" for name, value in result["expected"].items())
    matched = result["matched"]
    lines = [
        f"chatdouble: expected a count of requests with {expected} matching {json.dumps(dict(match or {}))}, "
        f"found {result['count']}" + (f" (seq {', '.join(map(str, matched))})" if matched else "")
    ]
    if result["near_misses"]:
        lines.append("closest requests that did not match:")
        for miss in result["near_misses"]:
            lines.append(f"  seq {miss['seq']}: " + "; ".join(miss["reasons"]))
    return "\n".join(lines)


class ChatDouble(AdminClientBase):
    """The admin API of one namespace, over a sync httpx client."""

    def __init__(
        self,
        server: Endpoint | str,
        *,
        api_key: str = DEFAULT_KEY,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(server, api_key=api_key, session=session)
        self._http = httpx.Client(base_url=self.url, transport=self.server.transport(), timeout=timeout)

    def __enter__(self) -> ChatDouble:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **options: Any) -> Any:
        headers = {**self.headers, **options.pop("headers", {})}
        return self._checked(self._http.request(method, path, headers=headers, **options))

    # Fixtures

    def add(self, fixtures: Fixtures) -> list[dict[str, Any]]:
        """Add fixtures: one (a mapping), several (a list, or `{"fixtures": [...]}`), or a YAML
        document as a string. Answers the fixtures as the server holds them, each with its id."""
        data: list[dict[str, Any]] = self._call(
            "POST", "/_chatdouble/fixtures", **self._fixtures_body(fixtures)
        )["data"]
        return data

    def reply(
        self, text: str, *, match: Mapping[str, Any] | None = None, template: bool = False, **options: Any
    ) -> str:
        """Answer `text` to the requests `match` selects (all, without one); the fixture's id. With
        `template=True`, `{{ tool_result }}` and the other facts of the request are filled in.
        `options` are the fixture's other fields (`id`, `times`, `priority`, `timing`, ...)."""
        reply = documents.text(text, template=True) if template else documents.text(text)
        return self._one(documents.fixture(reply, match=match, **options))

    def tool_call(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        match: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> str:
        """Answer a call of tool `name` with `arguments`; the fixture's id."""
        return self._one(documents.fixture(documents.tool_call(name, arguments), match=match, **options))

    def error(
        self,
        status: int,
        message: str | None = None,
        *,
        match: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> str:
        """Answer an API error (`type`, `code`, `param`, `headers` as keywords); the fixture's id."""
        fields = {name: options.pop(name) for name in ("type", "code", "param", "headers") if name in options}
        return self._one(
            documents.fixture(documents.error(status, message, **fields), match=match, **options)
        )

    def sequence(
        self,
        steps: Sequence[str | Mapping[str, Any]],
        *,
        match: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> str:
        """Answer the steps in order, one per request (a string is a text reply); the fixture's id."""
        return self._one(documents.fixture(sequence=steps, match=match, **options))

    def _one(self, fixture: dict[str, Any]) -> str:
        identifier: str = self.add(fixture)[0]["id"]
        return identifier

    def fixtures(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._call("GET", "/_chatdouble/fixtures")["data"]
        return data

    def delete_fixture(self, fixture_id: str) -> None:
        self._call("DELETE", f"/_chatdouble/fixtures/{fixture_id}")

    def clear_fixtures(self) -> int:
        deleted: int = self._call("DELETE", "/_chatdouble/fixtures")["deleted"]
        return deleted

    # Journal and verify

    def requests(self, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The namespace's journaled requests after `since`, oldest first: `limit` of them, or all."""
        entries: list[dict[str, Any]] = []
        while True:
            page_size = 1000 if limit is None else min(1000, limit - len(entries))
            page = self._call("GET", "/_chatdouble/requests", params={"since": since, "limit": page_size})
            entries.extend(page["data"])
            if not page["has_more"] or not page["data"] or (limit is not None and len(entries) >= limit):
                return entries
            since = page["data"][-1]["seq"]

    def clear_requests(self) -> int:
        deleted: int = self._call("DELETE", "/_chatdouble/requests")["deleted"]
        return deleted

    def verify(
        self, match: Mapping[str, Any] | None = None, count: Count = None, *, endpoint: str | None = None
    ) -> dict[str, Any]:
        """Assert that the journaled requests matching `match` (the fixtures' match language) meet
        `count`: a number (exactly), `{"min": n}`, `{"max": n}`; by default at least one. Raises
        AssertionError naming the closest requests and why they missed."""
        result = self._call("POST", "/_chatdouble/verify", json=self._verify_body(match, count, endpoint))
        return self._verified(result, match)

    def reset(self, *, fixtures: bool = True, sequences: bool = True, journal: bool = True) -> dict[str, Any]:
        """Forget the namespace's runtime fixtures, sequence positions and journal (or those named)."""
        parts = {"fixtures": fixtures, "sequences": sequences, "journal": journal}
        result: dict[str, Any] = self._call("POST", "/_chatdouble/reset", json=parts)
        return result
