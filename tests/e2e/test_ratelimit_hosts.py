"""Several hosts, one rate limit: two `azctl serve` behind one load balancer share their
counts through Redis (`AZCTL_RATELIMIT_STORAGE=redis://…`), so a client that spreads its
requests over both is limited as one (DESIGN: rate limits)."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from azctl.main import app
from azctl.models import Reservation
from azctl.settings import get_settings
from tests.conftest import count_rows
from tests.e2e.conftest import LiveServer, _unused_port, _wait_until_healthy

REDIS_URL = os.environ.get("AZCTL_TEST_REDIS_URL")
REDIS_MISSING = "Redis tests skipped: AZCTL_TEST_REDIS_URL is not set (bash .ci/run sets it up)"
LIMIT = 30
# The load balancer in front of both hosts: the only peer they see, and trusted to say who the
# client is (`X-Forwarded-For`).
LOAD_BALANCER = "127.0.0.1"


@pytest.fixture
def redis_url() -> str:
    """The run's Redis, answering PING; a missing one fails under CI=true and skips elsewhere."""
    if not REDIS_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but AZCTL_TEST_REDIS_URL is not set")
        pytest.skip(REDIS_MISSING)
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as error:
        pytest.fail(f"AZCTL_TEST_REDIS_URL={REDIS_URL} does not answer: {error}")
    return REDIS_URL


@pytest.fixture
def client_address(redis_url: str) -> Iterator[str]:
    """A client address of this test's own (documentation range, random), so runs sharing one
    Redis never count each other's requests; the keys that hold it are deleted afterwards, and
    nothing else in Redis is touched."""
    import redis

    address = str(ipaddress.ip_address(0x2001_0DB8 << 96 | secrets.randbits(96)))
    yield address
    connection = redis.Redis.from_url(redis_url, socket_timeout=5)
    owned = list(connection.scan_iter(match=f"*{address}*"))
    if owned:
        connection.delete(*owned)


@pytest.fixture
def azctl_serve(tmp_path: Path, public_url: str) -> Iterator[Callable[..., LiveServer]]:
    """Starts `azctl serve` on a port of its own, as an operator starts one host; every host is
    stopped (SIGTERM, then SIGKILL to its process group) when the test ends."""
    started: list[LiveServer] = []

    def start(*, database_url: str, extra_env: dict[str, str]) -> LiveServer:
        settings = get_settings()
        port = _unused_port()
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "AZCTL_DATA_DIR": str(settings.data_dir),
            "AZCTL_DATABASE_URL": database_url,
            "AZCTL_SECRET_KEY": settings.secret_key or "",
            "AZCTL_PUBLIC_URL": public_url,
            **extra_env,
        }
        log_path = tmp_path / f"serve-{len(started) + 1}.log"
        log = log_path.open("wb")
        command = [sys.executable, "-m", "azctl", "serve", "--bind", f"127.0.0.1:{port}"]
        process = subprocess.Popen(
            [*command, "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = LiveServer(
            f"http://127.0.0.1:{port}", port, database_url, env, process, log_path, log
        )
        started.append(server)
        _wait_until_healthy(server, 30.0)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_hosts_sharing_redis_limit_a_client_as_one(
    database_url: str,
    engine: Engine,
    session: Session,
    make_performance: Callable[..., object],
    redis_url: str,
    client_address: str,
    azctl_serve: Callable[..., LiveServer],
) -> None:
    performance = make_performance(capacity=LIMIT + 10)
    settings = {
        "AZCTL_RATE_LIMIT": f"{LIMIT}/minute",
        "AZCTL_RATELIMIT_STORAGE": redis_url,
        "AZCTL_TRUSTED_PROXIES": LOAD_BALANCER,
    }
    hosts = [azctl_serve(database_url=database_url, extra_env=settings) for _ in range(2)]

    def book(host: LiveServer, number: int):
        return host.request(
            "POST",
            f"/api/performances/{performance.id}/reservations",  # type: ignore[attr-defined]
            body=json.dumps(
                {"name": f"Visitor {number}", "email": "same@example.org", "party_size": 1}
            ).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": client_address},
        )

    # Round robin, as the load balancer sends them: 15 to each host, all let through.
    first = [book(hosts[number % 2], number) for number in range(LIMIT)]
    assert [answer.status for answer in first] == [202] * LIMIT, [a.text for a in first]

    # The 31st is refused wherever it lands, and so is the next, on the other host.
    for number, host in ((LIMIT, hosts[0]), (LIMIT + 1, hosts[1])):
        refused = book(host, number)
        assert refused.status == 429, refused.text
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert json.loads(refused.body)["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60

    assert count_rows(engine, Reservation) == LIMIT
    for host in hosts:
        assert "Traceback" not in host.log()


def test_serve_refuses_a_redis_that_does_not_answer_in_one_line(database_url: str) -> None:
    """Found at start-up, not as a failure of every booking once visitors arrive."""
    silent = f"redis://127.0.0.1:{_unused_port()}/0"
    result = CliRunner().invoke(app, ["serve"], env={"AZCTL_RATELIMIT_STORAGE": silent})
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "Error: AZCTL_RATELIMIT_STORAGE cannot be used: its server does not answer\n"
    )
