"""What the tests share, as plain modules: `sse` (the one SSE parser), `requests` (posting chat
requests, reading replies), `backends` (the one scripted backend), and the apps, upstreams and
checks of the fixture, proxy and contract tests. Fixtures stay in `conftest.py` files."""
