"""POST /api/checkins with a door and a direction: the answer names both and staff's door note;
an exit of a party that is not inside is a 409 problem; a direction or door the API does not
take is a 4xx problem that records nothing, never a 500."""

from __future__ import annotations

import pytest

from azctl.models import CheckIn, DoorPass
from azctl.services import booking
from tests.conftest import count_rows
from tests.helpers import unchanged
from tests.http.helpers import assert_no_personal_data, assert_problem


@pytest.fixture
def post(client, bearer):
    """Posts a scan as Anna; no answer may show the visitor's details or be a server error."""

    def send(body):
        result = client.simulate_post("/api/checkins", json=body, headers=bearer)
        assert result.status_code < 500, result.text
        assert_no_personal_data(result.text)
        return result

    return send


@pytest.fixture
def ticket(session, performance, visitor_ticket):
    made = visitor_ticket(performance, 3)
    booking.flag_reservation(
        session, reference=made.reservation.reference, note="wheelchair space, row A"
    )
    return made


def scan(ticket, performance, **fields):
    return {"token": ticket.ticket_token, "performance_id": performance.id, **fields}


def test_the_answer_names_the_door_the_way_and_the_door_note(engine, post, performance, ticket):
    reference = ticket.reservation.reference
    entry = post(scan(ticket, performance, door="side", direction="in"))
    assert entry.status_code == 201, entry.text
    assert (entry.json["door"], entry.json["direction"]) == ("side", "in")
    assert entry.json["door_note"] == "wheelchair space, row A"
    assert entry.json["message"] == f"ADMIT 3: {reference}"

    leaving = post(scan(ticket, performance, direction="out"))
    assert leaving.status_code == 201, leaving.text
    assert (leaving.json["door"], leaving.json["direction"]) == ("main", "out")
    assert leaving.json["door_note"] is None
    assert leaving.json["checked_in_at"] == entry.json["checked_in_at"]

    back = post(scan(ticket, performance, door="side"))
    assert back.status_code == 201, back.text
    assert back.json["message"] == f"ADMIT 3 (back in): {reference}"
    assert (back.json["direction"], back.json["door_note"]) == ("in", "wheelchair space, row A")
    assert count_rows(engine, CheckIn) == 1
    assert count_rows(engine, DoorPass) == 3


def test_an_exit_of_a_party_not_inside_is_a_409_not_inside(post, performance, ticket):
    reference = ticket.reservation.reference
    never = assert_problem(post(scan(ticket, performance, direction="out")), 409, "not_inside")
    assert never["detail"] == f"NOT INSIDE: {reference} never came in"
    assert (never["reference"], never["direction"], never["door"]) == (reference, "out", "main")

    assert post(scan(ticket, performance)).status_code == 201
    assert post(scan(ticket, performance, direction="out", door="side")).status_code == 201
    left = assert_problem(
        post(scan(ticket, performance, direction="out", door="side")), 409, "not_inside"
    )
    assert left["detail"] == f"NOT INSIDE: {reference} has left already"
    assert (left["direction"], left["door"]) == ("out", "side")


def test_in_twice_at_two_doors_names_the_first(post, performance, ticket):
    assert post(scan(ticket, performance, door="side")).status_code == 201
    problem = assert_problem(
        post(scan(ticket, performance, door="main")), 409, "already_checked_in"
    )
    assert problem["detail"].endswith("by anna (side door)")
    assert (problem["door"], problem["direction"]) == ("main", "in")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"direction": "OUT"}, "direction"),
        ({"direction": None}, "direction"),
        ({"direction": ["out"]}, "direction"),
        ({"door": "x" * 41}, "door"),
        ({"door": "bar\u0007"}, "door"),
        ({"door": 7}, "door"),
    ],
    ids=[
        "unknown",
        "upper case",
        "null",
        "a list",
        "41 characters",
        "a bell",
        "a number",
    ],
)
def test_a_direction_or_door_the_api_does_not_take_is_refused(
    engine, post, performance, ticket, fields, field
):
    with unchanged(engine):
        result = post(scan(ticket, performance, **fields))
    problem = assert_problem(result, 422, "invalid_input")
    assert problem["field"] == field
    assert problem["detail"].startswith(f"{field}: ")


def test_a_door_of_forty_characters_is_a_door_and_blanks_around_one_go(post, performance, ticket):
    forty = "Ingresso laterale di via dei Fiori, 12 B"
    assert len(forty) == 40
    entry = post(scan(ticket, performance, door=forty))
    assert (entry.status_code, entry.json["door"]) == (201, forty)
    leaving = post(scan(ticket, performance, door=" side \n door ", direction="out"))
    assert (leaving.status_code, leaving.json["door"]) == (201, "side door")


def test_the_document_describes_the_door_and_the_direction(client):
    schemas = client.simulate_get("/openapi.json").json["components"]["schemas"]
    request = schemas["ScanRequest"]["properties"]
    assert request["direction"]["enum"] == ["in", "out"]
    assert request["direction"]["default"] == "in"
    door = next(choice for choice in request["door"]["anyOf"] if choice.get("type") == "string")
    assert door["maxLength"] == 40
    answer = schemas["CheckInAnswer"]
    assert {"direction", "door", "door_note"} <= set(answer["required"])
    assert answer["properties"]["direction"]["enum"] == ["in", "out"]
