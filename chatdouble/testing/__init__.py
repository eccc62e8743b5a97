"""Testing with chatdouble (docs/testing.md): a client for the admin API, servers started from Python,
and the pytest plugin (`chatdouble.testing.plugin`, loaded through the `pytest11` entry point).

    from chatdouble.testing import ChatDouble, ThreadServer

    with ThreadServer() as server, ChatDouble(server, session="demo") as double:
        double.reply("Hello!", match={"last_user": {"contains": "hi"}})
        client = double.openai_client()
"""

from chatdouble.testing import documents
from chatdouble.testing.async_client import AsyncChatDouble
from chatdouble.testing.client import ChatDouble, ChatDoubleError, Endpoint, External
from chatdouble.testing.servers import InProcessServer, SubprocessServer, ThreadServer, server_settings

__all__ = [
    "AsyncChatDouble",
    "ChatDouble",
    "ChatDoubleError",
    "Endpoint",
    "External",
    "InProcessServer",
    "SubprocessServer",
    "ThreadServer",
    "documents",
    "server_settings",
]
