"""A show's poster (an image made safe to serve, or an https URL), summary and description."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, ImageFile, PngImagePlugin
from sqlalchemy.engine import Engine
from sqlmodel import Session

from azctl import db, errors
from azctl.models import Show
from azctl.services import catalog, posters, reports
from tests.images import bomb_png, encoded, halves, opened, oriented, with_gps, write
from tests.services.helpers import fresh, refused

RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture
def show(session: Session) -> Show:
    return catalog.add_show(session, title="La Locandiera", summary="Goldoni", publish=True)


def given(session: Session, show: Show, poster: posters.Poster | None, **fields: str) -> Show:
    return catalog.edit_show(session, slug=show.slug, poster=poster, **fields)


def close(pixel: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    """Near enough after JPEG's rounding."""
    return all(abs(a - b) <= 24 for a, b in zip(pixel[:3], expected, strict=True))


@pytest.mark.parametrize(
    ("kind", "options"),
    [("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {"quality": 90})],
)
def test_png_jpeg_and_webp_are_stored_as_an_image_named_by_its_hash(
    engine: Engine, session: Session, show: Show, tmp_path: Path, kind: str, options: dict
):
    path = write(tmp_path, f"poster.{kind.lower()}", encoded(kind, (600, 400), **options))
    poster = posters.from_file(path)
    given(session, show, poster)

    stored = fresh(engine, Show, show.id)
    assert stored.poster_type == "image/jpeg"  # opaque: JPEG, whatever it came as
    assert stored.poster_hash == hashlib.sha256(stored.poster_image).hexdigest()[:32]
    assert stored.poster_src == f"/posters/{stored.poster_hash}"
    assert stored.poster_url is None
    image = opened(stored.poster_image)
    assert (image.format, image.size) == ("JPEG", (600, 400))
    assert close(image.getpixel((300, 200)), (180, 30, 40))
    assert (poster.width, poster.height) == (600, 400)


def test_the_content_decides_not_the_name(tmp_path: Path):
    """A JPEG named .png is a JPEG, and is taken; a PNG named .jpg too."""
    assert posters.from_file(write(tmp_path, "a.png", encoded("JPEG"))).media_type == "image/jpeg"
    assert posters.from_file(write(tmp_path, "b.jpg", encoded("PNG"))).media_type == "image/jpeg"


def test_transparency_is_kept_as_png_and_an_opaque_alpha_is_not():
    sign = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    sign.paste((250, 200, 0, 255), (100, 100, 300, 200))
    buffer = io.BytesIO()
    sign.save(buffer, "PNG")
    kept = posters.from_bytes(buffer.getvalue())
    assert kept.media_type == "image/png"
    image = opened(kept.image)
    assert image.mode == "RGBA"
    assert image.getpixel((10, 10))[3] == 0
    assert image.getpixel((200, 150)) == (250, 200, 0, 255)

    opaque = posters.from_bytes(encoded("PNG", mode="RGBA", color=(9, 90, 9, 255)))
    assert opaque.media_type == "image/jpeg"


def test_unusual_modes_keep_their_look():
    """16-bit grey (a scanner's) is scaled, not clipped to white; CMYK (a print shop's) becomes
    RGB; a phone's multi-picture JPEG (MPO) gives its first picture."""
    buffer = io.BytesIO()
    Image.new("I;16", (300, 200), 40000).save(buffer, "PNG")
    grey = opened(posters.from_bytes(buffer.getvalue()).image or b"")
    assert (grey.mode, grey.getpixel((10, 10))) == ("L", 156)

    buffer = io.BytesIO()
    Image.new("CMYK", (300, 200), (0, 255, 255, 0)).save(buffer, "JPEG")
    print_red = opened(posters.from_bytes(buffer.getvalue()).image or b"")
    assert print_red.mode == "RGB" and close(print_red.getpixel((10, 10)), (255, 0, 0))

    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), RED).save(
        buffer, "MPO", save_all=True, append_images=[Image.new("RGB", (300, 200), BLUE)]
    )
    first = posters.from_bytes(buffer.getvalue())
    assert first.media_type == "image/jpeg"
    assert close(opened(first.image or b"").getpixel((10, 10)), RED)


def oversized(tmp_path: Path) -> Path:
    """A real PNG padded past the limit: refused by its size, before it is decoded."""
    return write(tmp_path, "huge.png", encoded("PNG") + b"\0" * posters.MAX_BYTES)


