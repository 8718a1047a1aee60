"""The benchmarks' quick runs, as part of the suite: their correctness checks (no seat oversold
or left unsold, every answer right, one check-in per ticket) guard the code under real load, on
PostgreSQL, with a real gunicorn. Their timings are printed, never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
KEYS = {
    "rush": {
        "confirmations_per_s",
        "baseline_per_s",
        "ratio",
        "p50_ms",
        "p99_ms",
        "seats_confirmed",
        "oversold",
        "unsold",
        "waitlist",
        "seats_held",
        "worker_peak_rss_mb",
    },
    "browse": {"rps_shows", "rps_performance", "baseline_rps", "ratio", "worker_peak_rss_mb"},
    "waitlist": {"rounds", "seconds", "kind_seconds", "seats_freed", "seats_offered", "offers"},
    "door": {
        "service_p50_ms",
        "service_p99_ms",
        "http_p50_ms",
        "http_p99_ms",
        "worker_peak_rss_mb",
        "screen_online_p50_ms",
        "screen_online_p99_ms",
        "screen_offline_p50_ms",
        "screen_offline_p99_ms",
        "journalled",
        "uploaded",
        "upload_ms",
    },
}


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("AZCTL_TEST_DATABASE_URL")
    if not url:
        pytest.skip("the benchmarks need PostgreSQL: set AZCTL_TEST_DATABASE_URL (.ci/run does)")
    return url


@pytest.mark.parametrize("name", sorted(KEYS))
def test_quick_benchmark_passes_its_checks(name: str, postgres_url: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AZCTL_")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick", "--database-url", postgres_url],
        check=False,
        env={**env, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(json.dumps(result))
    assert result["benchmark"] == name and result["checks_failed"] == []
    assert KEYS[name] <= result.keys()
    if name == "rush":
        assert result["oversold"] == 0 and result["unsold"] == 0
        assert result["waitlist"] > 0 and result["seats_held"] > 0
        assert result["seats_confirmed"] + result["seats_held"] == result["seats"]
    if name == "waitlist":
        assert 1 <= result["rounds"] <= 2 and result["seats_free_after"] == 0
        assert result["seats_offered"] == result["seats_freed"] > 0
    if name == "door":
        # The door screen journalled every offline admission, and all of them reached the database.
        assert result["journalled"] == result["uploaded"] > 0


def test_a_benchmark_without_postgresql_says_so_and_exits_2() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AZCTL_")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "rush.py"), "--quick"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "PostgreSQL" in run.stderr and "Traceback" not in run.stderr


def test_quick_startup_benchmark_passes_its_checks() -> None:
    """benchmarks/startup.py needs no PostgreSQL: the demo on the embedded default, the help, a
    listing and the door screen in a pseudo-terminal, each in a process of its own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AZCTL_")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "startup.py"), "--quick"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(json.dumps(result))
    assert result["benchmark"] == "startup" and result["checks_failed"] == []
    assert {"python_pass_ms", "help_ms", "perf_list_json_ms", "door_first_paint_ms"} <= set(result)
