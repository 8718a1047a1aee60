"""azctl as a user runs it: `python -m azctl` and the `azctl` console script, in processes of
their own, on the embedded SQLite default in a throwaway data dir. Few, as each costs a second."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.commands.helpers import Cli, succeeded


def run(*command: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AZCTL_")}
    env["AZCTL_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        command, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def console_script() -> str:
    path = shutil.which("azctl")
    assert path, "the azctl console script is not on PATH (pip install -e .)"
    return path


def test_python_m_azctl_runs_the_demo_on_the_embedded_default(tmp_path: Path):
    data_dir = tmp_path / "fresh"
    demo = run(sys.executable, "-m", "azctl", "demo", data_dir=data_dir)
    assert (demo.returncode, demo.stderr) == (0, ""), demo.stderr
    assert demo.stdout.startswith("Venues: Teatro Studio (teatro-studio), ")
    assert (data_dir / "azctl.db").is_file()
    assert (data_dir / "secret_key").is_file()

    listed = run(sys.executable, "-m", "azctl", "perf", "list", "--json", data_dir=data_dir)
    assert (listed.returncode, listed.stderr) == (0, ""), listed.stderr
    performances = json.loads(listed.stdout)
    assert {row["venue"] for row in performances} == {"teatro-studio", "cortile-della-cascina"}
    assert performances[0]["id"] == 1


def test_the_console_script_fails_in_one_line(tmp_path: Path):
    failed = run(console_script(), "venue", "show", "nowhere", data_dir=tmp_path / "data")
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr == "Error: no venue with slug 'nowhere'\n"
    assert "Traceback" not in failed.stderr


def test_the_cancel_prompt_keeps_stdout_clean(cli: Cli, isolated_settings: Path):
    succeeded(cli("venue", "add", "Teatro Studio", "--city", "Milano"))
    succeeded(cli("show", "add", "La Locandiera"))
    succeeded(
        cli(
            "perf",
            "add",
            "la-locandiera",
            "teatro-studio",
            "--at",
            "2030-12-12 20:30",
            "--capacity",
            "9",
        )
    )
    cancelled = run(
        console_script(), "perf", "cancel", "1", data_dir=isolated_settings, stdin="y\n"
    )
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout == (
        "Cancelled performance 1 (La Locandiera, Thu 12 Dec 20:30) and 0 bookings.\n"
    )
