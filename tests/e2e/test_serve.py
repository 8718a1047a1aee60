"""`azctl serve` as an operator starts it: gunicorn workers, the mail sender beside them, and a
clean stop of the whole process group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from azctl.http import server
from azctl.main import app
from azctl.settings import get_settings
from tests.e2e.conftest import LiveServer, _wait_until_healthy
from tests.smtp_peer import SMTPPeer


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _children_once_there(pid: int, count: int, timeout: float = 20.0) -> set[int]:
    """The child processes of `pid`, once there are `count` of them (gunicorn forks its second
    worker after the first already answers)."""
    deadline = time.monotonic() + timeout
    while len(children := _children(pid)) < count:
        assert time.monotonic() < deadline, f"{len(children)} of {count} children after {timeout}s"
        time.sleep(0.05)
    assert len(children) == count
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_serve_with_mailer_answers_sends_mail_and_stops_cleanly(
    database_url: str,
    session: Session,
    make_performance: Callable[..., object],
    server_port: int,
    public_url: str,
    tmp_path: Path,
) -> None:
    performance = make_performance()
    settings = get_settings()
    with SMTPPeer() as peer:
        env = {
            **os.environ,
            "AZCTL_DATA_DIR": str(settings.data_dir),
            "AZCTL_DATABASE_URL": database_url,
            "AZCTL_SECRET_KEY": settings.secret_key or "",
            "AZCTL_PUBLIC_URL": public_url,
            "AZCTL_SMTP_URL": peer.url,
        }
        log_path = tmp_path / "serve.log"
        log = log_path.open("wb")
        command = [sys.executable, "-m", "azctl", "serve", "--bind", f"127.0.0.1:{server_port}"]
        process = subprocess.Popen(
            [*command, "--workers", "2", "--with-mailer"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = LiveServer(public_url, server_port, database_url, env, process, log_path, log)
        try:
            _wait_until_healthy(server, 30.0)
            children = _children_once_there(process.pid, 3)  # two workers and the mail sender

            booked = server.request(
                "POST",
                f"/api/performances/{performance.id}/reservations",  # type: ignore[attr-defined]
                body=json.dumps(
                    {"name": "Ada", "email": "ada@example.org", "party_size": 1}
                ).encode(),
                headers={"content-type": "application/json"},
            )
            assert booked.status == 202, booked.text
            [confirmation] = peer.wait_for(1, timeout=30)
            assert confirmation["To"] == "ada@example.org"

            process.terminate()
            assert process.wait(timeout=20) == 0
            assert not any(_alive(child) for child in children)
        finally:
            server.stop()
    output = log_path.read_text()
    assert "Traceback" not in output
    assert "Stopped." in output  # the mail sender's own goodbye: it was stopped, not killed


def test_serve_refuses_a_bad_rate_limit_store_in_one_line(database_url: str) -> None:
    result = CliRunner().invoke(
        app, ["serve"], env={"AZCTL_RATELIMIT_STORAGE": "carrier-pigeon://loft"}
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: AZCTL_RATELIMIT_STORAGE cannot be used:")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("setting", ["AZCTL_RATE_LIMIT=lots", "AZCTL_TRUSTED_PROXIES=proxy"])
def test_serve_refuses_bad_settings_as_a_configuration_error(setting: str) -> None:
    name, value = setting.split("=")
    result = CliRunner().invoke(app, ["serve"], env={name: value})
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Configuration error: {name}:")


@pytest.fixture
def gunicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """`azctl serve` up to the point where gunicorn would take over, and no further: the options
    it would have run with, one entry per start."""
    runs: list[dict[str, object]] = []
    monkeypatch.setattr(server.Server, "run", lambda self: runs.append(self.options))
    return runs


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_warns_when_links_would_lead_elsewhere(
    database_url: str, gunicorn_runs: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZCTL_PUBLIC_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", "--bind", "0.0.0.0:9000"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "Warning: AZCTL_PUBLIC_URL is not set, so links in mail and QR codes lead to"
        " http://127.0.0.1:8000, not to --bind 0.0.0.0:9000; set it to the address visitors use.\n"
    )
    assert [run["bind"] for run in gunicorn_runs] == ["0.0.0.0:9000"]  # a warning, not a refusal


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("public_url", "bind"),
    [
        (None, "127.0.0.1:8000"),
        (None, "localhost:8000"),
        ("https://tickets.example.org", "127.0.0.1:9000"),  # behind a proxy: links are its own
    ],
)
def test_serve_is_silent_when_links_lead_to_it_or_were_set(
    database_url: str,
    gunicorn_runs: list[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    public_url: str | None,
    bind: str,
) -> None:
    if public_url is None:
        monkeypatch.delenv("AZCTL_PUBLIC_URL", raising=False)
    else:
        monkeypatch.setenv("AZCTL_PUBLIC_URL", public_url)
    result = CliRunner().invoke(app, ["serve", "--bind", bind])
    assert (result.exit_code, result.stderr) == (0, "")
    assert [run["bind"] for run in gunicorn_runs] == [bind]
