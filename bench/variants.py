"""The chatdouble servers a run measures, each against the same baseline.

- `chatdouble`: the embedded default config (every model answered by echo), as `chatdouble serve` runs.
- `fixtures`: one fixture answering every model with the benchmark message, split into its tokens by
  the fixtures engine as echo splits it, no timing: the same bytes through the fixtures backend.
- `proxy`: a `passthrough` proxy whose upstream is the baseline itself, so what it adds over the
  baseline is the proxy's own cost (a request in, the same request out, the answer passed back).

`servers` writes their config files into a work directory and returns them with the baseline last.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.baseline import MESSAGE
from bench.processes import HOST, Server, baseline_argv, chatdouble_argv, free_ports

PROXY_CONFIG = """
log_level: warning
backends:
  upstream: {{type: proxy, base_url: "http://{host}:{port}/v1"}}
routes:
  - {{model: "*", backend: upstream}}
"""


def fixtures_config(work: Path) -> Path:
    """bench.run's fixtures server: one fixture answering every request with the benchmark's reply."""
    reply = {"id": "bench", "match": {"model": "*"}, "response": {"text": MESSAGE}}
    return serving_fixtures(work, [reply], "bench")


def serving_fixtures(work: Path, fixtures: list[dict[str, Any]], name: str) -> Path:
    """A config (`NAME.yaml`) whose one backend serves `fixtures` (`NAME-fixtures.yaml`) for every model."""
    path = work / f"{name}-fixtures.yaml"
    path.write_text(yaml.safe_dump({"fixtures": fixtures}, sort_keys=False), encoding="utf-8")
    settings = {
        "log_level": "warning",
        "backends": {"fixtures": {"type": "fixtures", "paths": [str(path)]}},
        "routes": [{"model": "*", "backend": "fixtures"}],
    }
    config = work / f"{name}.yaml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return config


def servers(work: Path, *, fixtures: bool = True, proxy: bool = True) -> list[Server]:
    """chatdouble (echo), then fixtures and proxy when asked for, then the baseline."""
    echo_port, fixtures_port, proxy_port, baseline_port = free_ports(4)
    out = [Server("chatdouble", chatdouble_argv(echo_port), None, echo_port, work / "chatdouble.log")]
    if fixtures:
        argv = [*chatdouble_argv(fixtures_port), "--config", str(fixtures_config(work))]
        out.append(Server("fixtures", argv, None, fixtures_port, work / "fixtures.log"))
    if proxy:
        config = work / "proxy.yaml"
        config.write_text(PROXY_CONFIG.format(host=HOST, port=baseline_port), encoding="utf-8")
        argv = [*chatdouble_argv(proxy_port), "--config", str(config)]
        out.append(Server("proxy", argv, None, proxy_port, work / "proxy.log"))
    out.append(Server("baseline", baseline_argv(baseline_port), None, baseline_port, work / "baseline.log"))
    return out
