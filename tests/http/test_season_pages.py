"""The season (`/`) and a show's page (`/shows/{slug}`): what is on, what is left, where to book.

Both pages are plain HTML in the visitor's language, escape everything staff typed, and answer an
unknown or unpublished show with the HTML 404 page, never JSON.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import falcon.testing
import pytest
from sqlalchemy import event

from azctl.http import cache, pages
from azctl.http.app import create_app
from azctl.services import booking, catalog, i18n, times
from azctl.settings import get_settings, reload_settings
from tests.helpers import unchanged
from tests.http.helpers import assert_page

NOT_FOUND = "We could not find this page"
SCRIPT = "<script>alert(1)</script>"


def performance_item(page: str, performance_id: int) -> str:
    """The `<li>` of one performance on a show's page."""
    match = re.search(rf'<li class="performance" id="p{performance_id}">(.*?)</li>', page, re.S)
    assert match, f"performance {performance_id} is not listed"
    return match[1]


def next_saturday_evening() -> datetime:
    """A Saturday at 20:30 in the theatre's zone, at least a week ahead."""
    zone = ZoneInfo("Europe/Rome")
    day = (times.now_utc() + timedelta(days=7)).astimezone(zone).date()
    day += timedelta(days=(5 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 20, 30, tzinfo=zone)


def set_poster(session, slug: str, **columns: str) -> None:
    show = catalog.get_show(session, slug=slug)
    for name, value in columns.items():
        setattr(show, name, value)
    session.add(show)
    session.commit()


def test_the_season_lists_what_is_on_and_nothing_else(engine, session, client, make_performance):
    on = make_performance(capacity=10)
    cancelled = make_performance(starts_in=timedelta(days=3))
    booking.cancel_performance(session, performance_id=cancelled.id)
    make_performance(published=False)
    make_performance(show_slug="last-season", starts_in=timedelta(days=-1))
    gone = make_performance(show_slug="called-off")
    booking.cancel_performance(session, performance_id=gone.id)
    catalog.edit_show(session, slug="open-show", summary="A comedy of manners.")

    with unchanged(engine):
        page = assert_page(client.simulate_get("/"), 200, get_settings().theatre_name)

    assert '<h2><a href="/shows/open-show">Open Show</a></h2>' in page
    assert "<p>A comedy of manners.</p>" in page
    assert f'<time datetime="{on.starts_at.isoformat()}">' in page
    assert "10 seats free" in page
    assert cancelled.starts_at.isoformat() not in page
    for absent in ("Hidden Show", "hidden-show", "Last Season", "Called Off"):
        assert absent not in page
    assert 'name="robots"' not in page, "the season is for search engines too"


def test_a_long_run_shows_its_next_dates_and_how_many_more(client, make_performance):
    for day in range(1, 7):
        make_performance(starts_in=timedelta(days=day))
    page = client.simulate_get("/").text
    assert page.count("<time ") == 4
    assert "and 2 more dates" in page


def test_an_empty_season_says_so(engine, client):
    page = assert_page(client.simulate_get("/"), 200, get_settings().theatre_name)
    assert "There are no performances on sale right now." in page
    assert '<ul class="shows">' not in page


def test_a_sold_out_or_closed_show_stays_on_the_season(
    session, client, make_performance, confirmed
):
    full = make_performance(capacity=2)
    confirmed(full, 2)
    closed = make_performance(show_slug="closed-show")
    catalog.set_booking_enabled(session, performance_id=closed.id, enabled=False)
    page = client.simulate_get("/").text
    assert "Open Show" in page and "Sold out" in page
    assert "Closed Show" in page and "Booking closed" in page
    assert "/book/" not in page


def test_the_show_page_has_summary_and_description_as_escaped_paragraphs(
    engine, session, client, performance
):
    catalog.edit_show(
        session,
        slug="open-show",
        title=f"Show {SCRIPT}",
        summary="Love & <b>intrigue</b>.",
        description=f"First act.\n\n  Second act {SCRIPT}.\nSame paragraph.\n\n\nThird act.",
    )
    with unchanged(engine):
        page = assert_page(
            client.simulate_get("/shows/open-show"),
            200,
            "Show &lt;script&gt;alert(1)&lt;/script&gt;",
        )
    assert '<p class="summary">Love &amp; &lt;b&gt;intrigue&lt;/b&gt;.</p>' in page
    assert "<p>First act.</p>" in page
    assert "<p>Second act &lt;script&gt;alert(1)&lt;/script&gt;.\nSame paragraph.</p>" in page
    assert "<p>Third act.</p>" in page
    assert "<script" not in page and "<b>" not in page
    assert "noindex" not in page, "a show's page is for search engines too"


def test_each_performance_says_what_is_left_and_offers_booking_only_when_it_can(
    session, client, make_performance, confirmed, monkeypatch
):
    monkeypatch.setenv("AZCTL_FEW_SEATS", "5")
    reload_settings()
    plenty = make_performance(capacity=5, starts_in=timedelta(days=1))
    few = make_performance(capacity=4, starts_in=timedelta(days=2))
    last = make_performance(capacity=1, starts_in=timedelta(days=3))
    sold_out = make_performance(capacity=2, starts_in=timedelta(days=4))
    confirmed(sold_out, 2)
    closed = make_performance(capacity=50, starts_in=timedelta(days=5))
    catalog.set_booking_enabled(session, performance_id=closed.id, enabled=False)

    page = client.simulate_get("/shows/open-show").text

    expected = [
        (plenty, "5 seats free", True),
        (few, "Only 4 seats left", True),
        (last, "Only 1 seat left", True),
        (sold_out, "Sold out", False),
        (closed, "Booking closed", False),
    ]
    for performance, says, bookable in expected:
        item = performance_item(page, performance.id)
        assert says in item, (says, item)
        assert (f'href="/book/{performance.id}"' in item) is bookable, item
    # Only the sold-out performance whose booking is open offers its waiting list (DESIGN §8).
    for performance, *_ in expected:
        item = performance_item(page, performance.id)
        assert (f'href="/waitlist/{performance.id}"' in item) is (performance is sold_out), item


def test_a_book_link_names_its_performance_for_a_screen_reader(client, performance):
    page = client.simulate_get("/shows/open-show").text
    when = i18n.format_when(performance.starts_at, "en")
    item = performance_item(page, performance.id)
    assert f'<time datetime="{performance.starts_at.isoformat()}">{when}</time>' in item
    link = re.search(r'<a class="button" href="/book/\d+">(.*?)</a>', item)
    assert link is not None
    assert link[1] == f'Book<span class="visually-hidden">, {when}</span>'


def test_a_show_page_lists_the_venue_and_its_address(session, client, performance):
    catalog.edit_venue(session, slug="teatro-studio", address="Via Rivoli 6")
    item = performance_item(client.simulate_get("/shows/open-show").text, performance.id)
    assert "Teatro Studio" in item and "Via Rivoli 6, Milano" in item


@pytest.mark.parametrize("slug", ["no-such-show", "hidden-show", "%3Cscript%3E", "a" * 300])
def test_an_unknown_or_unpublished_show_is_the_html_404_page(
    engine, client, make_performance, slug
):
    make_performance(published=False)
    with unchanged(engine):
        page = assert_page(client.simulate_get(f"/shows/{slug}"), 404, NOT_FOUND)
    assert "Hidden Show" not in page
    assert "<script" not in page.split("</style>")[1]


def test_italian_by_accept_language(session, client):
    catalog.add_venue(session, name="Teatro Studio", city="Milano")
    catalog.add_show(session, title="La Locandiera", slug="open-show", publish=True)
    performance = catalog.add_performance(
        session,
        show_slug="open-show",
        venue_slug="teatro-studio",
        starts_at=next_saturday_evening(),
        room_capacity=10,
    )
    result = client.simulate_get("/shows/open-show", headers={"Accept-Language": "it-IT,it;q=0.9"})
    page = result.text
    assert result.headers["Content-Language"] == "it"
    assert '<html lang="it">' in page
    assert "sabato" in page and ", 20:30</time>" in page
    item = performance_item(page, performance.id)
    assert "Prenota<span" in item and "10 posti liberi" in item
    assert "azctl_lang" not in result.cookies, "only a chosen language is remembered"

    season = client.simulate_get("/", headers={"Accept-Language": "it"}).text
    assert '<html lang="it">' in season and "sab " in season


def test_italian_by_the_query_is_kept_in_the_cookie(client, performance):
    chosen = client.simulate_get("/", params={"lang": "it"})
    assert '<html lang="it">' in chosen.text
    assert chosen.cookies["azctl_lang"].value == "it"

    later = client.simulate_get("/shows/open-show", cookies={"azctl_lang": "it"})
    assert '<html lang="it">' in later.text
    assert "posti liberi" in later.text


def test_english_by_the_query_even_when_the_browser_asks_italian(client, performance):
    result = client.simulate_get(
        "/shows/open-show", params={"lang": "en"}, headers={"Accept-Language": "it"}
    )
    assert '<html lang="en">' in result.text
    assert "10 seats free" in result.text
    assert result.cookies["azctl_lang"].value == "en"


def test_the_switch_links_the_same_page_in_the_other_language(client, performance):
    page = client.simulate_get("/shows/open-show").text
    assert '<a href="/shows/open-show?lang=it" lang="it" hreflang="it">Italiano</a>' in page
    italian = client.simulate_get("/", headers={"Accept-Language": "it"}).text
    assert '<a href="/?lang=en" lang="en" hreflang="en">English</a>' in italian


def test_the_theatre_names_itself_and_its_privacy_page(monkeypatch, make_client, performance):
    monkeypatch.setenv("AZCTL_THEATRE_NAME", "Teatro dell'Orologio")
    monkeypatch.setenv("AZCTL_PRIVACY_URL", "https://teatro.example.org/privacy")
    reload_settings()
    client = make_client()
    for path in ("/", "/shows/open-show"):
        page = client.simulate_get(path).text
        assert '<a class="theatre" href="/">Teatro dell&#39;Orologio</a>' in page
        assert '<a href="https://teatro.example.org/privacy">Privacy</a>' in page
    assert "<h1>Teatro dell&#39;Orologio</h1>" in client.simulate_get("/").text


@pytest.mark.parametrize(
    ("columns", "src"),
    [
        ({"poster_hash": "0f3a9c"}, "/posters/0f3a9c"),
        ({"poster_url": "https://cdn.example.org/locandiera.jpg"}, None),
    ],
)
def test_the_poster_is_shown_with_the_title_as_its_text(session, client, performance, columns, src):
    src = src or columns["poster_url"]
    set_poster(session, "open-show", **columns)
    show = client.simulate_get("/shows/open-show").text
    assert f'<img class="poster" src="{src}" alt="Open Show">' in show
    season = client.simulate_get("/").text
    assert f'<img class="thumbnail" src="{src}" alt="Open Show"' in season


def test_no_poster_no_image(client, performance):
    for path in ("/", "/shows/open-show"):
        assert "<img" not in client.simulate_get(path).text


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("path", ["/", "/shows/open-show"])
def test_a_reload_within_the_cache_time_reads_nothing_in_either_language(
    engine, session, make_performance, confirmed, monkeypatch, path
):
    clock = Clock()
    monkeypatch.setattr(cache, "monotonic", clock)
    monkeypatch.setenv("AZCTL_PUBLIC_CACHE_SECONDS", "1")
    reload_settings()
    client = falcon.testing.TestClient(create_app(engine=engine, settings=get_settings()))
    performance = make_performance(capacity=20)
    assert "20 seats free" in client.simulate_get(path).text
    assert "20 posti liberi" in client.simulate_get(path, headers={"Accept-Language": "it"}).text
    confirmed(performance, 3)
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: queries.append(args[2]))

    clock.now += 0.9
    italian = client.simulate_get(path, headers={"Accept-Language": "it"}).text
    assert "20 posti liberi" in italian
    assert "20 seats free" in client.simulate_get(path).text
    assert not queries, "a kept page must not touch the database"

    clock.now += 0.2
    assert "17 seats free" in client.simulate_get(path).text
    assert queries


