"""The scale example (examples/scale/: docker-compose.yml and nginx.conf, docs/scale.md), checked
without a Docker engine.

The compose file is parsed and its parts must point at each other: two chatdouble replicas built
from the repository's Dockerfile, whose environment is valid chatdouble settings naming the Redis
service; a load balancer mounting nginx.conf, whose upstream lists exactly the replicas on the port
the image serves. Then nginx.conf itself runs here (Debian's nginx, which `scripts/test.sh`
installs), only its upstream addresses and listening port changed, in front of two real chatdouble
processes with the compose file's environment on one real Redis: a `previous_response_id` chain,
a stored completion and a stream all go through it.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from server.config import load_settings
from tests.processes import ROOT, clean_env, python_command, running
from tests.support import sse
from tests.support.redis_server import RedisServer, free_port

EXAMPLE = ROOT / "examples" / "scale"
UPSTREAM = re.compile(r"upstream\s+(\w+)\s*\{(?P<body>[^}]*)\}")
SERVER = re.compile(r"^\s*server\s+([\w.-]+:\d+)\s*;", re.MULTILINE)
LISTEN = re.compile(r"^(\s*)listen\s+(\d+)\s*;", re.MULTILINE)
NGINX_READY = re.compile(r"start worker process")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLE / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded


def nginx_conf() -> str:
    return (EXAMPLE / "nginx.conf").read_text(encoding="utf-8")


def replicas(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in services.items()
        if "CHATDOUBLE_STATE" in service.get("environment", {})
    }


def image_port() -> int:
    """The port the image's CMD serves on."""
    cmd = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    argv = json.loads(cmd.removeprefix("CMD "))
    return int(argv[argv.index("--port") + 1])


def test_two_replicas_are_built_from_the_repositorys_dockerfile_and_share_the_redis_service() -> None:
    services = compose()["services"]
    found = replicas(services)
    assert sorted(found) == ["chatdouble-1", "chatdouble-2"]
    for service in found.values():
        build = service["build"]
        assert (EXAMPLE / build["context"]).resolve() == ROOT
        assert (EXAMPLE / build["context"] / build["dockerfile"]).is_file()
        environment = {key: str(value) for key, value in service["environment"].items()}
        settings = load_settings(env=environment)  # every variable is a real setting, validly set
        url = httpx.URL(settings.state)
        assert (url.scheme, url.port) == ("redis", 6379)
        redis = services[url.host]
        assert redis["image"].startswith("redis:")
        assert "--port" not in redis.get("command", [])  # so it listens on 6379
        assert settings.state_prefix == "demo:"


def test_the_load_balancer_mounts_its_config_whose_upstream_is_exactly_the_replicas() -> None:
    services = compose()["services"]
    lb = services["lb"]
    assert lb["image"].startswith("nginx:")
    source, target, *_ = lb["volumes"][0].split(":")
    assert (EXAMPLE / source).resolve() == (EXAMPLE / "nginx.conf").resolve()
    assert target == "/etc/nginx/nginx.conf"
    conf = nginx_conf()
    upstream = UPSTREAM.search(conf)
    assert upstream is not None
    assert f"proxy_pass http://{upstream.group(1)};" in conf
    servers = SERVER.findall(upstream.group("body"))
    assert sorted(servers) == sorted(f"{name}:{image_port()}" for name in replicas(services))
    listen = LISTEN.search(conf)
    assert listen is not None
    assert lb["ports"] == [f"{listen.group(2)}:{listen.group(2)}"]
    assert sorted(lb["depends_on"]) == sorted(replicas(services))


# ---------------------------------------------------------------- nginx.conf, run for real


@pytest.fixture
def balanced(tmp_path: Path, redis: RedisServer) -> Iterator[str]:
    """nginx.conf in front of two chatdouble processes with the compose environment; its URL."""
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.fail("nginx is not installed: run scripts/test.sh, which installs it")
    services = compose()["services"]
    prefix = f"lb-{uuid.uuid4().hex[:12]}:"
    with ExitStack() as stack:
        addresses = []
        for service in replicas(services).values():
            environment = {key: str(value) for key, value in service["environment"].items()}
            environment["CHATDOUBLE_STATE"] = redis.url
            environment["CHATDOUBLE_STATE_PREFIX"] = prefix  # this test's keys in the session's Redis
            server = stack.enter_context(
                running(python_command("serve", "--port", "0"), clean_env(environment))
            )
            stack.callback(server.stop)
            addresses.append(f"127.0.0.1:{server.wait_ready()}")
        port = free_port()
        conf = nginx_conf()
        body = UPSTREAM.search(conf)
        assert body is not None
        servers = iter(addresses)
        upstream = SERVER.sub(lambda m: m.group(0).replace(m.group(1), next(servers)), body.group(0))
        conf = conf.replace(body.group(0), upstream)
        conf = LISTEN.sub(lambda m: f"{m.group(1)}listen 127.0.0.1:{port};", conf)
        (tmp_path / "logs").mkdir()
        (tmp_path / "nginx.conf").write_text(conf, encoding="utf-8")
        directives = f"daemon off; pid {tmp_path}/nginx.pid; error_log stderr notice;"
        argv = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", directives]
        balancer = stack.enter_context(running(argv, clean_env(), cwd=tmp_path))
        # SIGTERM: the master stops its workers, which hold its stderr too, then exits.
        stack.callback(balancer.stop)
        balancer.wait_for(NGINX_READY)
        yield f"http://127.0.0.1:{port}"


async def test_requests_through_the_example_nginx_reach_one_shared_server(balanced: str) -> None:
    async with httpx.AsyncClient(
        base_url=balanced, timeout=30, headers={"Authorization": "Bearer sk-lb"}
    ) as http:
        previous = None
        for text in ["My name is Ada.", "What is my name?", "Once more?", "And again?"]:
            body: dict[str, Any] = {"model": "gpt-4o", "input": text}
            if previous is not None:
                body["previous_response_id"] = previous
            answer = await http.post("/v1/responses", json=body)  # round robin: the turns alternate
            assert answer.status_code == 200, answer.text
            previous = answer.json()["id"]
        created = await http.post(
            "/v1/chat/completions",
            json={
                "model": "gpt-4o-mini",
                "store": True,
                "messages": [{"role": "user", "content": "keep me"}],
            },
        )
        assert created.status_code == 200, created.text
        for _ in range(2):  # once on each replica
            read = await http.get(f"/v1/chat/completions/{created.json()['id']}")
            assert read.status_code == 200, read.text
        streamed = await http.post(
            "/v1/chat/completions",
            json={
                "model": "gpt-4o-mini",
                "stream": True,
                "messages": [{"role": "user", "content": "stream me"}],
            },
        )
        assert streamed.headers["content-type"].startswith("text/event-stream")
        assert sse.frames(streamed.text)[-1].data == "[DONE]"
