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
    fixtures = work / "bench-fixtures.yaml"
    reply = {"id": "bench", "match": {"model": "*"}, "response": {"text": MESSAGE}}
    fixtures.write_text(yaml.safe_dump({"fixtures": [reply]}, sort_keys=False), encoding="utf-8")
    config = work / "fixtures.yaml"
    settings = {
        "log_level": "warning",
        "backends": {"fixtures": {"type": "fixtures", "paths": [str(fixtures)]}},
        "routes": [{"model": "*", "backend": "fixtures"}],
    }
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
