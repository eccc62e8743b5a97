"""What can go wrong talking to an upstream, as the proxy tells it apart:

    UpstreamError
    ├── ConnectError               the connection could not be opened (refused, no route, TLS refused)
    │   └── ConnectTimeoutError    nor within `connect_timeout`
    ├── ReadTimeoutError           no byte came for `read_timeout` while an answer was due
    └── BrokenConnectionError      closed or reset before the answer ended, or not HTTP/1.1

A leaf that imports nothing of ours.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """The upstream could not be asked, or did not answer in full. The message says why, briefly."""


class ConnectError(UpstreamError):
    pass


class ConnectTimeoutError(ConnectError):
    pass


class ReadTimeoutError(UpstreamError):
    pass


class BrokenConnectionError(UpstreamError):
    pass
