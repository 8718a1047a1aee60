"""The mail sender: delivers the outbox now (`send_once`), or round after round until it is told
to stop (`run_sender`); `azctl mail send [--watch]` runs it, and the worker (services/worker.py)
runs it as its `mail` kind. A sender stopped at once hands back its claims (`hand_back`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from azctl import db
from azctl.services import mail, outbox
from azctl.services.outbox import HeldClaims, SendReport, Transport

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

BATCH = 50


def send_once(
    *,
    transport: Transport | None = None,
    now: datetime | None = None,
    stop: threading.Event | None = None,
    held: HeldClaims | None = None,
    engine: Engine | None = None,
) -> SendReport:
    """Deliver every message due now, batch after batch, in a session of its own (on `engine`,
    default the configured database).

    The transport defaults to the configured one (SMTP or `.eml` files). A message that fails
    is not due again before its backoff, so the batches end; `stop` ends them after the message
    in hand. `held` is where the claims in hand are kept, for `hand_back`.
    """
    transport = transport or mail.transport_from_settings()
    total = SendReport()
    with db.session_scope(engine) as session:
        while stop is None or not stop.is_set():
            report = outbox.send_due(
                session,
                transport=transport,
                render=mail.render,
                now=now,
                limit=BATCH,
                stop=stop,
                held=held,
            )
            total += report
            if report.sent + report.retrying + report.failed + report.lost < BATCH:
                break
    return total


def hand_back(held: HeldClaims) -> int:
    """For a sender stopping at once, from another thread than its loop: take no more claims,
    and put what it claimed but has not delivered back in the queue; returns how many."""
    with db.session_scope() as session:
        return outbox.release(session, held=held)


def run_sender(
    *,
    stop: threading.Event,
    interval: float = 5.0,
    on_report: Callable[[SendReport], None] | None = None,
    held: HeldClaims | None = None,
) -> None:
    """Send what is due every `interval` seconds until `stop` is set; never raises.

    Each round that did something, or could not run (database or configuration trouble: its
    `error` says what), goes to `on_report`, or to this module's logger when there is none.
    Setting `stop` ends the loop after the message in hand; the caller joins its thread.
    """
    report_to = on_report or _log_report
    while not stop.is_set():
        try:
            report = send_once(stop=stop, held=held)
        except Exception as exc:  # a round that failed is reported and the next one tried
            log.debug("mail sender round failed", exc_info=True)
            report = SendReport(error=_one_line(exc))
        if report.sent or report.retrying or report.failed or report.lost or report.error:
            try:
                report_to(report)
            except Exception:
                log.exception("the mail sender could not report a round")
        stop.wait(interval)


def _one_line(exc: BaseException) -> str:
    """The exception's type and the first line of its message (SQLAlchemy's run to many)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _log_report(report: SendReport) -> None:
    if report.error:
        log.warning("mail sender: round failed, trying again: %s", report.error)
    else:
        log.info(
            "mail sender: sent %d, will retry %d, gave up on %d%s",
            report.sent,
            report.retrying,
            report.failed,
            f", {report.lost} claims taken over by another sender" if report.lost else "",
        )