def _noise(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((600, 600), 80).convert("RGB").save(buffer, kind)
    return buffer.getvalue()


def truncated(tmp_path: Path) -> Path:
    """A photo whose download stopped halfway: its header is whole, its pixels are not."""
    whole = _noise("JPEG")
    return write(tmp_path, "cut.jpg", whole[: len(whole) // 2])


def truncated_png(tmp_path: Path) -> Path:
    return write(tmp_path, "cut.png", _noise("PNG")[:5000])


REFUSALS = {
    "gif": (
        lambda tmp: write(tmp, "anim.gif", encoded("GIF")),
        "poster: anim.gif is not a PNG, JPEG or WebP image",
    ),
    "text named .png": (
        lambda tmp: write(tmp, "notes.png", b"Mirandolina, act one\n" * 20),
        "poster: notes.png is not a PNG, JPEG or WebP image",
    ),
    "empty file": (
        lambda tmp: write(tmp, "empty.jpg", b""),
        "poster: empty.jpg is not a PNG, JPEG or WebP image",
    ),
    "svg": (
        lambda tmp: write(tmp, "logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        "poster: logo.png is not a PNG, JPEG or WebP image",
    ),
    "truncated jpeg": (
        truncated,
        "poster: cut.jpg is damaged or cut short: it cannot be read whole",
    ),
    "truncated png": (
        truncated_png,
        "poster: cut.png is damaged or cut short: it cannot be read whole",
    ),
    "oversized": (oversized, "poster: huge.png is larger than 8 MB"),
    "bomb past pillow's limit": (
        lambda tmp: write(tmp, "bomb.png", bomb_png(100_000, 100_000)),
        "poster: bomb.png has more than 50 million pixels",
    ),
    "bomb under pillow's limit": (
        lambda tmp: write(tmp, "bomb.png", bomb_png(8_000, 8_000)),
        "poster: bomb.png has more than 50 million pixels",
    ),
    "missing": (
        lambda tmp: tmp / "nowhere.png",
        "poster: cannot read {tmp}/nowhere.png: No such file or directory",
    ),
    "a directory": (lambda tmp: tmp, "poster: cannot read {tmp}: Is a directory"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_what_is_not_a_usable_image_is_refused_saying_why_and_changes_nothing(
    engine: Engine, session: Session, show: Show, tmp_path: Path, case: str
):
    given(session, show, posters.from_url("https://example.org/old.jpg"))
    make, message = REFUSALS[case]
    path = make(tmp_path)
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        given(session, show, posters.from_file(path), summary="changed")
    assert info.value.message == message.format(tmp=tmp_path)
    assert info.value.field == "poster"
    assert fresh(engine, Show, show.id).poster_url == "https://example.org/old.jpg"


def test_a_bomb_is_refused_before_it_is_decoded(monkeypatch: pytest.MonkeyPatch):
    """The pixel count is read from the header: not one row of the bomb is decoded."""
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda _image: pytest.fail("decoded a bomb"))
    with pytest.raises(errors.InvalidInput, match="more than 50 million pixels"):
        posters.from_bytes(bomb_png(8_000, 8_000))


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((4000, 3000), (1200, 900)),
        ((4000, 1000), (1200, 300)),
        ((1000, 6000), (400, 2400)),  # a freak strip: bounded by its height
        ((300, 200), (300, 200)),  # never made larger
        ((1200, 1700), (1200, 1700)),
    ],
)
def test_a_large_image_is_scaled_down_keeping_its_aspect(
    size: tuple[int, int], expected: tuple[int, int]
):
    poster = posters.from_bytes(encoded("JPEG", size))
    assert opened(poster.image).size == expected == (poster.width, poster.height)


def test_a_large_png_is_scaled_too():
    poster = posters.from_bytes(encoded("PNG", (4000, 2000)))
    assert opened(poster.image).size == (1200, 600)


def test_the_camera_orientation_is_applied():
    """EXIF 6 means "turn 90 degrees clockwise to show": the left half ends on top."""
    poster = posters.from_bytes(oriented(6, halves((400, 200), RED, BLUE)))
    image = opened(poster.image)
    assert image.size == (200, 400)
    assert close(image.getpixel((100, 50)), RED)
    assert close(image.getpixel((100, 350)), BLUE)


@pytest.mark.parametrize("kind", ["JPEG", "WEBP", "PNG"])
def test_exif_gps_text_and_profiles_are_gone(kind: str):
    source = with_gps(kind)
    assert b"Telefono 12" in source  # the test's own check: the metadata was there
    stored = posters.from_bytes(source).image
    assert stored is not None
    image = opened(stored)
    assert dict(image.getexif()) == {}
    assert not set(image.info) & {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"}
    assert b"Telefono 12" not in stored
    assert b"Exif\0\0" not in stored


def test_a_corrupt_exif_block_is_dropped_without_a_warning(recwarn: pytest.WarningsRecorder):
    """Pillow warns as it reads a broken EXIF block; the CLI prints one line, so none escapes."""
    buffer = io.BytesIO()
    broken = b"Exif\0\0II*\0\x08\0\0\0\xff\xff\x01\x02"  # claims 65535 entries, has none
    Image.new("RGB", (100, 100), RED).save(buffer, "JPEG", exif=broken)
    poster = posters.from_bytes(buffer.getvalue())
    assert dict(opened(poster.image or b"").getexif()) == {}
    assert [str(warning.message) for warning in recwarn] == []


def test_png_text_and_a_colour_profile_are_gone_and_the_colours_kept():
    from PIL import ImageCms

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Mirandolina")
    info.add_itxt("Location", "Via Rivoli 6, Milano")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 150, 60)).save(
        buffer, "PNG", pnginfo=info, icc_profile=profile
    )
    stored = posters.from_bytes(buffer.getvalue()).image
    assert stored is not None
    image = opened(stored)
    assert "icc_profile" not in image.info
    assert b"Mirandolina" not in stored and b"Rivoli" not in stored
    assert close(image.getpixel((150, 150)), (10, 150, 60))


def test_the_hash_is_stable_and_names_the_stored_bytes():
    source = encoded("PNG", (900, 700), color=(1, 2, 3))
    first, again = posters.from_bytes(source), posters.from_bytes(source)
    assert first.digest == again.digest
    assert first.image == again.image
    assert first.digest == hashlib.sha256(first.image or b"").hexdigest()[:32]
    other = posters.from_bytes(encoded("PNG", (900, 700), color=(200, 2, 3)))
    assert other.digest != first.digest


def test_an_https_url_is_stored_in_place_of_an_image_and_the_other_way_round(
    engine: Engine, session: Session, show: Show
):
    given(session, show, posters.from_bytes(encoded("JPEG")))
    url = "https://www.azionelab.it/locandine/la-locandiera.jpg?v=2"
    given(session, show, posters.from_source(url))
    stored = fresh(engine, Show, show.id)
    assert (stored.poster_url, stored.poster_src) == (url, url)
    assert (stored.poster_image, stored.poster_type, stored.poster_hash) == (None, None, None)

    given(session, show, posters.from_bytes(encoded("PNG")))
    stored = fresh(engine, Show, show.id)
    assert stored.poster_url is None
    assert stored.poster_src == f"/posters/{stored.poster_hash}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.org/p.jpg", "poster: only https URLs are taken, not http"),
        ("ftp://example.org/p.jpg", "poster: only https URLs are taken, not ftp"),
        ("javascript://alert(1)", "poster: only https URLs are taken, not javascript"),
        ("https:///p.jpg", "poster: the URL has no host"),
        ("https://", "poster: the URL has no host"),
        (
            "https://anna:secret@example.org/p.jpg",
            "poster: the URL must not carry a user name or password",
        ),
        ("https://example.org/a b.jpg", "poster: the URL contains spaces or control characters"),
        ("https://example.org/\x00.jpg", "poster: the URL contains spaces or control characters"),
        ("https://[::1/p.jpg", "poster: 'https://[::1/p.jpg' is not a valid URL"),
        (
            "https://example.org:99999/p.jpg",
            "poster: 'https://example.org:99999/p.jpg' is not a valid URL",
        ),
        ("https://example.org/" + "p" * 2000, "poster: the URL is longer than 2000 characters"),
    ],
)
def test_a_url_that_is_not_https_with_a_host_is_refused(
    engine: Engine, session: Session, show: Show, url: str, message: str
):
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        given(session, show, posters.from_source(url))
    assert (info.value.field, info.value.message) == ("poster", message)


