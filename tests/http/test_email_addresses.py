"""The public booking endpoint takes every address the shared rule takes (DESIGN §3)."""

from __future__ import annotations

import pytest

from azctl.models import Reservation
from tests.helpers import unchanged
from tests.http.helpers import assert_problem, booking_body
from tests.services.helpers import messages


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("o'brien@example.org", "o'brien@example.org"),
        ("anna+teatro@example.org", "anna+teatro@example.org"),
        ("visitatore@università.it", "visitatore@xn--universit-y1a.it"),
    ],
)
def test_a_real_address_is_booked_not_refused(engine, client, performance, typed, stored):
    path = f"/api/performances/{performance.id}/reservations"
    result = client.simulate_post(path, json=booking_body(email=typed))
    assert result.status_code == 202, result.text
    [mail] = messages(engine)
    assert mail.to_address == stored
    with engine.connect() as connection:
        row = connection.execute(
            Reservation.__table__.select().where(Reservation.id == mail.reservation_id)
        ).one()
    assert row.email == stored


def test_an_address_that_is_not_one_is_a_422_in_one_plain_sentence(engine, client, performance):
    path = f"/api/performances/{performance.id}/reservations"
    with unchanged(engine):
        problem = assert_problem(
            client.simulate_post(path, json=booking_body(email="a@@example.org")),
            422,
            "invalid_input",
        )
    assert problem["field"] == "email"
    assert problem["detail"] == "email: 'a@@example.org' is not an email address"
