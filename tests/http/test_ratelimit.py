"""Rate limits on booking, confirmation, cancellation and scans: per client and per endpoint,
`X-Forwarded-For` believed only from a trusted proxy, `off` to disable, GETs never limited."""

from __future__ import annotations

import ipaddress

import pytest

from azctl import errors
from azctl.http.app import create_app
from azctl.http.ratelimit import ClientIdentity, RateLimiter
from azctl.services import tokens
from azctl.settings import reload_settings
from tests.helpers import unchanged
from tests.http.helpers import assert_page, assert_problem, booking_body, post_form

PROXY = "10.0.0.1"
LIMITED = "rate_limited"


@pytest.fixture
def three_a_minute(monkeypatch):
    """AZCTL_RATE_LIMIT=3/minute, with 10.0.0.0/8 as the trusted proxies."""
    monkeypatch.setenv("AZCTL_RATE_LIMIT", "3/minute")
    monkeypatch.setenv("AZCTL_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")
    reload_settings()


@pytest.fixture
def limited_client(three_a_minute, make_client):
    return make_client()


@pytest.fixture
def post(limited_client, performance):
    """POSTs to one of the limited endpoints by its scope's name; all answer without writing."""
    token = tokens.new_token()
    requests = {
        "booking": (
            f"/api/performances/{performance.id}/reservations",
            {"json": booking_body(party_size=0)},
        ),
        "confirmation": ("/api/confirmations", {"json": {"token": token}}),
        "cancellation": ("/api/cancellations", {"json": {"token": token}}),
        "checkin": ("/api/checkins", {"json": {}}),
        "confirm page": (f"/confirm/{token}", None),
        "cancel page": (f"/cancel/{token}", None),
        "booking page": (f"/book/{performance.id}", {"party_size": "0"}),
    }

    def send(scope, *, remote_addr="192.0.2.10", headers=None):
        path, kwargs = requests[scope]
        if scope.endswith("page"):  # a browser's form, with its anti-forgery token
            return post_form(limited_client, path, kwargs, remote_addr=remote_addr, headers=headers)
        return limited_client.simulate_post(
            path, remote_addr=remote_addr, headers=headers, **kwargs
        )

    return send


def statuses(send, count, **kwargs):
    return [send(**kwargs).status_code for _ in range(count)]


@pytest.mark.parametrize(
    "scope",
    [
        "booking",
        "confirmation",
        "cancellation",
        "checkin",
        "confirm page",
        "cancel page",
        "booking page",
    ],
)
def test_the_fourth_post_in_a_minute_is_429_with_retry_after(engine, post, scope):
    allowed = statuses(lambda: post(scope), 3)
    assert 429 not in allowed
    with unchanged(engine):
        refused = post(scope)
    if scope.endswith("page"):
        assert_page(refused, 429, "Too many tries")
    else:
        assert_problem(refused, 429, LIMITED)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_another_client_and_another_endpoint_have_counts_of_their_own(post):
    assert 429 not in statuses(lambda: post("confirmation"), 3)
    assert post("confirmation").status_code == 429
    assert post("confirmation", remote_addr="192.0.2.11").status_code == 404
    assert post("cancellation").status_code == 404
    assert post("booking").status_code == 422


def test_the_confirm_page_and_the_api_share_the_confirmation_count(post):
    assert statuses(lambda: post("confirmation"), 2) == [404, 404]
    assert post("confirm page").status_code == 404
    assert post("confirm page").status_code == 429


def test_the_booking_page_and_the_api_share_the_booking_count(post):
    assert statuses(lambda: post("booking"), 2) == [422, 422]
    assert post("booking page").status_code == 422
    assert post("booking page").status_code == 429


def test_forged_form_posts_count_against_the_limit_too(limited_client, performance):
    """A forged POST is refused before anything is read from the database, but it is counted:
    the limit is what stops a flood, and a flood of forgeries is still one."""
    path = f"/confirm/{tokens.new_token()}"
    assert statuses(lambda: limited_client.simulate_post(path), 3) == [403, 403, 403]
    assert limited_client.simulate_post(path).status_code == 429


def test_gets_are_never_limited(limited_client, performance):
    paths = [
        f"/api/performances/{performance.id}",
        f"/confirm/{tokens.new_token()}",
        f"/cancel/{tokens.new_token()}",
        "/api/shows",
    ]
    for path in paths:
        answered = {limited_client.simulate_get(path).status_code for _ in range(5)}
        assert 429 not in answered, path


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(post):
    forged = [
        post("confirmation", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(4)
    ]
    assert forged == [404, 404, 404, 429]


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(post):
    def via_proxy(client_address, proxy=PROXY):
        return post(
            "confirmation", remote_addr=proxy, headers={"X-Forwarded-For": client_address}
        ).status_code

    assert [via_proxy("203.0.113.1") for _ in range(4)] == [404, 404, 404, 429]
    assert via_proxy("203.0.113.2") == 404
    assert via_proxy("203.0.113.2", proxy="192.168.1.1") == 404
    # What a client puts in front of the proxy's own entry does not make it someone else.
    assert via_proxy("198.51.100.9, 203.0.113.1") == 429
    # The nearest address that is not a trusted proxy is the client.
    assert via_proxy("203.0.113.1, 10.0.0.2") == 429
    assert post("confirmation", remote_addr=PROXY).status_code == 404


def test_a_limiter_can_be_given_to_the_app(make_client):
    identity = ClientIdentity((ipaddress.ip_network("10.0.0.0/8"),))
    client = make_client(
        limiter=RateLimiter(limit="1/minute", storage_uri="memory://", identity=identity)
    )

    def confirm():
        return client.simulate_post("/api/confirmations", json={"token": "x"}).status_code

    assert [confirm(), confirm()] == [404, 429]


def test_off_disables_the_limits(monkeypatch, make_client):
    monkeypatch.setenv("AZCTL_RATE_LIMIT", "off")
    reload_settings()
    client = make_client()
    answered = {
        client.simulate_post("/api/confirmations", json={"token": "x"}).status_code
        for _ in range(40)
    }
    assert answered == {404}


def test_the_default_limit_is_thirty_a_minute(make_client):
    client = make_client()
    answered = [
        client.simulate_post("/api/confirmations", json={"token": "x"}).status_code
        for _ in range(31)
    ]
    assert answered == [404] * 30 + [429]


def test_an_unknown_storage_is_refused_when_the_app_is_made(monkeypatch, engine):
    monkeypatch.setenv("AZCTL_RATELIMIT_STORAGE", "nope://somewhere")
    with pytest.raises(errors.InvalidInput) as refused:
        create_app(engine=engine, settings=reload_settings())
    assert "AZCTL_RATELIMIT_STORAGE" in refused.value.message
    assert "nope://" in refused.value.message
