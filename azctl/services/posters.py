"""A show's poster: an image file made safe and small enough to serve, or an https URL.

An image is stored in the database, so every host behind the proxy serves the same one, at
`/posters/{hash}`: the hash of the stored bytes names it, so that address never changes meaning
and browsers may keep it for a year. What a visitor's browser decodes comes from a file someone
picked on their computer, so it is taken apart here first: recognised by its content (never its
name), refused when it would take a wasteful amount of memory to decode, turned upright, scaled
down, and written anew without any of the metadata it came with (EXIF can carry where a photo was
taken). Pillow is imported only when an image is handled, so the commands that never do stay quick.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from azctl import errors
from azctl.models import Show

if TYPE_CHECKING:
    from PIL.Image import Image

FIELD = "poster"
MAX_BYTES = 8 * 1024 * 1024
# A 50-megapixel image takes about 150 MB to decode: more than any poster needs, far less than
# what a small file that claims to be 100 000 pixels wide would take (a decompression bomb).
MAX_PIXELS = 50_000_000
# What a page shows: wide enough for a sharp poster on a desktop or a phone at 3x, no wider; the
# height bound only stops a freak strip of an image from being kept at full length.
MAX_WIDTH = 1200
MAX_HEIGHT = 2400
MAX_URL_LENGTH = 2000
JPEG_QUALITY = 85
# Hex digits of the SHA-256 of the stored bytes that name a poster: 128 bits, plenty for a name.
HASH_LENGTH = 32
# The formats taken, as Pillow names what a file's bytes are.
ACCEPTED = ("PNG", "JPEG", "WEBP")
_HASH = re.compile(rf"^[0-9a-f]{{{HASH_LENGTH}}}$")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_WIDE_GREY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


@dataclass(frozen=True)
class Poster:
    """A poster checked and ready to store: an image (its bytes, media type, hash and size in
    pixels) or the https URL of one elsewhere; never both."""

    image: bytes | None = None
    media_type: str | None = None
    digest: str | None = None
    width: int = 0
    height: int = 0
    url: str | None = None


def _refused(message: str) -> errors.InvalidInput:
    return errors.InvalidInput(FIELD, f"poster: {message}")


def is_url(text: str) -> bool:
    """Whether `--poster` was given an address rather than a file: it names a scheme."""
    return "://" in text


def from_source(text: str) -> Poster:
    """What `--poster` was given: an https URL, or the path of an image file."""
    if not text.strip():
        raise _refused("give an image file or an https URL (--no-poster removes the poster)")
    return from_url(text) if is_url(text) else from_file(Path(text))


def from_url(url: str) -> Poster:
    """An image elsewhere, by an https address with a host (a page served over https cannot
    show an http image, and the pages' Content-Security-Policy allows only https ones)."""
    cleaned = url.strip()
    if not cleaned:
        raise _refused("the URL is empty")
    if len(cleaned) > MAX_URL_LENGTH:
        raise _refused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(char.isspace() or not char.isprintable() for char in cleaned):
        raise _refused("the URL contains spaces or control characters")
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - reading it checks it is a number in range
    except ValueError:
        raise _refused(f"{cleaned!r} is not a valid URL") from None
    if parts.scheme.lower() != "https":
        raise _refused(f"only https URLs are taken, not {parts.scheme or 'this'}")
    if not parts.hostname:
        raise _refused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise _refused("the URL must not carry a user name or password")
    return Poster(url=cleaned)


def from_file(path: Path) -> Poster:
    """The image in the file at `path`, read up to `MAX_BYTES` (a larger one is refused unread)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _refused(f"cannot read {path}: {exc.strerror or exc}") from None
    return from_bytes(data, name=path.name)


def from_bytes(data: bytes, *, name: str = "the image") -> Poster:
    """A PNG, JPEG or WebP image (`name` says which in a refusal), made ready to serve.

    What is stored is JPEG, or PNG when the image has transparency. JPEG because nearly every
    poster is a photograph or a print's artwork, which JPEG keeps at a fraction of PNG's size,
    and because every browser, mail client and link preview shows it (WebP would save a little
    more, but not everywhere that may be handed the address). JPEG has no transparency, so an
    image that really uses it is kept as PNG, which keeps it exactly; an alpha channel that is
    opaque everywhere counts as none.
    """
    if len(data) > MAX_BYTES:
        raise _refused(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB")
    from PIL.Image import DecompressionBombWarning

    with warnings.catch_warnings():
        # Pillow warns of what it mends in an odd file (corrupt EXIF, a palette's transparency):
        # nothing a person can act on, and not for stderr. Its bomb warning is a refusal.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", DecompressionBombWarning)
        image = _decoded(data, name)
        try:
            image = _scaled(_upright(image))
            media_type, stored = _encoded(image)
        except Exception:  # a file Pillow reads but cannot convert is refused, not a traceback
            raise _refused(f"{name} cannot be converted to a poster for the web") from None
    return Poster(
        image=stored,
        media_type=media_type,
        digest=hashlib.sha256(stored).hexdigest()[:HASH_LENGTH],
        width=image.width,
        height=image.height,
    )


def _decoded(data: bytes, name: str) -> Image:
    """The image's pixels, or a refusal that says what is wrong with the file.

    The pixel count is checked from the header, before anything is decoded. Pillow's own bomb
    check (a warning, made an error by the caller, then an error, past ~89 megapixels) is turned
    into the same refusal.
    """
    from PIL import Image, UnidentifiedImageError

    too_many = _refused(f"{name} has more than {MAX_PIXELS // 1_000_000} million pixels")
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED)
    except UnidentifiedImageError:
        raise _refused(f"{name} is not a PNG, JPEG or WebP image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many from None
    except Exception:  # any failure to parse an untrusted file is the file's
        raise _refused(f"{name} is damaged: it cannot be read as an image") from None
    if image.width * image.height > MAX_PIXELS:
        raise too_many
    try:
        if image.format == "JPEG":
            # Decode at the smallest scale that still leaves both sides at least the target
            # width: a large photo then costs a fraction of the memory and time.
            image.draft(None, (MAX_WIDTH, MAX_WIDTH))
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many from None
    except Exception:  # as above: a truncated or corrupt image
        raise _refused(f"{name} is damaged or cut short: it cannot be read whole") from None
    return image


def _upright(image: Image) -> Image:
    """Turned as the camera's EXIF orientation says (the tag goes with the rest of the metadata,
    so it must be applied first), and in sRGB, the colours a browser assumes without a profile."""
    from PIL import ImageOps

    with contextlib.suppress(Exception):  # a broken EXIF block: show the image as it is stored
        image = ImageOps.exif_transpose(image)
    return _in_srgb(_eight_bit(image))


def _eight_bit(image: Image) -> Image:
    """A 16-bit greyscale image (a scanner's, say) in 8 bits: Pillow's own conversion would clip
    every value above 255 to white rather than scale it."""
    if image.mode not in _WIDE_GREY_MODES:
        return image
    return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")


def _in_srgb(image: Image) -> Image:
    profile = image.info.get("icc_profile")
    if not profile:
        return image
    from PIL import ImageCms

    mode = "RGBA" if image.mode in _ALPHA_MODES else "RGB"
    try:
        return ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(profile)),
            ImageCms.createProfile("sRGB"),
            outputMode=mode,
        )
    except Exception:  # a profile lcms cannot use: keep the numbers as they are
        return image


def _scaled(image: Image) -> Image:
    """At most MAX_WIDTH wide and MAX_HEIGHT high, the aspect kept; never made larger."""
    from PIL import Image as PILImage

    scale = min(1.0, MAX_WIDTH / image.width, MAX_HEIGHT / image.height)
    if scale >= 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, PILImage.Resampling.LANCZOS)


def _has_transparency(image: Image) -> bool:
    if image.mode not in _ALPHA_MODES and "transparency" not in image.info:
        return False
    alpha = image.convert("RGBA").getchannel("A")
    lowest, _highest = alpha.getextrema()  # type: ignore[misc]
    return bool(lowest < 255)


def _encoded(image: Image) -> tuple[str, bytes]:
    """The stored bytes and their media type, written from the pixels alone: no EXIF, no XMP,
    no text chunks, no colour profile (the pixels are in sRGB already)."""
    if _has_transparency(image):
        clean, kind, media_type = image.convert("RGBA"), "PNG", "image/png"
        options: dict[str, object] = {"optimize": True}
    else:
        mode = "L" if image.mode in ("L", "LA", "1") else "RGB"
        clean, kind, media_type = image.convert(mode), "JPEG", "image/jpeg"
        options = {"quality": JPEG_QUALITY, "optimize": True, "progressive": True}
    if clean is image:
        clean = image.copy()
    clean.info = {}
    buffer = io.BytesIO()
    clean.save(buffer, kind, **options)
    return media_type, buffer.getvalue()


def apply(show: Show, poster: Poster | None) -> None:
    """Give `show` this poster in place of the one it had (one at a time); None removes it."""
    show.poster_image = poster.image if poster else None
    show.poster_type = poster.media_type if poster else None
    show.poster_hash = poster.digest if poster else None
    show.poster_url = poster.url if poster else None


def published(session: Session, *, digest: str) -> Poster:
    """The stored poster named `digest`, if a published show has it.

    An unpublished show is not public, and neither is its poster. Anything that is not a hash
    is not looked up at all.
    """
    found = None
    if _HASH.match(digest):
        found = session.exec(
            select(Show.poster_image, Show.poster_type).where(
                Show.poster_hash == digest, col(Show.is_published).is_(True)
            )
        ).first()
    if found is None or found[0] is None:
        raise errors.NotFound("there is no poster at this address")
    image, media_type = found
    return Poster(image=bytes(image), media_type=media_type, digest=digest)
