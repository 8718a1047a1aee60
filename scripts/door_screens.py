"""The README's captures of the door screen, taken from the real `azctl tui` in an 80x24 tmux.

    python scripts/door_screens.py --database-url postgresql+psycopg://USER@HOST/DB [--out DIR]

Loads the demo season (what `azctl demo` loads) and six more of tonight's tickets, one with a door
note, into a schema of its own in that PostgreSQL database (`azctl_bench_door_screens`, dropped at
the end), and opens two doors on tonight's performance as anna: `main` straight to the database,
`side` through a TCP proxy (benchmarks/tcp_proxy.py) that the script cuts to take the database
away from it. Then, as staff would, it scans tickets at both doors and writes what each terminal
shows, as text, to DIR/<name>.txt (default: docs/screens):

- two-doors: the main door admitting a party with a door note, the side door's passes on its line;
- exit: the side door in exit mode (F6) letting out a party that came in at the main door;
- offline: the side door without its database, admitting from its copy;
- conflict: the side door back online, its journal uploaded, one offline admission that clashed
  with the main door's; and conflicts.txt, what `azctl checkin conflicts` lists for it.

Needs tmux. Every process it starts is waited on with a deadline; it exits 1 if a screen did not
show what it waited for.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # azctl from this checkout
sys.path.insert(0, str(ROOT / "benchmarks"))  # the schema of its own, and the proxy

import harness  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from tcp_proxy import TcpProxy  # noqa: E402

from azctl import db  # noqa: E402
from azctl.services import booking, demo  # noqa: E402

DEADLINE_SECONDS = 30.0
VISITORS = (
    "Giorgio Neri",
    "Irene Costa",
    "Bruno Villa",
    "Marta Fontana",
    "Livia Sala",
    "Enzo Riva",
)
NOTE = "wheelchair space, row A"
# The conflicts as staff read them on the door's own 80-column terminal.
LISTING_COLUMNS = 80


class Terminal:
    """One 80x24 tmux session on a tmux server of the script's own."""

    def __init__(self, socket: Path, name: str) -> None:
        self.socket = socket
        self.name = name

    def tmux(self, *arguments: str) -> str:
        tmux = shutil.which("tmux")
        if tmux is None:
            raise SystemExit("tmux is not installed (apt-get install tmux)")
        done = subprocess.run(
            [tmux, "-S", str(self.socket), *arguments],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return done.stdout

    def start(self, command: list[str]) -> None:
        """Run `command` in the window; if it ends, the window says how, and stays."""
        line = f'{shlex.join(command)}; echo "azctl exited with status $?"; read -r _'
        self.tmux("new-session", "-d", "-s", self.name, "-x", "80", "-y", "24", line)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def scan(self, token: str) -> None:
        """The ticket and Enter in one write, as a scanner's burst reaches a terminal."""
        self.keys("-l", f"{token}\r")

    def wait_for(self, *words: str) -> str:
        """The screen once it shows every one of `words`."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not all(word in (screen := self.screen()) for word in words):
            if time.monotonic() > deadline:
                raise SystemExit(f"gave up waiting for {words} at the {self.name} door:\n{screen}")
            time.sleep(0.1)
        return screen


def tonight_with_tickets() -> tuple[int, list[tuple[str, str]]]:
    """The demo season; tonight's performance and six more of its tickets (reference, token),
    the first with a door note."""
    tickets = []
    with db.session_scope() as session:
        tonight_id = demo.load_demo(session).tonight_id
        assert tonight_id is not None
        for number, name in enumerate(VISITORS):
            submitted = booking.submit_booking(
                session,
                performance_id=tonight_id,
                name=name,
                email=name.lower().replace(" ", ".") + "@example.org",
                party_size=1 + number % 3,
            )
            confirmed = booking.confirm_booking(session, token=submitted.confirm_token)
            tickets.append((confirmed.reservation.reference, confirmed.ticket_token))
        booking.flag_reservation(session, reference=tickets[0][0], note=NOTE)
    return tonight_id, tickets


def azctl(database_url: str) -> list[str]:
    """`python -m azctl` with this run's settings, and the database at `database_url`."""
    settings = {name: value for name, value in os.environ.items() if name.startswith("AZCTL_")}
    settings["AZCTL_DATABASE_URL"] = database_url
    return [
        "env",
        f"PYTHONPATH={ROOT}",
        *(f"{name}={value}" for name, value in sorted(settings.items())),
        sys.executable,
        "-m",
        "azctl",
    ]


def take(out: Path, name: str, screen: str) -> None:
    screen = "".join(f"{line.rstrip()}\n" for line in screen.splitlines())
    (out / f"{name}.txt").write_text(screen, encoding="utf-8")
    print(f"{out / name}.txt\n{screen}")


def capture(url: str, out: Path, scratch: Path) -> None:
    performance_id, tickets = tonight_with_tickets()
    noted, second, third, fourth, clashing, _spare = (token for _reference, token in tickets)
    clashing_reference = tickets[4][0]
    target = sa.make_url(url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        proxied = target.set(host="127.0.0.1", port=proxy.port)
        main = Terminal(scratch / "tmux.sock", "main")
        side = Terminal(scratch / "tmux.sock", "side")
        door = ["tui", "--perf", str(performance_id), "--as", "anna", "--door"]
        try:
            main.start([*azctl(url), *door, "main"])
            side.start([*azctl(proxied.render_as_string(hide_password=False)), *door, "side"])
            main.wait_for("main door · anna", "Doors:")
            side.wait_for("side door · anna", "Doors:")

            side.scan(second)
            side.wait_for("ADMIT")
            main.scan(third)
            main.wait_for("ADMIT")
            main.scan(noted)
            take(out, "two-doors", main.wait_for("NOTE:", "side 2 in"))

            side.keys("F6")
            side.wait_for("EXIT MODE")
            side.scan(third)
            take(out, "exit", side.wait_for("EXIT 3", "3 out"))
            side.keys("F6")
            side.wait_for("READY")

            proxy.cut()
            side.wait_for("OFFLINE")
            side.scan(fourth)
            take(out, "offline", side.wait_for("ADMIT", "· OFFLINE", "1 to upload"))

            main.scan(clashing)
            main.wait_for("ADMIT", clashing_reference)
            side.scan(clashing)
            side.wait_for("2 to upload")
            proxy.restore()
            take(out, "conflict", side.wait_for("CONFLICTS 1", "clashed"))
        finally:
            main.tmux("kill-server")
    listing = subprocess.run(
        [*azctl(url), "checkin", "conflicts", "--perf", str(performance_id)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "COLUMNS": str(LISTING_COLUMNS)},
    )
    take(out, "conflicts", listing.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("AZCTL_DATABASE_URL"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    arguments = parser.parse_args()
    if not str(arguments.database_url).startswith("postgresql"):
        parser.error("a PostgreSQL --database-url (or AZCTL_DATABASE_URL) is required")
    arguments.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="azctl-screens-") as scratch,
        harness.own_database(arguments.database_url, "door_screens") as url,
    ):
        capture(url, arguments.out, Path(scratch))


if __name__ == "__main__":
    main()
