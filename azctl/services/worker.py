"""The worker (DESIGN §9): every few seconds, one round of all the work that is due.

`azctl worker` runs `run_worker` until it is told to stop, `azctl worker --once` runs one
`run_round` (for cron), and `azctl serve --with-worker` runs `azctl worker` beside gunicorn.
Any number of workers on any number of hosts may run at once: every piece of work is claimed in
the database, so each is done once.

The kinds of work: the contract
-------------------------------
`KINDS` lists, in the order a round does them, `(name, function)` pairs. Each function is

    def kind(engine: Engine, now: datetime | None) -> int

- it does the work due at `now` and returns how many things it did (mails sent, bookings
  expired, rows erased…), the number the round's summary shows beside its name;
- `now` is None in a real worker: read the clock afresh (`now or times.now_utc()`) where it
  matters, as every service does; tests pass a fixed time to move the clock;
- it opens its own sessions on `engine` (`db.session_scope(engine)`) and its own transactions,
  each short, and claims each piece of work in the database before doing it, so that a second
  worker doing the same kind at the same moment does not do it again:
  - work that only writes the database: one transaction under the lock order of DESIGN §3
    (the performance, then the reservation, then what references them), with a state column
    that says the piece is done, re-checked in the UPDATE's WHERE; `FOR UPDATE SKIP LOCKED` on
    PostgreSQL lets other workers take other pieces meanwhile;
  - work outside the database (SMTP): a claim with a lease, as the outbox has (services/outbox.py);
- it may raise: the round logs the error, reports it, and goes on with the next kind;
- a kind that does many pieces calls `stopping()` between them and returns early when it is
  True: the worker was told to stop and finishes only the piece in hand.

Adding a kind is one line in `KINDS` (and its function, in the service it belongs to):

    ("reminders", reminders.queue_due_reminders),
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from azctl import db
from azctl.services import reminders, retention, sender, waitlist
from azctl.services.booking import housekeeping
from azctl.services.outbox import HeldClaims

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

Kind = Callable[["Engine", datetime | None], int]

# The longest wait between rounds while the database is away.
MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class _Shift:
    """What a running worker shares with the kinds it runs: the stop it may be told, and the
    mail claims it holds (handed back if it is stopped at once)."""

    stop: threading.Event
    held: HeldClaims


_shift: ContextVar[_Shift | None] = ContextVar("azctl_worker_shift", default=None)


def stopping() -> bool:
    """Whether the worker running this kind has been told to stop (never, outside a worker)."""
    shift = _shift.get()
    return shift is not None and shift.stop.is_set()


@contextmanager
def shift(stop: threading.Event, held: HeldClaims | None = None) -> Iterator[HeldClaims]:
    """Run the kinds called inside under `stop` (see `stopping`); yields the mail claims held."""
    claims = held or HeldClaims()
    token = _shift.set(_Shift(stop=stop, held=claims))
    try:
        yield claims
    finally:
        _shift.reset(token)


# The kinds of work ---------------------------------------------------------------------------


def deliver_mail(engine: Engine, now: datetime | None) -> int:
    """Deliver the due outbox messages (the sender's own pass; claims with a lease); returns
    how many were tried: sent, to be retried, or given up."""
    current = _shift.get()
    report = sender.send_once(
        engine=engine,
        now=now,
        stop=current.stop if current else None,
        held=current.held if current else None,
    )
    return report.sent + report.retrying + report.failed


def expire_pending(engine: Engine, now: datetime | None) -> int:
    """Expire pending bookings whose confirmation link lapsed (one transaction, lock order)."""
    with db.session_scope(engine) as session:
        return housekeeping.expire_pending(session, now=now)


def erase_past_retention(engine: Engine, now: datetime | None) -> int:
    """Erase personal data past `AZCTL_RETENTION` (one transaction per performance)."""
    with db.session_scope(engine) as session:
        return retention.erase_due(session, now=now, stop=stopping)


KINDS: list[tuple[str, Kind]] = [
    ("mail", deliver_mail),
    ("expire", expire_pending),
    # Lapsed offers free their seats before the round that offers freed seats down the lists.
    ("lapsed", waitlist.lapse_offers),
    ("offers", waitlist.offer_round),
    ("reminders", reminders.queue_due_reminders),
    ("retention", erase_past_retention),
]


# Rounds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundReport:
    """What one round did, kind by kind: `done` counts, `failed` one-line errors."""

    done: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def did_something(self) -> bool:
        return any(self.done.values())

    @property
    def database_away(self) -> bool:
        """Every kind failed (or none could start): the database, most likely, is not there."""
        return bool(self.failed) and not self.done

    def describe(self) -> str:
        """`mail 3, expire 0, retention 1`, then `; waitlist failed: …` for each failure."""
        parts = [", ".join(f"{name} {count}" for name, count in self.done.items())]
        parts += [f"{name} failed: {error}" for name, error in self.failed.items()]
        return "; ".join(part for part in parts if part)


def run_round(
    engine: Engine | None = None,
    *,
    now: datetime | None = None,
    kinds: list[tuple[str, Kind]] | None = None,
) -> RoundReport:
    """Do every kind of due work once, in order; a kind that fails does not stop the others.

    The engine defaults to the configured database's; when it cannot be had, every kind is
    reported failed with that one reason. A worker told to stop (`stopping`) ends the round
    after the kind in hand.
    """
    chosen = KINDS if kinds is None else kinds
    done: dict[str, int] = {}
    failed: dict[str, str] = {}
    try:
        engine = engine or db.get_engine()
    except Exception as exc:
        log.debug("worker: no database", exc_info=True)
        return RoundReport(failed={name: one_line(exc) for name, _kind in chosen})
    for name, kind in chosen:
        if stopping():
            break
        try:
            done[name] = kind(engine, now)
        except Exception as exc:  # logged and reported; the next kind still runs
            log.debug("worker: %s failed", name, exc_info=True)
            failed[name] = one_line(exc)
    return RoundReport(done=done, failed=failed)


def run_worker(
    *,
    stop: threading.Event,
    interval: float = 5.0,
    on_report: Callable[[RoundReport], None] | None = None,
    held: HeldClaims | None = None,
) -> None:
    """Run a round every `interval` seconds until `stop` is set; never raises.

    A round that did something or had a failure goes to `on_report` (default: this module's
    logger). While the database is away the wait doubles, up to `MAX_BACKOFF`, and is back to
    `interval` after the first round that works. Setting `stop` ends the loop after the piece
    of work in hand; the caller joins its thread.
    """
    report_to = on_report or _log_report
    away = 0
    with shift(stop, held):
        while not stop.is_set():
            try:
                report = run_round()
            except Exception as exc:  # run_round catches its kinds' errors; this is a bug
                log.debug("worker round failed", exc_info=True)
                report = RoundReport(failed={"round": one_line(exc)})
            if report.did_something or report.failed:
                try:
                    report_to(report)
                except Exception:
                    log.exception("the worker could not report a round")
            away = away + 1 if report.database_away else 0
            stop.wait(backoff(interval, away))


def backoff(interval: float, away: int) -> float:
    """The wait before the next round after `away` rounds in a row without a database."""
    if away <= 0:
        return interval
    return max(interval, min(MAX_BACKOFF, interval * 2**away))


def one_line(exc: BaseException) -> str:
    """The exception's type and the first line of its message (SQLAlchemy's run to many)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _log_report(report: RoundReport) -> None:
    if report.failed:
        log.warning("worker: %s", report.describe())
    else:
        log.info("worker: %s", report.describe())