def test_a_refused_show_is_not_kept(engine, session, make_performance, monkeypatch):
    monkeypatch.setattr(cache, "monotonic", Clock())
    monkeypatch.setenv("AZCTL_PUBLIC_CACHE_SECONDS", "1")
    reload_settings()
    client = falcon.testing.TestClient(create_app(engine=engine, settings=get_settings()))
    make_performance(published=False)
    assert client.simulate_get("/shows/hidden-show").status_code == 404
    catalog.set_published(session, slug="hidden-show", published=True)
    assert_page(client.simulate_get("/shows/hidden-show"), 200, "Hidden Show")


def test_the_show_slug_is_found_whatever_its_case(client, performance):
    assert_page(client.simulate_get("/shows/Open-Show"), 200, "Open Show")


def test_a_show_without_upcoming_performances_says_so(client, make_performance):
    make_performance(starts_in=timedelta(days=-2))
    page = assert_page(client.simulate_get("/shows/open-show"), 200, "Open Show")
    assert "There are no upcoming performances of this show." in page


def test_the_pages_never_read_the_posters_bytes(engine, session, client, performance):
    """A stored poster may be a few hundred KB: listings read its hash, never the image."""
    set_poster(session, "open-show", poster_hash="0f3a9c")
    show = catalog.get_show(session, slug="open-show")
    show.poster_image = b"\x89PNG" + bytes(300_000)
    session.add(show)
    session.commit()
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    for path in ("/", "/shows/open-show"):
        assert 'src="/posters/0f3a9c"' in client.simulate_get(path).text
    assert queries
    assert not [query for query in queries if "poster_image" in query]


def test_the_stylesheet_is_inline_and_keeps_its_promises(client, performance):
    """Whether the sheet works is for a browser to say (widths, contrast, print); this catches a
    sheet that lost a whole concern, or a page that no longer inlines it."""
    result = client.simulate_get("/shows/open-show")
    css = pages.STYLESHEET
    assert f"<style>{css}</style>" in result.text
    for promise in (
        "@media (prefers-color-scheme: dark)",
        "@media (prefers-reduced-motion: reduce)",
        ":focus-visible",
        "@page { size: A4;",
        "@media print",
        ".no-print",
        "@font-face",
    ):
        assert (promise in css) is (promise != "@font-face"), promise
