"""The PEP 517 build backend: setuptools, plus one step that moves the wheel under `chatdouble`.

The repository keeps `server/` and `backends/` at the top (the design card fixes that layout, and the
development install, mypy, import-linter and the tests all see them there). An installed wheel must not
put packages with such common names into a user's site-packages, so `build_wheel` lets setuptools build
the usual wheel and then rewrites it: `server` becomes `chatdouble.server`, `backends` becomes
`chatdouble.backends`, next to the repository's own `chatdouble` package. Every absolute import of
them, every string that names one of their modules (a uvicorn factory string, a class's `__module__`
compared against a table) and every entry point is rewritten with `tokenize` and `ast`, never with a
regular expression on raw text; anything that names those modules in a way this step cannot rewrite
with certainty (`import server.app` without `as`, an f-string or a computed name handed to
`importlib`) stops the build with the file and line.

`build_editable` and `build_sdist` are setuptools' own: the development install keeps the
repository's layout, and an sdist is built into a wheel by this same backend.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import io
import os
import re
import tokenize
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools

ROOT = "chatdouble"
MOVED = ("server", "backends")

# setuptools' hooks that need no change, re-exported for the frontend.
get_requires_for_build_wheel = _setuptools.get_requires_for_build_wheel
get_requires_for_build_sdist = _setuptools.get_requires_for_build_sdist
get_requires_for_build_editable = _setuptools.get_requires_for_build_editable
prepare_metadata_for_build_editable = _setuptools.prepare_metadata_for_build_editable
build_editable = _setuptools.build_editable
build_sdist = _setuptools.build_sdist

# `prepare_metadata_for_build_wheel` is left out on purpose: metadata prepared separately would carry
# setuptools' entry points and top_level.txt, which the wheel then contradicts.

_MODULE_PATH = re.compile(r"(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?P<attr>:[A-Za-z_][\w.]*)?")


class RewriteError(Exception):
    """A file names a moved module in a way this backend cannot rewrite with certainty."""


def build_wheel(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    name: str = _setuptools.build_wheel(wheel_directory, config_settings, None)
    path = Path(wheel_directory) / name
    relocate_wheel(path)
    return name


# ---------------------------------------------------------------------------------------------------
# The wheel


def relocate_wheel(path: Path) -> None:
    """Rewrite the wheel at `path` in place: the moved packages under ROOT, every reference to them
    rewritten, RECORD recomputed."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    names = {info.filename for info, _ in entries}
    dist_info = _dist_info_dir(names)
    modules = _module_names(names)
    out: list[tuple[str, bytes]] = []
    for info, data in entries:
        name = info.filename
        if name.endswith("/") or name == f"{dist_info}/RECORD":
            continue
        if name.startswith(f"{dist_info}/"):
            data = _rewrite_metadata(name.removeprefix(f"{dist_info}/"), data, modules)
        else:
            if name.endswith(".py"):
                data = rewrite_source(data, modules, where=name)
            name = _moved_path(name)
        out.append((name, data))
    _check_top_level(out, dist_info)
    out.append((f"{dist_info}/RECORD", _record(out, f"{dist_info}/RECORD")))
    temporary = path.with_suffix(".tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in out:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)
    os.replace(temporary, path)


def _dist_info_dir(names: Iterable[str]) -> str:
    found = {name.split("/", 1)[0] for name in names if name.split("/", 1)[0].endswith(".dist-info")}
    if len(found) != 1:
        raise RewriteError(f"expected one .dist-info directory in the wheel, found {sorted(found)}")
    return found.pop()


def _moved_path(name: str) -> str:
    top = name.split("/", 1)[0]
    return f"{ROOT}/{name}" if top in MOVED else name


def _module_names(names: Iterable[str]) -> frozenset[str]:
    """The dotted names of the moved packages and modules, as the repository spells them."""
    modules: set[str] = set()
    for name in names:
        if name.split("/", 1)[0] not in MOVED or not name.endswith(".py"):
            continue
        parts = name.removesuffix(".py").split("/")
        if parts[-1] == "__init__":
            parts.pop()
        modules.add(".".join(parts))
    return frozenset(modules)


def _check_top_level(out: list[tuple[str, bytes]], dist_info: str) -> None:
    tops = {name.split("/", 1)[0] for name, _ in out} - {dist_info}
    if tops != {ROOT}:
        raise RewriteError(f"the wheel would install top-level {sorted(tops - {ROOT})}; only {ROOT!r} may")


def _record(out: list[tuple[str, bytes]], record_name: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for name, data in out:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([name, f"sha256={digest}", len(data)])
    writer.writerow([record_name, "", ""])
    return buffer.getvalue().encode()


def _rewrite_metadata(name: str, data: bytes, modules: frozenset[str]) -> bytes:
    if name == "top_level.txt":
        return f"{ROOT}\n".encode()
    if name != "entry_points.txt":
        return data
    lines = []
    for line in data.decode().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith(("[", "#", ";")):
            rewritten = rewrite_module_path(value.strip(), modules)
            if rewritten is None and value.strip().split(".", 1)[0].split(":", 1)[0] in MOVED:
                raise RewriteError(f"entry_points.txt: {line!r} names a module that is not in the wheel")
            line = f"{key.rstrip()} = {rewritten or value.strip()}"
        lines.append(line)
    return ("\n".join(lines) + "\n").encode()


# ---------------------------------------------------------------------------------------------------
# Module paths and Python source


def rewrite_module_path(text: str, modules: frozenset[str]) -> str | None:
    """`server.app:create_app` -> `chatdouble.server.app:create_app`, when `text` is a module path
    (with an optional `:attribute`) whose module is one of `modules`; None when it is not a path
    into a moved package. A path into a moved package that names no module raises."""
    match = _MODULE_PATH.fullmatch(text)
    if match is None or match["module"].split(".", 1)[0] not in MOVED:
        return None
    module = match["module"]
    if "." not in module and match["attr"] is None:
        return None  # a bare word such as the `backends` settings key, not a module reference
    # `pkg.module:attr` names a module before the colon; a dotted path alone may end in an attribute
    # (`server.wire.Model`, as `__module__` tables or `mock.patch` spell them).
    known = module in modules or (match["attr"] is None and module.rsplit(".", 1)[0] in modules)
    if not known:
        raise RewriteError(f"{text!r} looks like a path into {module.split('.', 1)[0]!r} but names no module")
    return f"{ROOT}.{text}"


def rewrite_source(data: bytes, modules: frozenset[str], *, where: str) -> bytes:
    """The module's source with every reference to a moved module rewritten (see the module doc)."""
    text = data.decode("utf-8")
    try:
        tree = ast.parse(text, filename=where)
    except SyntaxError as exc:
        raise RewriteError(f"{where}: cannot parse: {exc}") from None
    lines = text.splitlines(keepends=True)
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    edits: list[tuple[int, int, int, int, str]] = []  # (row, col, end_row, end_col, replacement)
    docstrings = _docstrings(tree)
    # The first arguments of calls that take a module or package name, where a bare `"server"` is one.
    package_arguments = {
        id(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _takes_a_package(node) and node.args
    }

    def fail(node: ast.AST, why: str) -> RewriteError:
        return RewriteError(f"{where}:{getattr(node, 'lineno', '?')}: {why}")

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _moved_root(node.module):
            token = _first_name_after(tokens, _position(lines, node.lineno, node.col_offset), "from")
            edits.append((*token.start, *token.start, f"{ROOT}."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not _moved_root(alias.name):
                    continue
                start = _position(lines, alias.lineno, alias.col_offset)
                if alias.asname is None and "." in alias.name:
                    raise fail(
                        node,
                        f"`import {alias.name}` binds {alias.name.split('.')[0]!r}: use `from ... import` or `as`",
                    )
                suffix = f" as {alias.name}" if alias.asname is None else ""
                token = _token_at(tokens, start)
                end = _dotted_end(tokens, token)
                edits.append((*start, *end, f"{ROOT}.{alias.name}{suffix}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            rewritten = _checked_path(node.value, modules, node, fail)
            if rewritten is None and id(node) in package_arguments and node.value in MOVED:
                rewritten = f"{ROOT}.{node.value}"  # resources.files("server"): a bare package name
            if rewritten is None:
                continue
            start = _position(lines, node.lineno, node.col_offset)
            token = _token_at(tokens, start)
            if token.type != tokenize.STRING or ast.literal_eval(token.string) != node.value:
                raise fail(node, f"{node.value!r} is built from several literals; write it as one")
            edits.append((*token.start, *token.end, f'"{rewritten}"'))  # a module path needs no escapes
        elif isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if (
                isinstance(head, ast.Constant)
                and isinstance(head.value, str)
                and _moved_root(head.value.split(":")[0])
                and "." in head.value
            ):
                raise fail(node, f"an f-string names a module path ({head.value!r}...); write it whole")
        elif isinstance(node, ast.Call) and _takes_a_package(node):
            argument = node.args[0] if node.args else None
            if argument is not None and not (
                isinstance(argument, ast.Constant) and isinstance(argument.value, str)
            ):
                raise fail(node, "a module or package named by a computed value cannot be rewritten")
    return _apply(lines, edits).encode("utf-8")


def _checked_path(value: str, modules: frozenset[str], node: ast.AST, fail: Any) -> str | None:
    try:
        return rewrite_module_path(value, modules)
    except RewriteError as exc:
        raise fail(node, str(exc)) from None


def _moved_root(module: str | None) -> bool:
    return module is not None and module.split(".", 1)[0] in MOVED


# Functions of importlib, importlib.resources and pkgutil whose first argument names a module or a
# package, where a bare "server" is one. Names specific enough to count however they are called...
_IMPORTERS = frozenset({"import_module", "__import__", "find_spec", "resolve_name", "get_loader"})
# ...and common names, which count only as attributes of those modules (`resources.files("server")`)
# or, for `files`, imported alone from importlib.resources.
_RESOURCE_READERS = frozenset(
    {
        "files",
        "get_data",
        "read_text",
        "read_binary",
        "open_text",
        "open_binary",
        "contents",
        "is_resource",
        "path",
    }
)
_RESOURCE_MODULES = frozenset({"resources", "importlib_resources", "pkgutil"})


def _takes_a_package(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in _IMPORTERS or func.id == "files"
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in _IMPORTERS:
        return True
    return (
        func.attr in _RESOURCE_READERS
        and isinstance(func.value, ast.Name)
        and func.value.id in _RESOURCE_MODULES
    )


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _position(lines: list[str], lineno: int, byte_offset: int) -> tuple[int, int]:
    """ast's (line, UTF-8 byte offset) as tokenize's (line, character offset)."""
    line = lines[lineno - 1]
    return lineno, len(line.encode("utf-8")[:byte_offset].decode("utf-8"))


def _token_at(tokens: list[tokenize.TokenInfo], start: tuple[int, int]) -> tokenize.TokenInfo:
    for token in tokens:
        if token.start == start:
            return token
    raise RewriteError(f"no token at line {start[0]}, column {start[1]}")


def _first_name_after(
    tokens: list[tokenize.TokenInfo], start: tuple[int, int], keyword: str
) -> tokenize.TokenInfo:
    index = tokens.index(_token_at(tokens, start))
    if tokens[index].string != keyword:
        raise RewriteError(f"expected {keyword!r} at line {start[0]}")
    for token in tokens[index + 1 :]:
        if token.type == tokenize.NAME:
            return token
        if token.type not in (tokenize.NL, tokenize.COMMENT) and token.string != "(":
            break
    raise RewriteError(f"no module name after {keyword!r} at line {start[0]}")


def _dotted_end(tokens: list[tokenize.TokenInfo], first: tokenize.TokenInfo) -> tuple[int, int]:
    index = tokens.index(first)
    end = first.end
    while (
        index + 2 < len(tokens)
        and tokens[index + 1].string == "."
        and tokens[index + 2].type == tokenize.NAME
    ):
        index += 2
        end = tokens[index].end
    return end


def _apply(lines: list[str], edits: list[tuple[int, int, int, int, str]]) -> str:
    out = list(lines)
    # Last edit first, so earlier positions stay valid.
    for row, col, end_row, end_col, replacement in sorted(edits, reverse=True):
        if row != end_row:
            raise RewriteError(f"an edit spans lines {row}-{end_row}")
        line = out[row - 1]
        out[row - 1] = line[:col] + replacement + line[end_col:]
    return "".join(out)
