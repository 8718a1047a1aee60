"""`azctl waitlist list|remove` (DESIGN §5, §8)."""

from __future__ import annotations

import csv
import io

import pytest

from azctl.services import booking, times, waitlist
from tests.commands.helpers import Cli, assert_error, json_output, succeeded, table
from tests.helpers import unchanged
from tests.services.waitlist_helpers import entry, join

FIELDS = [
    "position",
    "reference",
    "name",
    "email",
    "phone",
    "party_size",
    "status",
    "joined_at",
    "offer_expires_at",
    "reservation_id",
]


@pytest.fixture
def listed(engine, session, make_performance, confirmed):
    """A sold-out performance of 4 with three parties waiting; the second has an open offer."""
    performance = make_performance(capacity=4)
    parties = [confirmed(performance, 2), confirmed(performance, 2)]
    first = join(session, performance, 3, name="Anna Verdi", phone="+39 02 1234")
    second = join(session, performance, 2, name="Luca Neri")
    third = join(session, performance, 3, name="Sara Conti")
    booking.cancel_reservation(session, reference=parties[0].reservation.reference)
    assert waitlist.offer_round(engine, times.now_utc()) == 1
    return performance, [first, second, third]


def test_list_json_in_joining_order_numbering_those_waiting(cli: Cli, listed):
    performance, (first, second, third) = listed
    rows = json_output(cli("waitlist", "list", "--perf", str(performance.id), "--json"))
    assert [list(row) for row in rows] == [FIELDS] * 3
    assert [(r["reference"], r["position"], r["status"]) for r in rows] == [
        (first.entry.reference, 1, "waiting"),
        (second.entry.reference, None, "offered"),
        (third.entry.reference, 2, "waiting"),
    ]
    assert rows[1]["offer_expires_at"] == times.iso_local(performance.starts_at)
    assert rows[0]["name"] == "Anna Verdi"


def test_list_table_and_csv(cli: Cli, listed):
    performance, (first, _second, _third) = listed
    headers, cells = table(
        succeeded(cli("waitlist", "list", "--perf", str(performance.id))), title="Waiting list"
    )
    assert headers[:3] == ["#", "Reference", "Name"]
    assert cells[0][:3] == ["1", first.entry.reference, "Anna Verdi"]
    result = succeeded(cli("waitlist", "list", "--perf", str(performance.id), "--csv"))
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == FIELDS
    rows = list(reader)
    assert rows[0]["phone"] == "'+39 02 1234"  # a leading + is a formula to a spreadsheet
    assert [row["status"] for row in rows] == ["waiting", "offered", "waiting"]


def test_list_of_an_unknown_performance_is_refused(cli: Cli, database_url):
    assert_error(cli("waitlist", "list", "--perf", "999"), "no performance with id 999")


def test_remove_takes_a_party_off_and_frees_its_offer(cli: Cli, engine, listed):
    performance, (_first, second, _third) = listed
    result = succeeded(cli("waitlist", "remove", second.entry.reference.lower()))
    assert result.stdout == f"Removed {second.entry.reference} from the waiting list.\n"
    assert entry(engine, second.entry.reference).status == "left"
    with unchanged(engine):
        assert_error(
            cli("waitlist", "remove", second.entry.reference),
            f"{second.entry.reference} is already left",
        )
        assert_error(
            cli("waitlist", "remove", "AZ-000000"),
            "no waiting-list entry with reference 'AZ-000000'",
        )
    assert performance.id is not None
