"""The domain stands without the front ends, as the import-linter contracts and
docs/architecture.md ("Layers") say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept() -> None:
    command = (
        "import sys; from importlinter.cli import lint_imports_command as run; sys.exit(run())"
    )
    result = subprocess.run(
        [sys.executable, "-c", command, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_services_load_without_any_front_end_library() -> None:
    probe = (
        "import sys, azctl.services.booking, azctl.services.checkin, azctl.services.capacity,"
        " azctl.services.catalog, azctl.services.staff, azctl.services.outbox,"
        " azctl.services.mail, azctl.services.demo, azctl.db\n"
        "loaded = sorted(m for m in ('typer', 'rich', 'textual', 'falcon', 'click')"
        " if m in sys.modules)\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.stdout.strip() == ""
