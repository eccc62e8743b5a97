"""The journal file: append-only JSON lines (the journal's entries are built in server/control)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from server.state import codec


class Journal:
    """An append-only JSON-lines file; one `write` per line, so workers' lines never interleave."""

    def __init__(self, path: str) -> None:
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, entry: dict[str, Any]) -> None:
        os.write(self._fd, codec.dumps(entry) + b"\n")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
