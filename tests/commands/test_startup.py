"""A command loads only what it uses, so `azctl --help` answers at once and a listing soon after.

Each run is a fresh interpreter (a process of its own, as a user starts it) that reports, as it
exits, which packages it loaded. What is asserted is what got loaded, never how long it took:
benchmarks/startup.py measures the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.helpers import Cli, succeeded

ROOT = Path(__file__).resolve().parents[2]
# Runs `azctl ARGS…` as `python -m azctl` does, and writes the top-level packages loaded by the
# end (atexit runs after the CLI's own sys.exit) to the file named first.
PROBE = """
import atexit, json, runpy, sys
report, sys.argv = sys.argv[1], ["azctl", *sys.argv[2:]]
atexit.register(
    lambda: open(report, "w").write(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
)
runpy.run_module("azctl", run_name="__main__")
"""
DATABASE = {"sqlalchemy", "sqlmodel", "alembic", "psycopg"}
FRONT_ENDS = {"textual", "falcon", "gunicorn", "jinja2", "segno"}


def loaded_by(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    report = tmp_path / "modules.json"
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return run, set(json.loads(report.read_text()))


@pytest.mark.parametrize("args", [["--help"], ["perf", "add", "--help"], ["--version"]])
def test_help_loads_no_database_settings_or_front_end(tmp_path: Path, args: list[str]):
    run, modules = loaded_by(tmp_path, *args)
    assert (run.returncode, run.stderr) == (0, ""), run.stderr
    assert run.stdout
    heavy = DATABASE | FRONT_ENDS | {"pydantic_settings", "rich", "limits"}
    assert modules & heavy == set()
    assert "azctl" in modules  # the probe did run the CLI


def test_version_is_the_installed_distributions(tmp_path: Path):
    from importlib import metadata

    import azctl

    run, _modules = loaded_by(tmp_path, "--version")
    assert run.stdout == f"azctl {metadata.version('azctl')}\n"
    assert metadata.version("azctl") == azctl.__version__  # pyproject.toml and the package agree


def test_a_listing_loads_the_database_but_no_front_end_nor_alembic(tmp_path: Path, cli: Cli):
    succeeded(cli("demo"))  # the embedded default in this test's data dir, migrated
    run, modules = loaded_by(tmp_path, "perf", "list", "--json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)) > 1
    assert {"sqlalchemy", "sqlmodel"} <= modules
    assert modules & (FRONT_ENDS | {"alembic", "limits"}) == set()
