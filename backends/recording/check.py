"""`chatdouble cassettes check DIR [--journal FILE]`: which recordings the last test run no longer uses.

The journal (the `journal` setting) holds every chat request of the run with its key and a digest
per field. A recording (a fixture with `match.request`) is **used** when some request of the run had
its key, or was answered by it. An unused recording is **stale** when a request of the run looks like
its replacement: a request no recording had (or one recorded during the run) for the same model
with some field besides the model alike (the system message, the tools, ...), paired one to one,
most alike first. The test still exists but sends something else; the report names the fields that
differ. Otherwise it is **unused**. Hand-written fixtures in
the directory count as used when the journal says they answered. Requests of the run that found no
recording (`outcome: miss` from a replaying proxy) are reported too. Any finding makes the exit status 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from backends.fixtures import FixtureLoadError, load
from backends.request_key import differing, field_digests, normalize, request_key


@dataclass(frozen=True, slots=True)
class Recording:
    id: str
    source: str
    model: str | None
    key: str | None
    fields: dict[str, str]


def read_journal(path: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """The journal's entries with their line numbers, and problems (unreadable lines)."""
    entries: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError as exc:
        return [], [f"{path}: cannot read the journal: {exc.strerror or exc}"]
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            item = None
        if isinstance(item, dict):
            entries.append((number, item))
        else:
            problems.append(f"{path}:{number}: not a journal entry (skipped)")
    return entries, problems


def recordings(directory: str) -> list[Recording]:
    out = []
    for item in load([directory]):
        request = item.fixture.match.request
        view = normalize(request) if request is not None else None
        out.append(
            Recording(
                id=item.fixture.id,
                source=item.source,
                model=str(view.get("model")) if view is not None else None,
                key=request_key(view) if view is not None else None,
                fields=field_digests(view) if view is not None else {},
            )
        )
    return out


def _likeness(a: dict[str, str], b: dict[str, str]) -> float:
    """The share of fields (the model aside) whose digests are equal."""
    names = (set(a) | set(b)) - {"model"}
    return sum(1 for name in names if a.get(name) == b.get(name)) / len(names) if names else 0.0


def pair(
    unused: list[Recording], candidates: list[tuple[int, dict[str, Any]]]
) -> dict[str, tuple[int, list[str]]]:
    """Unused recordings paired one to one with the requests that replaced them: the same model and
    the most fields alike (at least one besides the model). Recording id -> (journal line, fields)."""
    scored = []
    for order, recording in enumerate(unused):
        for number, item in candidates:
            fields = item.get("fields")
            if item.get("model") == recording.model and isinstance(fields, dict):
                likeness = _likeness(recording.fields, fields)
                if likeness > 0:
                    scored.append((-likeness, order, number, recording, fields))
    pairs: dict[str, tuple[int, list[str]]] = {}
    taken: set[int] = set()
    for _, _, number, recording, fields in sorted(scored, key=lambda s: s[:3]):
        if recording.id not in pairs and number not in taken:
            pairs[recording.id] = (number, differing(recording.fields, fields))
            taken.add(number)
    return pairs


def check(directory: str, journal: str | None) -> tuple[list[str], int]:
    """Report lines and the exit status."""
    try:
        found = recordings(directory)
    except FixtureLoadError as exc:
        return [str(problem) for problem in exc.problems] + [f"chatdouble: {len(exc.problems)} problem(s)"], 1
    if journal is None:
        return [f"ok: {len(found)} recordings in {directory} (give --journal FILE to find stale ones)"], 0
    entries, lines = read_journal(journal)
    keys = {item.get("hash") for _, item in entries}
    answered = {item.get("fixture") for _, item in entries}
    unused = [r for r in found if r.id not in answered and not (r.key is not None and r.key in keys)]
    recorded = {r.key for r in found}
    # Requests a changed test sends now: no recording had them, or they were recorded in this run.
    candidates = [
        (number, item)
        for number, item in entries
        if item.get("hash") not in recorded or item.get("outcome") == "recorded"
    ]
    pairs = pair([r for r in unused if r.key is not None], candidates)
    for recording in unused:
        if recording.id in pairs:
            number, fields = pairs[recording.id]
            lines.append(
                f"stale: {recording.source}: '{recording.id}' matches no request of the run; the request "
                f"at {journal}:{number} looks like its replacement (differs in {', '.join(fields[:6])})"
            )
        else:
            lines.append(f"unused: {recording.source}: '{recording.id}' answered no request of the run")
    stale = len(pairs)
    misses = [(n, item) for n, item in entries if item.get("outcome") == "miss" and item.get("mode")]
    for number, item in misses:
        lines.append(
            f"missing: {journal}:{number}: a request for model {item.get('model')!r} (key {item.get('hash')}) "
            "found no recording"
        )
    summary = f"{len(found)} recordings, {len(entries)} requests in {journal}"
    if unused or misses:
        lines.append(
            f"chatdouble: {stale} stale, {len(unused) - stale} unused, {len(misses)} missing ({summary})"
        )
        return lines, 1
    return [*lines, f"ok: every recording was used ({summary})"], 0
