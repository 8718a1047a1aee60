"""The ticket mail carries the cancel link whenever its context holds the raw cancel token.

The link is built at send time from `cancel_token` (services/mail.py), as for the confirmation
mail; booking code that queues the ticket puts the token in the context.
"""

from __future__ import annotations

from azctl.services import booking, mail, tickets
from tests.services.helpers import messages
from tests.services.test_mail import text_and_html


def test_the_ticket_mail_shows_the_cancel_link_from_its_context(
    session, engine, make_performance, book
):
    submitted = book(make_performance(capacity=10), 2)
    booking.confirm_booking(session, token=submitted.confirm_token)
    [ticket] = messages(engine, kind="ticket")
    link = tickets.cancel_url(submitted.cancel_token)

    ticket.context = {**ticket.context, "cancel_token": submitted.cancel_token}
    text, html = text_and_html(mail.render(ticket))
    assert f"Cancel, and your seats go to someone else: {link}\n" in text
    assert f'<a href="{link}">Cancel this booking</a>' in html

    ticket.context = {k: v for k, v in ticket.context.items() if k != "cancel_token"}
    text, html = text_and_html(mail.render(ticket))
    assert "/cancel" not in text and "Cancel this booking" not in html