def test_an_empty_poster_is_refused_with_the_way_to_remove_one():
    with pytest.raises(errors.InvalidInput) as info:
        posters.from_source(" ")
    assert info.value.message == (
        "poster: give an image file or an https URL (--no-poster removes the poster)"
    )


def test_a_url_of_2000_characters_is_taken():
    url = "https://example.org/" + "p" * (2000 - len("https://example.org/"))
    assert posters.from_url(url).url == url


def test_removing_the_poster_clears_image_and_url(engine: Engine, session: Session, show: Show):
    given(session, show, posters.from_bytes(encoded("JPEG")))
    catalog.edit_show(session, slug=show.slug, remove_poster=True)
    stored = fresh(engine, Show, show.id)
    assert (stored.poster_image, stored.poster_type, stored.poster_hash) == (None, None, None)
    assert (stored.poster_url, stored.poster_src) == (None, None)
    assert stored.summary == "Goldoni"  # only the poster changed


def test_a_poster_and_its_removal_at_once_are_refused(engine: Engine, session: Session, show: Show):
    poster = posters.from_bytes(encoded("JPEG"))
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        catalog.edit_show(session, slug=show.slug, poster=poster, remove_poster=True)
    assert info.value.message == "give a poster or remove it, not both"


def test_editing_other_fields_keeps_the_poster(engine: Engine, session: Session, show: Show):
    given(session, show, posters.from_bytes(encoded("JPEG")))
    before = fresh(engine, Show, show.id).poster_hash
    catalog.edit_show(session, slug=show.slug, title="La Locandiera (2026)")
    assert fresh(engine, Show, show.id).poster_hash == before


