"""The `chatdouble` command line: `chatdouble serve [--config FILE] [--host] [--port] [--workers]`,
`chatdouble fixtures check PATH...` and `chatdouble cassettes check DIR [--journal FILE]`."""

from __future__ import annotations

import argparse
import gc
import importlib.util
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

import uvicorn
from fastapi import FastAPI

from backends.fixtures import FixtureLoadError, barren, load
from backends.recording.check import check as check_cassettes
from server import __version__
from server.app import create_app
from server.config import CONFIG_ENV, ConfigError, Settings, load_settings
from server.http.joined_writes import JoinedWritesProtocol

SETTINGS_ENV = "CHATDOUBLE_SETTINGS_JSON"
# uvicorn cancels whatever still runs this long after the shutdown grace period: the streams see the
# exit signal up to 0.5 s late (server/http/event_stream.py polls), and a stream cut at the end of the
# grace period still has to close its backend and send its error frame.
FAREWELL_SECONDS = 2.0
log = logging.getLogger("chatdouble")


def worker_app() -> FastAPI:
    """Factory for each worker process when `--workers` > 1: settings travel as JSON in the environment."""
    app = create_app(Settings.model_validate_json(os.environ[SETTINGS_ENV]))
    _settle_collector()
    return app


YOUNG_ALLOCATIONS = 5_000  # allocations, less frees, between collections of the young generation
MIDDLE_EVERY = 1_000  # young collections between collections of the middle generation
OLD_EVERY = 20  # middle collections between whole ones (and Python's own rule: a quarter more objects)


def _settle_collector() -> None:
    """Everything built so far (vocabularies, schemas, the app) lives as long as the process: keep the
    collector from walking it again, and let it run less often (a request allocates a few hundred
    short-lived objects, none of them in cycles).

    The middle generation is collected once per `MIDDLE_EVERY` young collections, not Python's 10 (we
    had 20). What it walks is everything that outlived the young collections since its last run: the
    state of the streams open meanwhile, which is not garbage. 2,000 paced streams started at once
    made about 25 young collections and one of the middle generation, which walked their 340,000
    objects (about 170 a stream), found nothing to free, and held the event loop for a quarter of a second, every stream's
    chunks late by as much (bench/paced.py). What it would free (cycles that outlived a young
    collection, rare here: 323 objects in 46,000 requests of the benchmark's) waits longer.

    The young generation is collected every 5,000 allocations (Python's 700; we had 20,000). A
    request leaves nothing behind, so requests alone seldom start one; open streams do, and then
    all a collection finds is stream state that lives on. Each one walks what came since the last,
    and holds every stream meanwhile: at 2,000 paced streams, 20,000 made about 13 pauses of 2 to
    10 ms, late chunks around the drift's p99; 5,000 makes more of under 2 ms (bench.paced
    --streams 2000, in turns: drift p99 7.4, 5.2, 7.6, 4.8 ms against 6.5, 42.8, 11.2, 25.5;
    100,000 made four pauses of 9 to 24 ms and 10.6 to 16.3 ms).
    """
    gc.freeze()
    gc.set_threshold(YOUNG_ALLOCATIONS, MIDDLE_EVERY, OLD_EVERY)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatdouble", description="An OpenAI Chat Completions stand-in server."
    )
    parser.add_argument("--version", action="version", version=f"chatdouble {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the server")
    serve.add_argument(
        "--config", help="YAML, TOML or JSON config file (default: $CHATDOUBLE_CONFIG or built-in)"
    )
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 8000; 0 picks a free one)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument(
        "--record-mode",
        choices=["passthrough", "record", "replay", "auto"],
        help="mode of every proxy backend with cassettes (default: $CHATDOUBLE_RECORD_MODE or the config)",
    )
    fixtures = commands.add_parser("fixtures", help="work with fixture files")
    actions = fixtures.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="validate fixture files; exit 1 listing every problem")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a fixture file or a directory of them")
    cassettes = commands.add_parser("cassettes", help="work with recordings (docs/recording.md)")
    cassette_actions = cassettes.add_subparsers(dest="action", required=True)
    stale = cassette_actions.add_parser(
        "check", help="report recordings the last run no longer used; exit 1 if any"
    )
    stale.add_argument("directory", metavar="DIR", help="a cassette directory")
    stale.add_argument("--journal", metavar="FILE", help="the request journal of the last test run")
    return parser


