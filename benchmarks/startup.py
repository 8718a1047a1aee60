"""Start-up: how long a person waits for the CLI and the door screen, each run a fresh process.

Times, as the median of several runs each (a new interpreter every time, as a person starts it):

- `python -c pass`: the floor, the interpreter alone, for scale;
- `python -m azctl --help`;
- `python -m azctl perf list --json` on the demo season (`azctl demo` first, into a scratch
  data dir: the embedded SQLite default, as a newcomer has it);
- the door's first paint: `python -m azctl tui --perf 1 --as anna` (tonight's demo performance)
  in a pseudo-terminal of 80x24, from starting the process to the door screen's READY banner
  arriving on the terminal. That is what the person at the door waits for: the imports, the
  database and staff checks, Textual's start and its first frame. The process is then stopped.

    python benchmarks/startup.py [--runs 7] [--quick]

Needs no PostgreSQL. The load average before and after is printed with the figures: these are
wall times, and a machine busy with other work makes every one of them longer. The processor time
(user + system) of the three commands is printed beside their wall time: on a busy machine it is
the closer guess at what an idle one would show. Checks: every run exits 0, the help is the help,
the listing is the demo's, the door screen appears.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parents[1]
AZCTL = [sys.executable, "-m", "azctl"]
DOOR_SECONDS = 60.0
# Control sequences a terminal interprets; what is left is the text it shows.
_CONTROL = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


@dataclass
class Run:
    seconds: float  # wall time, start to exit
    cpu_seconds: float  # user + system time of the process
    done: subprocess.CompletedProcess[str]


def timed(command: Sequence[str], env: dict[str, str]) -> Run:
    cpu_before = _children_cpu()
    began = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return Run(time.perf_counter() - began, _children_cpu() - cpu_before, done)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def door_first_paint(env: dict[str, str]) -> float | None:
    """Seconds from starting `azctl tui` on a pseudo-terminal to READY on it (None: never)."""
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    began = time.perf_counter()
    process = subprocess.Popen(
        [*AZCTL, "tui", "--perf", "1", "--as", "anna"],
        cwd=ROOT,
        env={**env, "TERM": "xterm-256color"},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    shown = b""
    painted = None
    try:
        while painted is None and time.perf_counter() - began < DOOR_SECONDS:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                shown += os.read(controller, 65536)
            except OSError:  # the process closed the terminal
                break
            if b"READY" in _CONTROL.sub(b"", shown):
                painted = time.perf_counter() - began
    finally:
        _stop(process, controller)
    return painted


def _stop(process: subprocess.Popen[bytes], controller: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.1)  # keep the terminal drained
        if ready:
            with contextlib.suppress(OSError):
                os.read(controller, 65536)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    os.close(controller)


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each (default: 7)")
    parser.add_argument("--quick", action="store_true", help="one run each: the checks only")
    arguments = parser.parse_args()
    runs = 1 if arguments.quick else arguments.runs
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="azctl-bench-startup-") as scratch:
        env = {name: value for name, value in os.environ.items() if not name.startswith("AZCTL_")}
        env["AZCTL_DATA_DIR"] = scratch
        demo = timed([*AZCTL, "demo"], env).done
        if demo.returncode != 0:
            raise harness.CheckFailed(f"azctl demo failed: {demo.stderr}")
        expected_rows = _performances(timed([*AZCTL, "perf", "list", "--json"], env).done)

        commands = {
            "python_pass": [sys.executable, "-c", "pass"],
            "help": [*AZCTL, "--help"],
            "perf_list_json": [*AZCTL, "perf", "list", "--json"],
        }
        measured: dict[str, list[Run]] = {name: [] for name in commands}
        for _run in range(runs):  # interleaved, so a burst of load weighs on each alike
            for name, command in commands.items():
                measured[name].append(timed(command, env))
        paints = [door_first_paint(env) for _run in range(runs)]

    figures: dict[str, object] = {"runs": runs}
    for name, name_runs in measured.items():
        figures[f"{name}_ms"] = median_ms([run.seconds for run in name_runs])
        figures[f"{name}_cpu_ms"] = median_ms([run.cpu_seconds for run in name_runs])
    figures["door_first_paint_ms"] = median_ms([p for p in paints if p is not None] or [0])
    figures["load_average_before"] = [round(load, 2) for load in load_before]
    figures["load_average_after"] = [round(load, 2) for load in os.getloadavg()]
    checks = {
        "every run exits 0": all(
            run.done.returncode == 0 for name_runs in measured.values() for run in name_runs
        ),
        "the help is the help": all(
            run.done.stdout.startswith("Usage: ") and " perf " in run.done.stdout
            for run in measured["help"]
        ),
        "the listing is the demo's": expected_rows > 1
        and all(_performances(run.done) == expected_rows for run in measured["perf_list_json"]),
        "the door screen appears": all(paint is not None for paint in paints),
    }
    return harness.report("startup", figures, checks)


def _performances(done: subprocess.CompletedProcess[str]) -> int:
    """How many performances a `perf list --json` run printed (0 if it printed no list)."""
    with contextlib.suppress(json.JSONDecodeError):
        listed = json.loads(done.stdout)
        if isinstance(listed, list):
            return len(listed)
    return 0


if __name__ == "__main__":
    harness.run(main)