def test_only_a_published_shows_poster_is_found(session: Session, show: Show):
    poster = posters.from_bytes(encoded("JPEG"))
    given(session, show, poster)
    assert poster.digest is not None
    found = posters.published(session, digest=poster.digest)
    assert (found.image, found.media_type) == (poster.image, "image/jpeg")
    catalog.set_published(session, slug=show.slug, published=False)
    with pytest.raises(errors.NotFound):
        posters.published(session, digest=poster.digest)
    for digest in ("0" * 32, poster.digest.upper(), poster.digest + "0", "../../etc/passwd", ""):
        with pytest.raises(errors.NotFound):
            posters.published(session, digest=digest)


def test_listings_do_not_read_the_stored_image(engine: Engine, session: Session, make_performance):
    performance = make_performance()
    catalog.edit_show(
        session, slug="open-show", poster=posters.from_bytes(encoded("JPEG", (1200, 1600)))
    )
    with db.new_session(engine) as reading:
        [summary] = reports.list_performances(reading, ids=[performance.id])
        assert "poster_image" in sa.inspect(summary.show).unloaded
        assert summary.show.poster_src == f"/posters/{summary.show.poster_hash}"


# Summary and description -------------------------------------------------------------------


def test_the_summary_is_one_line_and_the_description_keeps_its_paragraphs(
    engine: Engine, session: Session, show: Show
):
    catalog.edit_show(
        session,
        slug=show.slug,
        summary="  Goldoni's comedy\nof an   innkeeper\t",
        description="\r\nFirst paragraph,\r\nsecond line.\r\n\r\n\tSecond paragraph.\rEnd.\n\n",
    )
    stored = fresh(engine, Show, show.id)
    assert stored.summary == "Goldoni's comedy of an innkeeper"
    assert stored.description == "First paragraph,\nsecond line.\n\n\tSecond paragraph.\nEnd."


def test_a_blank_summary_or_description_clears_it(engine: Engine, session: Session, show: Show):
    catalog.edit_show(session, slug=show.slug, description="Two\n\nparagraphs")
    catalog.edit_show(session, slug=show.slug, summary=" \n ", description="\n\n")
    stored = fresh(engine, Show, show.id)
    assert (stored.summary, stored.description) == (None, None)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"summary": "x" * 501}, "summary", "summary is longer than 500 characters"),
        ({"summary": "bell\x07"}, "summary", "summary contains control characters"),
        ({"summary": "file\x1cseparator"}, "summary", "summary contains control characters"),
        (
            {"description": "x" * 10001},
            "description",
            "description is longer than 10000 characters",
        ),
        ({"description": "form\x0cfeed"}, "description", "description contains control characters"),
        ({"description": "nul\x00"}, "description", "description contains control characters"),
        ({"description": "esc\x1b[31m"}, "description", "description contains control characters"),
    ],
)
def test_a_summary_or_description_breaking_a_rule_is_refused(
    engine: Engine, session: Session, show: Show, fields: dict, field: str, message: str
):
    with refused(engine, errors.InvalidInput, "invalid_input") as info:
        catalog.edit_show(session, slug=show.slug, title="Changed", **fields)
    assert (info.value.field, info.value.message) == (field, message)


def test_the_longest_description_fits_even_with_crlf(engine: Engine, session: Session, show: Show):
    text = ("y" * 99 + "\r\n") * 100  # 10 100 characters, 10 000 once each CR LF is one LF
    catalog.edit_show(session, slug=show.slug, description=text)
    assert len(fresh(engine, Show, show.id).description) == 9999  # the last LF is trimmed


def test_add_show_follows_the_same_rules(engine: Engine, session: Session):
    added = catalog.add_show(
        session, title="Godot", summary="Two\ntramps", description="Wait.\r\n\r\nStill waiting."
    )
    stored = fresh(engine, Show, added.id)
    assert (stored.summary, stored.description) == ("Two tramps", "Wait.\n\nStill waiting.")