def check_fixtures(paths: Sequence[str]) -> int:
    """Exit 1 on any problem, and when the paths hold no fixture at all (a server would serve
    nothing); a path that yields none beside others that do is a warning."""
    try:
        loaded = load(paths)
    except FixtureLoadError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"chatdouble: {len(exc.problems)} problem(s) in fixtures", file=sys.stderr)
        return 1
    for warning in barren(paths, loaded):
        print(f"warning: {warning}", file=sys.stderr)
    if not loaded:
        print(f"chatdouble: no fixtures in {', '.join(paths)}", file=sys.stderr)
        return 1
    files = len({item.source.rsplit(":", 1)[0] for item in loaded})
    print(f"ok: {len(loaded)} fixtures in {files} file(s)")
    return 0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve to any interface
        return False


def exposure_warning(settings: Settings) -> str | None:
    """A warning when other machines can reach a server that anyone may use and reset."""
    if is_loopback(settings.host) or settings.api_keys or settings.admin_token is not None:
        return None
    return (
        f"listening on {settings.host} with no api_keys and no admin_token: anyone who can reach this "
        "address may call the API and reset every client's fixture lifetimes and sequences "
        "(POST /_chatdouble/fixtures/reset); set api_keys, admin_token, or bind 127.0.0.1"
    )


def split_state_warning(settings: Settings) -> str | None:
    """A warning when several workers would each keep their own counts (warned, not refused: a load
    test of stateless routes is still right, and the user decides)."""
    if settings.workers == 1 or settings.state != "memory":
        return None
    kept = [
        f"fixture lifetimes and sequence positions (backend '{name}')"
        for name, config in settings.backends.items()
        if config.type == "fixtures" or (config.type == "proxy" and config.mode in ("replay", "auto"))
    ]
    if settings.rate_limits is not None:
        kept.append("rate-limit budgets and quotas")
    if not kept:
        return None
    return (
        f"{settings.workers} workers with `state: memory`: each worker keeps its own {'; '.join(kept)}, "
        "so a client sees them split between workers. Set `state: redis://host:port/db` "
        "(CHATDOUBLE_STATE) to share them (docs/scale.md), or run one worker."
    )


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """What `uvicorn.run` is given besides the app and the workers."""
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": settings.log_level == "debug",
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds + FAREWELL_SECONDS,
        "http": JoinedWritesProtocol,  # a response's headers and body in one write
        # chatdouble reads nothing of the client's address or scheme: uvicorn's middleware that
        # takes them from a local proxy's X-Forwarded-* headers would rewrite them on every request
        # (about 1.5% of a non-stream request's time) for the debug access log alone.
        "proxy_headers": False,
    }
    if settings.workers == 1 and importlib.util.find_spec("uvloop") is not None:
        # A burst of connections is accepted at once, not one per turn of a busy loop (the module
        # says why). Several workers keep uvloop's one at a time, which spreads a burst among them.
        options["loop"] = "server.http.accepting:EagerAcceptLoop"
    return options


def serve(args: argparse.Namespace) -> int:
    overrides = {
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "log_level": args.log_level,
        "record_mode": args.record_mode,
    }
    try:
        settings = load_settings(args.config, overrides=overrides)
        # Before the app is built, so what building it logs (fixture paths that yield nothing) shows.
        logging.basicConfig(
            level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s"
        )
        app = create_app(settings)  # also validates fixture files: the server never starts on bad ones
    except ConfigError as exc:
        print(f"chatdouble: config error: {exc}", file=sys.stderr)
        return 2
    source = args.config or os.environ.get(CONFIG_ENV) or "built-in default config"
    routes = ", ".join(f"{r.model} -> {r.backend}" for r in settings.routes)
    log.info("chatdouble %s: config %s; routes %s", __version__, source, routes)
    for warning in (exposure_warning(settings), split_state_warning(settings)):
        if warning:
            log.warning(warning)
    common = uvicorn_options(settings)
    # uvicorn handles SIGTERM, shuts down, then re-raises the signal with the handler that was there
    # before it; with Python's default that kills the process (exit 143). Exit 0, as on SIGINT.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    if settings.workers > 1:
        os.environ[SETTINGS_ENV] = settings.model_dump_json()
        uvicorn.run("server.__main__:worker_app", factory=True, workers=settings.workers, **common)  # type: ignore[arg-type]
    else:
        _settle_collector()
        uvicorn.run(app, **common)  # type: ignore[arg-type]
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "fixtures":
        return check_fixtures(args.paths)
    if args.command == "cassettes":
        lines, status = check_cassettes(args.directory, args.journal)
        print("\n".join(lines), file=sys.stderr if status else sys.stdout)
        return status
    return 2


if __name__ == "__main__":
    sys.exit(main())
